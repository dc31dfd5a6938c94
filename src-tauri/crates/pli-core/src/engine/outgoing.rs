//! Sending: the compose window's draft → MSSanté composition → the outbox (one transaction,
//! with the end of exchange when asked) → SMTP at once, retried by the drain loop.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;

use super::{Engine, EngineError, Result};
use crate::api::{DraftInput, EngineEvent, RefusedRecipient, SendResult};
use crate::auth::Credentials;
use crate::config::Config;
use crate::mssante::xdm::CdaFile;
use crate::mssante::{self, Attachment, Composed, Draft, InsNumber};
use crate::smtp::outbox::{Backoff, Drain, Outcome};
use crate::store::{NewOutgoing, Store};

/// MIME type from a file name.
pub fn content_type(name: &str) -> &'static str {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        "txt" => "text/plain; charset=utf-8",
        "xml" => "text/xml",
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        _ => "application/octet-stream",
    }
}

/// Sorts attached files into CDA documents (packaged as IHE XDM) and ordinary attachments.
/// A CDA is an XML file whose start names `ClinicalDocument`.
pub fn sort_attachments(
    files: Vec<(String, Vec<u8>)>,
) -> std::result::Result<(Vec<CdaFile>, Vec<Attachment>), mssante::xdm::XdmBuildError> {
    let mut docs = Vec::new();
    let mut others = Vec::new();
    for (name, bytes) in files {
        let looks_cda = content_type(&name) == "text/xml"
            && String::from_utf8_lossy(&bytes[..bytes.len().min(4096)])
                .contains("ClinicalDocument");
        if looks_cda {
            docs.push(CdaFile::parse(&name, bytes)?);
        } else {
            others.push(Attachment {
                content_type: content_type(&name).to_owned(),
                name,
                bytes,
            });
        }
    }
    Ok((docs, others))
}

/// The sending mailbox: `from` when configured, else the personal mailbox, else the first;
/// with its display name (required, ECO.2.2.7) and kind.
pub fn sender(cfg: &Config, from: Option<&str>) -> Result<(String, String, String)> {
    let account = match from {
        Some(f) => cfg
            .accounts
            .iter()
            .find(|a| a.address.eq_ignore_ascii_case(f)),
        None => cfg
            .accounts
            .iter()
            .find(|a| a.kind == crate::config::MailboxKind::Personal)
            .or(cfg.accounts.first()),
    };
    let (address, name, kind) = match (account, from) {
        (Some(a), _) => (
            a.address.clone(),
            a.display_name.clone(),
            super::kind_code(a.kind).to_owned(),
        ),
        (None, Some(f)) => (f.to_owned(), None, "PER".to_owned()),
        (None, None) => {
            return Err(EngineError::Invalid(
                "aucune boîte d'envoi : ajoutez un [[accounts]] à la configuration".into(),
            ))
        }
    };
    let name = name.filter(|n| !n.trim().is_empty()).ok_or_else(|| {
        EngineError::Invalid(format!(
            "la boîte {address} n'a pas de nom d'affichage (display_name) : un nom explicite est \
             exigé à côté de l'adresse (Ref#2 ECO.2.2.7)"
        ))
    })?;
    Ok((address, name, kind))
}

/// What [`queue_and_send`] did.
#[derive(Debug)]
pub struct Queued {
    /// The composed message.
    pub composed: Composed,
    /// INS of the patients whose exchange this message ends.
    pub ended: Vec<String>,
    /// This message's outcome (`None` when another drain took it).
    pub outcome: Option<Outcome>,
    /// Outcomes of other messages of the outbox sent in the same drain.
    pub others: Vec<Outcome>,
}

/// Composes `draft` and writes it to the outbox, with the ended exchanges in the same
/// transaction. From here on the message is never lost: sent, or still in the outbox.
pub async fn enqueue(
    cfg: &Config,
    store: &Store,
    mut draft: Draft,
    kind: &str,
) -> Result<(Composed, Vec<String>)> {
    draft.from = draft.from.trim().to_owned();
    let composed = mssante::compose(&draft, &cfg.product_reference, &cfg.operator.patient_domain)?;
    let ended: Vec<String> = if draft.end_exchange {
        composed.patients.iter().map(|p| p.to_string()).collect()
    } else {
        Vec::new()
    };
    store
        .outbox_enqueue(&NewOutgoing {
            account: &draft.from,
            account_kind: kind,
            message_id: &composed.message_id,
            recipients: &composed.recipients,
            dsn: draft.delivery_receipt,
            raw: &composed.raw,
            ends_exchange_with: &ended,
        })
        .await?;
    Ok((composed, ended))
}

/// Drains `account`'s outbox now; returns the outcome of message `message_id` (`None` when
/// another drain took it) and those of the other messages sent on the way.
pub async fn drain_now(
    cfg: &Config,
    store: &Store,
    credentials: Arc<dyn Credentials>,
    account: &str,
    message_id: &str,
) -> Result<(Option<Outcome>, Vec<Outcome>)> {
    let (mine, others): (Vec<Outcome>, Vec<Outcome>) = drain(cfg, store, credentials)?
        .drain_account(account.trim(), true)
        .await?
        .into_iter()
        .partition(|o| match o {
            Outcome::Delivered { message_id: m, .. }
            | Outcome::AlreadySent { message_id: m }
            | Outcome::Retry { message_id: m, .. }
            | Outcome::Failed { message_id: m, .. } => m == message_id,
        });
    Ok((mine.into_iter().next(), others))
}

/// How long `submit` waits for another drain's attempt at its message: the SMTP timeout
/// (60 s) and the copy to Sent, with a margin. After that the message is reported as queued,
/// which stays true: the outbox still holds it.
const OTHER_DRAIN_WAIT: Duration = Duration::from_secs(90);

/// The outcome of the attempt another drain (the outbox loop) is making at `message_id`,
/// read from the outbox row as it changes: gone or `submitted` is sent, `failed` is the
/// permanent refusal, back to `pending` is a retry. `None` when the attempt outlasts
/// [`OTHER_DRAIN_WAIT`].
async fn outcome_of_other_drain(
    store: &Store,
    account: &str,
    message_id: &str,
) -> Result<Option<Outcome>> {
    let refused = |r: &crate::store::OutboxRow| -> Vec<(String, String)> {
        r.refused
            .as_deref()
            .and_then(|j| serde_json::from_str(j).ok())
            .unwrap_or_default()
    };
    let started = std::time::Instant::now();
    let mut pause = Duration::from_millis(20);
    loop {
        let row = store
            .outbox_rows(account.trim())
            .await?
            .into_iter()
            .find(|r| r.message_id == message_id);
        let message_id = message_id.to_owned();
        match row {
            None => {
                return Ok(Some(Outcome::Delivered {
                    message_id,
                    refused: Vec::new(),
                    sent_copy: true,
                }))
            }
            Some(r) if r.state == "submitted" => {
                return Ok(Some(Outcome::Delivered {
                    message_id,
                    refused: refused(&r),
                    sent_copy: false,
                }))
            }
            Some(r) if r.state == "failed" => {
                return Ok(Some(Outcome::Failed {
                    message_id,
                    error: r.last_error.clone().unwrap_or_default(),
                    refused: refused(&r),
                }))
            }
            Some(r) if r.state == "pending" && r.attempts > 0 => {
                return Ok(Some(Outcome::Retry {
                    message_id,
                    error: r.last_error.clone().unwrap_or_default(),
                    retry_in_secs: (r.next_attempt_at - crate::store::now()).max(0),
                }))
            }
            Some(_) if started.elapsed() >= OTHER_DRAIN_WAIT => return Ok(None),
            Some(_) => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(500));
            }
        }
    }
}

fn drain(cfg: &Config, store: &Store, credentials: Arc<dyn Credentials>) -> Result<Drain> {
    Ok(Drain {
        operator: cfg.operator.clone(),
        imap_tls: crate::tls::client_config(&cfg.operator.trust_anchors)?,
        credentials,
        store: store.clone(),
        backoff: Backoff::default(),
        timeout: Duration::from_secs(60),
    })
}

fn result_of(composed: &Composed, outcome: Option<Outcome>) -> SendResult {
    let refused = |r: Vec<(String, String)>| {
        r.into_iter()
            .map(|(address, reason)| RefusedRecipient { address, reason })
            .collect()
    };
    let (state, error, refused) = match outcome {
        Some(Outcome::Delivered { refused: r, .. }) => ("sent", None, refused(r)),
        Some(Outcome::AlreadySent { .. }) => ("sent", None, Vec::new()),
        Some(Outcome::Retry {
            error,
            retry_in_secs,
            ..
        }) => (
            "queued",
            Some(format!(
                "dans la boîte d'envoi, nouvel essai dans {retry_in_secs} s : {error}"
            )),
            Vec::new(),
        ),
        Some(Outcome::Failed {
            error, refused: r, ..
        }) => ("failed", Some(error), refused(r)),
        None => ("queued", None, Vec::new()),
    };
    SendResult {
        message_id: composed.message_id.clone(),
        subject: composed.subject.clone(),
        state: state.to_owned(),
        error,
        refused,
    }
}

impl Engine {
    /// Sends what the compose window holds.
    pub async fn send(&self, input: DraftInput) -> Result<SendResult> {
        self.readable().await?;
        let cfg = &self.inner.cfg;
        let (from, from_name, kind) = self.sender(input.from.as_deref()).await?;
        let mut files = Vec::new();
        for f in input.attachments {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(f.base64.as_bytes())
                .map_err(|e| {
                    EngineError::Invalid(format!("pièce jointe {} illisible : {e}", f.name))
                })?;
            files.push((f.name, bytes));
        }
        let (documents, attachments) = sort_attachments(files)?;
        let mut to: Vec<String> = input
            .to
            .iter()
            .map(|a| a.trim().to_owned())
            .filter(|a| !a.is_empty())
            .collect();
        if let Some(ins) = input
            .patient_ins
            .as_deref()
            .filter(|s| !s.trim().is_empty())
        {
            to.push(InsNumber::parse(ins)?.patient_address(&cfg.operator.patient_domain));
        }
        let (in_reply_to, references) = match input.reply_to_message {
            Some(id) => self.reply_headers(id).await?,
            None => (None, Vec::new()),
        };
        let draft = Draft {
            from,
            from_name,
            to,
            cc: input.cc,
            subject: input.subject,
            body: input.body,
            in_reply_to,
            references,
            documents,
            attachments,
            receipt: input.receipt,
            delivery_receipt: input.delivery_receipt,
            ..Default::default()
        };
        self.submit(draft, &kind).await
    }

    /// Ends the exchange with a patient: one message with `X-MSS-MES: FIN` (ECO.2.2.8),
    /// recorded as ended in the cache with the outbox row.
    pub async fn end_exchange(&self, patient_ins: &str, from: Option<&str>) -> Result<SendResult> {
        self.readable().await?;
        let cfg = &self.inner.cfg;
        let (from, from_name, kind) = self.sender(from).await?;
        let ins = InsNumber::parse(patient_ins)?;
        let draft = Draft {
            from,
            from_name,
            to: vec![ins.patient_address(&cfg.operator.patient_domain)],
            subject: "Fin de l'échange".to_owned(),
            body: "Cet échange est terminé. Vous ne pouvez plus répondre à ce message.\n"
                .to_owned(),
            end_exchange: true,
            ..Default::default()
        };
        self.submit(draft, &kind).await
    }

    async fn submit(&self, draft: Draft, kind: &str) -> Result<SendResult> {
        let credentials = self.credentials().await?;
        let account = draft.from.clone();
        let (composed, _ended) = enqueue(&self.inner.cfg, &self.inner.store, draft, kind).await?;
        self.emit(EngineEvent::OutboxChanged {
            account: account.clone(),
        });
        let (outcome, _others) = drain_now(
            &self.inner.cfg,
            &self.inner.store,
            credentials,
            &account,
            &composed.message_id,
        )
        .await?;
        let outcome = match outcome {
            Some(o) => Some(o),
            // The outbox loop claimed the row between the enqueue and our drain: its attempt
            // decides, so wait for it rather than answering "queued" for a message that is
            // being sent (or refused) at this very moment.
            None => {
                outcome_of_other_drain(&self.inner.store, &account, &composed.message_id).await?
            }
        };
        self.emit(EngineEvent::OutboxChanged { account });
        Ok(result_of(&composed, outcome))
    }

    /// The sending mailbox: a configured one, else one added in the app (its name and kind
    /// from the cache).
    pub(super) async fn sender(&self, from: Option<&str>) -> Result<(String, String, String)> {
        match sender(&self.inner.cfg, from) {
            Ok(s) => Ok(s),
            Err(e) => {
                let Some(f) = from else { return Err(e) };
                let store = &self.inner.store;
                let kind = store
                    .accounts()
                    .await?
                    .into_iter()
                    .find(|(_, a, _)| a.eq_ignore_ascii_case(f))
                    .map(|(_, _, k)| k);
                match (kind, store.account_display_name(f).await?) {
                    (Some(kind), Some(name)) if !name.trim().is_empty() => {
                        Ok((f.trim().to_lowercase(), name, kind))
                    }
                    _ => Err(e),
                }
            }
        }
    }

    /// Answers a read-receipt request: `send` builds the MDN (RFC 8098, "displayed",
    /// manual action) from the receiving mailbox and sends it through the outbox; otherwise
    /// the request is declined and never asked again. Returns the MDN's outcome when sent.
    pub async fn answer_receipt(&self, id: i64, send: bool) -> Result<Option<SendResult>> {
        self.readable().await?;
        let store = &self.inner.store;
        let r = store
            .row(id)
            .await?
            .ok_or_else(|| EngineError::NotFound("ce message".into()))?;
        let Some(notify_to) = r.mdn_to.clone() else {
            return Err(EngineError::Invalid(
                "ce message ne demande pas d'accusé de lecture".into(),
            ));
        };
        if !send {
            store.set_mdn_state(id, 2).await?;
            store
                .audit(
                    &self.actor().await,
                    Some(&r.account),
                    "mdn-declined",
                    &notify_to,
                    "ok",
                )
                .await?;
            return Ok(None);
        }
        let credentials = self.credentials().await?;
        let (from, from_name, kind) = self.sender(Some(&r.account)).await?;
        let req = mssante::receipts::MdnRequest {
            original_message_id: r.message_id.clone().ok_or_else(|| {
                EngineError::Invalid("message sans Message-ID : accusé impossible".into())
            })?,
            original_subject: r.subject.clone().unwrap_or_default(),
            notify_to,
            differs_from_return_path: r.mdn_differs,
        };
        let mdn = mssante::receipts::build_mdn(
            &req,
            &from,
            &from_name,
            &self.inner.cfg.product_reference,
        )
        .map_err(|e| EngineError::Other(e.to_string()))?;
        store
            .outbox_enqueue(&NewOutgoing {
                account: &from,
                account_kind: &kind,
                message_id: &mdn.message_id,
                recipients: std::slice::from_ref(&mdn.recipient),
                dsn: false,
                raw: &mdn.raw,
                ends_exchange_with: &[],
            })
            .await?;
        // Answered once queued: the outbox guarantees it leaves.
        store.set_mdn_state(id, 1).await?;
        let (outcome, _) =
            drain_now(&self.inner.cfg, store, credentials, &from, &mdn.message_id).await?;
        self.emit(EngineEvent::OutboxChanged { account: from });
        let subject = format!("Accusé de lecture : {}", req.original_subject);
        let composed = Composed {
            message_id: mdn.message_id,
            raw: Vec::new(),
            recipients: vec![mdn.recipient],
            patients: Vec::new(),
            subject,
        };
        Ok(Some(result_of(&composed, outcome)))
    }

    /// `In-Reply-To` and `References` for an answer to message `id`.
    pub(super) async fn reply_headers(&self, id: i64) -> Result<(Option<String>, Vec<String>)> {
        let row = self
            .inner
            .store
            .row(id)
            .await?
            .ok_or_else(|| EngineError::NotFound("le message auquel vous répondez".into()))?;
        let refs = self.inner.store.references_of(id).await?;
        let mut references = refs;
        if let Some(m) = &row.message_id {
            references.push(m.clone());
        }
        Ok((row.message_id, references))
    }

    /// Retries the outbox of every mailbox in the background until `stop`.
    pub(super) async fn outbox_loop(&self, stop: tokio_util::sync::CancellationToken) {
        loop {
            if let (Ok(creds), Ok(accounts)) =
                (self.credentials().await, self.inner.store.accounts().await)
            {
                if let Ok(d) = drain(&self.inner.cfg, &self.inner.store, creds) {
                    for (_, account, _) in accounts {
                        match d.drain_account(&account, false).await {
                            Ok(o) if !o.is_empty() => {
                                self.emit(EngineEvent::OutboxChanged { account })
                            }
                            Ok(_) => {}
                            Err(e) => tracing::warn!(%account, error = %e, "outbox drain"),
                        }
                    }
                }
            }
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(Duration::from_secs(60)) => {}
            }
        }
    }
}

impl Engine {
    /// Every message still in the outbox, every mailbox: what waits, what failed and why.
    pub async fn outbox(&self) -> Result<Vec<crate::api::OutboxItem>> {
        self.readable().await?;
        let store = &self.inner.store;
        let mut out = Vec::new();
        for (_, account, _) in store.accounts().await? {
            for row in store.outbox_rows(&account).await? {
                let subject = mail_parser::MessageParser::default()
                    .parse_headers(&row.raw)
                    .and_then(|m| m.subject().map(str::to_owned))
                    .unwrap_or_default();
                out.push(crate::api::OutboxItem {
                    id: row.id,
                    account: row.account,
                    message_id: row.message_id,
                    subject,
                    recipients: row.recipients,
                    state: row.state,
                    attempts: row.attempts,
                    last_error: row.last_error,
                });
            }
        }
        Ok(out)
    }

    /// Sends a queued message now (after a failure the user fixed, or without waiting for
    /// the back-off). A permanently refused message is tried again too: the user asked.
    pub async fn retry_outbox(&self, id: i64) -> Result<SendResult> {
        self.readable().await?;
        let item = self
            .outbox()
            .await?
            .into_iter()
            .find(|i| i.id == id)
            .ok_or_else(|| EngineError::NotFound("ce message de la boîte d'envoi".into()))?;
        let credentials = self.credentials().await?;
        let store = &self.inner.store;
        if item.state == "failed" {
            store
                .outbox_retry_later(id, item.last_error.as_deref().unwrap_or(""), 0)
                .await?;
        }
        let (outcome, _) = drain_now(
            &self.inner.cfg,
            store,
            credentials,
            &item.account,
            &item.message_id,
        )
        .await?;
        self.emit(EngineEvent::OutboxChanged {
            account: item.account.clone(),
        });
        let composed = Composed {
            message_id: item.message_id,
            raw: Vec::new(),
            recipients: item.recipients,
            patients: Vec::new(),
            subject: item.subject,
        };
        Ok(result_of(&composed, outcome))
    }

    /// Removes a message from the outbox without sending it (the user's explicit choice;
    /// a message being submitted right now cannot be withdrawn).
    pub async fn discard_outbox(&self, id: i64) -> Result<()> {
        self.readable().await?;
        let item = self
            .outbox()
            .await?
            .into_iter()
            .find(|i| i.id == id)
            .ok_or_else(|| EngineError::NotFound("ce message de la boîte d'envoi".into()))?;
        if !self.inner.store.outbox_discard(id).await? {
            return Err(EngineError::Invalid(
                "ce message est en cours d'envoi ou déjà accepté par le serveur : il ne peut \
                 plus être retiré"
                    .into(),
            ));
        }
        self.inner
            .store
            .audit(
                &self.actor().await,
                Some(&item.account),
                "outbox-discard",
                &format!("Message-ID: <{}>", item.message_id),
                "retiré de la boîte d'envoi sans envoi",
            )
            .await
            .ok();
        self.emit(EngineEvent::OutboxChanged {
            account: item.account,
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{CacheKey, DB_FILE};

    const ACCOUNT: &str = "anne@x.mssante.fr";
    const MID: &str = "m1@x.mssante.fr";

    /// A store holding one message that another drain has just claimed.
    async fn claimed() -> (Store, i64, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join(DB_FILE), &CacheKey::generate())
            .await
            .unwrap();
        let to = vec!["b@y.mssante.fr".to_owned()];
        let id = s
            .outbox_enqueue(&NewOutgoing {
                account: ACCOUNT,
                account_kind: "PER",
                message_id: MID,
                recipients: &to,
                dsn: false,
                raw: b"x",
                ends_exchange_with: &[],
            })
            .await
            .unwrap();
        assert!(s.outbox_mark_sending(id, "pending", 0, 60).await.unwrap());
        (s, id, dir)
    }

    #[tokio::test]
    async fn the_other_drains_refusal_is_the_answer_not_queued() {
        let (s, id, _d) = claimed().await;
        let other = s.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(150)).await;
            let refused = r#"[["b@y.mssante.fr","550 5.1.1 inconnu"]]"#;
            other
                .outbox_fail(id, "destinataire refusé", Some(refused))
                .await
                .unwrap();
        });
        match outcome_of_other_drain(&s, ACCOUNT, MID).await.unwrap() {
            Some(Outcome::Failed { error, refused, .. }) => {
                assert_eq!(error, "destinataire refusé");
                assert_eq!(refused[0].0, "b@y.mssante.fr");
            }
            other => panic!("expected the refusal, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn the_other_drains_delivery_and_retry_are_reported() {
        let (s, id, _d) = claimed().await;
        let other = s.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            other.outbox_mark_submitted(id, None).await.unwrap();
            other.outbox_remove(id).await.unwrap();
        });
        assert!(matches!(
            outcome_of_other_drain(&s, ACCOUNT, MID).await.unwrap(),
            Some(Outcome::Delivered { .. })
        ));

        let (s, id, _d) = claimed().await;
        s.outbox_retry_later(id, "connexion coupée", 120)
            .await
            .unwrap();
        match outcome_of_other_drain(&s, ACCOUNT, MID).await.unwrap() {
            Some(Outcome::Retry {
                error,
                retry_in_secs,
                ..
            }) => {
                assert_eq!(error, "connexion coupée");
                assert!((100..=120).contains(&retry_in_secs), "{retry_in_secs}");
            }
            other => panic!("expected a retry, got {other:?}"),
        }
    }
}
