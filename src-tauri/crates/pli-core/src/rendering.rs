//! How the desktop app's webview should paint on Linux (decision 0035): the decision only,
//! from the environment and the machine; the shell (`src-tauri/src/rendering.rs`) applies it
//! before any thread starts. Here so that it is tested with the engine's tests.
//!
//! WebKitGTK paints and composites the page with OpenGL. On a machine without a GPU (a virtual
//! machine, a VDI or thin-client session, a remote X display) Mesa then emulates OpenGL on the
//! CPU (llvmpipe), and painting through it is slower than painting with the CPU directly:
//! WebKit's own CPU renderer (Skia) shows the first frame ~100-150 ms sooner, drops fewer
//! frames while the list scrolls and takes ~15 MiB less (tests/bench/app/README.md,
//! "Rendering without a GPU"). There Pli asks WebKit for CPU rendering
//! (`WEBKIT_SKIA_ENABLE_CPU_RENDERING=1`); with a GPU nothing changes. Turning compositing off
//! altogether (`WEBKIT_DISABLE_COMPOSITING_MODE=1`) saves more memory but was not chosen: in
//! WebKitGTK 2.50 the page's snapshots (WebDriver screenshots) never complete in that mode, a
//! sign of a path no longer looked after.
//!
//! An administrator's or user's own setting wins: if either variable is already in the
//! environment, Pli leaves both alone (`WEBKIT_SKIA_ENABLE_CPU_RENDERING=0` keeps OpenGL).
//!
//! Painting is only half of a frame: WebKit then composites the page's layers into the window
//! with OpenGL, still emulated by llvmpipe without a GPU, gives every scrollable area that
//! overflows (the folder list, the reading pane) layers of its own, and composites the whole
//! window each frame. With the list scrolling and a message open that cost ~30-40 ms of CPU
//! per 16.7 ms frame in the app here and a sixth to two thirds of the frames were late. Where
//! Pli chose the CPU renderer it also sets two WebKit features ([`webkit_features`]):
//! scrollable areas painted with the page rather than composited (`AsyncOverflowScrolling`
//! off, decision 0036) and compositing limited to what changed
//! (`UseDamagingInformationForCompositing` on, WebKit's default from 2.54; decision 0037).
//! The shell sets them before the webview loads its page, since WebKit reads the second only
//! then. In the app: 11-14 ms of CPU per frame, no frame late (tests/bench/app).

use std::ffi::OsString;
use std::path::Path;

/// The environment variable the shell sets (read by WebKit's web process, which inherits the
/// environment).
pub const VAR: &str = "WEBKIT_SKIA_ENABLE_CPU_RENDERING";
/// WebKit's other rendering switch: set by someone, it means they chose.
const OTHER: &str = "WEBKIT_DISABLE_COMPOSITING_MODE";

/// How the webview should paint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rendering {
    /// One of WebKit's variables was already set: WebKit does as it says.
    AsConfigured,
    /// A GPU render node is there (and Mesa is not forced to software): WebKit's default.
    Gpu,
    /// No GPU: WebKit's CPU renderer ([`VAR`]`=1`).
    Cpu,
}

/// The decision, from the environment and whether a GPU render node exists.
pub fn decide(env: &dyn Fn(&str) -> Option<OsString>, has_render_node: bool) -> Rendering {
    if env(VAR).is_some() || env(OTHER).is_some() {
        return Rendering::AsConfigured;
    }
    // Mesa told to render in software has the same cost as no GPU at all.
    let forced_software = env("LIBGL_ALWAYS_SOFTWARE").is_some_and(|v| !v.is_empty() && v != "0");
    if has_render_node && !forced_software {
        Rendering::Gpu
    } else {
        Rendering::Cpu
    }
}

/// WebKit's feature that gives overflowing scrollable areas composited layers of their own.
pub const OVERFLOW_FEATURE: &str = "AsyncOverflowScrolling";
/// WebKit's feature that has the compositor redraw only the damaged parts of the window (read
/// when the page's compositor is set up: it must be set before the first load).
pub const DAMAGE_FEATURE: &str = "UseDamagingInformationForCompositing";
/// Overrides [`webkit_features`]'s choice: `1` applies the features whatever the rendering,
/// `0` leaves WebKit's defaults; anything else is ignored.
pub const FEATURES_VAR: &str = "PLI_WEBKIT_FEATURES";

/// The WebKit features the shell sets on the webview (identifier, on or off): for the CPU
/// renderer (no GPU: compositing runs on the CPU too, and every composited pixel costs),
/// unless [`FEATURES_VAR`] says otherwise. With a GPU, or with an administrator's own
/// rendering setting, WebKit's defaults stand (an empty list).
pub fn webkit_features(
    rendering: Rendering,
    env: &dyn Fn(&str) -> Option<OsString>,
) -> Vec<(&'static str, bool)> {
    let apply = match env(FEATURES_VAR).as_deref().and_then(|v| v.to_str()) {
        Some("1") => true,
        Some("0") => false,
        _ => rendering == Rendering::Cpu,
    };
    if apply {
        vec![(OVERFLOW_FEATURE, false), (DAMAGE_FEATURE, true)]
    } else {
        Vec::new()
    }
}

/// True when `dri` (`/dev/dri`) holds a render node (`renderD128`…): a GPU driver is loaded.
pub fn has_render_node(dri: &Path) -> bool {
    std::fs::read_dir(dri)
        .map(|entries| {
            entries
                .flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with("renderD"))
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<OsString> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| OsString::from(v))
        }
    }

    #[test]
    fn no_gpu_means_cpu_rendering() {
        assert_eq!(decide(&env(&[]), false), Rendering::Cpu);
    }

    #[test]
    fn a_gpu_keeps_webkit_default() {
        assert_eq!(decide(&env(&[]), true), Rendering::Gpu);
    }

    #[test]
    fn mesa_forced_to_software_counts_as_no_gpu() {
        assert_eq!(
            decide(&env(&[("LIBGL_ALWAYS_SOFTWARE", "1")]), true),
            Rendering::Cpu
        );
        assert_eq!(
            decide(&env(&[("LIBGL_ALWAYS_SOFTWARE", "0")]), true),
            Rendering::Gpu
        );
    }

    #[test]
    fn an_explicit_setting_wins_either_way() {
        assert_eq!(decide(&env(&[(VAR, "0")]), false), Rendering::AsConfigured);
        assert_eq!(decide(&env(&[(VAR, "1")]), true), Rendering::AsConfigured);
        assert_eq!(
            decide(&env(&[(OTHER, "1")]), false),
            Rendering::AsConfigured
        );
    }

    #[test]
    fn webkit_features_follow_the_cpu_renderer() {
        assert_eq!(
            webkit_features(Rendering::Cpu, &env(&[])),
            vec![(OVERFLOW_FEATURE, false), (DAMAGE_FEATURE, true)]
        );
        assert!(webkit_features(Rendering::Gpu, &env(&[])).is_empty());
        assert!(webkit_features(Rendering::AsConfigured, &env(&[])).is_empty());
    }

    #[test]
    fn webkit_features_can_be_forced_either_way() {
        let ours = vec![(OVERFLOW_FEATURE, false), (DAMAGE_FEATURE, true)];
        assert!(webkit_features(Rendering::Cpu, &env(&[(FEATURES_VAR, "0")])).is_empty());
        assert_eq!(
            webkit_features(Rendering::Gpu, &env(&[(FEATURES_VAR, "1")])),
            ours
        );
        assert_eq!(
            webkit_features(Rendering::AsConfigured, &env(&[(FEATURES_VAR, "1")])),
            ours
        );
        // Anything else is not a choice: the default stands.
        assert_eq!(
            webkit_features(Rendering::Cpu, &env(&[(FEATURES_VAR, "yes")])),
            ours
        );
        assert!(webkit_features(Rendering::Gpu, &env(&[(FEATURES_VAR, "")])).is_empty());
    }

    #[test]
    fn render_nodes_are_found_in_a_dri_folder() {
        let dir = std::env::temp_dir().join(format!("pli-dri-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("card0"), b"").unwrap();
        assert!(!has_render_node(&dir), "card0 alone is not a render node");
        std::fs::write(dir.join("renderD128"), b"").unwrap();
        assert!(has_render_node(&dir));
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(!has_render_node(&dir), "a missing folder means no GPU");
    }
}
