//! Tauri commands, one file per domain. Each is a thin call into `pli_core::engine::Engine`;
//! errors reach the UI as one French sentence.

pub mod app;
pub mod audit;
pub mod compose;
pub mod documents;
pub mod links;
pub mod mail;
pub mod session;

/// Turns an engine error into the sentence the UI shows.
pub(crate) fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}
