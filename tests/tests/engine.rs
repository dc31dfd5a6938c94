//! The engine facade the desktop app calls (`pli_core::engine::Engine`), end to end against
//! the sandbox: CIBA login through the sandbox PSC, background sync into a fresh encrypted
//! cache, lists (professional mail apart from patients), a patient message named from its
//! sender, a CR-BIO document opened from the server, the directory with recent
//! correspondents, sending with a CDA (IHE XDM), ending an exchange with a patient, the
//! audit trail. The GUI test drives the same calls through the window.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use pli_core::api::{DirectoryQueryInput, DraftInput, EngineEvent, FileInput, ListScope};
use pli_core::engine::{Engine, LoginMethod};
use pli_e2e::{person, repo_root, sandbox_config};
use tokio::sync::mpsc;

async fn wait_mail(rx: &mut mpsc::UnboundedReceiver<EngineEvent>, accounts: usize) {
    let mut seen = std::collections::BTreeSet::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while seen.len() < accounts {
        let e = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .expect("sync finished in time")
            .expect("events");
        match e {
            EngineEvent::MailChanged { account, .. } => {
                seen.insert(account);
            }
            EngineEvent::SyncFailed { account, error } => panic!("{account}: {error}"),
            _ => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_serves_the_desktop_app_end_to_end() {
    let mut cfg = sandbox_config();
    let dir = tempfile::tempdir().unwrap();
    cfg.data_dir = Some(dir.path().join("data"));
    std::env::set_var("PLI_PROFILE", format!("engine-{}", std::process::id()));
    let anne = person(&cfg, "practitioner");
    let (tx, mut rx) = mpsc::unbounded_channel();
    let engine = Engine::open(cfg.clone(), Arc::new(move |e| drop(tx.send(e))))
        .await
        .unwrap();

    // Not logged in: no server access, a clear sentence.
    assert!(!engine.session_info().await.logged_in);
    let err = engine.sync_now().await.unwrap_err().to_string();
    assert!(err.contains("Pro Santé Connect"), "{err}");

    // CIBA login through the sandbox PSC; the binding message is announced first.
    let info = engine
        .login(LoginMethod::Ciba {
            national_id: anne.national_id.clone(),
        })
        .await
        .unwrap();
    assert!(info.logged_in);
    assert_eq!(info.national_id.as_deref(), Some(anne.national_id.as_str()));
    assert!(info.display_name.unwrap().contains("LEFÈVRE"));
    assert!(matches!(
        rx.recv().await,
        Some(EngineEvent::CibaStarted { .. })
    ));
    wait_mail(&mut rx, cfg.accounts.len()).await;

    // Side bar: both mailboxes, INBOX first, unread counts.
    let boxes = engine.mailboxes().await.unwrap();
    assert_eq!(boxes.len(), cfg.accounts.len());
    let personal = anne.personal_mailbox.clone().unwrap();
    let mine = boxes.iter().find(|b| b.address == personal).unwrap();
    assert_eq!(mine.folders[0].name, "INBOX");
    assert!(mine.folders[0].total > 0);

    // Unified inbox: professional mail only; patients have their own pane.
    let page = engine.list(ListScope::Unified, 0, 500).await.unwrap();
    assert!(page.total > 0 && !page.rows.is_empty());
    assert!(
        page.rows.iter().all(|r| !r.from_patient),
        "patients kept apart"
    );
    let bio = page
        .rows
        .iter()
        .find(|r| r.xdm && r.subject.contains("examens biologiques") && r.account == personal)
        .expect("the CR-BIO in Anne's inbox, XDM prefix hidden");
    assert!(!bio.subject.starts_with("XDM/"));
    assert!(bio.has_documents);

    // Patient pane: Léa DUPOND, named from her messages, with her INS.
    let lea = "279035121518989";
    let patients = engine.patients().await.unwrap();
    let conv = patients
        .iter()
        .find(|p| p.patient.ins == lea && p.account == personal)
        .expect("Léa's conversation");
    assert_eq!(conv.patient.birth_name.as_deref(), Some("DUPOND"));
    assert_eq!(conv.patient.given_name.as_deref(), Some("Léa"));
    assert!(conv.messages >= 2, "both ways");
    // The whole conversation (the sandbox keeps its mailboxes between runs, and every run's
    // send tests add messages to Léa: hers can be far down the list).
    let lea_page = engine
        .list(ListScope::Patient { ins: lea.into() }, 0, 500)
        .await
        .unwrap();
    let from_lea = lea_page
        .rows
        .iter()
        .find(|r| r.from_patient)
        .unwrap_or_else(|| panic!("no message from Léa in {} rows", lea_page.rows.len()));
    let detail = engine.message(from_lea.id, false).await.unwrap();
    assert_eq!(detail.patient.as_ref().unwrap().ins, lea);
    assert!(!detail.row.unread, "opening marks read");

    // The CR-BIO opened from the server: rendered safe HTML with the antibiogram.
    let d = engine.message(bio.id, false).await.unwrap();
    let xdm = d
        .attachments
        .iter()
        .find(|a| a.name.as_deref() == Some("IHE_XDM.zip"))
        .unwrap();
    let doc = engine.open_attachment(bio.id, xdm.index).await.unwrap();
    assert_eq!(doc.kind, "xdm");
    assert_eq!(doc.level.as_deref(), Some("N3"));
    let html = doc.html.unwrap();
    assert!(html.contains("Gentamicine"));
    assert!(!html.contains("<script"));
    assert!(!doc.xdm_documents.is_empty());
    // Saved as a PDF ("Enregistrer en PDF"): the CR-BIO's PDF copy (pli-cda's transcription of
    // this N3), owner-only, named like the copy sent with it; a second save never overwrites.
    let downloads = tempfile::tempdir().unwrap();
    let saved = engine
        .save_attachment_pdf_in(bio.id, xdm.index, downloads.path())
        .await
        .unwrap();
    assert_eq!(saved.parent(), Some(downloads.path()));
    assert!(saved.extension().is_some_and(|e| e == "pdf"), "{saved:?}");
    let pdf = std::fs::read(&saved).unwrap();
    let text = pli_cda::pdf_text(&pdf).unwrap();
    assert!(text.contains("PAT-TROIS"), "{text}");
    assert!(text.contains("Gentamicine"), "{text}");
    let again = engine
        .save_attachment_pdf_in(bio.id, xdm.index, downloads.path())
        .await
        .unwrap();
    assert_ne!(again, saved);
    assert_eq!(std::fs::read(&again).unwrap(), pdf);

    let stamp = format!(
        "pli{}x{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    );

    // Directory: Bruno GIRARD from LDAP.
    let gp = person(&cfg, "gp").personal_mailbox.unwrap();
    let found = engine
        .directory_search(DirectoryQueryInput {
            text: Some("girard bruno".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(found.entries.iter().any(|e| e.mail == gp), "{found:?}");

    // Send with a CDA: composed as IHE XDM, sent, copied to Sent.
    let cda = std::fs::read(repo_root().join("tests/fixtures/cda/BIO-TROD_2024.01_COVID-19.xml"))
        .unwrap();
    let sent = engine
        .send(DraftInput {
            to: vec![gp.clone()],
            subject: "Résultats TROD".into(),
            body: format!("Bonjour,\nci-joint le compte rendu (réf {stamp}).\n"),
            receipt: true,
            delivery_receipt: true,
            attachments: vec![FileInput {
                name: "trod.xml".into(),
                base64: base64::engine::general_purpose::STANDARD.encode(&cda),
            }],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(sent.state, "sent", "{sent:?}");
    assert!(sent.subject.starts_with("XDM/1.0/DDM+"));

    // Bruno's Pli sees the read-receipt request and, with his agreement, answers it.
    receipt_round_trip(&cfg, &dir, &sent.message_id, &stamp, &personal).await;

    // Anne's copy in Sent shows Bruno's read receipt (the MDN is tied by Message-ID).
    let gp_lower = gp.to_lowercase();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let read = loop {
        engine.sync_now().await.unwrap();
        let hits = engine
            .list(
                ListScope::Search {
                    query: stamp.clone(),
                    unread: false,
                    has_documents: false,
                },
                0,
                10,
            )
            .await
            .unwrap();
        if let Some(r) = hits
            .rows
            .iter()
            .find(|r| r.receipt.as_deref() == Some("read"))
        {
            break r.clone();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no read receipt on the Sent copy: {hits:?}"
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    let d = engine.message(read.id, false).await.unwrap();
    assert!(
        d.deliveries
            .iter()
            .any(|x| x.state == "read" && x.recipient.as_deref() == Some(gp_lower.as_str())),
        "{:?}",
        d.deliveries
    );
    // The delivery status notification (RFC 3461: the delivery-receipt toggle asks the server
    // for NOTIFY=SUCCESS) comes back from the operator's MTA and is tied to the same message, with
    // its 2.x.x status code.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let d = engine.message(read.id, false).await.unwrap();
        if d.deliveries.iter().any(|x| {
            x.state == "delivered"
                && x.recipient.as_deref() == Some(gp_lower.as_str())
                && x.detail.as_deref().is_some_and(|c| c.starts_with("2."))
        }) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no delivery notification on the Sent copy: {:?}",
            d.deliveries
        );
        engine.sync_now().await.unwrap();
        tokio::time::sleep(Duration::from_secs(1)).await;
    }

    // End the exchange with Léa: sent, recorded, shown as ended.
    let fin = engine.end_exchange(lea, None).await.unwrap();
    assert_eq!(fin.state, "sent", "{fin:?}");
    let ended = engine.patients().await.unwrap();
    assert!(ended
        .iter()
        .any(|p| p.patient.ins == lea && p.account == personal && p.ended_at.is_some()));

    // Audit: login and sends are in the user's trail; the CSV export is written.
    let audit = engine.audit(None).await.unwrap();
    assert!(audit.iter().any(|a| a.action == "login"));
    // Background work is done on the person's behalf and names them (ECO.4.1.1), not "pli".
    for action in ["sync", "send"] {
        assert!(
            audit
                .iter()
                .any(|a| a.action == action && a.actor == anne.national_id),
            "no {action} row naming {}: {:?}",
            anne.national_id,
            audit
                .iter()
                .filter(|a| a.action == action)
                .collect::<Vec<_>>()
        );
        assert!(
            !audit.iter().any(|a| a.action == action && a.actor == "pli"),
            "a {action} row without its actor"
        );
    }
    std::env::set_var("XDG_DOWNLOAD_DIR", dir.path());
    let csv = engine.export_audit(None).await.unwrap();
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.lines().count() > audit.len());

    // A service mailbox Anne is not authorised on: added, and the operator's refusal comes
    // back as a sync failure for that mailbox (the server decides, never the client).
    assert!(engine
        .add_mailbox("urgences", "ORG", "Urgences")
        .await
        .is_err());
    assert!(
        engine
            .add_mailbox("urgences@pli-sandbox.mssante.fr", "ORG", " ")
            .await
            .is_err(),
        "a display name is required (ECO.2.2.7)"
    );
    engine
        .add_mailbox(
            "Urgences@pli-sandbox.mssante.fr",
            "ORG",
            "Service des urgences",
        )
        .await
        .unwrap();
    let boxes = engine.mailboxes().await.unwrap();
    let added = boxes
        .iter()
        .find(|b| b.address == "urgences@pli-sandbox.mssante.fr")
        .expect("listed");
    assert_eq!(added.display_name.as_deref(), Some("Service des urgences"));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(EngineEvent::SyncFailed { account, error }))
                if account == "urgences@pli-sandbox.mssante.fr" =>
            {
                assert!(error.contains("refusée"), "{error}");
                break;
            }
            Ok(Some(_)) => {}
            other => panic!("no refusal for the unauthorised mailbox: {other:?}"),
        }
    }

    engine.logout().await.unwrap();
    assert!(!engine.session_info().await.logged_in);
    engine.shutdown().await;
}

/// Bruno logs in with his own engine, finds Anne's message, sees the read-receipt request,
/// sends the MDN; Anne's mailbox receives it (read by the Dovecot master user).
async fn receipt_round_trip(
    cfg: &pli_core::config::Config,
    dir: &tempfile::TempDir,
    message_id: &str,
    stamp: &str,
    anne_mailbox: &str,
) {
    let bruno = person(cfg, "gp");
    let mut cfg_b = cfg.clone();
    cfg_b.data_dir = Some(dir.path().join("data-bruno"));
    cfg_b.accounts = vec![pli_core::config::AccountConfig {
        address: bruno.personal_mailbox.clone().unwrap(),
        kind: pli_core::config::MailboxKind::Personal,
        display_name: Some("Dr Bruno GIRARD".into()),
    }];
    let (tx, mut rx) = mpsc::unbounded_channel();
    let b = Engine::open(cfg_b, Arc::new(move |e| drop(tx.send(e))))
        .await
        .unwrap();
    b.login(LoginMethod::Ciba {
        national_id: bruno.national_id.clone(),
    })
    .await
    .unwrap();
    wait_mail(&mut rx, 1).await;
    let hits = b
        .list(
            ListScope::Search {
                query: stamp.to_owned(),
                unread: false,
                has_documents: false,
            },
            0,
            10,
        )
        .await
        .unwrap();
    let row = hits.rows.first().expect("Anne's message in Bruno's cache");
    let d = b.message(row.id, false).await.unwrap();
    assert_eq!(d.message_id.as_deref(), Some(message_id));
    let req = d.receipt_request.expect("a read receipt is asked");
    assert_eq!(req.to, anne_mailbox);
    assert!(!req.differs_from_return_path);
    let sent = b.answer_receipt(row.id, true).await.unwrap().unwrap();
    assert_eq!(sent.state, "sent", "{sent:?}");
    assert!(
        b.message(row.id, false)
            .await
            .unwrap()
            .receipt_request
            .is_none(),
        "asked once"
    );
    // Anne receives the MDN, tied to her message.
    let mut m = pli_e2e::sync_support::master_session(cfg, anne_mailbox).await;
    m.select("INBOX").await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let found = m
            .uid_search(format!("HEADER In-Reply-To \"{message_id}\""))
            .await
            .unwrap();
        if !found.is_empty() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no MDN for {message_id}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
        m.noop().await.unwrap();
    }
    m.logout().await.ok();
    b.logout().await.unwrap();
    b.shutdown().await;
}
