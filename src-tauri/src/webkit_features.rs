//! WebKitGTK's feature switches (`webkit_settings_set_feature_enabled`, WebKitGTK 2.42 and
//! later), which the webkit2gtk crate does not bind. The functions are looked up when called
//! (`dlsym` in the already loaded libwebkit2gtk), not linked: an older WebKitGTK still runs Pli,
//! without the switch.
//!
//! The only unsafe code of the workspace, kept to these calls into WebKit's C API; every call's
//! contract is the one WebKitGTK documents for it.
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
