//! Pli's desktop shell: builds the Tauri app, holds the engine, registers commands and
//! forwards engine events to the window (event `engine`).
//!
//! Rule of the house: no mail logic here; every command is a thin call into `pli-core`.

mod commands;
mod desktop;
#[cfg(target_os = "linux")]
pub mod rendering;
mod state;
mod updates;
#[cfg(target_os = "linux")]
mod webkit_features;

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use tauri::{Emitter, Manager};

pub use state::{config_arg, config_location};
use state::{AppState, Loaded};

/// When `run` began: start-up steps are logged (`PLI_LOG=pli_desktop=debug`) with the
/// milliseconds since then, to see where the time to the first inbox paint goes.
static STARTED: OnceLock<Instant> = OnceLock::new();

/// Milliseconds since `run` began.
pub(crate) fn since_start_ms() -> u64 {
    STARTED.get_or_init(Instant::now).elapsed().as_millis() as u64
}

/// Starts the desktop app.
pub fn run() {
    STARTED.get_or_init(Instant::now);
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("PLI_LOG"))
        .init();
    #[cfg(target_os = "linux")]
    if let Some(r) = rendering::chosen() {
        tracing::info!(rendering = ?r, "webview rendering (decision 0035)");
    }
    let app = tauri::Builder::default()
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
            tracing::debug!(ms = since_start_ms(), "setup: window created");
            // The configuration and the encrypted cache open on their own thread while the
            // main thread goes on to load the window's page: commands wait for them
            // (`AppState::engine`). Then the inbox's first page is read once, so that the
            // window's first list request finds the cache's pages in memory.
            app.manage(AppState::new(events.clone()));
            let handle = app.handle().clone();
            std::thread::Builder::new()
                .name("pli-open".into())
                .spawn(move || {
                    // `Engine::open`'s future is not `Send`: run to completion on this thread.
                    let loaded = tauri::async_runtime::block_on(Loaded::open(events));
                    tracing::debug!(ms = since_start_ms(), "engine opened");
                    let engine = loaded.engine().ok();
                    let updates = loaded.updates();
                    handle.state::<AppState>().set(loaded);
                    updates::check_in_background(&handle, &updates);
                    if let Some(engine) = engine {
                        tauri::async_runtime::block_on(engine.warm_first_page());
                        tracing::debug!(ms = since_start_ms(), "first page warm");
                    }
                })?;
            desktop::prepare_webview_late(app.handle());
            if let Err(e) = desktop::setup_tray(app.handle()) {
                tracing::warn!(error = %e, "no tray icon on this desktop");
            }
            desktop::setup_links(app.handle());
            tracing::debug!(ms = since_start_ms(), "setup: done");
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
            commands::documents::save_attachment_pdf,
            commands::compose::send_message,
            commands::compose::save_draft,
            commands::compose::load_draft,
            commands::compose::delete_draft,
            commands::compose::resume_draft,
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
        .expect("Pli could not start its window");
    // Before `run` creates the window.
    desktop::prepare_webviews();
    app.run(|app, event| {
        if let tauri::RunEvent::Exit = event {
            if let Some(engine) = app.state::<AppState>().engine_now() {
                tauri::async_runtime::block_on(engine.shutdown());
            }
            updates::install_pending(app);
        }
    });
}
