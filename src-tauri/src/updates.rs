//! Signed updates (`tauri-plugin-updater`, decision 0018): when the configuration's
//! `[updates] enabled` is true, one check at start, in the background; an update is
//! downloaded and its minisign signature verified against the public key built into the app
//! (`plugins.updater.pubkey`), then installed when Pli closes. Offline, or with an unreachable
//! endpoint, the check only logs: it never delays the window nor fails the app.

use std::sync::Mutex;
use std::time::Duration;

use pli_core::config::UpdatesConfig;
use tauri::{AppHandle, Manager, Url};
use tauri_plugin_notification::NotificationExt;
use tauri_plugin_updater::{Update, UpdaterExt};

/// A downloaded, verified update waiting for the app to close.
#[derive(Default)]
pub struct Pending(Mutex<Option<(Update, Vec<u8>)>>);

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pending(..)")
    }
}

/// Starts the check at start-up, unless the configuration turns updates off.
pub fn check_in_background(app: &AppHandle, updates: &UpdatesConfig) {
    app.manage(Pending::default());
    if !updates.enabled {
        tracing::info!("updates turned off by the configuration ([updates] enabled = false)");
        return;
    }
    let app = app.clone();
    let endpoint = updates.endpoint.clone();
    tauri::async_runtime::spawn(async move {
        match fetch(&app, endpoint.as_deref()).await {
            Ok(Some((update, bytes))) => {
                tracing::info!(version = %update.version, "update downloaded and verified");
                let body = format!(
                    "La version {} de Pli sera installée à la fermeture de l'application.",
                    update.version
                );
                if let Err(e) = app
                    .notification()
                    .builder()
                    .title("Mise à jour de Pli")
                    .body(body)
                    .show()
                {
                    tracing::debug!(error = %e, "update notification not shown");
                }
                if let Ok(mut slot) = app.state::<Pending>().0.lock() {
                    *slot = Some((update, bytes));
                }
            }
            Ok(None) => tracing::info!("Pli is up to date"),
            Err(e) => tracing::warn!(error = %e, "update check failed (offline?); Pli goes on"),
        }
    });
}

async fn fetch(
    app: &AppHandle,
    endpoint: Option<&str>,
) -> Result<Option<(Update, Vec<u8>)>, String> {
    let mut builder = app.updater_builder().timeout(Duration::from_secs(60));
    if let Some(url) = endpoint {
        let url = Url::parse(url).map_err(|e| format!("[updates] endpoint {url}: {e}"))?;
        builder = builder.endpoints(vec![url]).map_err(|e| e.to_string())?;
    }
    let updater = builder.build().map_err(|e| e.to_string())?;
    let Some(update) = updater.check().await.map_err(|e| e.to_string())? else {
        return Ok(None);
    };
    // `download` verifies the signature before returning the bytes.
    let bytes = update
        .download(|_, _| {}, || {})
        .await
        .map_err(|e| e.to_string())?;
    Ok(Some((update, bytes)))
}

/// Installs the update downloaded at start, if any (called when the app exits; on Windows
/// the installer takes over from the closing app).
pub fn install_pending(app: &AppHandle) {
    let Some(pending) = app.try_state::<Pending>() else {
        return;
    };
    let taken = pending.0.lock().ok().and_then(|mut slot| slot.take());
    if let Some((update, bytes)) = taken {
        match update.install(bytes) {
            Ok(()) => tracing::info!(version = %update.version, "update installed"),
            Err(e) => tracing::warn!(error = %e, "update not installed"),
        }
    }
}
