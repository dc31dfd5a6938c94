//! `pli config`: load, validate and print the effective configuration.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use pli_core::config::Config;

/// Arguments of `pli config`.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Print JSON instead of TOML.
    #[arg(long)]
    json: bool,
}

/// Prints the configuration with every secret replaced by a marker.
pub fn run(path: Option<&Path>, args: ConfigArgs) -> anyhow::Result<ExitCode> {
    let path = path.context("no configuration: pass --config FILE or set PLI_CONFIG")?;
    // One redaction rule for every front-end: `Config::redacted`.
    let cfg = Config::load(path)?.redacted();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&cfg)?);
    } else {
        print!("{}", toml::to_string_pretty(&cfg)?);
    }
    Ok(ExitCode::SUCCESS)
}
