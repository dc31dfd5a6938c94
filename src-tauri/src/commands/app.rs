//! Commands about the app itself and its first run.

use pli_core::api::{AppInfo, SetupDefaults, SetupDiscovery, SetupRequest};

use crate::state::AppState;
use pli_core::api::CommandError;

/// Version, environment and configured mailboxes (or why the configuration or the cache
/// could not be opened, or that the first-run screen is needed).
#[tauri::command]
pub async fn app_info(state: tauri::State<'_, AppState>) -> Result<AppInfo, CommandError> {
    tracing::debug!(ms = crate::since_start_ms(), "app_info");
    Ok(state.info().await)
}

/// The first-run screen's choices.
#[tauri::command]
pub fn setup_defaults() -> SetupDefaults {
    pli_core::setup::defaults()
}

/// The servers DNS SRV publishes for a mailbox address.
#[tauri::command]
pub async fn setup_discover(environment: String, address: String) -> SetupDiscovery {
    pli_core::setup::discover(&environment, &address).await
}

/// Writes the user's configuration and opens the engine over it.
#[tauri::command]
pub async fn setup_complete(
    state: tauri::State<'_, AppState>,
    request: SetupRequest,
) -> Result<AppInfo, CommandError> {
    state
        .complete_setup(&request)
        .await
        .map_err(CommandError::from)
}
