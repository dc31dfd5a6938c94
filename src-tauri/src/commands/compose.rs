//! Sending, drafts, ending an exchange with a patient, the directory.

use pli_core::api::{DirectoryAnswer, DirectoryQueryInput, DraftInput, SavedDraft, SendResult};

use super::err;
use crate::state::AppState;
use pli_core::api::CommandError;

/// Sends (through the outbox).
#[tauri::command]
pub async fn send_message(
    state: tauri::State<'_, AppState>,
    draft: DraftInput,
) -> Result<SendResult, CommandError> {
    state.engine().await?.send(draft).await.map_err(err)
}

/// Ends the exchange with a patient (`X-MSS-MES: FIN`).
#[tauri::command]
pub async fn end_exchange(
    state: tauri::State<'_, AppState>,
    patient_ins: String,
    from: Option<String>,
) -> Result<SendResult, CommandError> {
    state
        .engine()
        .await?
        .end_exchange(&patient_ins, from.as_deref())
        .await
        .map_err(err)
}

/// Recipient suggestions from this computer alone (recent correspondents, the previous
/// directory answer narrowed, the offline copy): shown at once while the directory is asked.
#[tauri::command]
pub async fn directory_suggest(
    state: tauri::State<'_, AppState>,
    query: DirectoryQueryInput,
) -> Result<DirectoryAnswer, CommandError> {
    state
        .engine()
        .await?
        .directory_suggest(query)
        .await
        .map_err(err)
}

/// Searches recipients (recent correspondents, then the live directory).
#[tauri::command]
pub async fn directory_search(
    state: tauri::State<'_, AppState>,
    query: DirectoryQueryInput,
) -> Result<DirectoryAnswer, CommandError> {
    state
        .engine()
        .await?
        .directory_search(query)
        .await
        .map_err(err)
}

/// Messages still in the outbox (waiting or refused), every mailbox.
#[tauri::command]
pub async fn outbox_items(
    state: tauri::State<'_, AppState>,
) -> Result<Vec<pli_core::api::OutboxItem>, CommandError> {
    state.engine().await?.outbox().await.map_err(err)
}

/// Sends a queued message now.
#[tauri::command]
pub async fn retry_outbox(
    state: tauri::State<'_, AppState>,
    id: i64,
) -> Result<SendResult, CommandError> {
    state.engine().await?.retry_outbox(id).await.map_err(err)
}

/// Withdraws a queued message without sending it.
#[tauri::command]
pub async fn discard_outbox(
    state: tauri::State<'_, AppState>,
    id: i64,
) -> Result<(), CommandError> {
    state.engine().await?.discard_outbox(id).await.map_err(err)
}

/// Saves the compose window's draft in the encrypted cache (`with_files`: the attachments
/// changed and are saved too).
#[tauri::command]
pub async fn save_draft(
    state: tauri::State<'_, AppState>,
    key: String,
    draft: DraftInput,
    with_files: bool,
) -> Result<(), CommandError> {
    state
        .engine()
        .await?
        .save_draft(&key, &draft, with_files)
        .await
        .map_err(err)
}

/// The draft saved for a compose window, if any.
#[tauri::command]
pub async fn load_draft(
    state: tauri::State<'_, AppState>,
    key: String,
) -> Result<Option<SavedDraft>, CommandError> {
    state.engine().await?.draft(&key).await.map_err(err)
}

/// Takes up a message of a Drafts folder in the compose window: the key of its draft.
#[tauri::command]
pub async fn resume_draft(
    state: tauri::State<'_, AppState>,
    id: i64,
) -> Result<String, CommandError> {
    state.engine().await?.resume_draft(id).await.map_err(err)
}

/// Forgets a draft (sent or discarded).
#[tauri::command]
pub async fn delete_draft(
    state: tauri::State<'_, AppState>,
    key: String,
) -> Result<(), CommandError> {
    state.engine().await?.delete_draft(&key).await.map_err(err)
}
