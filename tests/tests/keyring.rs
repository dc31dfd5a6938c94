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
