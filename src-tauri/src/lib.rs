//! Pli's desktop shell: builds the Tauri app, holds the engine, registers commands and
//! forwards engine events to the window (event `engine`).
//!
//! Rule of the house: no mail logic here; every command is a thin call into `pli-core`.

mod commands;
mod desktop;
mod state;
mod updates;

use std::sync::Arc;

use tauri::{Emitter, Manager};

use state::AppState;
pub use state::{config_arg, config_location};

/// Starts the desktop app.
pub fn run() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("PLI_LOG"))
        .init();
    tauri::Builder::default()
        // First: a second launch (e.g. from a link) hands over to the running window.
        .plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
            desktop::focus_main(app)
        }))
        .plugin(tauri_plugin_deep_link::init())
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_updater::Builder::new().build())
        .manage(desktop::Desktop::default())
        .setup(|app| {
            let handle = app.handle().clone();
            let events: pli_core::engine::EventSink = Arc::new(move |e| {
                desktop::on_engine_event(&handle, &e);
                if let Err(err) = handle.emit("engine", e) {
                    tracing::warn!(%err, "engine event not delivered");
                }
            });
            let state = tauri::async_runtime::block_on(AppState::open(events));
            // Self-installed without a configuration: updates stay on (the default).
            let updates = state.updates();
            app.manage(state);
            desktop::lighten_webview(app.handle());
            updates::check_in_background(app.handle(), &updates);
            if let Err(e) = desktop::setup_tray(app.handle()) {
                tracing::warn!(error = %e, "no tray icon on this desktop");
            }
            desktop::setup_links(app.handle());
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::app::app_info,
            commands::app::setup_defaults,
            commands::app::setup_discover,
            commands::app::setup_complete,
            commands::session::session_info,
            commands::session::session_resume,
            commands::session::login_ciba,
            commands::session::login_browser,
            commands::session::logout,
            commands::session::touch,
            commands::mail::mailboxes,
            commands::mail::list_messages,
            commands::mail::read_message,
            commands::mail::set_flag,
            commands::mail::patients,
            commands::mail::sync_now,
            commands::mail::answer_receipt,
            commands::mail::add_mailbox,
            commands::documents::open_attachment,
            commands::compose::send_message,
            commands::compose::save_draft,
            commands::compose::load_draft,
            commands::compose::delete_draft,
            commands::compose::end_exchange,
            commands::compose::directory_suggest,
            commands::compose::directory_search,
            commands::compose::outbox_items,
            commands::compose::retry_outbox,
            commands::compose::discard_outbox,
            commands::audit::audit_entries,
            commands::audit::export_audit,
            commands::links::take_compose_requests,
        ])
        .build(tauri::generate_context!())
        .expect("Pli could not start its window")
        .run(|app, event| {
            if let tauri::RunEvent::Exit = event {
                if let Ok(engine) = app.state::<AppState>().engine() {
                    tauri::async_runtime::block_on(engine.shutdown());
                }
                updates::install_pending(app);
            }
        });
}
