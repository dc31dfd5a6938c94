//! The `pli` command end to end: `account add`, `sync --once`, `search --json`, `audit
//! --json` on the sandbox, with the cache key in the real OS keyring (Secret Service, run by
//! `scripts/test`); the cache file holds no plaintext, a wrong key fails clearly, and the key's
//! session copy in the kernel keyring opens the cache without the Secret Service.

use std::path::PathBuf;
use std::process::{Command, Output};

use pli_e2e::sync_support::stamp;
use pli_e2e::{person, psc, sandbox_config};

struct Pli {
    config: PathBuf,
    profile: String,
    token: String,
}

impl Pli {
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(pli_e2e::pli_binary());
        cmd.arg("--config")
            .arg(&self.config)
            .args(args)
            .env("PLI_PROFILE", &self.profile)
            .env("PLI_ACCESS_TOKEN", &self.token);
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// Like `ok`, with up to three attempts (for syncs racing other tests' folder deletions).
    fn ok_retry(&self, args: &[&str]) -> String {
        for _ in 0..2 {
            let out = self.run(args);
            if out.status.success() {
                return String::from_utf8(out.stdout).unwrap();
            }
        }
        self.ok(args)
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "pli {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }
}

#[tokio::test]
async fn cli_account_sync_search_audit_on_an_encrypted_cache() {
    let mut cfg = sandbox_config();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    cfg.data_dir = Some(data.clone());
    cfg.accounts.clear();
    let config = dir.path().join("pli.toml");
    std::fs::write(&config, toml::to_string(&cfg).unwrap()).unwrap();
    let hugo = person(&cfg, "emergency");
    let urgences = hugo.mailboxes[1].clone();
    let token = psc::code_pkce(&cfg, &hugo.national_id)
        .await
        .unwrap()
        .access_token;
    let pli = Pli {
        config,
        profile: format!("e2e-cli-{}", stamp()),
        token,
    };

    let personal = hugo.personal_mailbox.clone().unwrap();
    pli.ok(&["account", "add", &urgences, "--kind", "ORG"]);
    pli.ok(&["account", "add", &personal]);
    let list = pli.ok(&["account", "list", "--json"]);
    assert!(
        list.contains(&urgences) && list.contains(&personal),
        "{list}"
    );

    // Both mailboxes in parallel, one JSON report each, progress events on stderr.
    // Other tests delete folders in these mailboxes, which makes Dovecot drop a connection
    // that has one selected: retried like the app's watch loop would.
    let mut out = pli.run(&["sync", "--once", "--json", "--progress"]);
    for _ in 0..2 {
        if out.status.success() {
            break;
        }
        out = pli.run(&["sync", "--once", "--json", "--progress"]);
    }
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let reports: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(reports.len(), 2, "{stdout}");
    for r in &reports {
        assert_eq!(r["ok"], true, "{stdout}");
        assert!(r["report"]["new"].as_u64().unwrap() > 0, "{stdout}");
    }
    let progress = String::from_utf8_lossy(&out.stderr);
    assert!(
        progress.contains("\"event\":\"headers\"") && progress.contains("\"event\":\"bodies\""),
        "{progress}"
    );
    let only = pli.ok_retry(&["sync", "--once", "--json", "--account", &urgences]);
    assert_eq!(only.lines().count(), 1, "{only}");

    // Accents ignored: "regulation" finds "SAMU 25 — Régulation".
    let hits: Vec<serde_json::Value> =
        serde_json::from_str(&pli.ok(&["search", "regulation", "--json"])).unwrap();
    assert!(!hits.is_empty());
    assert!(hits.iter().any(|h| h["account"] == urgences.as_str()));
    let dated: Vec<serde_json::Value> =
        serde_json::from_str(&pli.ok(&["search", "regulation", "--json", "--since", "2999-01-01"]))
            .unwrap();
    assert!(dated.is_empty(), "date filter applies: {dated:?}");

    let audit: Vec<serde_json::Value> =
        serde_json::from_str(&pli.ok(&["audit", "--json", "--since", "2020-01-01"])).unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e["action"] == "sync" && e["account"] == urgences.as_str()),
        "{audit:?}"
    );

    // Nothing readable on disk: neither the mailbox address nor a subject word.
    let mut bytes_seen = 0;
    for entry in std::fs::read_dir(&data).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        bytes_seen += bytes.len();
        for needle in ["urgences@", "Régulation", "SAMU", "SQLite format 3"] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "plaintext {needle:?} in the cache"
            );
        }
    }
    assert!(
        bytes_seen > 10_000,
        "the cache was written ({bytes_seen} bytes)"
    );

    // The kernel keyring's session copy of the key (decision 0027) opens the cache without the
    // Secret Service: with D-Bus unreachable, `pli search` still works while the copy lives,
    // and fails clearly when the copy is switched off.
    let account = format!("cache-key:{}", pli.profile);
    let db = data.join(pli_core::store::DB_FILE);
    if pli_core::secrets::session::get(&account, &db.to_string_lossy()).is_some() {
        let no_dbus = |copy: bool| {
            let mut cmd = pli.command(&["search", "regulation"]);
            cmd.env(
                "DBUS_SESSION_BUS_ADDRESS",
                "unix:path=/nonexistent/pli-test-bus",
            );
            if !copy {
                cmd.env("PLI_NO_SESSION_KEY_COPY", "1");
            }
            cmd.output().unwrap()
        };
        let out = no_dbus(true);
        assert!(
            out.status.success() && String::from_utf8_lossy(&out.stdout).contains(&urgences),
            "session copy: {:?} {} {}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let out = no_dbus(false);
        assert!(
            !out.status.success(),
            "without the copy the keyring is needed"
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("trousseau du système indisponible"), "{err}");
    } else {
        eprintln!("no kernel keyring here: session copy not exercised");
    }

    // Even with every log on (SQL statements included), the cache key never reaches the
    // terminal: SQLCipher gets it through a PRAGMA, which the SQL log would print verbatim.
    let key = pli_core::secrets::get(&account).expect("cache key in the keyring");
    let out = pli
        .command(&["search", "regulation"])
        .env("PLI_LOG", "trace")
        .output()
        .unwrap();
    assert!(out.status.success());
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        stderr.contains("cache opened"),
        "trace logs are on: {stderr}"
    );
    assert!(
        !stdout.contains(&key) && !stderr.contains(&key),
        "the cache key is in the output"
    );

    // Another key in the keyring: the cache refuses to open, with a clear message.
    pli_core::secrets::set(&account, &"0".repeat(64)).unwrap();
    let out = pli.run(&["search", "regulation"]);
    pli_core::secrets::delete(&account).unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("ne s'ouvre pas avec la clé"), "{err}");
}
