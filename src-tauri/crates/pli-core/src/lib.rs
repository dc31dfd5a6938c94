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
pub mod secrets;
pub mod setup;
pub mod smtp;
pub mod store;
pub mod tls;

/// Pli's version, as shown by `pli --version` and the app.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
