//! IMAP → encrypted cache sync against the sandbox's real Dovecot (issue 5).
//!
//! The oracle is always the server itself, read through the Dovecot master user: after a sync
//! the cached (UID, Message-ID) pairs of a folder equal the server's exactly. Mutations happen
//! in a folder created per test in the urgences@ service mailbox (Hugo's token), never in the
//! seeded folders other tests read.

use futures::TryStreamExt;
use pli_core::imap::sync::SyncOptions;
use pli_core::store::{SearchFilter, Store};
use pli_e2e::sync_support::{
    local_map, mail, master_session, server_map, stamp, temp_store, Client,
};
use pli_e2e::{person, sandbox_config};

/// Initial sync of a seeded mailbox (several folders, multipart, XDM attachments, ISO-8859-1
/// and windows-1252, malformed messages): every folder's UID/Message-ID set equals the server's.
#[tokio::test]
async fn initial_sync_equals_the_server_in_every_folder() {
    let cfg = sandbox_config();
    let anne = Client::new(cfg.clone(), "practitioner", 0, None).await;
    assert_eq!(
        Some(&anne.mailbox),
        person(&cfg, "practitioner").personal_mailbox.as_ref()
    );
    let (_dir, store) = temp_store().await;
    let report = anne.sync(&store).await;
    assert!(report.condstore);
    assert!(report.folders >= 5, "{report:?}");
    assert!(report.new > 20, "{report:?}");
    assert_eq!(report.bodies, report.new, "{report:?}");

    let mut m = master_session(&cfg, &anne.mailbox).await;
    let acc = store.account_id(&anne.mailbox).await.unwrap();
    let folders = store.folders(acc).await.unwrap();
    for f in ["INBOX", "Sent", "Drafts", "Archives", "Trash"] {
        assert!(
            folders.iter().any(|(_, n)| n == f),
            "{f} missing: {folders:?}"
        );
    }
    // Special use from the LIST (asked for beside LIST-STATUS, RFC 6154 §2): the Sent folder
    // is known as such whatever its name.
    let uses: Vec<(String, Option<String>)> = store
        .folder_counts(acc, &cfg.operator.patient_domain)
        .await
        .unwrap()
        .into_iter()
        .map(|f| (f.name, f.special_use))
        .collect();
    for (name, usage) in [
        ("INBOX", None),
        ("Sent", Some("\\Sent")),
        ("Drafts", Some("\\Drafts")),
        ("Trash", Some("\\Trash")),
    ] {
        assert!(
            uses.contains(&(name.to_owned(), usage.map(str::to_owned))),
            "{name}: {uses:?}"
        );
    }
    for (_, folder) in &folders {
        let server = server_map(&mut m, folder).await;
        assert_eq!(
            local_map(&store, &anne.mailbox, folder).await,
            server,
            "{folder}"
        );
    }
    m.logout().await.ok();

    // ISO-8859-1 subject and body decoded, found without accents.
    let hits = store
        .search(&SearchFilter {
            query: "electrocardiogramme fontaine".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(
        hits[0].subject.as_deref(),
        Some("Résultats de l'électrocardiogramme")
    );
    // XDM/PDF attachments flagged as documents; attachment names searchable.
    let docs = store
        .search(&SearchFilter {
            has_documents: true,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(!docs.is_empty());
    let xdm = store
        .search(&SearchFilter {
            query: "IHE_XDM.zip".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(!xdm.is_empty());

    // A second run finds nothing new: with CONDSTORE and LIST-STATUS, the LIST tells every
    // folder's state and no folder is selected; counted on the wire: CAPABILITY, ENABLE
    // QRESYNC, LIST … RETURN (STATUS …), nothing else.
    let again = anne.sync(&store).await;
    assert_eq!(
        (again.new, again.expunged, again.bodies),
        (0, 0, 0),
        "{again:?}"
    );
    assert!(again.qresync, "the sandbox's 127.0.0.1 offers QRESYNC");
    assert_eq!(again.folder_round_trips.len(), again.folders, "{again:?}");
    assert!(
        again.folder_round_trips.values().all(|&n| n == 0),
        "{again:?}"
    );
    assert_eq!(again.round_trips, 3, "{again:?}");
}

/// Everything a cache holds about a mailbox's messages, by folder and UID (row ids aside).
async fn cache_dump(store: &Store, account: &str) -> Vec<String> {
    let acc = store.account_id(account).await.unwrap();
    let mut out = Vec::new();
    for (fid, folder) in store.folders(acc).await.unwrap() {
        let mut listed = store.list_messages(fid, 100_000).await.unwrap();
        listed.sort_by_key(|m| m.uid);
        for m in listed {
            let mut row = store.row(m.id).await.unwrap().expect("listed row");
            row.id = 0;
            let body = store.body_parts(m.id).await.unwrap();
            let refs = store.references_of(m.id).await.unwrap();
            out.push(format!("{folder} {row:?} {body:?} {refs:?}"));
        }
    }
    out
}

/// New messages past the first screenful come as whole messages (row and body in one fetch
/// and one transaction); the first screenful as headers, bodies after. Both paths fill the
/// cache alike: the seeded mailbox (multipart, XDM and PDF attachments, other charsets,
/// malformed messages, receipts) synced each way gives the same rows, bodies, attachments and
/// references, and the same search answers.
#[tokio::test]
async fn whole_messages_and_headers_then_bodies_fill_the_cache_alike() {
    let cfg = sandbox_config();
    let anne = Client::new(cfg.clone(), "practitioner", 0, None).await;
    let (_d1, headers_first) = temp_store().await;
    let r1 = anne
        .sync_with(
            &headers_first,
            SyncOptions {
                first_batch: 100_000,
                ..Default::default()
            },
        )
        .await;
    let (_d2, whole) = temp_store().await;
    let r2 = anne
        .sync_with(
            &whole,
            SyncOptions {
                first_batch: 1,
                body_batch: 3,
                ..Default::default()
            },
        )
        .await;
    assert_eq!((r1.new, r1.bodies), (r2.new, r2.bodies), "{r1:?}\n{r2:?}");
    assert!(r2.new > 20, "{r2:?}");
    let (a, b) = (
        cache_dump(&headers_first, &anne.mailbox).await,
        cache_dump(&whole, &anne.mailbox).await,
    );
    assert_eq!(a.len(), r1.new);
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x, y);
    }
    assert_eq!(a.len(), b.len());
    for q in ["electrocardiogramme", "IHE_XDM.zip", "biologie", "patient"] {
        let ids = |s: Store| async move {
            let hits = s
                .search(&SearchFilter {
                    query: q.into(),
                    ..Default::default()
                })
                .await
                .unwrap();
            let mut v: Vec<_> = hits.iter().map(|h| (h.folder.clone(), h.uid)).collect();
            v.sort();
            v
        };
        assert_eq!(
            ids(headers_first.clone()).await,
            ids(whole.clone()).await,
            "{q}"
        );
    }
}

async fn incremental(addr: &str, expect_condstore: bool) {
    let cfg = sandbox_config();
    let hugo = Client::new(cfg.clone(), "emergency", 1, Some(addr)).await;
    assert!(hugo.mailbox.starts_with("urgences@"), "{}", hugo.mailbox);
    let tag = format!("{}", stamp());
    let folder = format!("pli-sync-{tag}");
    let mut m = master_session(&cfg, &hugo.mailbox).await;
    m.create(&folder).await.unwrap();
    for n in 1..=3 {
        m.append(&folder, None, None, mail(n, &tag)).await.unwrap();
    }

    let (_dir, store) = temp_store().await;
    let r = hugo.sync(&store).await;
    assert_eq!(r.condstore, expect_condstore);
    let server = server_map(&mut m, &folder).await;
    assert_eq!(server.len(), 3);
    assert_eq!(local_map(&store, &hugo.mailbox, &folder).await, server);
    let hits = store
        .search(&SearchFilter {
            query: format!("detail {tag}"),
            folder: Some(folder.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(hits.len(), 3, "ISO-8859-1 body searchable without accents");

    // On the server: one new message, a flag on 1, 2 read, 3 expunged.
    m.append(&folder, Some("(\\Seen)"), None, mail(4, &tag))
        .await
        .unwrap();
    m.select(&folder).await.unwrap();
    let uids: Vec<u32> = server.keys().copied().collect();
    let _: Vec<_> = m
        .uid_store(uids[0].to_string(), "+FLAGS (\\Flagged)")
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let _: Vec<_> = m
        .uid_store(uids[1].to_string(), "+FLAGS (\\Seen)")
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let _: Vec<_> = m
        .uid_store(uids[2].to_string(), "+FLAGS (\\Deleted)")
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let _: Vec<_> = m.expunge().await.unwrap().try_collect().await.unwrap();

    let r = hugo.sync(&store).await;
    assert!(
        r.new >= 1 && r.expunged >= 1 && r.flag_changes >= 2,
        "{r:?}"
    );
    // 127.0.0.1 resyncs by QRESYNC alone (VANISHED, CHANGEDSINCE, UIDNEXT); 127.0.0.2 by the
    // UID set and a full flag scan.
    assert_eq!(r.qresync, expect_condstore, "{r:?}");
    if expect_condstore {
        assert!(r.vanished >= 1 && r.qresync_folders >= 1, "{r:?}");
    } else {
        assert_eq!((r.vanished, r.qresync_folders), (0, 0), "{r:?}");
    }
    let server = server_map(&mut m, &folder).await;
    assert_eq!(server.len(), 3);
    assert_eq!(local_map(&store, &hugo.mailbox, &folder).await, server);
    let flagged: Vec<_> = store
        .search(&SearchFilter {
            folder: Some(folder.clone()),
            unread: true,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(flagged.len(), 1, "only message 1 is unread: {flagged:?}");
    assert_eq!(flagged[0].uid, uids[0]);
    let acc = store.account_id(&hugo.mailbox).await.unwrap();
    let fid = store
        .folders(acc)
        .await
        .unwrap()
        .into_iter()
        .find(|(_, n)| *n == folder)
        .unwrap()
        .0;
    let listed = store.list_messages(fid, 10).await.unwrap();
    let first = listed.iter().find(|x| x.uid == uids[0]).unwrap();
    assert_eq!(first.flags, "\\Flagged");

    // UIDVALIDITY change: the folder is deleted and recreated with other messages.
    m.close().await.ok();
    m.delete(&folder).await.unwrap();
    m.create(&folder).await.unwrap();
    for n in 5..=6 {
        m.append(&folder, None, None, mail(n, &tag)).await.unwrap();
    }
    let r = hugo.sync(&store).await;
    assert!(r.uidvalidity_resets.contains(&folder), "{r:?}");
    let server = server_map(&mut m, &folder).await;
    assert_eq!(local_map(&store, &hugo.mailbox, &folder).await, server);
    assert!(
        server
            .values()
            .all(|id| id.as_deref().unwrap().contains("-5@")
                || id.as_deref().unwrap().contains("-6@"))
    );

    m.delete(&folder).await.unwrap();
    m.logout().await.ok();
}

/// New mail, flags and expunges come back through CONDSTORE (127.0.0.1 advertises it).
#[tokio::test]
async fn incremental_sync_with_condstore() {
    incremental("127.0.0.1", true).await;
}

/// The same through the bounded full flag scan when CONDSTORE is not advertised (127.0.0.2).
#[tokio::test]
async fn incremental_sync_without_condstore() {
    incremental("127.0.0.2", false).await;
}
