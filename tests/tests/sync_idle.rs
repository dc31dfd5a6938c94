//! IDLE with QRESYNC (RFC 7162): while Pli idles on INBOX, another client expunges a message
//! or changes a flag; the server pushes `VANISHED` / `FETCH (UID FLAGS MODSEQ)`, and the watch
//! loop applies them to the cache from those responses, before its next sync. Real Dovecot,
//! the master user as the other client. Messages are appended to urgences@'s INBOX with a
//! unique tag and removed at the end.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::TryStreamExt;
use pli_core::imap::runner;
use pli_core::imap::sync::SyncReport;
use pli_e2e::sandbox_config;
use pli_e2e::sync_support::{
    delete_tagged, local_map, mail, master_session, server_map, stamp, temp_store, Client,
};
use tokio::sync::mpsc;

/// Waits for the next report the watch loop hands to `on_sync` that `pred` accepts.
async fn next_report(
    rx: &mut mpsc::UnboundedReceiver<Result<SyncReport, String>>,
    within: Duration,
    what: &str,
    pred: impl Fn(&SyncReport) -> bool,
) -> SyncReport {
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, rx.recv()).await {
            Ok(Some(Ok(r))) if pred(&r) => return r,
            Ok(Some(Ok(_))) => {}
            Ok(Some(Err(e))) => panic!("sync failed while waiting for {what}: {e}"),
            Ok(None) => panic!("watch loop ended while waiting for {what}"),
            Err(_) => panic!("no {what} within {within:?}"),
        }
    }
}

#[tokio::test]
async fn expunge_and_flag_change_during_idle_reach_the_cache() {
    let cfg = sandbox_config();
    let hugo = Client::new(cfg.clone(), "emergency", 1, None).await;
    assert!(hugo.mailbox.starts_with("urgences@"), "{}", hugo.mailbox);
    let tag = format!("vanish-{}", stamp());
    let mut m = master_session(&cfg, &hugo.mailbox).await;
    // Message 2 is already \Deleted, so that during IDLE the only change the expunge makes is
    // VANISHED (not a flag FETCH first, which would wake the loop before the expunge).
    m.append("INBOX", None, None, mail(1, &tag)).await.unwrap();
    m.append("INBOX", Some("(\\Deleted)"), None, mail(2, &tag))
        .await
        .unwrap();
    m.append("INBOX", None, None, mail(3, &tag)).await.unwrap();
    let ours = |map: &std::collections::BTreeMap<u32, Option<String>>| {
        map.iter()
            .filter(|(_, id)| id.as_deref().is_some_and(|i| i.contains(&tag)))
            .map(|(u, id)| (*u, id.clone().unwrap()))
            .collect::<std::collections::BTreeMap<u32, String>>()
    };
    let server = ours(&server_map(&mut m, "INBOX").await);
    assert_eq!(server.len(), 3, "{server:?}");
    let uid_of = |n: u32| {
        *server
            .iter()
            .find(|(_, id)| id.as_str() == format!("sync-{tag}-{n}@pli.test"))
            .unwrap()
            .0
    };
    let (one, two, three) = (uid_of(1), uid_of(2), uid_of(3));

    let (_dir, store) = temp_store().await;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let watch = hugo.watch(&store, "ORG", move |_, r| {
        let r = match r {
            Ok(rep) => Ok(rep.clone()),
            Err(e) => Err(e.to_string()),
        };
        tx.send(r).ok();
    });
    let task = tokio::spawn(runner::watch(watch, async {
        stop_rx.await.ok();
    }));
    let first = next_report(&mut rx, Duration::from_secs(60), "first sync", |r| !r.idle).await;
    assert!(first.qresync, "the sandbox enables QRESYNC: {first:?}");
    let cached = ours(&local_map(&store, &hugo.mailbox, "INBOX").await);
    assert_eq!(cached, server, "first sync");
    // Let the loop reach IDLE.
    tokio::time::sleep(Duration::from_millis(800)).await;

    // Another client expunges message 2.
    m.select("INBOX").await.unwrap();
    let expunged_at = Instant::now();
    let _: Vec<_> = m
        .uid_expunge(two.to_string())
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let latency = loop {
        if !local_map(&store, &hugo.mailbox, "INBOX")
            .await
            .contains_key(&two)
        {
            break expunged_at.elapsed();
        }
        assert!(
            expunged_at.elapsed() < Duration::from_secs(30),
            "expunged message still cached"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    eprintln!("IDLE: expunge by another client applied to the cache {latency:?} after UID EXPUNGE");
    let pushed = next_report(&mut rx, Duration::from_secs(5), "IDLE expunge", |r| r.idle).await;
    assert_eq!((pushed.vanished, pushed.expunged), (1, 1), "{pushed:?}");
    // Applied before any sync ran: exactly message 2 left the cache.
    let cached = ours(&local_map(&store, &hugo.mailbox, "INBOX").await);
    let mut expected = server.clone();
    expected.remove(&two);
    assert_eq!(cached, expected, "after the IDLE expunge");
    // The sync that follows agrees and has nothing of ours left to remove.
    next_report(&mut rx, Duration::from_secs(30), "sync after IDLE", |r| {
        !r.idle
    })
    .await;
    assert_eq!(
        ours(&local_map(&store, &hugo.mailbox, "INBOX").await),
        expected
    );

    // Another client flags message 3: FETCH (UID FLAGS MODSEQ) pushed during IDLE.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let _: Vec<_> = m
        .uid_store(three.to_string(), "+FLAGS (\\Flagged)")
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let pushed = next_report(&mut rx, Duration::from_secs(30), "IDLE flag change", |r| {
        r.idle
    })
    .await;
    assert_eq!((pushed.flag_changes, pushed.expunged), (1, 0), "{pushed:?}");
    let acc = store.account_id(&hugo.mailbox).await.unwrap();
    let inbox = store
        .folders(acc)
        .await
        .unwrap()
        .into_iter()
        .find(|(_, n)| n == "INBOX")
        .unwrap()
        .0;
    let listed = store.list_messages(inbox, 10_000).await.unwrap();
    let flags = |uid: u32| listed.iter().find(|x| x.uid == uid).unwrap().flags.clone();
    assert_eq!(flags(three), "\\Flagged");
    assert_eq!(flags(one), "");

    stop_tx.send(()).ok();
    task.await.unwrap();
    delete_tagged(&mut m, "INBOX", &tag).await;
    m.logout().await.ok();
}

/// Mail that arrives after the sync read INBOX and before the watch loop starts IDLE never wakes
/// IDLE (it reports what happens from then on): the loop sees INBOX's UIDNEXT ahead of what the
/// sync recorded and syncs again at once instead of waiting for the next event or the 9-minute
/// re-arm. Deterministic: the other client appends from inside the `on_sync` callback, which the
/// loop calls between the sync and its SELECT for IDLE. Bruno's mailbox (the other test of this
/// file idles on urgences@).
#[tokio::test]
async fn mail_arriving_between_the_sync_and_idle_is_fetched_at_once() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let cfg = sandbox_config();
    let bruno = Client::new(cfg.clone(), "gp", 0, None).await;
    let tag = format!("gap-{}", stamp());
    let (_dir, store) = temp_store().await;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let appended = Arc::new(AtomicBool::new(false));
    let (cfg2, mailbox2, tag2, appended2) = (
        cfg.clone(),
        bruno.mailbox.clone(),
        tag.clone(),
        appended.clone(),
    );
    let watch = bruno.watch(&store, "PER", move |_, r| {
        if r.is_ok() && !appended2.swap(true, Ordering::SeqCst) {
            // After the first sync, before the loop selects INBOX to idle.
            let (cfg, mailbox, tag) = (cfg2.clone(), mailbox2.clone(), tag2.clone());
            std::thread::spawn(move || {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap()
                    .block_on(async {
                        let mut m = master_session(&cfg, &mailbox).await;
                        m.append("INBOX", None, None, mail(1, &tag)).await.unwrap();
                        m.logout().await.ok();
                    })
            })
            .join()
            .unwrap();
        }
        let r = match r {
            Ok(rep) => Ok(rep.clone()),
            Err(e) => Err(e.to_string()),
        };
        tx.send(r).ok();
    });
    let task = tokio::spawn(runner::watch(watch, async {
        stop_rx.await.ok();
    }));
    let is_ours = |map: &std::collections::BTreeMap<u32, Option<String>>| {
        map.values()
            .any(|id| id.as_deref().is_some_and(|i| i.contains(&tag)))
    };
    next_report(&mut rx, Duration::from_secs(120), "first sync", |r| !r.idle).await;
    assert!(appended.load(Ordering::SeqCst));
    assert!(
        !is_ours(&local_map(&store, &bruno.mailbox, "INBOX").await),
        "appended after the first sync, so not cached by it"
    );
    // The next sync comes at once (well before the IDLE re-arm), and brings the message.
    let started = Instant::now();
    next_report(&mut rx, Duration::from_secs(30), "second sync", |r| !r.idle).await;
    eprintln!("sync after the gap: {:?}", started.elapsed());
    assert!(
        is_ours(&local_map(&store, &bruno.mailbox, "INBOX").await),
        "the message that arrived before IDLE is cached"
    );

    stop_tx.send(()).ok();
    task.await.unwrap();
    let mut m = master_session(&cfg, &bruno.mailbox).await;
    delete_tagged(&mut m, "INBOX", &tag).await;
    m.logout().await.ok();
}
