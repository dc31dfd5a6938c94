//! A message to a patient that Mon espace santé returns as "Message non distribué" (a DSN with a
//! 5.1.1 status for the patient's address: closed account, unknown patient) is recognised when it
//! arrives and shown on the sent message as a failed delivery with a clear explanation
//! (`../shared/spec/mssante.md` §5, ENS §6). The sandbox's patient mailboxes accept mail, so the
//! bounce is delivered into the sender's INBOX the way the operator would: a `multipart/report`
//! from the MES mailer, carrying the returned headers.

use std::sync::Arc;
use std::time::Duration;

use pli_core::api::{DraftInput, ListScope};
use pli_core::engine::{Engine, LoginMethod};
use pli_e2e::sync_support::{master_session, stamp};
use pli_e2e::{person, sandbox_config};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mon_espace_sante_bounce_shows_as_a_failed_delivery_with_its_reason() {
    std::env::set_var("PLI_PROFILE", format!("bounce-{}", std::process::id()));
    let mut cfg = sandbox_config();
    let dir = tempfile::tempdir().unwrap();
    cfg.data_dir = Some(dir.path().join("data"));
    let anne = person(&cfg, "practitioner");
    let personal = anne.personal_mailbox.clone().unwrap();
    cfg.accounts.retain(|a| a.address == personal);
    let lea = "279035121518989";
    let lea_address = format!("{lea}@{}", cfg.operator.patient_domain);

    let engine = Engine::open(cfg.clone(), Arc::new(|_| {})).await.unwrap();
    engine
        .login(LoginMethod::Ciba {
            national_id: anne.national_id.clone(),
        })
        .await
        .unwrap();
    let tag = format!("bounce-{}", stamp());
    let sent = engine
        .send(DraftInput {
            patient_ins: Some(lea.into()),
            subject: format!("Votre rendez-vous {tag}"),
            body: "Bonjour,\nvotre rendez-vous est confirmé.\n".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    // Sent now, or queued when the outbox loop that starts with the session claimed it first:
    // then it leaves the outbox once that loop has sent it.
    assert!(sent.state == "sent" || sent.state == "queued", "{sent:?}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while engine
        .outbox()
        .await
        .unwrap()
        .iter()
        .any(|o| o.message_id == sent.message_id)
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "still in the outbox: {:?}",
            engine.outbox().await.unwrap()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    // The operator's bounce, into Anne's INBOX.
    let bounce = format!(
        "From: Mon espace sante <MAILER-DAEMON@{domain}>\r\nTo: {personal}\r\n\
         Subject: Message non distribue\r\nMessage-ID: <ndr-{tag}@{domain}>\r\n\
         Date: Mon, 23 Nov 2026 09:00:00 +0100\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=delivery-status; boundary=\"NDR\"\r\n\r\n\
         --NDR\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         Votre message n'a pas pu etre distribue.\r\n\
         --NDR\r\nContent-Type: message/delivery-status\r\n\r\n\
         Reporting-MTA: dns; mx.{domain}\r\n\r\n\
         Final-Recipient: rfc822; {lea_address}\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n\
         --NDR\r\nContent-Type: text/rfc822-headers\r\n\r\n\
         Message-ID: <{mid}>\r\nSubject: Votre rendez-vous {tag}\r\nFrom: {personal}\r\n\r\n\
         --NDR--\r\n",
        domain = cfg.operator.patient_domain,
        mid = sent.message_id.trim_matches(['<', '>']),
    );
    let mut m = master_session(&cfg, &personal).await;
    m.append("INBOX", None, None, bounce.as_bytes())
        .await
        .unwrap();
    m.logout().await.ok();

    // After a sync, the copy in Sent says it: failed for Léa, with the reason in words.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let failed = loop {
        engine.sync_now().await.unwrap();
        let hits = engine
            .list(
                ListScope::Search {
                    query: tag.clone(),
                    unread: false,
                    has_documents: false,
                },
                0,
                10,
            )
            .await
            .unwrap();
        let mut found = None;
        for r in &hits.rows {
            let d = engine.message(r.id, false).await.unwrap();
            if let Some(x) = d.deliveries.into_iter().find(|x| x.state == "failed") {
                found = Some((r.clone(), x));
            }
        }
        if let Some(f) = found {
            break f;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no failed delivery on the sent message: {hits:?}"
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    let (row, delivery) = failed;
    assert_eq!(delivery.recipient.as_deref(), Some(lea_address.as_str()));
    assert_eq!(delivery.detail.as_deref(), Some("5.1.1"));
    let why = delivery.explanation.unwrap_or_default();
    assert!(
        why.contains("Mon espace santé") && why.contains("non distribué"),
        "{why}"
    );
    // The list shows the failure on the sent message too.
    assert_eq!(row.receipt.as_deref(), Some("failed"), "{row:?}");
    engine.shutdown().await;
}
