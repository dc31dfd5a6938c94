//! What the shell keeps between commands: the configuration and the engine over it.

use std::ffi::OsString;
use std::path::PathBuf;

use std::sync::Arc;

use tokio::sync::watch;

use pli_core::api::{AppInfo, SetupRequest};
use pli_core::config::{self, Config, Located, UpdatesConfig};
use pli_core::engine::{Engine, EventSink};
use pli_core::setup;

/// The loaded configuration and the engine (or why either could not be made). Opened off the
/// main thread while the window loads its page (commands wait for it); replaced once, by the
/// first-run screen, when no configuration file existed at start.
pub struct AppState {
    events: EventSink,
    loaded: watch::Sender<Option<Arc<Loaded>>>,
}

/// One attempt at loading the configuration and opening the engine.
pub struct Loaded {
    config_path: Option<PathBuf>,
    config: Result<Config, String>,
    engine: Result<Engine, String>,
}

impl Loaded {
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

    /// The engine, or the reason it is not there.
    pub fn engine(&self) -> Result<Engine, String> {
        self.engine.clone()
    }

    /// The update settings (the defaults without a configuration).
    pub fn updates(&self) -> UpdatesConfig {
        self.config
            .as_ref()
            .map(|c| c.updates.clone())
            .unwrap_or_default()
    }
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
    /// Nothing loaded yet: [`AppState::set`] brings the configuration and the engine.
    pub fn new(events: EventSink) -> Self {
        Self {
            events,
            loaded: watch::Sender::new(None),
        }
    }

    /// What [`Loaded::open`] gave; commands waiting for it go on.
    pub fn set(&self, loaded: Loaded) {
        self.loaded.send_replace(Some(Arc::new(loaded)));
    }

    /// The configuration and engine, once opened.
    async fn loaded(&self) -> Arc<Loaded> {
        let mut rx = self.loaded.subscribe();
        let ready = rx.wait_for(Option::is_some).await;
        // The sender lives as long as `self`: waiting cannot fail while it is borrowed.
        let loaded = ready.expect("state sender alive").clone();
        loaded.expect("waited for Some")
    }

    /// The engine, or the reason it is not there, for commands to return.
    pub async fn engine(&self) -> Result<Engine, String> {
        self.loaded().await.engine()
    }

    /// The engine if it is open already (`None` while it opens, or when it could not be).
    pub fn engine_now(&self) -> Option<Engine> {
        self.loaded.borrow().as_ref()?.engine.clone().ok()
    }

    /// What `app_info` reports.
    pub async fn info(&self) -> AppInfo {
        let l = self.loaded().await;
        let loaded = match (&l.config, &l.engine) {
            (Ok(cfg), Ok(_)) => Ok(cfg),
            (Err(e), _) | (Ok(_), Err(e)) => Err(e.clone()),
        };
        AppInfo::from_config(l.config_path.as_deref(), loaded)
    }

    /// The first-run screen's answers: writes the user's configuration file and opens the
    /// engine over it. Refused once any configuration file was found (IT's file wins, and a
    /// broken file is fixed by hand, not silently replaced).
    pub async fn complete_setup(&self, request: &SetupRequest) -> Result<AppInfo, String> {
        if self.loaded().await.config_path.is_some() {
            return Err("Pli est déjà configuré".into());
        }
        let cfg = setup::build(request)?;
        let path = setup::user_config_path()
            .ok_or("aucun dossier de configuration pour cet utilisateur (HOME absent)")?;
        setup::write(&cfg, &path)?;
        // Read back what was written: the app runs on the file, exactly as at the next start.
        let cfg = Config::load(&path).map_err(|e| e.to_string())?;
        // Opened on a blocking thread: the future of `Engine::open` is not provably `Send` for
        // every lifetime (sqlx executors), which a command's future must be.
        let (c, events) = (cfg.clone(), self.events.clone());
        let engine = tauri::async_runtime::spawn_blocking(move || {
            tauri::async_runtime::block_on(Engine::open(c, events))
        })
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r.map_err(|e| e.to_string()));
        tracing::info!(path = %path.display(), "first-run configuration written");
        self.set(Loaded {
            config_path: Some(path),
            config: Ok(cfg),
            engine,
        });
        Ok(self.info().await)
    }
}
