//! Pli's desktop shell: builds the Tauri app, holds the engine state, registers commands.
//!
//! Rule of the house: no mail logic here; every command is a thin call into `pli-core`.

mod commands;
mod state;

use state::AppState;

/// Starts the desktop app.
pub fn run() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("PLI_LOG"))
        .init();
    let state = AppState::from_env();
    tauri::Builder::default()
        .manage(state)
        .invoke_handler(tauri::generate_handler![commands::app::app_info])
        .run(tauri::generate_context!())
        .expect("Pli could not start its window");
}
