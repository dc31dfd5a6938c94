//! Fault test (in a folder of its own in Hugo's personal mailbox): a large initial sync whose
//! connection is cut at random points by a TCP relay between Pli and the sandbox's IMAP front,
//! at least 20 times (a sync that completes first starts again from an empty cache). After
//! every cut the cache is a consistent subset of the server (every cached UID has the server's
//! Message-ID); every completed sync equals the server's UID and Message-ID sets exactly.
//! 1,600 messages by default; `PLI_FAULT_MESSAGES=10000` for the size.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use pli_core::imap::sync::{AccountSync, SyncOptions};
use pli_core::imap::{self};
use pli_core::store::Store;
use pli_e2e::sync_support::{
    fault_messages, fill_by_copy, local_map, master_session, server_map, stamp, temp_store, Client,
    FreshToken, Rng,
};
use pli_e2e::{sandbox_config, tls};

/// Cuts wanted (the "20 times").
const CUTS: usize = 20;

async fn sync_via(
    client: &Client,
    creds: &FreshToken,
    port: u16,
    store: &Store,
) -> Result<(), String> {
    let mut server = client.cfg.operator.imap.clone();
    server.connect_addr = Some("127.0.0.1".into());
    server.port = port;
    let mut s = imap::connect(&server, tls(&client.cfg), creds, &client.mailbox)
        .await
        .map_err(|e| e.to_string())?;
    let options = SyncOptions {
        first_batch: 20,
        batch: 100,
        body_batch: 50,
        ..Default::default()
    };
    let sync = AccountSync::new(store, &client.mailbox, "ORG", options)
        .await
        .map_err(|e| e.to_string())?;
    let r = sync.run(&mut s, &|_| {}).await.map_err(|e| e.to_string());
    s.logout().await.ok();
    r.map(|_| ())
}

#[tokio::test]
async fn cut_connections_during_a_large_initial_sync_lose_nothing() {
    let cfg = sandbox_config();
    // Hugo's personal mailbox: the other sync tests sync all of urgences@, and this folder is big.
    let mailbox = pli_e2e::person(&cfg, "emergency").personal_mailbox.unwrap();
    let tag = format!("{}", stamp());
    let folder = format!("pli-fault-{tag}");
    let mut m = master_session(&cfg, &mailbox).await;
    m.create(&folder).await.unwrap();
    let setup = std::time::Instant::now();
    // 50 distinct messages (APPEND costs ≈ 0.1 s each here), then server-side COPY doublings.
    let messages = fault_messages();
    fill_by_copy(&mut m, &folder, &tag, messages).await;
    eprintln!("{messages} messages stored in {:?}", setup.elapsed());
    let server = server_map(&mut m, &folder).await;
    assert_eq!(server.len(), messages as usize);
    // The token is taken after the slow setup (PSC access tokens live 120 s).
    let hugo = Client::new(cfg.clone(), "emergency", 0, None).await;
    assert_eq!(hugo.mailbox, mailbox);
    let creds = FreshToken::new(&cfg, "emergency").await;
    // The faults' window and the time given grow with the mailbox (1,600 messages: 400 KB of
    // server output, 90 s).
    let scale = u64::from(messages.div_ceil(1600));
    let started = std::time::Instant::now();

    let limit = Arc::new(AtomicU64::new(u64::MAX));
    let port = pli_e2e::relay::cutting_relay(
        ("127.0.0.1", cfg.operator.imap.port),
        limit.clone(),
        pli_e2e::relay::Cut::AfterServerBytes,
    )
    .await;
    let seed = (stamp() as u64) | 1;
    eprintln!("fault test seed {seed}");
    let mut rng = Rng(seed);
    let (mut _dir, mut store) = temp_store().await;

    let mut cuts = 0;
    let mut completed = false;
    for attempt in 0..300 {
        if started.elapsed() > std::time::Duration::from_secs(90 * scale) {
            break;
        }
        // Cut somewhere in the first 400 KB of server output per 1,600 messages (a full sync
        // of 1,600 is ≈ 3 MB).
        let budget = 2_000 + rng.next_u64() % (400_000 * scale);
        limit.store(budget, Ordering::SeqCst);
        match sync_via(&hugo, &creds, port, &store).await {
            Ok(()) => {
                eprintln!("attempt {attempt}: completed within {budget} bytes");
                assert_eq!(local_map(&store, &hugo.mailbox, &folder).await, server);
                if cuts >= CUTS {
                    completed = true;
                    break;
                }
                // Not cut often enough yet: again from an empty cache, so that the next cuts
                // land in the middle of a sync.
                (_dir, store) = temp_store().await;
                continue;
            }
            Err(e) => {
                cuts += 1;
                eprintln!("attempt {attempt}: cut after {budget} bytes: {e}");
            }
        }
        // After every cut: what is cached is true (same Message-ID under the same UID).
        if let Ok(acc) = store.account_id(&hugo.mailbox).await {
            let folders = store.folders(acc).await.unwrap();
            if folders.iter().any(|(_, n)| *n == folder) {
                let local = local_map(&store, &hugo.mailbox, &folder).await;
                for (uid, id) in &local {
                    assert_eq!(
                        server.get(uid),
                        Some(id),
                        "uid {uid} after attempt {attempt}"
                    );
                }
            }
        }
    }
    assert!(
        cuts >= CUTS,
        "only {cuts} cuts: the faults did not hit the sync"
    );
    if !completed {
        // Budgets never covered a whole sync: finish without faults.
        limit.store(u64::MAX, Ordering::SeqCst);
        sync_via(&hugo, &creds, port, &store).await.unwrap();
    }
    assert_eq!(local_map(&store, &hugo.mailbox, &folder).await, server);
    eprintln!("{cuts} cuts, then equal to the server ({messages} messages)");

    m.delete(&folder).await.unwrap();
    m.logout().await.ok();
}
