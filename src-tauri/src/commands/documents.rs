//! Health documents and other attachments.

use pli_core::api::DocumentView;

use super::err;
use crate::state::AppState;
use pli_core::api::CommandError;

/// Opens attachment `index` of message `id` (CDA rendered safely, XDM listed, PDF bytes).
#[tauri::command]
pub async fn open_attachment(
    state: tauri::State<'_, AppState>,
    id: i64,
    index: u32,
) -> Result<DocumentView, CommandError> {
    state
        .engine()
        .await?
        .open_attachment(id, index)
        .await
        .map_err(err)
}

/// Saves attachment `index` of message `id` as a PDF in the downloads folder (a CDA document
/// as its PDF copy); returns the file's path.
#[tauri::command]
pub async fn save_attachment_pdf(
    state: tauri::State<'_, AppState>,
    id: i64,
    index: u32,
) -> Result<String, CommandError> {
    state
        .engine()
        .await?
        .save_attachment_pdf(id, index)
        .await
        .map(|p| p.display().to_string())
        .map_err(err)
}
