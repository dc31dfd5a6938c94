//! Secrets go to the real OS keyring (Secret Service on Linux, run by `scripts/test` under
//! `dbus-run-session` with an unlocked gnome-keyring), and another Secret Service client
//! (`secret-tool`) sees them there: no mock store.

use std::process::Command;

use pli_core::secrets;

fn secret_tool(args: &[&str]) -> std::process::Output {
    Command::new("secret-tool")
        .args(args)
        .output()
        .expect("secret-tool (libsecret-tools) must be installed")
}

#[test]
fn secrets_round_trip_through_the_os_keyring() {
    let account = format!("test-roundtrip:{}", std::process::id());
    let value = "refresh-token-à-garder-secret";
    secrets::set(&account, value).expect("Secret Service reachable");
    assert_eq!(secrets::get(&account).unwrap(), value);

    // An independent Secret Service client finds the item under Pli's namespace.
    let out = secret_tool(&["search", "--all", "service", secrets::SERVICE]);
    let listing =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        listing.contains(&account),
        "secret-tool did not see {account}: {listing}"
    );

    secrets::delete(&account).unwrap();
    assert!(matches!(
        secrets::get(&account),
        Err(secrets::SecretError::NotFound(_))
    ));
    // Deleting twice is fine (logout must be idempotent).
    secrets::delete(&account).unwrap();
}

/// The cache key's session copy in the kernel keyring (`secrets::session`, Linux) is made from
/// the keyring, never trusted over it: a new file never takes its key from a copy, a stale copy
/// is dropped and the keyring's key opens the file, and Pli's own writes to the keyring drop the
/// copy. (`sync_cli` shows the copy opening the cache with the Secret Service unreachable.)
#[cfg(target_os = "linux")]
#[tokio::test]
async fn the_cache_keys_session_copy_follows_the_keyring() {
    use pli_core::store::{CacheKey, Store, StoreError, DB_FILE};

    let dir = tempfile::tempdir().unwrap();
    let profile = format!("test-session-copy-{}", std::process::id());
    let db = dir.path().join(DB_FILE);
    let account = CacheKey::keyring_account(&profile);
    let binding = db.to_string_lossy().into_owned();

    // A stale copy before the file exists: ignored, the new key goes to the keyring.
    let stale = "ab".repeat(32);
    secrets::session::put(&account, &binding, &stale);
    let store = Store::open_profile(dir.path(), &profile)
        .await
        .expect("create");
    store.close().await;
    let in_keyring = secrets::get(&account).expect("key in the Secret Service");
    assert_ne!(
        in_keyring, stale,
        "a new cache never takes its key from a copy"
    );

    let copy = secrets::session::get(&account, &binding);
    if copy.is_none() {
        // keyctl refused by this kernel or container: the keyring alone is used.
        eprintln!("no kernel keyring here: session copy not exercised");
        secrets::delete(&account).unwrap();
        return;
    }
    assert_eq!(
        copy.as_deref(),
        Some(in_keyring.as_str()),
        "copy made from the keyring"
    );

    // A stale copy: dropped, and the keyring's key opens the file (and is copied again).
    secrets::session::put(&account, &binding, &stale);
    let store = Store::open_profile(dir.path(), &profile)
        .await
        .expect("stale copy dropped, keyring key used");
    store.close().await;
    assert_eq!(
        secrets::session::get(&account, &binding).as_deref(),
        Some(in_keyring.as_str()),
        "the copy is refreshed from the keyring"
    );

    // Pli writing or deleting the keyring entry drops the copy.
    secrets::set(&account, &in_keyring).unwrap();
    assert_eq!(
        secrets::session::get(&account, &binding),
        None,
        "set drops it"
    );
    secrets::session::put(&account, &binding, &in_keyring);
    secrets::delete(&account).unwrap();
    assert_eq!(
        secrets::session::get(&account, &binding),
        None,
        "delete drops it"
    );
    assert!(
        matches!(
            Store::open_profile(dir.path(), &profile).await,
            Err(StoreError::KeyMissing { .. })
        ),
        "without keyring entry nor copy, a clear error, never a new key"
    );
}
