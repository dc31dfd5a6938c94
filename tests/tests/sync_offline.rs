//! Local → server: changes made offline are applied to the cache at once, journaled, and
//! replayed on the next connection (server wins); and IDLE brings a new message in without
//! polling. Mutations only in folders created per test in urgences@ (Hugo's token), plus one
//! message appended to urgences@'s INBOX and removed at the end of the IDLE test.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::TryStreamExt;
use pli_core::imap::runner;
use pli_core::store::{LocalOp, SearchFilter};
use pli_e2e::sandbox_config;
use pli_e2e::sync_support::{
    delete_tagged, local_map, mail, master_session, server_map, stamp, temp_store, Client,
};

#[tokio::test]
async fn offline_changes_are_replayed_and_the_server_wins() {
    let cfg = sandbox_config();
    let hugo = Client::new(cfg.clone(), "emergency", 1, None).await;
    let tag = format!("{}", stamp());
    let (a, b) = (format!("pli-off-{tag}"), format!("pli-off-{tag}-b"));
    let mut m = master_session(&cfg, &hugo.mailbox).await;
    m.create(&a).await.unwrap();
    m.create(&b).await.unwrap();
    for n in 1..=5 {
        m.append(&a, None, None, mail(n, &tag)).await.unwrap();
    }
    let (_dir, store) = temp_store().await;
    hugo.sync(&store).await;
    let uids: Vec<u32> = server_map(&mut m, &a).await.keys().copied().collect();
    assert_eq!(uids.len(), 5);

    // Offline: applied locally at once.
    let acct = hugo.mailbox.clone();
    for (uid, op) in [
        (uids[0], LocalOp::Seen),
        (uids[1], LocalOp::Flag),
        (uids[2], LocalOp::Move(b.clone())),
        (uids[3], LocalOp::Delete),
        (uids[4], LocalOp::Seen),
    ] {
        assert!(store.apply_local(&acct, &a, uid, op).await.unwrap());
    }
    let unread = |folder: &str| SearchFilter {
        folder: Some(folder.to_owned()),
        unread: true,
        ..Default::default()
    };
    let local_unread: Vec<u32> = store
        .search(&unread(&a))
        .await
        .unwrap()
        .iter()
        .map(|h| h.uid)
        .collect();
    assert_eq!(local_unread, vec![uids[1]]);
    assert_eq!(
        local_map(&store, &acct, &a)
            .await
            .keys()
            .copied()
            .collect::<Vec<_>>(),
        vec![uids[0], uids[1], uids[4]]
    );
    assert_eq!(store.pending_operations(&acct).await.unwrap().len(), 5);

    // Meanwhile the server expunges message 5: its "seen" must be dropped, not fail.
    m.select(&a).await.unwrap();
    let _: Vec<_> = m
        .uid_store(uids[4].to_string(), "+FLAGS (\\Deleted)")
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let _: Vec<_> = m.expunge().await.unwrap().try_collect().await.unwrap();
    m.close().await.ok();

    // Online: replayed, then synced.
    hugo.sync(&store).await;
    assert!(store.pending_operations(&acct).await.unwrap().is_empty());
    let server_a = server_map(&mut m, &a).await;
    assert_eq!(
        server_a.keys().copied().collect::<Vec<_>>(),
        vec![uids[0], uids[1]]
    );
    assert_eq!(local_map(&store, &acct, &a).await, server_a);
    let server_b = server_map(&mut m, &b).await;
    assert_eq!(server_b.len(), 1);
    assert!(server_b
        .values()
        .next()
        .unwrap()
        .as_deref()
        .unwrap()
        .ends_with("-3@pli.test"));
    assert_eq!(local_map(&store, &acct, &b).await, server_b);
    m.examine(&a).await.unwrap();
    let flags: Vec<(u32, String)> = m
        .uid_fetch("1:*", "(UID FLAGS)")
        .await
        .unwrap()
        .try_collect::<Vec<_>>()
        .await
        .unwrap()
        .iter()
        .map(|f| {
            (
                f.uid.unwrap(),
                format!("{:?}", f.flags().collect::<Vec<_>>()),
            )
        })
        .collect();
    assert!(flags[0].1.contains("Seen"), "{flags:?}");
    assert!(
        flags[1].1.contains("Flagged") && !flags[1].1.contains("Seen"),
        "{flags:?}"
    );
    let audit = store.audit_entries(None).await.unwrap();
    assert!(audit
        .iter()
        .any(|e| e.action == "replay" && e.request.contains("UID MOVE")));
    assert!(audit.iter().any(|e| e.outcome.starts_with("dropped")));

    // Server wins: a flag removed on the server while the cache still shows it.
    m.select(&a).await.unwrap();
    let _: Vec<_> = m
        .uid_store(uids[0].to_string(), "-FLAGS (\\Seen)")
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    m.close().await.ok();
    hugo.sync(&store).await;
    let now_unread: Vec<u32> = store
        .search(&unread(&a))
        .await
        .unwrap()
        .iter()
        .map(|h| h.uid)
        .collect();
    assert_eq!(
        now_unread,
        vec![uids[0], uids[1]].into_iter().rev().collect::<Vec<_>>()
    );

    m.delete(&a).await.unwrap();
    m.delete(&b).await.unwrap();
    m.logout().await.ok();
}

/// A message delivered while the watch loop is in IDLE appears in the cache within seconds
/// (the loop only re-syncs on an IDLE wake-up or after 9 minutes, so this is IDLE at work).
#[tokio::test]
async fn idle_brings_new_mail() {
    let cfg = sandbox_config();
    let hugo = Client::new(cfg.clone(), "emergency", 1, None).await;
    let (_dir, store) = temp_store().await;
    let syncs = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = syncs.clone();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let watch = hugo.watch(&store, "ORG", move |_, r| {
        r.as_ref().expect("sync succeeds");
        counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    });
    let task = tokio::spawn(runner::watch(watch, async {
        stop_rx.await.ok();
    }));
    let deadline = Instant::now() + Duration::from_secs(30);
    while syncs.load(std::sync::atomic::Ordering::SeqCst) == 0 {
        assert!(Instant::now() < deadline, "first sync did not finish");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Let the loop reach IDLE, then deliver.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let tag = format!("idle-{}", stamp());
    let mut m = master_session(&cfg, &hugo.mailbox).await;
    m.append("INBOX", None, None, mail(1, &tag)).await.unwrap();
    let wanted = format!("sync-{tag}-1@pli.test");
    let delivered = Instant::now();
    loop {
        let map = local_map(&store, &hugo.mailbox, "INBOX").await;
        if map
            .values()
            .any(|id| id.as_deref() == Some(wanted.as_str()))
        {
            break;
        }
        assert!(
            delivered.elapsed() < Duration::from_secs(20),
            "message not synced after IDLE"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!(
        "IDLE: new message in the cache {:?} after APPEND",
        delivered.elapsed()
    );
    stop_tx.send(()).ok();
    task.await.unwrap();
    delete_tagged(&mut m, "INBOX", &tag).await;
    m.logout().await.ok();
}

/// A change made offline survives a UIDVALIDITY change: replay finds the message again by its
/// Message-ID under its new UID.
#[tokio::test]
async fn pending_change_survives_a_uidvalidity_change() {
    let cfg = sandbox_config();
    let hugo = Client::new(cfg.clone(), "emergency", 1, None).await;
    let tag = format!("{}", stamp());
    let folder = format!("pli-uv-{tag}");
    let mut m = master_session(&cfg, &hugo.mailbox).await;
    m.create(&folder).await.unwrap();
    m.append(&folder, None, None, mail(1, &tag)).await.unwrap();
    let (_dir, store) = temp_store().await;
    hugo.sync(&store).await;
    let old: Vec<u32> = server_map(&mut m, &folder).await.keys().copied().collect();
    assert!(store
        .apply_local(&hugo.mailbox, &folder, old[0], LocalOp::Flag)
        .await
        .unwrap());

    // The server rebuilds the folder: new UIDVALIDITY, the message now has UID 2.
    m.close().await.ok();
    m.delete(&folder).await.unwrap();
    m.create(&folder).await.unwrap();
    m.append(&folder, None, None, mail(7, &tag)).await.unwrap();
    m.append(&folder, None, None, mail(1, &tag)).await.unwrap();

    let r = hugo.sync(&store).await;
    assert!(r.uidvalidity_resets.contains(&folder), "{r:?}");
    assert!(store
        .pending_operations(&hugo.mailbox)
        .await
        .unwrap()
        .is_empty());
    m.examine(&folder).await.unwrap();
    let fetched: Vec<_> = m
        .uid_fetch("1:*", "(UID FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    for f in &fetched {
        let header = String::from_utf8_lossy(f.header().unwrap_or_default()).to_string();
        let flagged = f
            .flags()
            .any(|x| matches!(x, async_imap::types::Flag::Flagged));
        assert_eq!(
            flagged,
            header.contains(&format!("sync-{tag}-1@")),
            "uid {:?}: {header}",
            f.uid
        );
    }
    let server = server_map(&mut m, &folder).await;
    assert_eq!(local_map(&store, &hugo.mailbox, &folder).await, server);
    let flagged_local = store
        .search(&SearchFilter {
            folder: Some(folder.clone()),
            query: tag.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(flagged_local.len(), 2);
    m.close().await.ok();
    m.delete(&folder).await.unwrap();
    m.logout().await.ok();
}
