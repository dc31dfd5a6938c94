//! The user's audit trail.

use pli_core::api::AuditRow;

use super::err;
use crate::state::AppState;
use pli_core::api::CommandError;

/// Audit entries since `since` (Unix seconds), newest first.
#[tauri::command]
pub async fn audit_entries(
    state: tauri::State<'_, AppState>,
    since: Option<i64>,
) -> Result<Vec<AuditRow>, CommandError> {
    state.engine().await?.audit(since).await.map_err(err)
}

/// Writes the trail as CSV into the downloads folder; returns the file's path.
#[tauri::command]
pub async fn export_audit(
    state: tauri::State<'_, AppState>,
    since: Option<i64>,
) -> Result<String, CommandError> {
    state.engine().await?.export_audit(since).await.map_err(err)
}
