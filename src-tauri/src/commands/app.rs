//! Commands about the app itself.

use pli_core::api::AppInfo;

use crate::state::AppState;

/// Version, environment and configured mailboxes.
#[tauri::command]
pub fn app_info(state: tauri::State<'_, AppState>) -> AppInfo {
    AppInfo::from_config(
        state.config_path.as_deref(),
        state.config.as_ref().map_err(Clone::clone),
    )
}
