//! How the webview draws on Linux (decision 0035).
//!
//! WebKitGTK composites the page with OpenGL. On a machine without a GPU (a virtual machine,
//! a VDI or thin-client session, a remote X display) Mesa then emulates OpenGL on the CPU
//! (llvmpipe), which costs the web process ~60-90 MiB more memory (its GL buffers and the
//! LLVM-compiled shaders) and ~100-150 ms more before the first frame shows, for nothing a
//! mail client needs (tests/bench/app/README.md, "Rendering without a GPU"). There Pli asks
//! WebKit to draw without compositing (`WEBKIT_DISABLE_COMPOSITING_MODE=1`), the way browsers
//! fall back to a software compositor rather than emulated OpenGL. With a GPU nothing changes.
//!
//! An administrator's or user's own setting wins: if `WEBKIT_DISABLE_COMPOSITING_MODE` is
//! already in the environment (`0` keeps compositing on), Pli leaves it alone.

use std::ffi::OsString;
use std::path::Path;
use std::sync::OnceLock;

/// The environment variable WebKitGTK reads (UI and web processes alike: the web process
/// inherits the environment).
pub const VAR: &str = "WEBKIT_DISABLE_COMPOSITING_MODE";

/// What [`choose`] did, logged once the log is set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rendering {
    /// The variable was already set: WebKit does as it says.
    AsConfigured,
    /// A GPU render node is there (or Mesa is not forced to software): WebKit's default.
    Gpu,
    /// No GPU: compositing turned off.
    Software,
}

static CHOSEN: OnceLock<Rendering> = OnceLock::new();

/// The decision, from the environment and whether a GPU render node exists.
pub fn decide(env: &dyn Fn(&str) -> Option<OsString>, has_render_node: bool) -> Rendering {
    if env(VAR).is_some() {
        return Rendering::AsConfigured;
    }
    // Mesa told to render in software has the same cost as no GPU at all.
    let forced_software = env("LIBGL_ALWAYS_SOFTWARE").is_some_and(|v| !v.is_empty() && v != "0");
    if has_render_node && !forced_software {
        Rendering::Gpu
    } else {
        Rendering::Software
    }
}

/// True when `/dev/dri` holds a render node (`renderD128`…): a GPU driver is loaded.
fn has_render_node(dri: &Path) -> bool {
    std::fs::read_dir(dri)
        .map(|entries| {
            entries
                .flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with("renderD"))
        })
        .unwrap_or(false)
}

/// Decides and, without a GPU, sets the variable. Call first thing in `main`, before any
/// thread starts (it changes the process environment).
pub fn choose() -> Rendering {
    let chosen = decide(
        &|k| std::env::var_os(k),
        has_render_node(Path::new("/dev/dri")),
    );
    if chosen == Rendering::Software {
        std::env::set_var(VAR, "1");
    }
    CHOSEN.get_or_init(|| chosen);
    chosen
}

/// What [`choose`] decided, if it ran.
pub fn chosen() -> Option<Rendering> {
    CHOSEN.get().copied()
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
    fn no_gpu_turns_compositing_off() {
        assert_eq!(decide(&env(&[]), false), Rendering::Software);
    }

    #[test]
    fn a_gpu_keeps_webkit_default() {
        assert_eq!(decide(&env(&[]), true), Rendering::Gpu);
    }

    #[test]
    fn mesa_forced_to_software_counts_as_no_gpu() {
        assert_eq!(
            decide(&env(&[("LIBGL_ALWAYS_SOFTWARE", "1")]), true),
            Rendering::Software
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
