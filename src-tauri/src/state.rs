//! What the shell keeps between commands.

use std::path::PathBuf;

use pli_core::config::Config;

/// The loaded configuration (or why it could not be loaded).
#[derive(Debug)]
pub struct AppState {
    pub config_path: Option<PathBuf>,
    pub config: Result<Config, String>,
}

impl AppState {
    /// Reads the configuration named by `PLI_CONFIG` (the README's run command sets it to the
    /// sandbox's `target/sandbox/pli.toml`).
    pub fn from_env() -> Self {
        let config_path = std::env::var_os("PLI_CONFIG").map(PathBuf::from);
        let config = match &config_path {
            Some(p) => Config::load(p).map_err(|e| e.to_string()),
            None => Err("aucune configuration : définissez PLI_CONFIG".to_owned()),
        };
        Self {
            config_path,
            config,
        }
    }
}
