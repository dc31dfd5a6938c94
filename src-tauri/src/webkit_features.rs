//! WebKitGTK's feature switches (`webkit_settings_set_feature_enabled`, WebKitGTK 2.42 and
//! later), which the webkit2gtk crate does not bind. The functions are looked up when called
//! (`dlsym` in the already loaded libwebkit2gtk), not linked: an older WebKitGTK still runs Pli,
//! without the switch.
//!
//! Also the hook that lets the shell reach each webview before its first page load
//! ([`on_new_webview`]): GLib's signal emission hooks, which glib-rs does not bind either.
//!
//! The only unsafe code of the workspace, kept to these calls into WebKit's and GLib's C API;
//! every call's contract is the one WebKitGTK or GLib documents for it.
#![allow(unsafe_code)]

use std::ffi::{c_char, c_int, c_void, CStr};

use webkit2gtk::glib::translate::ToGlibPtr;

/// `WebKitFeatureList *webkit_settings_get_all_features (void)`: transfer full.
type GetAllFeatures = unsafe extern "C" fn() -> *mut c_void;
/// `gsize webkit_feature_list_get_length (WebKitFeatureList *)`.
type ListLength = unsafe extern "C" fn(*mut c_void) -> usize;
/// `WebKitFeature *webkit_feature_list_get (WebKitFeatureList *, gsize)`: transfer none.
type ListGet = unsafe extern "C" fn(*mut c_void, usize) -> *mut c_void;
/// `void webkit_feature_list_unref (WebKitFeatureList *)`.
type ListUnref = unsafe extern "C" fn(*mut c_void);
/// `const char *webkit_feature_get_identifier (WebKitFeature *)`: owned by the feature.
type Identifier = unsafe extern "C" fn(*mut c_void) -> *const c_char;
/// `gboolean webkit_settings_get_feature_enabled (WebKitSettings *, WebKitFeature *)`.
type GetEnabled = unsafe extern "C" fn(*mut c_void, *mut c_void) -> c_int;
/// `void webkit_settings_set_feature_enabled (WebKitSettings *, WebKitFeature *, gboolean)`.
type SetEnabled = unsafe extern "C" fn(*mut c_void, *mut c_void, c_int);

/// What [`set`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The feature was switched (it was the other way before).
    Changed,
    /// The feature already was as asked.
    Already,
    /// This WebKitGTK has no such feature.
    UnknownFeature,
    /// This WebKitGTK has no feature API (older than 2.42).
    NoApi,
}

/// Looks a WebKitGTK function up in the loaded libraries.
///
/// # Safety
/// `F` must be the `unsafe extern "C" fn` type matching the C declaration of `name`.
unsafe fn lookup<F: Copy>(name: &CStr) -> Option<F> {
    debug_assert_eq!(std::mem::size_of::<F>(), std::mem::size_of::<*mut c_void>());
    // SAFETY: dlsym with RTLD_DEFAULT and a NUL-terminated name has no other precondition.
    let p = unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) };
    if p.is_null() {
        None
    } else {
        // SAFETY: a function pointer and a data pointer have the same size on the platforms
        // WebKitGTK runs on; the caller vouches for the signature.
        Some(unsafe { std::mem::transmute_copy::<*mut c_void, F>(&p) })
    }
}

/// Turns WebKit feature `id` on or off in `settings` (the webview's own settings object).
pub fn set(settings: &webkit2gtk::Settings, id: &str, enabled: bool) -> Outcome {
    // SAFETY: each type alias above is the signature WebKitGTK declares for that name.
    let api = unsafe {
        (
            lookup::<GetAllFeatures>(c"webkit_settings_get_all_features"),
            lookup::<ListLength>(c"webkit_feature_list_get_length"),
            lookup::<ListGet>(c"webkit_feature_list_get"),
            lookup::<ListUnref>(c"webkit_feature_list_unref"),
            lookup::<Identifier>(c"webkit_feature_get_identifier"),
            lookup::<GetEnabled>(c"webkit_settings_get_feature_enabled"),
            lookup::<SetEnabled>(c"webkit_settings_set_feature_enabled"),
        )
    };
    let (Some(all), Some(len), Some(get), Some(unref), Some(ident), Some(get_on), Some(set_on)) =
        api
    else {
        return Outcome::NoApi;
    };
    let raw: *mut webkit2gtk::ffi::WebKitSettings = settings.to_glib_none().0;
    let raw = raw.cast::<c_void>();
    // SAFETY: the list is ours (transfer full) until unref; features are borrowed from it and
    // used only before that; identifiers are NUL-terminated strings owned by their feature;
    // `raw` is a live WebKitSettings borrowed from `settings` for this call.
    unsafe {
        let list = all();
        if list.is_null() {
            return Outcome::UnknownFeature;
        }
        let mut outcome = Outcome::UnknownFeature;
        for i in 0..len(list) {
            let feature = get(list, i);
            if feature.is_null() {
                continue;
            }
            let name = ident(feature);
            if name.is_null() || CStr::from_ptr(name).to_bytes() != id.as_bytes() {
                continue;
            }
            outcome = if (get_on(raw, feature) != 0) == enabled {
                Outcome::Already
            } else {
                set_on(raw, feature, c_int::from(enabled));
                Outcome::Changed
            };
            break;
        }
        unref(list);
        outcome
    }
}

/// What [`on_new_webview`] calls.
static ON_NEW_WEBVIEW: std::sync::OnceLock<fn(&webkit2gtk::WebView)> = std::sync::OnceLock::new();

/// Calls `f` with every WebKit web view of the process when it is put into its window (GTK's
/// `parent-set`): after wry created it and set its own settings, before it loads its first
/// page. WebKit hands a page its settings when it starts loading it, and some (the compositor's)
/// are read only then: a setting changed later, as `with_webview` does, comes too late for
/// those. Returns false (and `f` is never called) if the hook could not be installed. Call on
/// the main thread once GTK is initialised (tao does it when Tauri builds the app), before the
/// window exists; a second call does nothing and returns false.
pub fn on_new_webview(f: fn(&webkit2gtk::WebView)) -> bool {
    use webkit2gtk::glib::gobject_ffi;
    use webkit2gtk::glib::translate::IntoGlib;
    use webkit2gtk::glib::StaticType;
    if ON_NEW_WEBVIEW.set(f).is_err() {
        return false;
    }
    let view_type = webkit2gtk::WebView::static_type().into_glib();
    // SAFETY: the class reference is taken (and kept: signals are looked up in initialised
    // classes) on a registered type; `parent-set` is GtkWidget's signal, which WebKitWebView
    // inherits; the hook matches GSignalEmissionHook's signature and needs no data.
    unsafe {
        gobject_ffi::g_type_class_ref(view_type);
        let signal = gobject_ffi::g_signal_lookup(c"parent-set".as_ptr(), view_type);
        if signal == 0 {
            return false;
        }
        gobject_ffi::g_signal_add_emission_hook(
            signal,
            0,
            Some(parent_set),
            std::ptr::null_mut(),
            None,
        );
    }
    true
}

/// The emission hook of GtkWidget's `parent-set`: the first parameter is the widget.
unsafe extern "C" fn parent_set(
    _hint: *mut webkit2gtk::glib::gobject_ffi::GSignalInvocationHint,
    n_params: std::ffi::c_uint,
    params: *const webkit2gtk::glib::gobject_ffi::GValue,
    _data: *mut c_void,
) -> webkit2gtk::glib::ffi::gboolean {
    use webkit2gtk::glib::translate::FromGlibPtrNone;
    use webkit2gtk::glib::{gobject_ffi, Cast, Object, ObjectExt};
    if n_params >= 1 && !params.is_null() {
        // SAFETY: GLib passes the emitting instance, a GtkWidget (a GObject), as the first
        // value; `from_glib_none` takes a reference of our own for as long as we use it.
        let object: Object = unsafe {
            let raw = gobject_ffi::g_value_get_object(params);
            if raw.is_null() {
                return webkit2gtk::glib::ffi::GTRUE;
            }
            Object::from_glib_none(raw)
        };
        if let (Ok(view), Some(f)) = (
            object.downcast::<webkit2gtk::WebView>(),
            ON_NEW_WEBVIEW.get(),
        ) {
            // `parent-set` also fires when a widget is taken out of its parent (as the window
            // closes): only a web view that now has a parent is being put in.
            let placed = view
                .property_value("parent")
                .get::<Option<Object>>()
                .is_ok_and(|p| p.is_some());
            if placed {
                // A panic must not unwind into GLib's C frames.
                let _ = std::panic::catch_unwind(|| f(&view));
            }
        }
    }
    // Keep the hook: every web view of the process gets the same treatment.
    webkit2gtk::glib::ffi::GTRUE
}
