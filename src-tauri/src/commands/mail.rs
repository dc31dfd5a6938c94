//! Mailboxes, lists, reading, flags, patients, sync.

use pli_core::api::{ListScope, MailboxView, MessageDetail, MessagePage, PatientConversation};

use super::err;
use crate::state::AppState;
use pli_core::api::CommandError;

/// Mailboxes and folders with unread counts.
#[tauri::command]
pub async fn mailboxes(
    state: tauri::State<'_, AppState>,
) -> Result<Vec<MailboxView>, CommandError> {
    state.engine().await?.mailboxes().await.map_err(err)
}

/// A window of a message list.
#[tauri::command]
pub async fn list_messages(
    state: tauri::State<'_, AppState>,
    scope: ListScope,
    offset: i64,
    limit: i64,
) -> Result<MessagePage, CommandError> {
    tracing::debug!(ms = crate::since_start_ms(), offset, "list_messages asked");
    let page = state
        .engine()
        .await?
        .list(scope, offset, limit)
        .await
        .map_err(err);
    tracing::debug!(
        ms = crate::since_start_ms(),
        offset,
        "list_messages answered"
    );
    page
}

/// Opens a message (marks it read).
#[tauri::command]
pub async fn read_message(
    state: tauri::State<'_, AppState>,
    id: i64,
    allow_remote: bool,
) -> Result<MessageDetail, CommandError> {
    state
        .engine()
        .await?
        .message(id, allow_remote)
        .await
        .map_err(err)
}

/// `seen`, `unseen`, `flag`, `unflag` or `delete`.
#[tauri::command]
pub async fn set_flag(
    state: tauri::State<'_, AppState>,
    id: i64,
    op: String,
) -> Result<(), CommandError> {
    state.engine().await?.set_flag(id, &op).await.map_err(err)
}

/// The patient pane.
#[tauri::command]
pub async fn patients(
    state: tauri::State<'_, AppState>,
) -> Result<Vec<PatientConversation>, CommandError> {
    state.engine().await?.patients().await.map_err(err)
}

/// One sync pass of every mailbox now.
#[tauri::command]
pub async fn sync_now(state: tauri::State<'_, AppState>) -> Result<(), CommandError> {
    state.engine().await?.sync_now().await.map_err(err)
}

/// Answers a read-receipt request: `send` true sends the MDN, false declines for good.
#[tauri::command]
pub async fn answer_receipt(
    state: tauri::State<'_, AppState>,
    id: i64,
    send: bool,
) -> Result<Option<pli_core::api::SendResult>, CommandError> {
    state
        .engine()
        .await?
        .answer_receipt(id, send)
        .await
        .map_err(err)
}

/// Adds a (service) mailbox and starts syncing it.
#[tauri::command]
pub async fn add_mailbox(
    state: tauri::State<'_, AppState>,
    address: String,
    kind: String,
    display_name: String,
) -> Result<(), CommandError> {
    state
        .engine()
        .await?
        .add_mailbox(&address, &kind, &display_name)
        .await
        .map_err(err)
}
