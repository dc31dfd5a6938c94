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

/// Messages still in the outbox (waiting or refused), every mailbox.
#[tauri::command]
pub async fn outbox_items(
    state: tauri::State<'_, AppState>,
) -> Result<Vec<pli_core::api::OutboxItem>, String> {
    state.engine()?.outbox().await.map_err(err)
}

/// Sends a queued message now.
#[tauri::command]
pub async fn retry_outbox(
    state: tauri::State<'_, AppState>,
    id: i64,
) -> Result<SendResult, String> {
    state.engine()?.retry_outbox(id).await.map_err(err)
}

/// Withdraws a queued message without sending it.
#[tauri::command]
pub async fn discard_outbox(state: tauri::State<'_, AppState>, id: i64) -> Result<(), String> {
    state.engine()?.discard_outbox(id).await.map_err(err)
}
