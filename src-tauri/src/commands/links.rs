//! Compose requests from `mailto:` and `pli://compose` links.

use pli_core::api::ComposeRequest;

use crate::desktop::Desktop;

/// The compose requests received so far (the window calls this at start and on the
/// `compose-request` event); each is returned once.
#[tauri::command]
pub fn take_compose_requests(desktop: tauri::State<'_, Desktop>) -> Vec<ComposeRequest> {
    std::mem::take(&mut *desktop.pending.lock().expect("pending links"))
}
