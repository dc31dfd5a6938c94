//! Pro Santé Connect login end to end, against the sandbox's real oidc-provider, real Dovecot
//! and the real OS keyring (Secret Service, run by `scripts/test` under `dbus-run-session`).
//!
//! The code flow is driven by the test acting as the browser against Pli's own loopback
//! listener; CIBA is approved by the sandbox after a delay. Test names carry the Ref#2
//! requirement they prove.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pli_core::auth::psc::{
    self, login_with_browser, login_with_ciba, BrowserLogin, CancellationToken, CibaLogin,
    ClientKind, NonceCheck, PscProvider, PscSession,
};
use pli_core::auth::{
    AccessToken, AuthError, Credentials, CredentialsError, IdTokenProblem, InactivityLock,
    StaticToken,
};
use pli_core::config::Config;
use pli_core::imap::{self, ImapError};
use pli_core::secrets;
use pli_e2e::psc::{browse, BrowserChoice};
use pli_e2e::{person, psc as driver, sandbox_config, tls};

/// Tests that write the keyring's `psc-*` entries run one at a time: two logins of the same
/// person would replace each other's refresh token.
static KEYRING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn provider(cfg: &Config) -> Arc<PscProvider> {
    PscProvider::discover(cfg)
        .await
        .expect("sandbox PSC discovery")
}

/// Browser login where the test plays the browser; returns the session and the page the
/// loopback listener showed.
async fn browser_login(
    cfg: &Config,
    choice: BrowserChoice<'static>,
) -> (Result<PscSession, AuthError>, String) {
    let p = provider(cfg).await;
    let (tx, rx) = tokio::sync::oneshot::channel();
    let tx = std::sync::Mutex::new(Some(tx));
    let open = move |url: &str| -> Result<(), String> {
        let url = url.to_owned();
        let tx = tx
            .lock()
            .unwrap()
            .take()
            .ok_or_else(|| "opened twice".to_string())?;
        tokio::spawn(async move {
            let page = browse(&url, choice).await;
            let _ = tx.send(page);
        });
        Ok(())
    };
    let r = login_with_browser(
        &p,
        &open,
        &BrowserLogin::default(),
        &CancellationToken::new(),
    )
    .await;
    let page = match tokio::time::timeout(Duration::from_secs(10), rx).await {
        Ok(Ok(Ok(p))) => p.body,
        other => format!("browser failed: {other:?}"),
    };
    (r, page)
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

async fn imap_open(cfg: &Config, creds: &dyn Credentials, mailbox: &str) -> Result<(), ImapError> {
    let mut s = imap::connect(&cfg.operator.imap, tls(cfg), creds, mailbox).await?;
    s.select("INBOX").await?;
    s.logout().await?;
    Ok(())
}

fn stored_refresh(session: &PscSession) -> Option<String> {
    let json = secrets::get(&session.keyring_account()).ok()?;
    let v: serde_json::Value = serde_json::from_str(&json).ok()?;
    v["refresh_token"].as_str().map(str::to_owned)
}

#[tokio::test]
async fn eco_1_2_1_code_pkce_login_through_the_loopback_opens_imap() {
    let _k = KEYRING.lock().await;
    let cfg = sandbox_config();
    let anne = person(&cfg, "practitioner");
    let (session, page) =
        browser_login(&cfg, BrowserChoice::Approve(leak(anne.national_id.clone()))).await;
    let session = session.unwrap();
    assert!(page.contains("revenir à Pli"), "loopback page: {page}");
    let who = session.identity();
    assert_eq!(who.national_id, anne.national_id);
    assert_eq!(who.family_name.as_deref(), Some(anne.family_name.as_str()));
    assert!(who.sub.ends_with(&anne.national_id), "{}", who.sub);
    assert!(
        !who.exercices.is_empty(),
        "SubjectRefPro exercices: {who:?}"
    );
    assert_eq!(session.client_kind(), ClientKind::Browser);
    assert!(
        stored_refresh(&session).is_some(),
        "refresh token in the keyring"
    );
    // The mail code only sees the Credentials provider.
    for mailbox in &anne.mailboxes {
        imap_open(&cfg, &session, mailbox).await.unwrap();
    }
    session.logout(None).await.unwrap();
}

#[tokio::test]
async fn refused_consent_is_reported_as_denied() {
    let cfg = sandbox_config();
    let claire = person(&cfg, "secretary");
    let (r, page) = browser_login(&cfg, BrowserChoice::Refuse(leak(claire.national_id))).await;
    assert!(matches!(r, Err(AuthError::Denied)), "{r:?}");
    assert!(page.contains("Revenez à Pli"), "{page}");
}

#[tokio::test]
async fn eco_1_2_1_ciba_login_after_approval_on_the_phone_opens_imap() {
    let _k = KEYRING.lock().await;
    let cfg = sandbox_config();
    let gp = person(&cfg, "gp");
    let p = provider(&cfg).await;
    let shown = std::sync::Mutex::new(None);
    let on_started = |s: &psc::CibaStarted| *shown.lock().unwrap() = Some(s.clone());
    let req = CibaLogin {
        login_hint: gp.national_id.clone(),
        binding_message: None,
        channel: Some("ECPS".into()),
    };
    let session = login_with_ciba(&p, &req, &on_started, &CancellationToken::new())
        .await
        .unwrap();
    let started = shown
        .lock()
        .unwrap()
        .clone()
        .expect("binding message shown");
    assert!(started.binding_message.starts_with("Pli-"));
    assert_eq!(session.identity().national_id, gp.national_id);
    assert_eq!(session.client_kind(), ClientKind::Ciba);
    imap_open(&cfg, &session, gp.personal_mailbox.as_deref().unwrap())
        .await
        .unwrap();
    // A refresh of a CIBA session authenticates as the CIBA (confidential) client.
    session.refresh().await.unwrap();
    imap_open(&cfg, &session, gp.personal_mailbox.as_deref().unwrap())
        .await
        .unwrap();
    session.logout(None).await.unwrap();
}

#[tokio::test]
async fn ciba_for_a_refused_national_id_is_a_provider_error() {
    let cfg = sandbox_config();
    let hint = cfg
        .sandbox
        .as_ref()
        .unwrap()
        .refused_login_hint
        .clone()
        .unwrap();
    let p = provider(&cfg).await;
    let req = CibaLogin {
        login_hint: hint,
        binding_message: None,
        channel: Some("CARD".into()),
    };
    let r = login_with_ciba(&p, &req, &|_| {}, &CancellationToken::new()).await;
    match r {
        Err(AuthError::Provider { code, .. }) => assert_eq!(code, "unknown_user_id"),
        other => panic!("expected unknown_user_id, got {other:?}"),
    }
}

#[tokio::test]
async fn ciba_wait_is_cancellable_by_the_user() {
    let cfg = sandbox_config();
    let hugo = person(&cfg, "emergency");
    let p = provider(&cfg).await;
    let cancel = CancellationToken::new();
    let c2 = cancel.clone();
    let on_started = move |_: &psc::CibaStarted| c2.cancel();
    let req = CibaLogin {
        login_hint: hugo.national_id,
        binding_message: Some("Pli-0000".into()),
        channel: None,
    };
    let t0 = Instant::now();
    let r = login_with_ciba(&p, &req, &on_started, &cancel).await;
    assert!(matches!(r, Err(AuthError::Cancelled)), "{r:?}");
    assert!(t0.elapsed() < Duration::from_secs(3), "{:?}", t0.elapsed());
}

#[tokio::test]
async fn eco_1_2_7_refresh_renews_the_token_and_credentials_keep_coming() {
    let _k = KEYRING.lock().await;
    let cfg = sandbox_config();
    let anne = person(&cfg, "practitioner");
    let mailbox = anne.personal_mailbox.clone().unwrap();
    let (session, _) = browser_login(&cfg, BrowserChoice::Approve(leak(anne.national_id))).await;
    let session = session.unwrap();
    // Renewal is scheduled a quarter of the lifetime (at most 30 s) before expiry: for PSC's
    // 120 s tokens (the sandbox's default, PSC_ACCESS_TOKEN_TTL), at 90 s.
    let ttl: u64 = std::env::var("PSC_ACCESS_TOKEN_TTL")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(120);
    let expected = Duration::from_secs(ttl - (ttl / 4).min(30));
    let due = session.next_refresh_in().await;
    assert!(
        due <= expected && due + Duration::from_secs(10) > expected,
        "{due:?} vs {expected:?}"
    );
    let before = session.xoauth2(&mailbox).await.unwrap();
    let stored_before = stored_refresh(&session).unwrap();
    session.refresh().await.unwrap();
    let after = session.xoauth2(&mailbox).await.unwrap();
    assert_ne!(before.token(), after.token(), "a new access token");
    let stored_after = stored_refresh(&session).unwrap();
    // oidc-provider rotates a public client's refresh token: the keyring follows.
    assert_ne!(stored_before, stored_after, "rotated refresh token stored");
    imap_open(&cfg, &session, &mailbox).await.unwrap();
    // A second refresh works with the rotated token (the old one would be refused).
    session.refresh().await.unwrap();
    imap_open(&cfg, &session, &mailbox).await.unwrap();
    // The keep-alive loop stops when the user cancels it.
    let cancel = CancellationToken::new();
    cancel.cancel();
    assert!(matches!(
        session.keep_alive(&cancel).await,
        AuthError::Cancelled
    ));
    session.logout(None).await.unwrap();
    // …and when the session has ended.
    assert!(matches!(
        session.keep_alive(&CancellationToken::new()).await,
        AuthError::LoginRequired
    ));
}

#[tokio::test]
async fn eco_1_2_6_refused_refresh_ends_the_session() {
    let _k = KEYRING.lock().await;
    let cfg = sandbox_config();
    let claire = person(&cfg, "secretary");
    let mailbox = claire.mailboxes[0].clone();
    let (session, _) = browser_login(
        &cfg,
        BrowserChoice::Approve(leak(claire.national_id.clone())),
    )
    .await;
    let session = session.unwrap();
    imap_open(&cfg, &session, &mailbox).await.unwrap();
    // The provider stops honouring the refresh token (revoked elsewhere, expired…).
    let refresh = stored_refresh(&session).unwrap();
    driver::revoke(&cfg, &refresh).await.unwrap();
    let r = session.refresh().await;
    assert!(matches!(r, Err(AuthError::LoginRequired)), "{r:?}");
    // The session is over: no more credentials, nothing left in the keyring.
    let r = session.xoauth2(&mailbox).await;
    assert!(matches!(r, Err(CredentialsError::LoginRequired)), "{r:?}");
    match imap_open(&cfg, &session, &mailbox).await {
        Err(ImapError::Credentials(CredentialsError::LoginRequired)) => {}
        other => panic!("expected LoginRequired from the IMAP connect, got {other:?}"),
    }
    assert!(matches!(
        secrets::get(&session.keyring_account()),
        Err(secrets::SecretError::NotFound(_))
    ));
    let p = provider(&cfg).await;
    let r = PscSession::resume(p, Some(&claire.national_id)).await;
    assert!(matches!(r, Err(AuthError::LoginRequired)), "{r:?}");
}

#[tokio::test]
async fn eco_1_2_6_logout_revokes_tokens_and_clears_the_keyring() {
    let _k = KEYRING.lock().await;
    let cfg = sandbox_config();
    let hugo = person(&cfg, "emergency");
    let mailbox = hugo.personal_mailbox.clone().unwrap();
    let (session, _) =
        browser_login(&cfg, BrowserChoice::Approve(leak(hugo.national_id.clone()))).await;
    let session = session.unwrap();
    let old = session.xoauth2(&mailbox).await.unwrap().token().clone();
    imap_open(&cfg, &StaticToken(old.clone()), &mailbox)
        .await
        .unwrap();
    let account = session.keyring_account();
    let opened = std::sync::Mutex::new(Vec::<String>::new());
    let open = |u: &str| -> Result<(), String> {
        opened.lock().unwrap().push(u.to_owned());
        Ok(())
    };
    session.logout(Some(&open)).await.unwrap();
    assert!(matches!(
        secrets::get(&account),
        Err(secrets::SecretError::NotFound(_))
    ));
    let urls = opened.lock().unwrap().clone();
    assert_eq!(urls.len(), 1, "{urls:?}");
    assert!(
        urls[0].contains("/protocol/openid-connect/logout?id_token_hint="),
        "{}",
        urls[0]
    );
    // Dovecot introspects: the revoked (not yet expired) access token no longer opens the box.
    match imap_open(&cfg, &StaticToken(old), &mailbox).await {
        Err(ImapError::AuthFailed { .. }) => {}
        other => panic!("expected a refusal of the revoked token, got {other:?}"),
    }
    assert!(matches!(
        session.access_token().await,
        Err(AuthError::LoginRequired)
    ));
}

#[tokio::test]
async fn eco_1_2_7_a_stored_session_resumes_and_says_who_is_logged_in() {
    let _k = KEYRING.lock().await;
    let cfg = sandbox_config();
    let anne = person(&cfg, "practitioner");
    let (session, _) =
        browser_login(&cfg, BrowserChoice::Approve(leak(anne.national_id.clone()))).await;
    let first = session.unwrap();
    let p = provider(&cfg).await;
    assert_eq!(
        psc::current_login(p.environment()).unwrap().as_deref(),
        Some(anne.national_id.as_str())
    );
    // A new process: only the keyring is left.
    let resumed = PscSession::resume(p, None).await.unwrap();
    assert_eq!(resumed.identity(), first.identity());
    imap_open(&cfg, &resumed, anne.personal_mailbox.as_deref().unwrap())
        .await
        .unwrap();
    // Behind an inactivity lock that has run out, no credentials come out any more.
    let locked = resumed.with_lock(Arc::new(InactivityLock::new(Duration::ZERO)));
    let r = locked
        .xoauth2(anne.personal_mailbox.as_deref().unwrap())
        .await;
    assert!(matches!(r, Err(CredentialsError::Locked)), "{r:?}");
    locked.logout(None).await.unwrap();
}

fn files_under(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[tokio::test]
async fn eco_1_2_5_tokens_are_written_nowhere_but_the_keyring() {
    let _k = KEYRING.lock().await;
    let cfg = sandbox_config();
    let gp = person(&cfg, "gp");
    let data_dir = cfg.data_dir.clone().expect("the sandbox sets data_dir");
    let (session, _) =
        browser_login(&cfg, BrowserChoice::Approve(leak(gp.national_id.clone()))).await;
    let session = session.unwrap();
    let mailbox = gp.personal_mailbox.clone().unwrap();
    imap_open(&cfg, &session, &mailbox).await.unwrap();
    session.refresh().await.unwrap();
    let access = session
        .xoauth2(&mailbox)
        .await
        .unwrap()
        .token()
        .expose()
        .to_owned();
    let refresh = stored_refresh(&session).unwrap();
    assert!(access.len() > 20 && refresh.len() > 20);
    // Debug output (what logs would print) never shows them either.
    let shown = format!("{session:?} {:?}", session.xoauth2(&mailbox).await.unwrap());
    assert!(
        !shown.contains(&access) && !shown.contains(&refresh),
        "{shown}"
    );
    // Pli's data directory, and the Secret Service's own files (XDG_DATA_HOME/keyrings under
    // scripts/test): the keyring stores the refresh token encrypted, never in clear.
    let mut files = Vec::new();
    files_under(&data_dir, &mut files);
    if let Some(xdg) = std::env::var_os("XDG_DATA_HOME") {
        let before = files.len();
        files_under(Path::new(&xdg), &mut files);
        assert!(
            files[before..]
                .iter()
                .any(|f| f.extension().is_some_and(|e| e == "keyring")),
            "the Secret Service's keyring file under {xdg:?}"
        );
    }
    assert!(!files.is_empty(), "nothing was inspected");
    for f in &files {
        let bytes = std::fs::read(f).unwrap_or_default();
        for secret in [&access, &refresh] {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "a token was written to {}",
                f.display()
            );
        }
    }
    eprintln!("checked {} files under {}", files.len(), data_dir.display());
    session.logout(None).await.unwrap();
}

#[tokio::test]
async fn discovery_uses_the_psc_path_and_falls_back_to_the_standard_one() {
    let mut cfg = sandbox_config();
    assert_eq!(
        cfg.psc.discovery_path,
        "/.well-known/wallet-openid-configuration"
    );
    let p = provider(&cfg).await;
    assert!(p
        .metadata()
        .additional_metadata()
        .backchannel_authentication_endpoint
        .is_some());
    cfg.psc.discovery_path = "/.well-known/not-here".into();
    let p = provider(&cfg).await;
    assert_eq!(p.issuer().as_str(), cfg.psc.issuer);
    // A document claiming another issuer is refused (mix-up).
    cfg.psc.issuer = cfg.psc.issuer.replace("127.0.0.1", "localhost");
    let err = PscProvider::discover(&cfg).await.unwrap_err();
    assert!(matches!(err, AuthError::Discovery(_)), "{err:?}");
}

#[tokio::test]
async fn real_id_tokens_are_checked_for_signature_audience_nonce_and_acr() {
    let cfg = sandbox_config();
    let anne = person(&cfg, "practitioner");
    let p = provider(&cfg).await;
    let t = driver::code_pkce(&cfg, &anne.national_id).await.unwrap();
    let raw = t.id_token.unwrap();
    let ctx = p.verify_context(ClientKind::Browser).unwrap();
    psc::verify_id_token(&raw, &ctx, NonceCheck::NotSent, None).unwrap();

    let wrong_nonce = openidconnect_nonce("not-the-one-sent");
    let e = psc::verify_id_token(&raw, &ctx, NonceCheck::Expect(&wrong_nonce), None).unwrap_err();
    assert!(matches!(e, IdTokenProblem::Nonce(_)), "{e:?}");

    let ciba_ctx = p.verify_context(ClientKind::Ciba).unwrap();
    let e = psc::verify_id_token(&raw, &ciba_ctx, NonceCheck::NotSent, None).unwrap_err();
    assert!(matches!(e, IdTokenProblem::Audience(_)), "{e:?}");

    let mut strict = ctx.clone();
    strict.required_acr = "eidas2".into();
    let e = psc::verify_id_token(&raw, &strict, NonceCheck::NotSent, None).unwrap_err();
    assert!(matches!(e, IdTokenProblem::Acr(_)), "{e:?}");

    let mut parts: Vec<&str> = raw.split('.').collect();
    let forged_sig = parts[2].chars().rev().collect::<String>();
    parts[2] = &forged_sig;
    let e = psc::verify_id_token(&parts.join("."), &ctx, NonceCheck::NotSent, None).unwrap_err();
    assert!(matches!(e, IdTokenProblem::Signature(_)), "{e:?}");

    // The access token of that login still works: the checks above are ours, not the server's.
    imap_open(
        &cfg,
        &StaticToken(AccessToken::new(t.access_token)),
        anne.personal_mailbox.as_deref().unwrap(),
    )
    .await
    .unwrap();
}

fn openidconnect_nonce(s: &str) -> pli_core::auth::psc::Nonce {
    pli_core::auth::psc::Nonce::new(s.to_owned())
}

#[tokio::test]
async fn eco_1_0_1_smtp_submission_authenticates_with_the_session() {
    let _k = KEYRING.lock().await;
    let cfg = sandbox_config();
    let claire = person(&cfg, "secretary");
    let service = claire.mailboxes[0].clone();
    let (session, _) = browser_login(
        &cfg,
        BrowserChoice::Approve(leak(claire.national_id.clone())),
    )
    .await;
    let session = session.unwrap();
    let creds = session.xoauth2(&service).await.unwrap();
    let transport = pli_core::smtp::transport(&cfg.operator, &creds).unwrap();
    // STARTTLS, EHLO and AUTH XOAUTH2, then QUIT: no message is sent.
    assert!(transport.test_connection().await.unwrap());
    session.logout(None).await.unwrap();
    let refused = pli_core::smtp::transport(&cfg.operator, &creds)
        .unwrap()
        .test_connection()
        .await;
    match refused {
        Err(e) => assert!(pli_core::smtp::is_auth_refusal(&e), "{e}"),
        Ok(ok) => panic!("revoked token accepted by submission: {ok}"),
    }
}

fn sandbox_config_path() -> std::path::PathBuf {
    std::env::var_os("PLI_SANDBOX_CONFIG")
        .map(Into::into)
        .unwrap_or_else(|| pli_e2e::repo_root().join("target/sandbox/pli.toml"))
}

fn pli(args: &[&str]) -> std::process::Output {
    std::process::Command::new(pli_e2e::pli_binary())
        .arg("--config")
        .arg(sandbox_config_path())
        .args(args)
        .env("PLI_LOG", "trace")
        .output()
        .unwrap()
}

#[tokio::test]
async fn cli_login_ciba_whoami_logout_and_no_token_in_the_output() {
    let _k = KEYRING.lock().await;
    let cfg = sandbox_config();
    let hugo = person(&cfg, "emergency");
    let wrong_env = pli(&["login", "--env", "prod", "--ciba", "--login-hint", "x"]);
    assert!(!wrong_env.status.success());
    assert!(
        String::from_utf8_lossy(&wrong_env.stderr).contains("vise l'environnement sandbox"),
        "{}",
        String::from_utf8_lossy(&wrong_env.stderr)
    );

    let login = pli(&[
        "login",
        "--env",
        "sandbox",
        "--ciba",
        "--login-hint",
        &hugo.national_id,
        "--json",
    ]);
    let err = String::from_utf8_lossy(&login.stderr).to_string();
    assert!(login.status.success(), "{err}");
    assert!(err.contains("Validez la demande « Pli-"), "{err}");
    let who: serde_json::Value = serde_json::from_slice(&login.stdout).unwrap();
    assert_eq!(who["national_id"], hugo.national_id.as_str());
    assert_eq!(who["client"], "ciba");

    let account = psc::refresh_account(cfg.environment, &hugo.national_id);
    let stored: serde_json::Value =
        serde_json::from_str(&secrets::get(&account).expect("refresh token in the keyring"))
            .unwrap();
    let refresh_before = stored["refresh_token"].as_str().unwrap().to_owned();

    let whoami = pli(&["whoami", "--json"]);
    assert!(
        whoami.status.success(),
        "{}",
        String::from_utf8_lossy(&whoami.stderr)
    );
    let again: serde_json::Value = serde_json::from_slice(&whoami.stdout).unwrap();
    assert_eq!(again["national_id"], hugo.national_id.as_str());
    assert!(again["exercices"].as_array().is_some_and(|e| !e.is_empty()));

    // Even at trace level, neither refresh token reaches the terminal.
    let stored: serde_json::Value = serde_json::from_str(&secrets::get(&account).unwrap()).unwrap();
    let refresh_after = stored["refresh_token"].as_str().unwrap().to_owned();
    for out in [&login, &whoami] {
        for t in [&refresh_before, &refresh_after] {
            assert!(!String::from_utf8_lossy(&out.stdout).contains(t.as_str()));
            assert!(!String::from_utf8_lossy(&out.stderr).contains(t.as_str()));
        }
    }

    let logout = pli(&["logout", "--env", "sandbox"]);
    assert!(
        logout.status.success(),
        "{}",
        String::from_utf8_lossy(&logout.stderr)
    );
    assert!(matches!(
        secrets::get(&account),
        Err(secrets::SecretError::NotFound(_))
    ));
    let gone = pli(&["whoami"]);
    assert_eq!(
        gone.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&gone.stderr)
    );
    assert!(String::from_utf8_lossy(&gone.stderr).contains("pli login"));
}

#[tokio::test]
async fn cli_browser_login_prints_the_address_and_waits_for_the_loopback() {
    use std::io::BufRead;
    let _k = KEYRING.lock().await;
    let cfg = sandbox_config();
    let bruno = person(&cfg, "gp");
    let mut child = std::process::Command::new(pli_e2e::pli_binary())
        .arg("--config")
        .arg(sandbox_config_path())
        .args([
            "login",
            "--env",
            "sandbox",
            "--no-browser",
            "--timeout",
            "30",
            "--json",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if line.starts_with("http") {
                if let Some(tx) = tx.take() {
                    let _ = tx.send(line);
                }
            }
        }
    });
    let url = tokio::time::timeout(Duration::from_secs(10), rx)
        .await
        .expect("the login address is printed")
        .expect("pli exited before printing the address");
    assert!(url.contains("code_challenge_method=S256"), "{url}");
    assert!(
        url.contains("redirect_uri=http%3A%2F%2F127.0.0.1%3A"),
        "{url}"
    );
    let nid = leak(bruno.national_id.clone());
    let page = browse(&url, BrowserChoice::Approve(nid)).await.unwrap();
    assert!(page.body.contains("revenir à Pli"), "{}", page.body);
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert!(out.status.success());
    let who: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(who["national_id"], bruno.national_id.as_str());
    assert_eq!(who["client"], "browser");
    assert!(pli(&["logout"]).status.success());
}
