//! `pli config`: load, validate and print the effective configuration.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use pli_core::config::{Config, SecretRef};

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
    let mut cfg = Config::load(path)?;
    let clients = std::iter::once(&mut cfg.psc.browser).chain(cfg.psc.ciba.as_mut());
    for c in clients {
        if let Some(SecretRef::SandboxLiteral(s)) = c.client_secret.as_mut() {
            *s = "<redacted>".into();
        }
    }
    if let Some(sb) = cfg.sandbox.as_mut() {
        for p in &mut sb.patients {
            p.password = "<redacted>".into();
        }
        if sb.master_password.is_some() {
            sb.master_password = Some("<redacted>".into());
        }
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&cfg)?);
    } else {
        print!("{}", toml::to_string_pretty(&cfg)?);
    }
    Ok(ExitCode::SUCCESS)
}
