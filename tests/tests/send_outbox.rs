//! The outbox under faults, end to end through the sandbox's submission server: a connection
//! cut mid-DATA (a TCP relay), the drain task's back-off, crash states (`sending` with a copy in
//! Sent, `submitted`), a message over the server's SIZE and over 25 MB towards a patient.

mod send_support;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use pli_core::mssante;
use pli_core::smtp::outbox::{Backoff, Outcome};
use pli_e2e::person;
use send_support::*;

#[tokio::test]
async fn eco_1_0_1_connection_cut_mid_data_keeps_the_message_and_the_retry_delivers_it_once() {
    let s = sender("practitioner").await;
    let gp = person(&s.cfg, "gp").personal_mailbox.unwrap();
    let mut d = s.draft(&gp, &format!("cut mid-DATA {}", stamp()));
    // ~400 KB so the cut lands inside DATA.
    d.attachments = vec![mssante::Attachment {
        name: "scan.bin".into(),
        content_type: "application/octet-stream".into(),
        bytes: (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect(),
    }];
    let c = mssante::compose(&d, &s.cfg.product_reference, &s.cfg.operator.patient_domain).unwrap();
    assert!(c.raw.len() > 350_000);
    s.enqueue(&c, false, &[]).await;

    let limit = Arc::new(AtomicU64::new(200_000));
    let port = cutting_relay(("127.0.0.1", s.cfg.operator.smtp.port), limit).await;
    let mut cut = s.cfg.operator.clone();
    cut.smtp.port = port;
    cut.smtp.connect_addr = Some("127.0.0.1".into());
    let out = s.drain(cut).drain_account(&s.from, false).await.unwrap();
    assert!(matches!(out.as_slice(), [Outcome::Retry { .. }]), "{out:?}");
    let rows = s.store.outbox_rows(&s.from).await.unwrap();
    assert_eq!(rows.len(), 1, "still in the outbox");
    assert_eq!((rows[0].state.as_str(), rows[0].attempts), ("pending", 1));
    assert_eq!(rows[0].raw, c.raw);
    // Not due yet: a plain drain does nothing; the retry happens once the back-off allows it.
    let drain = s.drain(s.cfg.operator.clone());
    assert!(drain
        .drain_account(&s.from, false)
        .await
        .unwrap()
        .is_empty());
    let out = drain.drain_account(&s.from, true).await.unwrap();
    assert!(
        matches!(
            out.as_slice(),
            [Outcome::Delivered {
                sent_copy: true,
                ..
            }]
        ),
        "{out:?}"
    );
    assert!(s.store.outbox_rows(&s.from).await.unwrap().is_empty());

    let mut inbox = master(&s.cfg, &gp).await;
    wait_for(&mut inbox, "INBOX", &c.message_id).await;
    // Give a duplicate time to arrive, then count.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        find(&mut inbox, "INBOX", &c.message_id).await.len(),
        1,
        "delivered once"
    );
    let mut sent = master(&s.cfg, &s.from).await;
    let copies = find(&mut sent, "Sent", &c.message_id).await;
    assert_eq!(copies, vec![c.raw.clone()]);
}

#[tokio::test]
async fn eco_1_0_1_interrupted_attempt_already_in_sent_is_not_sent_again() {
    // A crash after the copy to Sent but before the row was cleared: the row is `sending`.
    let s = sender("practitioner").await;
    let gp = person(&s.cfg, "gp").personal_mailbox.unwrap();
    let d = s.draft(&gp, &format!("crash after Sent {}", stamp()));
    let c = mssante::compose(&d, &s.cfg.product_reference, &s.cfg.operator.patient_domain).unwrap();
    s.enqueue(&c, false, &[]).await;
    let id = s.store.outbox_rows(&s.from).await.unwrap()[0].id;
    assert!(s
        .store
        .outbox_mark_sending(id, "pending", 0, 0)
        .await
        .unwrap());
    let mut sent = master(&s.cfg, &s.from).await;
    sent.append("Sent", Some("(\\Seen)"), None, &c.raw)
        .await
        .unwrap();
    let out = s
        .drain(s.cfg.operator.clone())
        .drain_account(&s.from, false)
        .await
        .unwrap();
    assert_eq!(
        out,
        vec![Outcome::AlreadySent {
            message_id: c.message_id.clone()
        }]
    );
    assert!(s.store.outbox_rows(&s.from).await.unwrap().is_empty());
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut inbox = master(&s.cfg, &gp).await;
    assert!(
        find(&mut inbox, "INBOX", &c.message_id).await.is_empty(),
        "not sent again"
    );
}

#[tokio::test]
async fn eco_1_0_1_larger_than_the_server_size_is_a_permanent_failure_kept_in_the_outbox() {
    // The sandbox's submission server announces SIZE 26214400 (26213376 after AUTH); 20 MB of
    // binary is ~27 MB once encoded in base64.
    let s = sender("practitioner").await;
    let gp = person(&s.cfg, "gp").personal_mailbox.unwrap();
    let mut d = s.draft(&gp, &format!("too large {}", stamp()));
    d.attachments = vec![mssante::Attachment {
        name: "big.bin".into(),
        content_type: "application/octet-stream".into(),
        bytes: vec![0x5a; 20 * 1024 * 1024],
    }];
    let c = mssante::compose(&d, &s.cfg.product_reference, &s.cfg.operator.patient_domain).unwrap();
    assert!(c.raw.len() > 26_214_400);
    s.enqueue(&c, false, &[]).await;
    let out = s
        .drain(s.cfg.operator.clone())
        .drain_account(&s.from, false)
        .await
        .unwrap();
    match out.as_slice() {
        [Outcome::Failed { error, .. }] => {
            assert!(
                error.contains("trop volumineux")
                    && error.contains("le serveur accepte au plus 262"),
                "{error}"
            )
        }
        other => panic!("{other:?}"),
    }
    let rows = s.store.outbox_rows(&s.from).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].state, "failed");
    // Failed rows are not retried by later drains.
    assert!(s
        .drain(s.cfg.operator.clone())
        .drain_account(&s.from, true)
        .await
        .unwrap()
        .is_empty());

    // Towards a patient, the 25 MB limit is checked before anything is queued.
    let mut p = s.draft("279035121518989@patient.mssante.fr", "trop gros");
    p.attachments = d.attachments.clone();
    assert!(matches!(
        mssante::compose(&p, &s.cfg.product_reference, &s.cfg.operator.patient_domain),
        Err(mssante::ComposeError::TooLargeForPatient { .. })
    ));
}

#[tokio::test]
async fn eco_1_0_1_submitted_row_after_a_crash_only_gets_its_copy_to_sent() {
    // A crash after the server accepted DATA but before the copy to Sent: the row is
    // `submitted`; the next drain must append it to Sent and must not submit it again.
    let s = sender("practitioner").await;
    let gp = person(&s.cfg, "gp").personal_mailbox.unwrap();
    let d = s.draft(&gp, &format!("crash before Sent {}", stamp()));
    let c = mssante::compose(&d, &s.cfg.product_reference, &s.cfg.operator.patient_domain).unwrap();
    s.enqueue(&c, false, &[]).await;
    let id = s.store.outbox_rows(&s.from).await.unwrap()[0].id;
    assert!(s
        .store
        .outbox_mark_sending(id, "pending", 0, 0)
        .await
        .unwrap());
    s.store.outbox_mark_submitted(id, None).await.unwrap();
    let out = s
        .drain(s.cfg.operator.clone())
        .drain_account(&s.from, false)
        .await
        .unwrap();
    assert_eq!(
        out,
        vec![Outcome::Delivered {
            message_id: c.message_id.clone(),
            refused: vec![],
            sent_copy: true
        }]
    );
    assert!(s.store.outbox_rows(&s.from).await.unwrap().is_empty());
    let mut sent = master(&s.cfg, &s.from).await;
    assert_eq!(
        find(&mut sent, "Sent", &c.message_id).await,
        vec![c.raw.clone()]
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut inbox = master(&s.cfg, &gp).await;
    assert!(
        find(&mut inbox, "INBOX", &c.message_id).await.is_empty(),
        "not submitted by the drain"
    );
}

#[tokio::test]
async fn eco_1_0_1_drain_task_retries_after_back_off_and_delivers_once() {
    // The drain task (not a manual retry): the first attempt is cut mid-DATA, the task waits
    // for the back-off and tries again on its own through the same relay, which no longer cuts.
    let s = sender("practitioner").await;
    let gp = person(&s.cfg, "gp").personal_mailbox.unwrap();
    let mut d = s.draft(&gp, &format!("drain task retry {}", stamp()));
    d.attachments = vec![mssante::Attachment {
        name: "scan.bin".into(),
        content_type: "application/octet-stream".into(),
        bytes: (0..300_000u32).map(|i| (i * 13 % 251) as u8).collect(),
    }];
    let c = mssante::compose(&d, &s.cfg.product_reference, &s.cfg.operator.patient_domain).unwrap();
    let limit = Arc::new(AtomicU64::new(150_000));
    let port = cutting_relay(("127.0.0.1", s.cfg.operator.smtp.port), limit.clone()).await;
    let mut relayed = s.cfg.operator.clone();
    relayed.smtp.port = port;
    relayed.smtp.connect_addr = Some("127.0.0.1".into());
    let mut drain = s.drain(relayed);
    drain.backoff = Backoff {
        base_secs: 2,
        max_secs: 2,
    };
    let wake = Arc::new(tokio::sync::Notify::new());
    let cancel = pli_core::auth::psc::CancellationToken::new();
    let outcomes = Arc::new(std::sync::Mutex::new(Vec::new()));
    let task = {
        let (drain, from, wake, cancel, outcomes) = (
            drain.clone(),
            s.from.clone(),
            wake.clone(),
            cancel.clone(),
            outcomes.clone(),
        );
        tokio::spawn(async move {
            drain
                .run(&from, wake, cancel, Duration::from_secs(30), |o| {
                    outcomes.lock().unwrap().push(o.clone())
                })
                .await
        })
    };
    // Queue, then wake the task (what the app does after the user's action).
    s.enqueue(&c, false, &[]).await;
    wake.notify_one();
    // First attempt cut: the row goes back to pending with one attempt.
    for _ in 0..100 {
        if outcomes.lock().unwrap().len() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        matches!(outcomes.lock().unwrap().as_slice(), [Outcome::Retry { .. }]),
        "{:?}",
        outcomes.lock().unwrap()
    );
    limit.store(u64::MAX, Ordering::SeqCst);
    for _ in 0..100 {
        if outcomes.lock().unwrap().len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    cancel.cancel();
    task.await.unwrap().unwrap();
    let got = outcomes.lock().unwrap().clone();
    assert!(
        matches!(
            got.as_slice(),
            [
                Outcome::Retry {
                    retry_in_secs: 2,
                    ..
                },
                Outcome::Delivered {
                    sent_copy: true,
                    ..
                }
            ]
        ),
        "{got:?}"
    );
    assert!(s.store.outbox_rows(&s.from).await.unwrap().is_empty());
    let mut inbox = master(&s.cfg, &gp).await;
    wait_for(&mut inbox, "INBOX", &c.message_id).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(find(&mut inbox, "INBOX", &c.message_id).await.len(), 1);
}

#[tokio::test]
async fn eco_1_0_1_two_drains_at_once_send_the_message_once() {
    // The app's drain task and `pli send` may drain the same profile at the same moment: the
    // row is claimed with a compare-and-set, so only one of them submits it.
    let s = sender("practitioner").await;
    let gp = person(&s.cfg, "gp").personal_mailbox.unwrap();
    let d = s.draft(&gp, &format!("two drains {}", stamp()));
    let c = mssante::compose(&d, &s.cfg.product_reference, &s.cfg.operator.patient_domain).unwrap();
    s.enqueue(&c, false, &[]).await;
    let (a, b) = (
        s.drain(s.cfg.operator.clone()),
        s.drain(s.cfg.operator.clone()),
    );
    let (ra, rb) = tokio::join!(
        a.drain_account(&s.from, false),
        b.drain_account(&s.from, false)
    );
    let all: Vec<Outcome> = ra.unwrap().into_iter().chain(rb.unwrap()).collect();
    assert!(
        matches!(all.as_slice(), [Outcome::Delivered { .. }]),
        "{all:?}"
    );
    let mut inbox = master(&s.cfg, &gp).await;
    wait_for(&mut inbox, "INBOX", &c.message_id).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(find(&mut inbox, "INBOX", &c.message_id).await.len(), 1);

    // A row another drain is sending (lease not expired) is left alone, even by "send now".
    let d = s.draft(&gp, &format!("leased {}", stamp()));
    let c = mssante::compose(&d, &s.cfg.product_reference, &s.cfg.operator.patient_domain).unwrap();
    s.enqueue(&c, false, &[]).await;
    let id = s.store.outbox_rows(&s.from).await.unwrap()[0].id;
    assert!(s
        .store
        .outbox_mark_sending(id, "pending", 0, 600)
        .await
        .unwrap());
    assert!(!s
        .store
        .outbox_mark_sending(id, "pending", 0, 600)
        .await
        .unwrap());
    assert!(s
        .drain(s.cfg.operator.clone())
        .drain_account(&s.from, true)
        .await
        .unwrap()
        .is_empty());
}
