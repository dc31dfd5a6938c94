//! Sync passes in their own test binary (no other test changes these mailboxes meanwhile).
//!
//! Two sync passes asked at once for one mailbox (the watch loop's, and "Synchroniser" pressed
//! meanwhile) run one after the other: every new message is fetched and counted once, so a
//! new-mail notification never counts a message twice.

use std::sync::Arc;

use pli_core::imap::runner::{sync_account_once, Endpoint, Progress};
use pli_core::imap::sync::SyncOptions;
use pli_e2e::sync_support::{master_session, temp_store, Client};
use pli_e2e::{sandbox_config, tls};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_passes_at_once_on_one_mailbox_count_each_message_once() {
    let cfg = sandbox_config();
    let anne = Client::new(cfg.clone(), "practitioner", 0, None).await;
    let (_dir, store) = temp_store().await;
    let endpoint = Endpoint {
        server: cfg.operator.imap.clone(),
        tls: tls(&cfg),
        credentials: Arc::new(anne.creds.clone()),
    };
    let progress: Progress = Arc::new(|_| {});
    let options = SyncOptions::default();
    let pass = || sync_account_once(&endpoint, &store, &anne.mailbox, "PER", &options, &progress);
    let (a, b) = tokio::join!(pass(), pass());
    let (a, b) = (a.unwrap(), b.unwrap());
    let account = store.account_id(&anne.mailbox).await.unwrap();
    let mut cached = 0;
    for (folder, _) in store.folders(account).await.unwrap() {
        cached += store.local_uids(folder).await.unwrap().len();
    }
    assert!(cached > 20, "{a:?}");
    assert_eq!(a.new + b.new, cached, "{a:?}\n{b:?}");
    assert_eq!(
        (a.new_incoming + b.new_incoming),
        a.new_incoming.max(b.new_incoming),
        "one of the two passes found nothing new: {a:?}\n{b:?}"
    );
}

/// A folder created alone under a parent that does not exist (`parent/child`): Dovecot lists
/// the parent as `\NonExistent`. It is not selected (no refused SELECT, no skipped folder), and
/// a resync with nothing new stays at CAPABILITY, ENABLE and LIST.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_child_folder_whose_parent_does_not_exist_costs_no_round_trip() {
    let cfg = sandbox_config();
    let hugo = Client::new(cfg.clone(), "emergency", 0, None).await;
    let parent = format!("pli-orphan-{}", std::process::id());
    let child = format!("{parent}/enfant");
    let mut m = master_session(&cfg, &hugo.mailbox).await;
    m.create(&child).await.unwrap();
    m.append(
        &child,
        None,
        None,
        b"Subject: dans un sous-dossier\r\nMessage-ID: <orphan@x.test>\r\n\r\nbonjour\r\n",
    )
    .await
    .unwrap();
    let (_dir, store) = temp_store().await;
    let first = hugo.sync(&store).await;
    let again = hugo.sync(&store).await;
    m.delete(&child).await.ok();
    m.logout().await.ok();
    for r in [&first, &again] {
        assert!(r.skipped_folders.is_empty(), "{r:?}");
        assert!(!r.folder_round_trips.contains_key(&parent), "{r:?}");
        assert!(r.folder_round_trips.contains_key(&child), "{r:?}");
    }
    assert_eq!(again.round_trips, 3, "{again:?}");
}
