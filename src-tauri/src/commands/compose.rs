//! Sending, ending an exchange with a patient, the directory.

use pli_core::api::{DirectoryAnswer, DirectoryQueryInput, DraftInput, SendResult};

use super::err;
use crate::state::AppState;

/// Sends (through the outbox).
#[tauri::command]
pub async fn send_message(
    state: tauri::State<'_, AppState>,
    draft: DraftInput,
) -> Result<SendResult, String> {
    state.engine()?.send(draft).await.map_err(err)
}

/// Ends the exchange with a patient (`X-MSS-MES: FIN`).
#[tauri::command]
pub async fn end_exchange(
    state: tauri::State<'_, AppState>,
    patient_ins: String,
    from: Option<String>,
) -> Result<SendResult, String> {
    state
        .engine()?
        .end_exchange(&patient_ins, from.as_deref())
        .await
        .map_err(err)
}

/// Searches recipients (recent correspondents, then the directory).
#[tauri::command]
pub async fn directory_search(
    state: tauri::State<'_, AppState>,
    query: DirectoryQueryInput,
) -> Result<DirectoryAnswer, String> {
    state.engine()?.directory_search(query).await.map_err(err)
}
