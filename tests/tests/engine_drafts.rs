//! Drafts on the server (decision 0031), against the sandbox Dovecot: a practitioner's draft
//! reaches her Drafts folder while she is logged in (the watch loop woken out of IDLE), each
//! new version replaces the previous copy (never two copies of one draft), a copy in the
//! Drafts folder resumes the draft it came from, a draft written by another client (the
//! webmail, appended here by the Dovecot master user) is taken up with its recipients, text
//! and attachment, and is replaced by the next save; sending or discarding deletes the copy,
//! and deleting the copy from the Drafts list deletes the draft.
//! The server's folder is read by the master user, not by Pli.
//!
//! The same wake-up sends marks at once: a message opened (marked read) is `\Seen` on the
//! server within seconds, without a sync asked and without waiting for the IDLE re-arm.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use pli_core::api::{DraftInput, FileInput, ListScope, MessageRow};
use pli_core::engine::{Engine, LoginMethod};
use pli_e2e::sync_support::{master_session, server_map, stamp};
use pli_e2e::{person, sandbox_config};

const DRAFTS: &str = "Drafts";

/// The Message-IDs in the server's Drafts folder (other tests leave that folder alone).
async fn server_drafts(cfg: &pli_core::config::Config, mailbox: &str) -> Vec<String> {
    let mut m = master_session(cfg, mailbox).await;
    let ids = server_map(&mut m, DRAFTS)
        .await
        .into_values()
        .flatten()
        .collect();
    m.logout().await.ok();
    ids
}

/// Waits until `check` holds for the server's Drafts folder.
async fn until_server(
    cfg: &pli_core::config::Config,
    mailbox: &str,
    what: &str,
    check: impl Fn(&[String]) -> bool,
) -> Vec<String> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let ids = server_drafts(cfg, mailbox).await;
        if check(&ids) {
            return ids;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: the server's Drafts holds {ids:?}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// The cached copy found by `query` in the Drafts folder, once a sync brought it.
async fn cached(engine: &Engine, query: &str) -> MessageRow {
    cached_in(engine, query, DRAFTS).await
}

/// The cached copy found by `query` in `folder`, once a sync brought it.
async fn cached_in(engine: &Engine, query: &str, folder: &str) -> MessageRow {
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
        if let Some(r) = hits.rows.iter().find(|r| r.folder == folder) {
            return r.clone();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{query} never cached in {folder}: {hits:?}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

async fn copy_id(engine: &Engine, key: &str) -> String {
    engine
        .store()
        .draft_server_copy(key)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("draft {key} has no server copy"))
        .message_id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drafts_follow_on_the_server_and_come_back_from_it() {
    std::env::set_var("PLI_PROFILE", format!("drafts-{}", std::process::id()));
    std::env::set_var("PLI_DRAFT_UPLOAD_SECS", "1");
    let mut cfg = sandbox_config();
    let dir = tempfile::tempdir().unwrap();
    cfg.data_dir = Some(dir.path().join("data"));
    let anne = person(&cfg, "practitioner");
    let personal = anne.personal_mailbox.clone().unwrap();
    cfg.accounts.retain(|a| a.address == personal);
    let bruno = person(&cfg, "gp").personal_mailbox.clone().unwrap();

    let engine = Engine::open(cfg.clone(), Arc::new(|_| {})).await.unwrap();
    engine
        .login(LoginMethod::Ciba {
            national_id: anne.national_id.clone(),
        })
        .await
        .unwrap();
    // Folders known (the Drafts folder is found by its special use).
    engine.sync_now().await.unwrap();
    let before = server_drafts(&cfg, &personal).await;

    // A new message, saved by the compose window: its copy reaches the server by itself.
    let tag = format!("brouillon{}", stamp());
    let pdf = b"%PDF-1.4 not really a pdf\n".to_vec();
    let mut draft = DraftInput {
        from: Some(personal.clone()),
        to: vec![bruno.clone()],
        subject: format!("Courrier {tag} v1"),
        body: "Cher confrère,\nje vous adresse…\n".into(),
        receipt: true,
        attachments: vec![FileInput {
            name: "ordonnance.pdf".into(),
            base64: base64::engine::general_purpose::STANDARD.encode(&pdf),
        }],
        ..Default::default()
    };
    engine.save_draft("new", &draft, true).await.unwrap();
    let ids = until_server(&cfg, &personal, "the first copy", |ids| {
        ids.len() == before.len() + 1
    })
    .await;
    let v1 = copy_id(&engine, "new").await;
    assert!(ids.contains(&v1), "{ids:?} lacks {v1}");

    // A second version replaces the first: still one copy, the new one.
    draft.subject = format!("Courrier {tag} v2");
    engine.save_draft("new", &draft, false).await.unwrap();
    let ids = until_server(&cfg, &personal, "the second copy alone", |ids| {
        !ids.contains(&v1) && ids.len() == before.len() + 1
    })
    .await;
    let v2 = copy_id(&engine, "new").await;
    assert_ne!(v1, v2);
    assert!(ids.contains(&v2), "{ids:?} lacks {v2}");

    // The copy in the Drafts list resumes the draft it came from.
    let v2_row = cached(&engine, &format!("{tag} v2")).await;
    assert_eq!(engine.resume_draft(v2_row.id).await.unwrap(), "new");

    // A draft written by another client, appended to the server's Drafts folder.
    let other = format!("webmail{}", stamp());
    let raw = format!(
        "From: Dr Anne LEFEVRE <{personal}>\r\nTo: {bruno}\r\nSubject: Avis {other}\r\n\
         Message-ID: <{other}@webmail.example>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nVotre avis sur ce dossier ?\r\n--b\r\n\
         Content-Type: application/pdf; name=\"bilan.pdf\"\r\n\
         Content-Disposition: attachment; filename=\"bilan.pdf\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{}\r\n--b--\r\n",
        base64::engine::general_purpose::STANDARD.encode(&pdf)
    );
    let mut m = master_session(&cfg, &personal).await;
    m.append(DRAFTS, Some("(\\Draft)"), None, raw.as_bytes())
        .await
        .unwrap();
    m.logout().await.ok();
    let row = cached(&engine, &other).await;
    let key = engine.resume_draft(row.id).await.unwrap();
    assert_ne!(key, "new");
    let resumed = engine.draft(&key).await.unwrap().unwrap().draft;
    assert_eq!(resumed.from.as_deref(), Some(personal.as_str()));
    assert_eq!(resumed.to, vec![bruno.clone()]);
    assert_eq!(resumed.subject, format!("Avis {other}"));
    assert_eq!(resumed.body.trim(), "Votre avis sur ce dossier ?");
    assert!(!resumed.receipt);
    assert_eq!(resumed.attachments.len(), 1, "{:?}", resumed.attachments);
    assert_eq!(resumed.attachments[0].name, "bilan.pdf");
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(&resumed.attachments[0].base64)
            .unwrap(),
        pdf
    );
    // Taken up twice, it is the same draft.
    assert_eq!(engine.resume_draft(row.id).await.unwrap(), key);

    // Edited in Pli, its next copy replaces the webmail's.
    let webmail_id = format!("{other}@webmail.example");
    let mut edited = resumed.clone();
    edited.body = "Votre avis sur ce dossier ? Merci.\n".into();
    engine.save_draft(&key, &edited, false).await.unwrap();
    let ids = until_server(&cfg, &personal, "the webmail draft replaced", |ids| {
        !ids.contains(&webmail_id) && ids.len() == before.len() + 2
    })
    .await;
    let v3 = copy_id(&engine, &key).await;
    assert!(ids.contains(&v3) && ids.contains(&v2), "{ids:?}");

    // Deleted from the Drafts list: the draft goes with its copy (the compose window does not
    // bring it back). Sent (the window deletes the draft once the outbox holds the message):
    // its copy leaves the server too.
    engine.set_flag(v2_row.id, "delete").await.unwrap();
    assert!(engine.draft("new").await.unwrap().is_none());
    engine.delete_draft(&key).await.unwrap();
    until_server(&cfg, &personal, "both copies deleted", |ids| {
        !ids.contains(&v2) && !ids.contains(&v3) && ids.len() == before.len()
    })
    .await;
    // …and from the cache's Drafts list at once.
    engine.sync_now().await.unwrap();
    let hits = engine
        .list(
            ListScope::Search {
                query: tag.clone(),
                unread: false,
                has_documents: false,
            },
            0,
            20,
        )
        .await
        .unwrap();
    assert!(
        hits.rows.iter().all(|r| r.folder != DRAFTS),
        "{:?}",
        hits.rows
    );

    // Marks: a new message, synced unread, then opened in Pli; the server has it \Seen soon,
    // with no sync asked (the watch loop is in IDLE on INBOX, re-armed only every 9 minutes).
    let unread = format!("nonlu{}", stamp());
    let mut m = master_session(&cfg, &personal).await;
    let raw = format!(
        "From: {bruno}\r\nTo: {personal}\r\nSubject: Question {unread}\r\n\
         Message-ID: <{unread}@cabinet.example>\r\n\r\nUne question.\r\n"
    );
    m.append("INBOX", None, None, raw.as_bytes()).await.unwrap();
    m.logout().await.ok();
    let row = cached_in(&engine, &unread, "INBOX").await;
    assert!(row.unread, "appended without \\Seen, cached read: {row:?}");
    let seen_on_server = || async {
        let mut m = master_session(&cfg, &personal).await;
        m.select("INBOX").await.unwrap();
        let uids = m
            .uid_search(format!(
                "SEEN HEADER Message-ID \"{unread}@cabinet.example\""
            ))
            .await
            .unwrap();
        m.logout().await.ok();
        !uids.is_empty()
    };
    assert!(!seen_on_server().await);
    // Let the watch loop settle into IDLE after the syncs above.
    tokio::time::sleep(Duration::from_secs(2)).await;
    engine.message(row.id, false).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !seen_on_server().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the read mark never reached the server"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    engine.logout().await.unwrap();
}
