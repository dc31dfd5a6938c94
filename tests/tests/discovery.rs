//! ECO.1.1.9: the mail servers of a mailbox address come from DNS SRV records (RFC 6186),
//! asked of the sandbox's real DNS server (dnsmasq on 127.0.0.1:10053, `[discovery]` in
//! pli.toml), and the discovered endpoints really open the mailbox (IMAP) and the submission
//! server with a PSC token.

use std::process::Command;
use std::time::Duration;

use pli_core::auth::{AccessToken, StaticToken, Xoauth2};
use pli_core::config::{Config, Security};
use pli_core::discovery::{discover, DiscoveryError, DiscoveryOptions, Endpoint, Source};
use pli_core::imap;
use pli_e2e::{person, psc, sandbox_config, tls};

fn options(cfg: &Config) -> DiscoveryOptions {
    let opts = DiscoveryOptions {
        timeout: Some(Duration::from_secs(3)),
        ..DiscoveryOptions::from_config(cfg)
    };
    assert_eq!(
        opts.nameserver,
        Some("127.0.0.1:10053".parse().unwrap()),
        "the sandbox's pli.toml points [discovery] at its dnsmasq"
    );
    opts
}

#[tokio::test]
async fn eco_1_1_9_srv_records_give_the_sandbox_servers() {
    let cfg = sandbox_config();
    let anne = person(&cfg, "practitioner");
    let address = anne.personal_mailbox.as_deref().unwrap();
    let found = discover(address, &options(&cfg)).await.unwrap();
    assert_eq!(found.source, Source::Srv);
    // _imaps and _imap share priority 0: implicit TLS wins (RFC 8314).
    assert_eq!(
        found.imap,
        Some(Endpoint {
            host: "localhost".into(),
            port: 10993,
            security: Security::Tls,
        })
    );
    // _submissions has the "." target (not offered): the STARTTLS submission is used.
    assert_eq!(
        found.smtp,
        Some(Endpoint {
            host: "localhost".into(),
            port: 10587,
            security: Security::Starttls,
        })
    );
    // The other sandbox domain publishes the same services.
    let gp = person(&cfg, "gp");
    let other = discover(gp.personal_mailbox.as_deref().unwrap(), &options(&cfg))
        .await
        .unwrap();
    assert_eq!(other.imap, found.imap);
}

#[tokio::test]
async fn eco_1_1_9_discovered_endpoints_authenticate_with_xoauth2() {
    let cfg = sandbox_config();
    let anne = person(&cfg, "practitioner");
    let address = anne.personal_mailbox.as_deref().unwrap();
    let found = discover(address, &options(&cfg)).await.unwrap();
    // Nothing of the configured [operator] endpoint is used: host, port and security are
    // the discovered ones, the certificate is checked against the discovered host name.
    let server = found
        .imap
        .clone()
        .expect("IMAP discovered")
        .to_server_config();
    assert_eq!(server.connect_addr, None);
    let t = psc::code_pkce(&cfg, &anne.national_id).await.unwrap();
    let creds = StaticToken(AccessToken::new(&t.access_token));
    let mut s = imap::connect(&server, tls(&cfg), &creds, address)
        .await
        .unwrap();
    s.select("INBOX").await.unwrap();
    s.logout().await.unwrap();

    // The discovered submission endpoint: STARTTLS, certificate for the discovered host,
    // XOAUTH2 with the same token (lettre authenticates when it opens the connection).
    let mut op = cfg.operator.clone();
    op.smtp = found
        .smtp
        .expect("submission discovered")
        .to_server_config();
    let creds = Xoauth2::new(address, &AccessToken::new(&t.access_token));
    let transport = pli_core::smtp::transport(&op, &creds).unwrap();
    assert!(transport.test_connection().await.unwrap());
}

#[tokio::test]
async fn eco_1_1_9_unknown_domain_is_a_french_no_record_error() {
    let cfg = sandbox_config();
    let err = discover("personne@inconnu-sandbox.mssante.fr", &options(&cfg))
        .await
        .unwrap_err();
    match &err {
        DiscoveryError::NotFound { domain, tried } => {
            assert_eq!(domain, "inconnu-sandbox.mssante.fr");
            assert_eq!(tried.len(), 4, "{tried:?}");
        }
        other => panic!("expected NotFound, got {other:?}"),
    }
    let m = err.to_string();
    assert!(m.contains("aucun enregistrement DNS SRV"), "{m}");
    for name in [
        "_imaps._tcp.inconnu-sandbox.mssante.fr",
        "_imap._tcp.inconnu-sandbox.mssante.fr",
        "_submissions._tcp.inconnu-sandbox.mssante.fr",
        "_submission._tcp.inconnu-sandbox.mssante.fr",
    ] {
        assert!(m.contains(name), "{name} missing from: {m}");
    }
    let bad = discover("pas-une-adresse", &options(&cfg))
        .await
        .unwrap_err();
    assert!(bad.to_string().contains("invalide"), "{bad}");
}

#[test]
fn eco_1_1_9_cli_discover_prints_json_and_honours_overrides() {
    let config = pli_e2e::repo_root().join("target/sandbox/pli.toml");
    let run = |args: &[&str]| {
        Command::new(pli_e2e::pli_binary())
            .arg("--config")
            .arg(&config)
            .arg("discover")
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&["anne.lefevre@pli-sandbox.mssante.fr", "--json"]);
    assert!(out.status.success(), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v,
        serde_json::json!({
            "imap": {"host": "localhost", "port": 10993, "security": "tls"},
            "smtp": {"host": "localhost", "port": 10587, "security": "starttls"},
            "source": "srv"
        })
    );
    let out = run(&[
        "anne.lefevre@pli-sandbox.mssante.fr",
        "--json",
        "--imap",
        "localhost:10143:starttls",
    ]);
    assert!(out.status.success(), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["imap"]["port"], 10143);
    assert_eq!(v["smtp"]["port"], 10587);
    assert_eq!(v["source"], "srv+manual");
    let out = run(&["personne@inconnu-sandbox.mssante.fr"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("aucun enregistrement DNS SRV"), "{err}");
}
