//! The outbox as the app shows it: a message the server cannot take yet stays in the outbox
//! with the reason, survives closing the app, is sent on "Réessayer" once the server is back;
//! another is withdrawn on "Supprimer" and never leaves.

use std::sync::Arc;

use pli_core::api::{DraftInput, EngineEvent};
use pli_core::config::Config;
use pli_core::engine::{Engine, LoginMethod};
use pli_e2e::{person, sandbox_config};

async fn open(cfg: Config) -> Engine {
    let sink: pli_core::engine::EventSink = Arc::new(|_: EngineEvent| {});
    let e = Engine::open(cfg.clone(), sink).await.unwrap();
    e.login(LoginMethod::Ciba {
        national_id: person(&cfg, "practitioner").national_id,
    })
    .await
    .unwrap();
    e
}

fn draft(to: &str, subject: &str) -> DraftInput {
    DraftInput {
        to: vec![to.to_owned()],
        subject: subject.to_owned(),
        body: "Bonjour,\nmessage de test de la boîte d'envoi.\n".into(),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unsent_message_waits_in_the_outbox_across_restarts_then_leaves_on_retry() {
    std::env::set_var("PLI_PROFILE", format!("outbox-{}", std::process::id()));
    let mut good = sandbox_config();
    let dir = tempfile::tempdir().unwrap();
    good.data_dir = Some(dir.path().join("data"));
    let gp = person(&good, "gp").personal_mailbox.unwrap();
    // The submission server is unreachable (nothing listens on this port).
    let mut bad = good.clone();
    bad.operator.smtp.port = 1;
    bad.operator.smtp.connect_addr = Some("127.0.0.1".into());

    let e = open(bad).await;
    let kept = e.send(draft(&gp, "À garder")).await.unwrap();
    assert_eq!(kept.state, "queued", "{kept:?}");
    assert!(kept.error.is_some());
    let dropped = e.send(draft(&gp, "À retirer")).await.unwrap();
    assert_eq!(dropped.state, "queued");
    let items = e.outbox().await.unwrap();
    assert_eq!(items.len(), 2, "{items:?}");
    let k = items
        .iter()
        .find(|i| i.message_id == kept.message_id)
        .unwrap();
    assert_eq!(k.subject, "À garder");
    assert_eq!(k.recipients, vec![gp.clone()]);
    assert!(k.last_error.is_some() && k.attempts >= 1, "{k:?}");
    let d = items
        .iter()
        .find(|i| i.message_id == dropped.message_id)
        .unwrap();
    e.discard_outbox(d.id).await.unwrap();
    assert!(e.discard_outbox(d.id).await.is_err(), "gone");
    e.shutdown().await;

    // The app is opened again with the server back: the message is still there (its next
    // automatic attempt is 30 s after the failure, the back-off base); "Réessayer" sends it.
    let e = open(good.clone()).await;
    let items = e.outbox().await.unwrap();
    assert_eq!(
        items.len(),
        1,
        "kept across restarts, the withdrawn one is gone"
    );
    let r = e.retry_outbox(items[0].id).await.unwrap();
    assert_eq!(r.state, "sent", "{r:?}");
    assert!(e.outbox().await.unwrap().is_empty());
    let audit = e.audit(None).await.unwrap();
    assert!(audit.iter().any(|a| a.action == "outbox-discard"));
    e.logout().await.unwrap();
    e.shutdown().await;
}
