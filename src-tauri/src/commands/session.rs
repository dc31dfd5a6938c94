//! Login, logout, who is logged in.

use pli_core::api::SessionInfo;
use pli_core::engine::LoginMethod;

use super::err;
use crate::state::AppState;
use pli_core::api::CommandError;

/// Who is logged in (no network).
#[tauri::command]
pub async fn session_info(state: tauri::State<'_, AppState>) -> Result<SessionInfo, CommandError> {
    Ok(state.engine().await?.session_info().await)
}

/// Resumes the session kept in the keyring, if any, and starts the sync.
#[tauri::command]
pub async fn session_resume(
    state: tauri::State<'_, AppState>,
) -> Result<SessionInfo, CommandError> {
    tracing::debug!(ms = crate::since_start_ms(), "session_resume asked");
    let info = state.engine().await?.resume().await;
    tracing::debug!(ms = crate::since_start_ms(), "session_resume answered");
    Ok(info)
}

/// Logs in by a push to the e-CPS app or the CPS card (CIBA).
#[tauri::command]
pub async fn login_ciba(
    state: tauri::State<'_, AppState>,
    national_id: String,
) -> Result<SessionInfo, CommandError> {
    state
        .engine()
        .await?
        .login(LoginMethod::Ciba { national_id })
        .await
        .map_err(err)
}

/// Logs in through the system browser.
#[tauri::command]
pub async fn login_browser(
    state: tauri::State<'_, AppState>,
    login_hint: Option<String>,
) -> Result<SessionInfo, CommandError> {
    state
        .engine()
        .await?
        .login(LoginMethod::Browser { login_hint })
        .await
        .map_err(err)
}

/// Logs out (revokes at PSC, forgets the keyring entry, stops the sync).
#[tauri::command]
pub async fn logout(state: tauri::State<'_, AppState>) -> Result<(), CommandError> {
    state.engine().await?.logout().await.map_err(err)
}

/// User activity (throttled by the UI); returns the seconds left before the session locks.
#[tauri::command]
pub async fn touch(state: tauri::State<'_, AppState>) -> Result<i64, CommandError> {
    Ok(state.engine().await?.touch())
}
