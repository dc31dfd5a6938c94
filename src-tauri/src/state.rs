//! What the shell keeps between commands: the configuration and the engine over it.

use std::path::PathBuf;

use pli_core::config::Config;
use pli_core::engine::{Engine, EventSink};

/// The loaded configuration and the engine (or why either could not be made).
pub struct AppState {
    pub config_path: Option<PathBuf>,
    pub config: Result<Config, String>,
    pub engine: Result<Engine, String>,
}

/// The configuration file: `--config FILE` on the command line (what an enterprise
/// shortcut or a test passes), else `PLI_CONFIG` (the README's run command sets it to the
/// sandbox's `target/sandbox/pli.toml`).
pub fn config_path() -> Option<PathBuf> {
    let mut args = std::env::args_os().skip(1);
    while let Some(a) = args.next() {
        if a == "--config" {
            return args.next().map(PathBuf::from);
        }
        if let Some(v) = a.to_str().and_then(|s| s.strip_prefix("--config=")) {
            return Some(PathBuf::from(v));
        }
    }
    std::env::var_os("PLI_CONFIG").map(PathBuf::from)
}

impl AppState {
    /// Loads the configuration and opens the engine (the encrypted cache; no network).
    pub async fn open(events: EventSink) -> Self {
        let config_path = config_path();
        let config = match &config_path {
            Some(p) => Config::load(p).map_err(|e| e.to_string()),
            None => Err(
                "aucune configuration : lancez Pli avec --config FICHIER ou définissez PLI_CONFIG"
                    .to_owned(),
            ),
        };
        let engine = match &config {
            Ok(cfg) => Engine::open(cfg.clone(), events)
                .await
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.clone()),
        };
        Self {
            config_path,
            config,
            engine,
        }
    }

    /// The engine, or the reason it is not there, for commands to return.
    pub fn engine(&self) -> Result<&Engine, String> {
        self.engine.as_ref().map_err(Clone::clone)
    }
}
