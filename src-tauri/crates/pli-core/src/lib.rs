//! `pli-core`: Pli's mail engine, with no desktop shell inside.
//!
//! Layout (see `docs/architecture.md`): `config` (pli.toml), `auth` (Pro Santé Connect and
//! XOAUTH2), `tls` (trust anchors), `imap`, `smtp`, `annuaire` (directory), `secrets` (OS keyring).

pub mod annuaire;
pub mod api;
pub mod auth;
pub mod config;
pub mod discovery;
pub mod engine;
pub mod imap;
pub mod mssante;
pub mod rendering;
pub mod secrets;
pub mod setup;
pub mod smtp;
pub mod store;
pub mod tls;

/// Pli's version, as shown by `pli --version` and the app.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Process-wide set-up, the first thing `main` does: OpenSSL (the cipher of SQLCipher) is
/// initialised *without* its exit-time clean-up. That clean-up runs inside `exit()` while
/// sqlx's SQLite worker threads may still be ending and freeing their own OpenSSL state, and
/// the race aborted a process now and then with "double free or corruption" after its work was
/// done (twice in some 250 runs of `pli search` and of the e2e binaries). Nothing is lost by
/// skipping it: the OS reclaims a process's memory at exit. OpenSSL honours the first
/// initialisation's choice, so this must run before any cache is opened; [`store::Store::open`]
/// calls it too (idempotent), which covers the test binaries: one of them aborted so after its
/// tests had passed (`sync_offline`, CI of 2026-11-23) while only the mains called it.
pub fn init_process() {
    openssl_sys::init();
}
