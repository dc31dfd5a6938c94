//! Helpers for Pli's end-to-end tests against the sandbox of real servers (`tests/sandbox/`).
//!
//! The sandbox must be up (`tests/sandbox/up`, done by `scripts/test`); its configuration is
//! read from `target/sandbox/pli.toml` (or `PLI_SANDBOX_CONFIG`). Nothing here fakes a server:
//! the PSC helpers drive the real `oidc-provider` the way a browser or the e-CPS app would.

pub mod ldif;
pub mod psc;
pub mod relay;
pub mod sync_support;
pub mod webdriver;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use pli_core::config::{Config, SandboxPerson};

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_owned()
}

/// The sandbox configuration file: `PLI_SANDBOX_CONFIG`, else `target/sandbox/pli.toml`.
pub fn sandbox_config_path() -> PathBuf {
    std::env::var_os("PLI_SANDBOX_CONFIG")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target/sandbox/pli.toml"))
}

/// The sandbox's state directory (its LDIF, logs…): `PLI_SANDBOX_STATE` as for
/// `tests/sandbox/up`, else `target/sandbox`.
pub fn sandbox_state() -> PathBuf {
    std::env::var_os("PLI_SANDBOX_STATE")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target/sandbox"))
}

/// Loads the sandbox configuration, with a clear message when the sandbox is not up.
pub fn sandbox_config() -> Config {
    let path = sandbox_config_path();
    Config::load(&path).unwrap_or_else(|e| {
        panic!("sandbox configuration unavailable ({e}); start it with tests/sandbox/up or run scripts/test")
    })
}

/// The sandbox person with this role (`practitioner`, `secretary`, `gp`, `emergency`).
pub fn person(cfg: &Config, role: &str) -> SandboxPerson {
    cfg.sandbox
        .as_ref()
        .expect("[sandbox] section")
        .people
        .iter()
        .find(|p| p.role == role)
        .unwrap_or_else(|| panic!("no sandbox person with role {role}"))
        .clone()
}

/// The rustls configuration trusting the sandbox CA only.
pub fn tls(cfg: &Config) -> Arc<pli_core::tls::ClientConfig> {
    pli_core::tls::client_config(&cfg.operator.trust_anchors).expect("sandbox CA")
}

/// The `pli` binary built beside the test binaries (target/<profile>/deps/<test> →
/// target/<profile>/pli; `scripts/test` builds pli-cli first).
pub fn pli_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>")
        .join(format!("pli{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} missing: build it first (cargo build -p pli-cli)",
        bin.display()
    );
    bin
}
