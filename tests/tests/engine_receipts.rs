//! Read receipts fold into the message they report on (decision 0030): a practitioner sends a
//! message asking for a read receipt to her service's mailbox; the secretariat (the same
//! engine, its second mailbox) answers with an MDN through the real SMTP server; once synced,
//! the sent message says "read", while the MDN itself is not listed in the inbox, not counted
//! unread and calls for no new-mail notification (nor does the sent copy in Sent). Search
//! still finds it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use pli_core::api::{DraftInput, EngineEvent, ListScope, MessageRow};
use pli_core::engine::{Engine, LoginMethod};
use pli_e2e::sync_support::stamp;
use pli_e2e::{person, sandbox_config};

async fn wait_outbox_empty(engine: &Engine) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !engine.outbox().await.unwrap().is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "still in the outbox: {:?}",
            engine.outbox().await.unwrap()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// Syncs until `pick` finds a row among the search hits for `query`.
async fn sync_until(
    engine: &Engine,
    query: &str,
    what: &str,
    pick: impl Fn(&MessageRow) -> bool,
) -> MessageRow {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        engine.sync_now().await.unwrap();
        let hits = engine
            .list(
                ListScope::Search {
                    query: query.to_owned(),
                    unread: false,
                    has_documents: false,
                },
                0,
                20,
            )
            .await
            .unwrap();
        if let Some(r) = hits.rows.iter().find(|r| pick(r)) {
            return r.clone();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} never came: {hits:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// (unread, total) of a mailbox's INBOX in the side bar.
async fn inbox_counts(engine: &Engine, address: &str) -> (i64, i64) {
    let boxes = engine.mailboxes().await.unwrap();
    let b = boxes.iter().find(|b| b.address == address).unwrap();
    let f = b.folders.iter().find(|f| f.name == "INBOX").unwrap();
    (f.unread, f.total)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_receipt_shows_on_the_sent_message_and_leaves_the_inbox_alone() {
    std::env::set_var("PLI_PROFILE", format!("receipts-{}", std::process::id()));
    let mut cfg = sandbox_config();
    let dir = tempfile::tempdir().unwrap();
    cfg.data_dir = Some(dir.path().join("data"));
    let anne = person(&cfg, "practitioner");
    let personal = anne.personal_mailbox.clone().unwrap();
    let service = cfg
        .accounts
        .iter()
        .find(|a| a.address != personal && a.address.starts_with("cardiologie."))
        .expect("the cardiology secretariat's mailbox")
        .address
        .clone();
    cfg.accounts
        .retain(|a| a.address == personal || a.address == service);

    let events: Arc<Mutex<Vec<EngineEvent>>> = Arc::default();
    let sink = events.clone();
    let engine = Engine::open(cfg.clone(), Arc::new(move |e| sink.lock().unwrap().push(e)))
        .await
        .unwrap();
    engine
        .login(LoginMethod::Ciba {
            national_id: anne.national_id.clone(),
        })
        .await
        .unwrap();
    // Both mailboxes synced once: what arrives from here on is new mail.
    engine.sync_now().await.unwrap();
    events.lock().unwrap().clear();
    let tag = format!("receipt-{}", stamp());
    engine
        .send(DraftInput {
            from: Some(personal.clone()),
            to: vec![service.clone()],
            subject: format!("Compte rendu {tag}"),
            body: "Bonjour,\nle compte rendu est joint.\n".into(),
            receipt: true,
            ..Default::default()
        })
        .await
        .unwrap();
    wait_outbox_empty(&engine).await;

    // The secretariat reads it and sends the read receipt asked for.
    let received = sync_until(&engine, &tag, "the message in the service mailbox", |r| {
        r.account == service && r.folder == "INBOX"
    })
    .await;
    // The sent copy is cached before the receipt arrives (Sent synced).
    sync_until(&engine, &tag, "the sent copy", |r| {
        r.account == personal && r.folder != "INBOX"
    })
    .await;
    let before = inbox_counts(&engine, &personal).await;
    engine
        .answer_receipt(received.id, true)
        .await
        .unwrap()
        .expect("the MDN is sent");
    wait_outbox_empty(&engine).await;

    // Back in Anne's mailbox: the sent message says read.
    let sent = sync_until(&engine, &tag, "the read state on the sent message", |r| {
        r.account == personal && r.folder != "INBOX" && r.receipt.as_deref() == Some("read")
    })
    .await;
    let detail = engine.message(sent.id, false).await.unwrap();
    assert!(
        detail
            .deliveries
            .iter()
            .any(|d| d.state == "read" && d.recipient.as_deref() == Some(service.as_str())),
        "{:?}",
        detail.deliveries
    );
    // The MDN arrived in Anne's INBOX (search finds it)…
    let mdn = sync_until(&engine, &tag, "the MDN in the inbox", |r| {
        r.account == personal && r.folder == "INBOX"
    })
    .await;
    // …but is neither listed, nor counted, nor announced.
    assert_eq!(inbox_counts(&engine, &personal).await, before);
    for scope in [ListScope::Unified] {
        let page = engine.list(scope, 0, 200).await.unwrap();
        assert!(
            !page.rows.iter().any(|r| r.id == mdn.id),
            "the MDN is listed: {:?}",
            page.rows.iter().map(|r| &r.subject).collect::<Vec<_>>()
        );
    }
    let inbox_id = engine
        .mailboxes()
        .await
        .unwrap()
        .iter()
        .find(|b| b.address == personal)
        .unwrap()
        .folders
        .iter()
        .find(|f| f.name == "INBOX")
        .unwrap()
        .id;
    let page = engine
        .list(
            ListScope::Folder {
                folder_id: inbox_id,
            },
            0,
            200,
        )
        .await
        .unwrap();
    assert!(!page.rows.iter().any(|r| r.id == mdn.id));
    // New mail announced: the message in the service mailbox; for Anne, neither her own copy
    // in Sent nor the read receipt.
    let announced = |mailbox: &str| -> i64 {
        events
            .lock()
            .unwrap()
            .iter()
            .filter_map(|e| match e {
                EngineEvent::MailChanged { account, new } if account == mailbox => Some(*new),
                _ => None,
            })
            .sum()
    };
    assert_eq!(announced(&service), 1);
    assert_eq!(
        announced(&personal),
        0,
        "new mail announced for Sent or a read receipt"
    );
    engine.shutdown().await;
}
