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
