//! Tauri commands, one file per domain. Each is a thin call into `pli_core::engine::Engine`;
//! errors reach the UI as a `CommandError`: a kind (`sealed`, `not_found`…) and one French
//! sentence.

pub mod app;
pub mod audit;
pub mod compose;
pub mod documents;
pub mod links;
pub mod mail;
pub mod session;

/// Turns an engine error into what the UI receives: its kind and the sentence it shows.
pub(crate) fn err(e: impl Into<pli_core::api::CommandError>) -> pli_core::api::CommandError {
    e.into()
}
