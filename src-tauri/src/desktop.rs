//! Desktop integration: one instance, `mailto:` and `pli://` links, the tray icon with the
//! unread count, and new-mail notifications. Glue only: link parsing and counts come from
//! the engine.

use std::collections::HashSet;
use std::sync::Mutex;

use pli_core::api::{ComposeRequest, EngineEvent};
use tauri::menu::{Menu, MenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Emitter, Manager};
use tauri_plugin_deep_link::DeepLinkExt;
use tauri_plugin_notification::NotificationExt;

use crate::state::AppState;

/// Compose requests that arrived before the window asked for them, and the mailboxes whose
/// first sync already ran (no notification for the initial download).
#[derive(Default)]
pub struct Desktop {
    pub pending: Mutex<Vec<ComposeRequest>>,
    synced_once: Mutex<HashSet<String>>,
}

/// Shows and focuses the main window.
pub fn focus_main(app: &AppHandle) {
    if let Some(w) = app.get_webview_window("main") {
        w.unminimize().ok();
        w.show().ok();
        w.set_focus().ok();
    }
}

/// A link opened Pli: the window gets a compose request (event `compose-request`), or keeps
/// it until it asks (`take_compose_requests`) when it is not listening yet.
pub fn open_link(app: &AppHandle, link: &str) {
    let Some(req) = pli_core::engine::links::parse(link) else {
        tracing::info!("ignored link with an unknown scheme");
        return;
    };
    focus_main(app);
    app.state::<Desktop>()
        .pending
        .lock()
        .expect("pending links")
        .push(req.clone());
    app.emit("compose-request", ()).ok();
}

/// Registers the link handlers and looks at the link the app was started with.
pub fn setup_links(app: &AppHandle) {
    let handle = app.clone();
    app.deep_link().on_open_url(move |event| {
        for url in event.urls() {
            open_link(&handle, url.as_str());
        }
    });
    // Registering writes the registry (Windows) or runs `update-desktop-database` and
    // `xdg-mime` (Linux, shell scripts: a dozen processes): its own thread, since nothing needs
    // it before a link is clicked elsewhere.
    #[cfg(windows)]
    {
        let handle = app.clone();
        let spawned = std::thread::Builder::new()
            .name("pli-links".into())
            .spawn(move || {
                if let Err(e) = handle.deep_link().register_all() {
                    tracing::debug!(error = %e, "link schemes not registered");
                }
            });
        if let Err(e) = spawned {
            tracing::debug!(error = %e, "link schemes not registered");
        }
    }
    #[cfg(target_os = "linux")]
    register_pli_scheme_later(app);
    if let Ok(Some(urls)) = app.deep_link().get_current() {
        for url in urls {
            open_link(app, url.as_str());
        }
    }
}

/// Pli's window shows one local page and never navigates: WebKitGTK's "document viewer" cache
/// model turns off the browser caches (back/forward page cache, memory cache of resources) that
/// a single-page app does not use, which WebKit documents as substantially reducing memory
/// (tests/bench/app measures the idle memory). Also applies the rendering choice to the
/// webview's settings (`rendering::configure_webview`).
#[cfg(target_os = "linux")]
fn prepare_webview(view: &webkit2gtk::WebView) {
    use webkit2gtk::{CacheModel, WebContextExt, WebViewExt};
    if let Some(ctx) = view.context() {
        ctx.set_cache_model(CacheModel::DocumentViewer);
    }
    if let Some(settings) = WebViewExt::settings(view) {
        crate::rendering::configure_webview(&settings);
    }
}

/// Whether [`prepare_webviews`] installed its hook.
#[cfg(target_os = "linux")]
static PREPARED_BEFORE_LOAD: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// Makes every webview of the app prepared ([`prepare_webview`]) before it loads its page:
/// WebKit reads some settings (the compositor's) only when a page starts. Call after Tauri
/// built the app (GTK is initialised) and before it runs (the window is created then).
pub fn prepare_webviews() {
    #[cfg(target_os = "linux")]
    if crate::webkit_features::on_new_webview(prepare_webview) {
        PREPARED_BEFORE_LOAD.store(true, std::sync::atomic::Ordering::Relaxed);
    } else {
        tracing::info!("webview: no hook before the first page; prepared once created");
    }
}

/// If [`prepare_webviews`] could not hook in, prepares the main window's webview now that it
/// exists (the page is loading: the settings read only at its start keep WebKit's defaults).
pub fn prepare_webview_late(app: &AppHandle) {
    #[cfg(target_os = "linux")]
    if !PREPARED_BEFORE_LOAD.load(std::sync::atomic::Ordering::Relaxed) {
        if let Some(window) = app.get_webview_window("main") {
            if let Err(e) = window.with_webview(|wv| prepare_webview(&wv.inner())) {
                tracing::debug!(error = %e, "webview settings not applied");
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = app;
}

/// The tray icon: open, quit; its tooltip (and label where the desktop shows one) carries the
/// unread count.
pub fn setup_tray(app: &AppHandle) -> tauri::Result<()> {
    let open = MenuItem::with_id(app, "open", "Ouvrir Pli", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quitter Pli", true, None::<&str>)?;
    let menu = Menu::with_items(app, &[&open, &quit])?;
    let mut tray = TrayIconBuilder::with_id("main")
        .tooltip("Pli")
        .menu(&menu)
        .on_menu_event(|app, event| match event.id.as_ref() {
            "open" => focus_main(app),
            "quit" => app.exit(0),
            _ => {}
        });
    if let Some(icon) = app.default_window_icon() {
        tray = tray.icon(icon.clone());
    }
    tray.build(app)?;
    Ok(())
}

/// Reacts to engine events on the desktop side: tray count and notifications. The
/// notification says how many messages arrived in which mailbox, never who sent them or
/// about what (a locked screen must not show health data).
pub fn on_engine_event(app: &AppHandle, e: &EngineEvent) {
    let EngineEvent::MailChanged { account, new } = e else {
        return;
    };
    let first = app
        .state::<Desktop>()
        .synced_once
        .lock()
        .expect("synced accounts")
        .insert(account.clone());
    if *new > 0 && !first {
        let body = if *new == 1 {
            format!("1 nouveau message dans {account}")
        } else {
            format!("{new} nouveaux messages dans {account}")
        };
        if let Err(err) = app.notification().builder().title("Pli").body(body).show() {
            tracing::debug!(%err, "notification not shown");
        }
    }
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let Ok(engine) = app.state::<AppState>().engine().await else {
            return;
        };
        let mail: i64 = engine
            .mailboxes()
            .await
            .map(|m| m.iter().map(|b| b.unread).sum())
            .unwrap_or(0);
        let patients: i64 = engine
            .patients()
            .await
            .map(|p| p.iter().map(|c| c.unread).sum())
            .unwrap_or(0);
        let unread = mail + patients;
        if let Some(tray) = app.tray_by_id("main") {
            let text = match unread {
                0 => "Pli — aucun message non lu".to_owned(),
                1 => "Pli — 1 message non lu".to_owned(),
                n => format!("Pli — {n} messages non lus"),
            };
            tray.set_tooltip(Some(&text)).ok();
            #[cfg(target_os = "linux")]
            tray.set_title((unread > 0).then(|| unread.to_string()))
                .ok();
        }
    });
}

/// How long after the start the `pli:` scheme is checked (Linux): the processes it takes
/// would otherwise run beside the webview's first page load on a small machine.
#[cfg(target_os = "linux")]
const LINK_REGISTRATION_DELAY: std::time::Duration = std::time::Duration::from_secs(10);

/// Linux: makes Pli the handler of `pli:` links when nothing handles them yet (a build run
/// from its folder, an AppImage); the .deb's own desktop entry declares `pli:` and `mailto:`.
/// `mailto:` is never made the default here: which program writes mail is the user's choice
/// (`xdg-settings`, docs/deployment.md). Until this release, every start made Pli the default
/// `mailto:` handler again and wrote a second desktop entry, whatever the user had chosen.
#[cfg(target_os = "linux")]
fn register_pli_scheme_later(app: &AppHandle) {
    let handle = app.clone();
    let spawned = std::thread::Builder::new()
        .name("pli-links".into())
        .spawn(move || {
            std::thread::sleep(LINK_REGISTRATION_DELAY);
            let current = std::process::Command::new("xdg-mime")
                .args(["query", "default", "x-scheme-handler/pli"])
                .output();
            match current {
                Ok(out) if out.status.success() && !out.stdout.trim_ascii().is_empty() => {
                    tracing::debug!(
                        handler = %String::from_utf8_lossy(out.stdout.trim_ascii()),
                        "pli: links already have a handler"
                    );
                }
                _ => {
                    if let Err(e) = handle.deep_link().register("pli") {
                        tracing::debug!(error = %e, "pli: link scheme not registered");
                    }
                }
            }
        });
    if let Err(e) = spawned {
        tracing::debug!(error = %e, "pli: link scheme not registered");
    }
}
