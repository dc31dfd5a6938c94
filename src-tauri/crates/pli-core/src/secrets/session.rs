//! A short-lived session copy of a secret in the Linux kernel's key-retention service
//! (`keyctl`, the user keyring), so that a command run many times in a row (`pli search` from a
//! script, a patient-record application calling `pli send`) does not pay a Secret Service round
//! trip over D-Bus each time: about 15–25 ms with gnome-keyring (measured by
//! `tests/bench/search`; libsecret's own `secret-tool lookup` takes as long), against a few
//! microseconds for a `keyctl` read. Decision 0027.
//!
//! Rules:
//! - The Secret Service (the OS keyring) stays the only place a secret is kept; the copy is never
//!   authoritative. It is bound to what it opens (`binding`, e.g. the cache file's path: a copy
//!   made for another file is not returned), and a caller that finds the copy wrong (the file
//!   does not open with it) forgets it and reads the keyring again ([`forget`]). A new secret is
//!   never created from a copy.
//! - It expires after [`IDLE_SECS`] without use (each read extends it), and is dropped whenever
//!   Pli writes or deletes the account in the keyring (`secrets::set`, `secrets::delete`).
//! - Kernel memory is never swapped to disk and the copy goes with a reboot. Its permissions:
//!   everything to its possessor; view, read, search and refresh to processes of the same user
//!   (the same boundary as an unlocked Secret Service collection, which any process of the user
//!   may ask); nothing to the group or others.
//! - Only on Linux; elsewhere the native stores answer in-process and every function here does
//!   nothing. Where the kernel refuses `keyctl` (some container seccomp profiles), nothing is
//!   cached and the keyring is read as before. `PLI_NO_SESSION_KEY_COPY=1` turns it off.

/// Seconds a copy lives without being read.
pub const IDLE_SECS: usize = 30 * 60;

/// The kernel key's description: the keyring service and the account (one copy per account).
fn description(account: &str) -> String {
    format!("{}:{account}", super::SERVICE)
}

/// The copy's payload: a digest of the binding (no path kept in kernel memory), a newline, the
/// secret.
fn payload(binding: &str, secret: &str) -> String {
    format!("{}\n{secret}", binding_digest(binding))
}

fn binding_digest(binding: &str) -> String {
    use sha1::{Digest, Sha1};
    Sha1::digest(binding.as_bytes())[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn disabled() -> bool {
    std::env::var_os("PLI_NO_SESSION_KEY_COPY").is_some_and(|v| !v.is_empty() && v != "0")
}

#[cfg(target_os = "linux")]
mod imp {
    use linux_keyutils::{Key, KeyPermissionsBuilder, KeyRing, KeyRingIdentifier, Permission};

    fn user_ring() -> Option<KeyRing> {
        KeyRing::from_special_id(KeyRingIdentifier::User, false).ok()
    }

    pub(super) fn find(desc: &str) -> Option<Key> {
        user_ring()?.search(desc).ok()
    }

    pub(super) fn get(desc: &str) -> Option<Vec<u8>> {
        let key = find(desc)?;
        let value = key.read_to_vec().ok()?;
        // Sliding expiry: used now, kept IDLE_SECS more.
        let _ = key.set_timeout(super::IDLE_SECS);
        Some(value)
    }

    pub(super) fn put(desc: &str, secret: &[u8]) {
        let Some(ring) = user_ring() else { return };
        let Ok(key) = ring.add_key(desc, secret) else {
            return;
        };
        let perms = KeyPermissionsBuilder::builder()
            .posessor(Permission::ALL)
            .user(Permission::VIEW | Permission::READ | Permission::SEARCH | Permission::SETATTR)
            .build();
        if key.set_perms(perms).is_err() || key.set_timeout(super::IDLE_SECS).is_err() {
            // A copy we cannot restrict or make expire is not kept.
            let _ = key.invalidate();
        }
    }

    pub(super) fn forget(desc: &str) {
        if let Some(key) = find(desc) {
            let _ = key.invalidate();
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    pub(super) fn get(_: &str) -> Option<Vec<u8>> {
        None
    }
    pub(super) fn put(_: &str, _: &[u8]) {}
    pub(super) fn forget(_: &str) {}
}

/// The session copy of `account`'s secret made for `binding`, if there is one (and extends its
/// life).
pub fn get(account: &str, binding: &str) -> Option<String> {
    if disabled() {
        return None;
    }
    let value = String::from_utf8(imp::get(&description(account))?).ok()?;
    let (digest, secret) = value.split_once('\n')?;
    (digest == binding_digest(binding)).then(|| secret.to_owned())
}

/// Keeps a session copy of `secret` for `binding` (just read from, or written to, the OS
/// keyring), replacing any other copy for `account`.
pub fn put(account: &str, binding: &str, secret: &str) {
    if !disabled() {
        imp::put(&description(account), payload(binding, secret).as_bytes());
    }
}

/// Drops `account`'s session copy (found wrong, or the keyring's value changed).
pub fn forget(account: &str) {
    imp::forget(&description(account));
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// Whether this kernel lets us use keyctl at all (containers may not), asked directly, not
    /// through the code under test.
    fn available() -> bool {
        use linux_keyutils::{KeyRing, KeyRingIdentifier};
        let Ok(ring) = KeyRing::from_special_id(KeyRingIdentifier::User, false) else {
            return false;
        };
        let Ok(key) = ring.add_key("fr.pli.app:probe", "x") else {
            return false;
        };
        let ok = key.read_to_vec().is_ok();
        let _ = key.invalidate();
        ok
    }

    #[test]
    fn a_copy_is_read_back_for_its_binding_only_replaced_and_forgotten() {
        if !available() {
            eprintln!("keyctl refused here: nothing to test");
            return;
        }
        let account = format!("test-{}", std::process::id());
        put(&account, "/a/pli-cache.db", "secret-a");
        assert_eq!(
            get(&account, "/a/pli-cache.db").as_deref(),
            Some("secret-a")
        );
        assert_eq!(get(&account, "/b/pli-cache.db"), None, "bound to its file");
        put(&account, "/b/pli-cache.db", "secret-b");
        assert_eq!(
            get(&account, "/a/pli-cache.db"),
            None,
            "one copy per account"
        );
        put(&account, "/a/pli-cache.db", "secret-a");
        put(&account, "/a/pli-cache.db", "secret-a2");
        assert_eq!(
            get(&account, "/a/pli-cache.db").as_deref(),
            Some("secret-a2"),
            "a new value replaces the copy"
        );
        forget(&account);
        assert_eq!(get(&account, "/a/pli-cache.db"), None);
    }

    #[test]
    fn the_copy_is_private_to_the_user_and_expires() {
        if !available() {
            return;
        }
        let account = format!("test-perm-{}", std::process::id());
        put(&account, "/p", "s");
        let key = imp::find(&description(&account)).expect("copy");
        let perms = key.metadata().expect("metadata").get_perms().bits();
        // /proc/keys: "<id in hex> <flags> <usage> <timeout> …", timeout "perm" when none.
        let id = format!("{:08x}", key.get_id().as_raw_id());
        let keys = std::fs::read_to_string("/proc/keys").unwrap_or_default();
        let timeout = keys
            .lines()
            .find(|l| l.starts_with(&id))
            .and_then(|l| l.split_whitespace().nth(3).map(str::to_owned));
        forget(&account);
        if let Some(t) = timeout {
            assert!(
                t.ends_with('m') && t != "perm",
                "expires within 30 min: {t}"
            );
        }
        assert_eq!(
            perms & 0xFFFF,
            0,
            "no group or other permission: {perms:#x}"
        );
        assert_eq!(
            (perms >> 16) & 0x3f,
            0x2b,
            "user: view, read, search, setattr"
        );
        assert_eq!(perms >> 24, 0x3f, "possessor: all");
    }
}
