//! The inactivity lock, end to end: after the delay without user activity the engine drops
//! the session, forgets the stored refresh token (nothing resumes without a new Pro Santé
//! Connect authentication), stops server access and tells the UI; activity postpones it.
//! Its own test binary: the delay comes from `PLI_LOCK_AFTER_SECS`, a process setting.

use std::sync::Arc;
use std::time::Duration;

use pli_core::api::{DirectoryQueryInput, EngineEvent, ListScope};
use pli_core::engine::{Engine, LoginMethod};
use pli_e2e::{person, sandbox_config};
use tokio::sync::mpsc;

async fn next_lock(
    rx: &mut mpsc::UnboundedReceiver<EngineEvent>,
    within: Duration,
) -> Option<EngineEvent> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(e @ EngineEvent::Locked { .. })) => return Some(e),
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => return None,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_session_locks_and_needs_a_new_login() {
    std::env::set_var("PLI_LOCK_AFTER_SECS", "3");
    std::env::set_var("PLI_PROFILE", format!("lock-{}", std::process::id()));
    let mut cfg = sandbox_config();
    let dir = tempfile::tempdir().unwrap();
    cfg.data_dir = Some(dir.path().join("data"));
    let anne = person(&cfg, "practitioner");
    let (tx, mut rx) = mpsc::unbounded_channel();
    let engine = Engine::open(cfg.clone(), Arc::new(move |e| drop(tx.send(e))))
        .await
        .unwrap();
    engine
        .login(LoginMethod::Ciba {
            national_id: anne.national_id.clone(),
        })
        .await
        .unwrap();

    // Activity postpones the lock.
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert!(engine.touch() >= 1);
    }
    assert!(
        engine.session_info().await.logged_in,
        "active user stays logged in"
    );

    // No activity: locked within the delay (plus the watcher's granularity).
    let e = next_lock(&mut rx, Duration::from_secs(8))
        .await
        .expect("a Locked event");
    match e {
        EngineEvent::Locked {
            national_id,
            after_minutes,
        } => {
            assert_eq!(national_id.as_deref(), Some(anne.national_id.as_str()));
            assert_eq!(after_minutes, 1, "3 s, shown as 1 min");
        }
        _ => unreachable!(),
    }
    assert!(!engine.session_info().await.logged_in);
    let err = engine.sync_now().await.unwrap_err().to_string();
    assert!(err.contains("Pro Santé Connect"), "{err}");
    // The stored session is gone: resuming does not log in without the person.
    let resumed = engine.resume().await;
    assert!(!resumed.logged_in, "{resumed:?}");
    // While locked, the engine serves nothing from the cache, whoever asks (the UI hides
    // mail behind the lock screen; this is the engine's own refusal).
    let sealed = "session verrouillée ou fermée";
    let refused = [
        engine.mailboxes().await.err().map(|e| e.to_string()),
        engine
            .list(ListScope::Unified, 0, 10)
            .await
            .err()
            .map(|e| e.to_string()),
        engine.message(1, false).await.err().map(|e| e.to_string()),
        engine.patients().await.err().map(|e| e.to_string()),
        engine.audit(None).await.err().map(|e| e.to_string()),
        engine.outbox().await.err().map(|e| e.to_string()),
        engine.draft("k").await.err().map(|e| e.to_string()),
        engine
            .directory_suggest(DirectoryQueryInput {
                text: Some("girard".into()),
                ..Default::default()
            })
            .await
            .err()
            .map(|e| e.to_string()),
    ];
    for (i, r) in refused.iter().enumerate() {
        assert!(
            r.as_deref().is_some_and(|e| e.contains(sealed)),
            "call {i} while locked: {r:?}"
        );
    }

    // A new authentication opens the session again, and the cache with it.
    let again = engine
        .login(LoginMethod::Ciba {
            national_id: anne.national_id.clone(),
        })
        .await
        .unwrap();
    assert!(again.logged_in);
    // The lock is in the audit trail.
    assert!(engine
        .audit(None)
        .await
        .unwrap()
        .iter()
        .any(|a| a.action == "lock"));
    engine.list(ListScope::Unified, 0, 10).await.unwrap();
    engine.logout().await.unwrap();
    engine.shutdown().await;
}
