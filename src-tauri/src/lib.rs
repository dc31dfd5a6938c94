//! Pli's desktop shell: builds the Tauri app, holds the engine, registers commands and
//! forwards engine events to the window (event `engine`).
//!
//! Rule of the house: no mail logic here; every command is a thin call into `pli-core`.

mod commands;
mod state;

use std::sync::Arc;

use tauri::{Emitter, Manager};

use state::AppState;

/// Starts the desktop app.
pub fn run() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("PLI_LOG"))
        .init();
    tauri::Builder::default()
        .setup(|app| {
            let handle = app.handle().clone();
            let events: pli_core::engine::EventSink = Arc::new(move |e| {
                if let Err(err) = handle.emit("engine", e) {
                    tracing::warn!(%err, "engine event not delivered");
                }
            });
            let state = tauri::async_runtime::block_on(AppState::open(events));
            app.manage(state);
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::app::app_info,
            commands::session::session_info,
            commands::session::session_resume,
            commands::session::login_ciba,
            commands::session::login_browser,
            commands::session::logout,
            commands::mail::mailboxes,
            commands::mail::list_messages,
            commands::mail::read_message,
            commands::mail::set_flag,
            commands::mail::patients,
            commands::mail::sync_now,
            commands::documents::open_attachment,
            commands::compose::send_message,
            commands::compose::end_exchange,
            commands::compose::directory_search,
            commands::audit::audit_entries,
            commands::audit::export_audit,
        ])
        .build(tauri::generate_context!())
        .expect("Pli could not start its window")
        .run(|app, event| {
            if let tauri::RunEvent::Exit = event {
                if let Ok(engine) = app.state::<AppState>().engine() {
                    tauri::async_runtime::block_on(engine.shutdown());
                }
            }
        });
}
