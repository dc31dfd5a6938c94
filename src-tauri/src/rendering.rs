//! Applies pli-core's choice of how the webview paints (decision 0035,
//! `pli_core::rendering`): without a GPU, WebKit's CPU renderer.

use std::path::Path;
use std::sync::OnceLock;

pub use pli_core::rendering::Rendering;
use pli_core::rendering::{decide, has_render_node, VAR};

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
