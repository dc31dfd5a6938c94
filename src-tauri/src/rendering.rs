//! Applies pli-core's choice of how the webview paints (decisions 0035 to 0037,
//! `pli_core::rendering`): without a GPU, WebKit's CPU renderer and the WebKit features that
//! keep compositing cheap on the CPU.

use std::path::Path;
use std::sync::OnceLock;

pub use pli_core::rendering::Rendering;
use pli_core::rendering::{decide, has_render_node, webkit_features, VAR};

use crate::webkit_features::{self, Outcome};

static CHOSEN: OnceLock<Rendering> = OnceLock::new();

/// Decides and, without a GPU, sets WebKit's variable. Call first thing in `main`, before any
/// thread starts (it changes the process environment).
pub fn choose() -> Rendering {
    let chosen = decide(
        &|k| std::env::var_os(k),
        has_render_node(Path::new("/dev/dri")),
    );
    if chosen == Rendering::Cpu {
        std::env::set_var(VAR, "1");
    }
    CHOSEN.get_or_init(|| chosen);
    chosen
}

/// What [`choose`] decided, if it ran.
pub fn chosen() -> Option<Rendering> {
    CHOSEN.get().copied()
}

/// Applies the choice to the webview's own settings: the WebKit features
/// [`webkit_features`] lists. Call before the webview loads its page (the shell does it from a
/// GTK hook as wry puts the webview in its window: `desktop::prepare_webviews`); each outcome
/// is logged.
pub fn configure_webview(settings: &webkit2gtk::Settings) {
    let rendering = chosen().unwrap_or(Rendering::AsConfigured);
    let features = webkit_features(rendering, &|k| std::env::var_os(k));
    if features.is_empty() {
        tracing::debug!(?rendering, "webview: WebKit's default features kept");
    }
    for (id, on) in features {
        let outcome = webkit_features::set(settings, id, on);
        if matches!(outcome, Outcome::Changed | Outcome::Already) {
            tracing::info!(feature = id, on, ?outcome, "webview: WebKit feature set");
        } else {
            tracing::info!(
                feature = id,
                ?outcome,
                "webview: WebKit feature not available"
            );
        }
    }
}
