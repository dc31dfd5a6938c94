//! `pli send` and `pli end-exchange` end to end on the sandbox (cache key in the real OS
//! keyring, run by `scripts/test`): the CLI composes, queues, submits and copies to Sent; the
//! recipient's INBOX and the patient's INBOX are read back over IMAP.

use std::process::{Command, Output};
use std::time::Duration;

use futures::TryStreamExt;
use mail_parser::MessageParser;
use pli_core::config::Config;
use pli_e2e::sync_support::stamp;
use pli_e2e::{person, psc, sandbox_config, tls};
use tokio::net::TcpStream;

type Session = async_imap::Session<tokio_rustls::client::TlsStream<TcpStream>>;

async fn imap_login(cfg: &Config, user: &str, password: &str) -> Session {
    let tcp = TcpStream::connect(("127.0.0.1", 10993)).await.unwrap();
    let name = pli_core::tls::server_name(&cfg.operator.imap.host).unwrap();
    let stream = tokio_rustls::TlsConnector::from(tls(cfg))
        .connect(name, tcp)
        .await
        .unwrap();
    let mut client = async_imap::Client::new(stream);
    client.read_response().await.unwrap();
    client
        .login(user, password)
        .await
        .map_err(|(e, _)| e)
        .unwrap()
}

/// Waits (up to 30 s) for `mid` in INBOX; returns the raw message.
async fn wait_for(s: &mut Session, mid: &str) -> Vec<u8> {
    for _ in 0..60 {
        s.select("INBOX").await.unwrap();
        let uids = s
            .uid_search(format!("HEADER Message-ID \"{mid}\""))
            .await
            .unwrap();
        if let Some(uid) = uids.into_iter().next() {
            let f: Vec<_> = s
                .uid_fetch(uid.to_string(), "BODY.PEEK[]")
                .await
                .unwrap()
                .try_collect()
                .await
                .unwrap();
            return f[0].body().unwrap().to_vec();
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("{mid} never arrived");
}

#[tokio::test]
async fn eco_2_2_8_cli_send_with_a_cda_and_end_exchange_with_a_patient() {
    let mut cfg = sandbox_config();
    let dir = tempfile::tempdir().unwrap();
    cfg.data_dir = Some(dir.path().join("data"));
    let config = dir.path().join("pli.toml");
    std::fs::write(&config, toml::to_string(&cfg).unwrap()).unwrap();
    let anne = person(&cfg, "practitioner");
    let token = psc::code_pkce(&cfg, &anne.national_id)
        .await
        .unwrap()
        .access_token;
    let body = dir.path().join("body.txt");
    std::fs::write(&body, "Bonjour,\nle compte rendu est joint.\n").unwrap();
    let profile = format!("e2e-send-{}", stamp());
    let run = |args: &[&str]| -> Output {
        Command::new(pli_e2e::pli_binary())
            .arg("--config")
            .arg(&config)
            .args(args)
            .env("PLI_PROFILE", &profile)
            .env("PLI_ACCESS_TOKEN", &token)
            .output()
            .unwrap()
    };

    // A hand-made patient INS with a wrong key is refused before anything is queued.
    let out = run(&[
        "send",
        "--patient-ins",
        "279035121518988",
        "--subject",
        "x",
        "--body",
        body.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("clé attendue 89"), "{err}");

    // pli send with a CDA to a professional.
    let gp = person(&cfg, "gp").personal_mailbox.unwrap();
    let cda =
        pli_e2e::repo_root().join("tests/fixtures/cda/IMG_CR_IMG_2024.01_CDA-R2-Niveau-1.xml");
    let out = run(&[
        "send",
        "--to",
        &gp,
        "--subject",
        "ignored",
        "--body",
        body.to_str().unwrap(),
        "--attach",
        cda.to_str().unwrap(),
        "--receipt",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["outcome"]["outcome"], "delivered", "{v}");
    let mid = v["message_id"].as_str().unwrap().to_owned();
    let sb = cfg.sandbox.clone().unwrap();
    let master = format!("{gp}*{}", sb.master_user.as_deref().unwrap());
    let mut s = imap_login(&cfg, &master, sb.master_password.as_deref().unwrap()).await;
    let raw = wait_for(&mut s, &mid).await;
    let m = MessageParser::default().parse(&raw).unwrap();
    assert!(m.subject().unwrap().starts_with("XDM/1.0/DDM+"));
    assert_eq!(
        m.from().unwrap().first().unwrap().name(),
        Some("Dr Anne LEFÈVRE")
    );
    let doc = pli_cda::parse(&std::fs::read(&cda).unwrap()).unwrap();
    assert_eq!(
        m.header_raw("X-MSS-CODECDA").map(str::trim),
        doc.type_code.unwrap().code.as_deref()
    );
    assert_eq!(
        m.header_raw("X-MSS-NIL").map(str::trim),
        Some(cfg.product_reference.as_str())
    );

    // pli end-exchange with a patient. (Not a Corsican one: the sandbox's Dovecot lower-cases
    // user names, so `185052A…` mailboxes are unknown to LMTP and to IMAP logins.)
    let patient = sb
        .patients
        .iter()
        .find(|p| p.ins == "292017505604894")
        .unwrap()
        .clone();
    let out = run(&["end-exchange", "--patient-ins", &patient.ins, "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ended_exchange_with"][0], patient.ins.as_str(), "{v}");
    let mid = v["message_id"].as_str().unwrap().to_owned();
    let mut p = imap_login(&cfg, &patient.address, &patient.password).await;
    let raw = wait_for(&mut p, &mid).await;
    let m = MessageParser::default().parse(&raw).unwrap();
    assert_eq!(m.header_raw("X-MSS-MES").map(str::trim), Some("FIN"));
}

#[tokio::test]
async fn eco_1_2_1_cli_send_uses_the_psc_session_from_the_keyring_without_a_token() {
    let mut cfg = sandbox_config();
    let dir = tempfile::tempdir().unwrap();
    cfg.data_dir = Some(dir.path().join("data"));
    let config = dir.path().join("pli.toml");
    std::fs::write(&config, toml::to_string(&cfg).unwrap()).unwrap();
    let body = dir.path().join("body.txt");
    std::fs::write(&body, "Bonjour.\n").unwrap();
    let profile = format!("e2e-send-psc-{}", stamp());
    let run = |args: &[&str]| -> Output {
        Command::new(pli_e2e::pli_binary())
            .arg("--config")
            .arg(&config)
            .args(args)
            .env("PLI_PROFILE", &profile)
            .env_remove("PLI_ACCESS_TOKEN")
            .output()
            .unwrap()
    };
    let anne = person(&cfg, "practitioner");
    let login = run(&[
        "login",
        "--env",
        "sandbox",
        "--ciba",
        "--login-hint",
        &anne.national_id,
    ]);
    assert!(
        login.status.success(),
        "{}",
        String::from_utf8_lossy(&login.stderr)
    );
    let gp = person(&cfg, "gp").personal_mailbox.unwrap();
    let subject = format!("via the keyring session {}", stamp());
    let out = run(&[
        "send",
        "--to",
        &gp,
        "--subject",
        &subject,
        "--body",
        body.to_str().unwrap(),
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["outcome"]["outcome"], "delivered", "{v}");
    let mid = v["message_id"].as_str().unwrap().to_owned();
    let sb = cfg.sandbox.clone().unwrap();
    let master = format!("{gp}*{}", sb.master_user.as_deref().unwrap());
    let mut s = imap_login(&cfg, &master, sb.master_password.as_deref().unwrap()).await;
    let raw = wait_for(&mut s, &mid).await;
    let m = MessageParser::default().parse(&raw).unwrap();
    assert_eq!(m.subject(), Some(subject.as_str()));
    // After logout the CLI refuses clearly instead of sending without credentials.
    let logout = run(&["logout"]);
    assert!(logout.status.success());
    let out = run(&[
        "send",
        "--to",
        &gp,
        "--subject",
        "x",
        "--body",
        body.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("pli login"), "{err}");
}
