//! Fault test: the sync *task* is aborted at random points (what a quit, a logout or a
//! cancelled watch loop does to a running sync: tokio drops the future wherever it is, in the
//! middle of an IMAP exchange, of body parsing, or of a store transaction), 20 times in a row
//! over a large initial sync, in a folder of its own in Hugo's personal mailbox. After every
//! abort the cache is a true subset of the server (same Message-ID under each cached UID);
//! once a sync completes, the cached UID and Message-ID sets equal the server's exactly, every
//! body is there and the search index holds each message once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use pli_core::imap::runner::{self, Endpoint, Progress};
use pli_core::imap::sync::SyncOptions;
use pli_core::store::{SearchFilter, Store};
use pli_e2e::sync_support::{
    fault_messages, fill_by_copy, local_map, master_session, server_map, stamp, temp_store, Client,
    FreshToken, Rng,
};
use pli_e2e::{sandbox_config, tls};

/// Aborts wanted.
const ABORTS: usize = 20;

/// The folder's id in the cache, once the sync has listed it.
async fn folder_id(store: &Store, account: &str, folder: &str) -> Option<i64> {
    let acc = store.account_id(account).await.ok()?;
    store
        .folders(acc)
        .await
        .unwrap()
        .into_iter()
        .find(|(_, n)| n == folder)
        .map(|(id, _)| id)
}

#[tokio::test]
async fn sync_tasks_aborted_at_random_points_lose_nothing() {
    let cfg = sandbox_config();
    let mailbox = pli_e2e::person(&cfg, "emergency").personal_mailbox.unwrap();
    let tag = format!("{}", stamp());
    let folder = format!("pli-abort-{tag}");
    let mut m = master_session(&cfg, &mailbox).await;
    m.create(&folder).await.unwrap();
    let messages = fault_messages();
    fill_by_copy(&mut m, &folder, &tag, messages).await;
    let server = server_map(&mut m, &folder).await;
    assert_eq!(server.len(), messages as usize);
    // The token is taken after the setup (PSC access tokens live 120 s).
    let hugo = Client::new(cfg.clone(), "emergency", 0, None).await;
    assert_eq!(hugo.mailbox, mailbox);
    let endpoint = Endpoint {
        server: hugo.cfg.operator.imap.clone(),
        tls: tls(&hugo.cfg),
        credentials: Arc::new(FreshToken::new(&cfg, "emergency").await),
    };
    let options = SyncOptions {
        first_batch: 20,
        batch: 100,
        body_batch: 50,
        ..Default::default()
    };
    let progress: Progress = Arc::new(|_| {});
    let (mut _dir, mut store) = temp_store().await;
    let seed = (stamp() as u64) | 1;
    eprintln!("abort test seed {seed}");
    let mut rng = Rng(seed);
    let started = Instant::now();
    // Abort points spread over a sync's length: 1.2 s per 1,600 messages.
    let scale = u64::from(messages.div_ceil(1600));

    let (mut aborted, mut mid_sync, mut completed_rounds) = (0, 0, 0);
    for round in 0.. {
        if aborted == ABORTS {
            break;
        }
        assert!(round < 200, "only {aborted} aborts in {round} rounds");
        // The task runs what the app's loops run: journal replay, then the account's sync.
        let task = {
            let (endpoint, store, mailbox, options, progress) = (
                endpoint.clone(),
                store.clone(),
                mailbox.clone(),
                options.clone(),
                progress.clone(),
            );
            tokio::spawn(async move {
                runner::sync_account_once(&endpoint, &store, &mailbox, "ORG", &options, &progress)
                    .await
            })
        };
        let delay = Duration::from_millis(rng.next_u64() % (1200 * scale));
        tokio::time::sleep(delay).await;
        task.abort();
        match task.await {
            Err(e) if e.is_cancelled() => aborted += 1,
            Err(e) => std::panic::resume_unwind(e.into_panic()),
            Ok(r) => {
                completed_rounds += 1;
                eprintln!(
                    "round {round}: finished before the abort at {delay:?}: {:?}",
                    r.map(|r| r.new)
                );
            }
        }
        // After every abort: what is cached is true (same Message-ID under the same UID).
        let (mut cached, mut without_body) = (0, 0);
        if let Some(fid) = folder_id(&store, &mailbox, &folder).await {
            let local = local_map(&store, &mailbox, &folder).await;
            for (uid, id) in &local {
                assert_eq!(server.get(uid), Some(id), "uid {uid} after round {round}");
            }
            cached = local.len();
            without_body = store.uids_without_body(fid, i64::MAX).await.unwrap().len();
        }
        if cached < server.len() || without_body > 0 {
            mid_sync += 1;
        } else {
            // Complete already (a fast machine, or a late abort): start the next rounds from an
            // empty cache, so that every abort can land in the middle of a sync.
            (_dir, store) = temp_store().await;
        }
        eprintln!(
            "round {round}: abort at {delay:?}: {cached} cached, {without_body} without body"
        );
    }
    eprintln!(
        "{aborted} aborts ({mid_sync} rounds left the folder incomplete, {completed_rounds} \
         syncs completed) in {:?}",
        started.elapsed()
    );
    assert!(
        mid_sync >= ABORTS / 2,
        "only {mid_sync} aborts hit the sync before it was complete"
    );

    // Recovery: one sync to completion (a shared mailbox may drop one; retried as the app does).
    let mut ok = false;
    for _ in 0..3 {
        if runner::sync_account_once(&endpoint, &store, &mailbox, "ORG", &options, &progress)
            .await
            .is_ok()
        {
            ok = true;
            break;
        }
    }
    assert!(ok, "no sync completed after the aborts");
    assert_eq!(local_map(&store, &mailbox, &folder).await, server);
    let fid = folder_id(&store, &mailbox, &folder).await.unwrap();
    assert!(store.uids_without_body(fid, 1).await.unwrap().is_empty());
    // The search index holds every message of the folder exactly once.
    let hits = store
        .search(&SearchFilter {
            query: format!("biologie {tag}"),
            folder: Some(folder.clone()),
            limit: Some(10 * messages as i64),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(hits.len(), server.len());
    let mut ids: Vec<i64> = hits.iter().map(|h| h.id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), server.len());

    m.delete(&folder).await.unwrap();
    m.logout().await.ok();
}
