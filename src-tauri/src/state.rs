//! What the shell keeps between commands: the configuration and the engine over it.

use std::ffi::OsString;
use std::path::PathBuf;

use pli_core::config::{self, Config, Located};
use pli_core::engine::{Engine, EventSink};

/// The loaded configuration and the engine (or why either could not be made).
pub struct AppState {
    pub config_path: Option<PathBuf>,
    pub config: Result<Config, String>,
    pub engine: Result<Engine, String>,
}

/// The configuration file: `--config FILE` on the command line (what an enterprise
/// shortcut or a test passes), else `PLI_CONFIG` (the README's run command sets it to the
/// sandbox's `target/sandbox/pli.toml`), else the machine-wide file IT deployed, else the
/// user's own file (`pli_core::config::locate`; `docs/deployment.md`).
pub fn config_path() -> Option<PathBuf> {
    config_location().map(|l| l.path)
}

/// `config_path` with where the file came from (`pli-desktop --print-config` shows it).
pub fn config_location() -> Option<Located> {
    config::locate(config_arg(std::env::args_os().skip(1)).as_deref())
}

/// The value of `--config FILE` or `--config=FILE` among `args`.
pub fn config_arg(args: impl IntoIterator<Item = OsString>) -> Option<PathBuf> {
    let mut args = args.into_iter();
    while let Some(a) = args.next() {
        if a == "--config" {
            return args.next().map(PathBuf::from);
        }
        if let Some(v) = a.to_str().and_then(|s| s.strip_prefix("--config=")) {
            return Some(PathBuf::from(v));
        }
    }
    None
}

impl AppState {
    /// Loads the configuration and opens the engine (the encrypted cache; no network).
    pub async fn open(events: EventSink) -> Self {
        let config_path = config_path();
        let config = match &config_path {
            Some(p) => Config::load(p).map_err(|e| e.to_string()),
            None => Err(
                "aucune configuration : installez le fichier pli.toml de l'établissement \
                 (docs/deployment.md), lancez Pli avec --config FICHIER ou définissez PLI_CONFIG"
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
