//! Commands about the app itself.

use pli_core::api::AppInfo;

use crate::state::AppState;

/// Version, environment and configured mailboxes (or why the configuration or the cache
/// could not be opened).
#[tauri::command]
pub fn app_info(state: tauri::State<'_, AppState>) -> AppInfo {
    let loaded = match (&state.config, &state.engine) {
        (Ok(cfg), Ok(_)) => Ok(cfg),
        (Err(e), _) | (Ok(_), Err(e)) => Err(e.clone()),
    };
    AppInfo::from_config(state.config_path.as_deref(), loaded)
}
