// Prevents an extra console window on Windows in release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

//! `pli-desktop`: opens the app, or, with `--version` / `--print-config`, prints and exits
//! before Tauri starts (no window, no display needed: what installers and IT scripts run).

use std::ffi::OsString;
use std::process::ExitCode;

use pli_core::config::{Candidates, Config};

const VERSION: &str = env!("CARGO_PKG_VERSION");

const HELP: &str = "\
Pli — messagerie sécurisée de santé / secure health mail

Usage : pli-desktop [--config FICHIER]
        pli-desktop --version
        pli-desktop --print-config [--config FICHIER]

  --config FICHIER   configuration (sinon PLI_CONFIG, puis le fichier de l'établissement,
                     puis celui de l'utilisateur : docs/deployment.md)
  --print-config     affiche la configuration effective (sans secrets) et quitte
  -V, --version      affiche la version et quitte
  -h, --help         affiche cette aide et quitte
";

fn main() -> ExitCode {
    pli_core::init_process();
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let has = |flags: &[&str]| args.iter().any(|a| flags.iter().any(|f| a == f));
    if has(&["--version", "-V"]) {
        println!("pli-desktop {VERSION}");
        return ExitCode::SUCCESS;
    }
    if has(&["--help", "-h"]) {
        print!("{HELP}");
        return ExitCode::SUCCESS;
    }
    if has(&["--print-config"]) {
        return print_config(&args);
    }
    // Before any thread starts: it may set an environment variable for WebKit.
    #[cfg(target_os = "linux")]
    pli_desktop_lib::rendering::choose();
    pli_desktop_lib::run();
    ExitCode::SUCCESS
}

/// Prints where the configuration comes from and the effective values, secrets redacted.
fn print_config(args: &[OsString]) -> ExitCode {
    let located = pli_core::config::locate(pli_desktop_lib::config_arg(args.to_vec()).as_deref());
    println!("# pli-desktop {VERSION}");
    let Some(located) = located else {
        let c = Candidates::for_platform(&|k| std::env::var_os(k));
        eprintln!("pli-desktop : aucune configuration / no configuration found");
        eprintln!("  --config FICHIER : absent");
        eprintln!("  PLI_CONFIG : absent");
        for (what, p) in [
            ("établissement / machine", c.machine),
            ("utilisateur / user", c.user),
        ] {
            if let Some(p) = p {
                eprintln!("  {what} : {} (absent)", p.display());
            }
        }
        return ExitCode::from(2);
    };
    println!("# configuration : {}", located.path.display());
    println!("# source : {}", located.source.describe());
    let cfg = match Config::load(&located.path) {
        Ok(cfg) => cfg,
        Err(e) => {
            eprintln!("pli-desktop : {e}");
            return ExitCode::from(1);
        }
    };
    let env = serde_json::to_value(cfg.environment)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    println!("# environnement / environment : {env}");
    println!(
        "# mises à jour / updates : {}{}",
        if cfg.updates.enabled {
            "activées / on"
        } else {
            "désactivées / off"
        },
        cfg.updates
            .endpoint
            .as_deref()
            .map(|u| format!(" ({u})"))
            .unwrap_or_default()
    );
    match toml::to_string_pretty(&cfg.redacted()) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("pli-desktop : {e}");
            ExitCode::from(1)
        }
    }
}
