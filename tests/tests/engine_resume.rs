//! Starting Pli with a stored session, end to end: the person and the cached mail are there at
//! once, whether Pro Santé Connect answers or not; the session is resumed in the background
//! (the sync starts when PSC answered); a refresh PSC refuses ends it (ECO.1.2.6); a logout
//! while PSC is unreachable still forgets the stored session. Its own test binary: it owns the
//! sandbox environment's keyring entries while it runs.

use std::sync::Arc;
use std::time::Duration;

use pli_core::api::{EngineEvent, ListScope};
use pli_core::auth::psc;
use pli_core::engine::{Engine, LoginMethod};
use pli_core::secrets;
use pli_e2e::{person, sandbox_config};
use tokio::sync::mpsc;

type Events = mpsc::UnboundedReceiver<EngineEvent>;

async fn open(cfg: &pli_core::config::Config) -> (Engine, Events) {
    let (tx, rx) = mpsc::unbounded_channel();
    let engine = Engine::open(cfg.clone(), Arc::new(move |e| drop(tx.send(e))))
        .await
        .unwrap();
    (engine, rx)
}

/// Waits for the first event `pick` accepts.
async fn wait_for<T>(
    rx: &mut Events,
    within: Duration,
    what: &str,
    pick: impl Fn(&EngineEvent) -> Option<T>,
) -> T {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(e)) => {
                if let Some(t) = pick(&e) {
                    return t;
                }
            }
            Ok(None) | Err(_) => panic!("no {what} within {within:?}"),
        }
    }
}

async fn unified_total(engine: &Engine) -> i64 {
    engine.list(ListScope::Unified, 0, 50).await.unwrap().total
}

fn stored_refresh(cfg: &pli_core::config::Config, national_id: &str) -> Option<String> {
    let json = secrets::get(&psc::refresh_account(cfg.environment, national_id)).ok()?;
    let v: serde_json::Value = serde_json::from_str(&json).ok()?;
    v["refresh_token"].as_str().map(str::to_owned)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_session_shows_the_cache_at_once_online_or_not() {
    std::env::set_var("PLI_PROFILE", format!("resume-{}", std::process::id()));
    let mut cfg = sandbox_config();
    let dir = tempfile::tempdir().unwrap();
    cfg.data_dir = Some(dir.path().join("data"));
    // Only Anne's personal mailbox: quicker, and enough.
    let anne = person(&cfg, "practitioner");
    cfg.accounts
        .retain(|a| Some(&a.address) == anne.personal_mailbox.as_ref());
    let mut offline = cfg.clone();
    offline.psc.issuer = "http://127.0.0.1:1/auth/realms/esante-wallet".into();
    let mailbox_synced = |e: &EngineEvent| match e {
        EngineEvent::MailChanged { .. } => Some(()),
        _ => None,
    };

    // 1. A login, a first sync: the cache holds Anne's mail, the keyring her session.
    let (engine, mut rx) = open(&cfg).await;
    engine
        .login(LoginMethod::Ciba {
            national_id: anne.national_id.clone(),
        })
        .await
        .unwrap();
    wait_for(
        &mut rx,
        Duration::from_secs(90),
        "first sync",
        mailbox_synced,
    )
    .await;
    let cached = unified_total(&engine).await;
    assert!(cached > 0, "the sandbox inbox is seeded");
    engine.shutdown().await;
    drop(engine);

    // 2. PSC unreachable: still logged in as Anne, from the keyring, with the cached mail;
    //    the status says offline; mail servers are not asked; the session is kept.
    let (engine, mut rx) = open(&offline).await;
    let info = engine.resume().await;
    assert!(info.logged_in, "{info:?}");
    assert_eq!(info.national_id.as_deref(), Some(anne.national_id.as_str()));
    assert!(
        info.display_name
            .as_deref()
            .unwrap_or("")
            .contains("LEFÈVRE"),
        "{info:?}"
    );
    assert_eq!(unified_total(&engine).await, cached);
    let why = wait_for(
        &mut rx,
        Duration::from_secs(20),
        "offline notice",
        |e| match e {
            EngineEvent::SyncFailed { account, error } if account == "Pro Santé Connect" => {
                Some(error.clone())
            }
            _ => None,
        },
    )
    .await;
    assert!(why.contains("hors ligne"), "{why}");
    // A sync asked for meanwhile does not reach the mail server without credentials.
    engine.sync_now().await.unwrap();
    let mailbox = anne.personal_mailbox.clone().unwrap();
    let err = wait_for(
        &mut rx,
        Duration::from_secs(20),
        "sync refusal",
        |e| match e {
            EngineEvent::SyncFailed { account, error } if *account == mailbox => {
                Some(error.clone())
            }
            _ => None,
        },
    )
    .await;
    assert!(err.contains("connexion en cours"), "{err}");
    assert!(engine.session_info().await.logged_in);
    assert_eq!(
        psc::current_login(cfg.environment).unwrap().as_deref(),
        Some(anne.national_id.as_str())
    );
    engine.shutdown().await;
    drop(engine);

    // 3. PSC back: logged in at once, then the session is resumed and the sync runs.
    let (engine, mut rx) = open(&cfg).await;
    assert!(engine.resume().await.logged_in);
    wait_for(
        &mut rx,
        Duration::from_secs(90),
        "sync after resume",
        mailbox_synced,
    )
    .await;
    engine.shutdown().await;
    drop(engine);

    // 4. The refresh token revoked at PSC meanwhile: shown at once, then ended by the refusal,
    //    and nothing stays in the keyring.
    let refresh = stored_refresh(&cfg, &anne.national_id).expect("stored refresh token");
    pli_e2e::psc::revoke_ciba_refresh(&cfg, &refresh)
        .await
        .unwrap();
    let (engine, mut rx) = open(&cfg).await;
    assert!(engine.resume().await.logged_in);
    wait_for(&mut rx, Duration::from_secs(30), "session end", |e| {
        matches!(e, EngineEvent::SessionEnded).then_some(())
    })
    .await;
    assert!(!engine.session_info().await.logged_in);
    assert!(stored_refresh(&cfg, &anne.national_id).is_none());
    assert!(!engine.resume().await.logged_in, "nothing left to resume");
    engine.shutdown().await;
    drop(engine);

    // 5. Logging out while PSC is unreachable still forgets the stored session.
    let (engine, _rx) = open(&cfg).await;
    engine
        .login(LoginMethod::Ciba {
            national_id: anne.national_id.clone(),
        })
        .await
        .unwrap();
    engine.shutdown().await;
    drop(engine);
    let (engine, _rx) = open(&offline).await;
    assert!(engine.resume().await.logged_in);
    engine.logout().await.unwrap();
    assert!(!engine.session_info().await.logged_in);
    assert_eq!(psc::current_login(cfg.environment).unwrap(), None);
    assert!(stored_refresh(&cfg, &anne.national_id).is_none());
    engine.shutdown().await;
}
