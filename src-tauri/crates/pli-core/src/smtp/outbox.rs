//! The outbox drain: submits queued messages over SMTP (STARTTLS or TLS, our trust anchors,
//! AUTH XOAUTH2 from the credentials provider), honours `SIZE`, asks for a DSN when the server
//! offers `DSN` and the user asked for one, retries transient failures with back-off, keeps
//! permanent ones (5xx, too large, refused recipients) per recipient, then APPENDs the exact
//! bytes to Sent and deletes the row.
//!
//! Exactly once: the row is marked `sending` before any byte leaves, `submitted` as soon as the
//! server accepts DATA, and removed after the copy to Sent. A row found `submitted` only needs
//! its copy to Sent; a row found `sending` (interrupted attempt) is first looked up in Sent by
//! Message-ID, and sent again only when no copy is there. The one window left is a crash between
//! the server's `250` after DATA and the `submitted` mark (a few milliseconds): the message is
//! then sent again with the same Message-ID, which receivers use to recognise the duplicate
//! (decision 0014).

use std::sync::Arc;
use std::time::Duration;

use futures::TryStreamExt;
use lettre::transport::smtp::authentication::{Credentials as SmtpCredentials, Mechanism};
use lettre::transport::smtp::client::AsyncSmtpConnection;
use lettre::transport::smtp::commands::{Data, Ehlo, Mail, Quit, Rcpt};
use lettre::transport::smtp::extension::{
    ClientId, Extension, MailBodyParameter, MailParameter, RcptParameter,
};
use serde::Serialize;

use crate::auth::Credentials;
use crate::config::{OperatorConfig, Security};
use crate::imap::{self, ImapSession};
use crate::store::{OutboxRow, Store, StoreError};

/// Errors that stop the drain itself (not one message).
#[derive(Debug, thiserror::Error)]
pub enum DrainError {
    /// The local cache failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What happened to one queued message.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Accepted by the server and copied to Sent (or the copy is pending: `sent_copy` false).
    Delivered {
        /// Message-ID.
        message_id: String,
        /// Recipients the server refused permanently (address, server reply).
        refused: Vec<(String, String)>,
        /// True when the copy is in Sent.
        sent_copy: bool,
    },
    /// A copy with this Message-ID was already in Sent: not sent again.
    AlreadySent {
        /// Message-ID.
        message_id: String,
    },
    /// Transient failure: still in the outbox, retried later.
    Retry {
        /// Message-ID.
        message_id: String,
        /// Why.
        error: String,
        /// Seconds until the next attempt.
        retry_in_secs: i64,
    },
    /// Permanent failure: kept in the outbox as failed, for the user.
    Failed {
        /// Message-ID.
        message_id: String,
        /// Why.
        error: String,
        /// Per-recipient refusals.
        refused: Vec<(String, String)>,
    },
}

/// How long a `sending` row belongs to the drain that claimed it; after that it is treated
/// as an interrupted attempt (crash) and recovered by the next drain.
pub const SENDING_LEASE_SECS: i64 = 30 * 60;

/// Back-off between attempts: `base · 2^(attempts−1)`, capped.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    /// First delay.
    pub base_secs: i64,
    /// Longest delay.
    pub max_secs: i64,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base_secs: 30,
            max_secs: 15 * 60,
        }
    }
}

impl Backoff {
    /// Delay after `attempts` failed attempts.
    pub fn delay(&self, attempts: i64) -> i64 {
        let exp = attempts.clamp(1, 20) - 1;
        self.base_secs
            .saturating_mul(1i64 << exp)
            .min(self.max_secs)
    }
}

/// The drain of one profile's outbox.
#[derive(Debug, Clone)]
pub struct Drain {
    /// Operator endpoints and trust anchors.
    pub operator: OperatorConfig,
    /// rustls configuration for IMAP (Sent).
    pub imap_tls: Arc<rustls::ClientConfig>,
    /// Credentials provider (XOAUTH2).
    pub credentials: Arc<dyn Credentials>,
    /// The cache holding the outbox.
    pub store: Store,
    /// Retry policy.
    pub backoff: Backoff,
    /// Network timeout per SMTP step.
    pub timeout: Duration,
}

enum SubmitError {
    Transient(String),
    Permanent(String, Vec<(String, String)>),
}

fn classify(e: &lettre::transport::smtp::Error, context: &str) -> SubmitError {
    if super::is_auth_refusal(e) {
        return SubmitError::Transient(format!(
            "{context} : identifiants refusés par le serveur (reconnectez-vous à Pro Santé Connect) : {e}"
        ));
    }
    if e.is_permanent() {
        SubmitError::Permanent(format!("{context} : {e}"), Vec::new())
    } else {
        SubmitError::Transient(format!("{context} : {e}"))
    }
}

/// SIZE limit and DSN support from an EHLO answer.
fn ehlo_limits(lines: &[String]) -> (Option<usize>, bool) {
    let mut size = None;
    let mut dsn = false;
    for l in lines {
        let mut words = l.split_whitespace();
        match words.next().map(str::to_ascii_uppercase).as_deref() {
            Some("SIZE") => size = words.next().and_then(|n| n.parse().ok()).filter(|n| *n > 0),
            Some("DSN") => dsn = true,
            _ => {}
        }
    }
    (size, dsn)
}

impl Drain {
    /// Submits every due message of `account`; `ignore_schedule` also tries rows whose
    /// back-off has not elapsed (the user's "send now").
    pub async fn drain_account(
        &self,
        account: &str,
        ignore_schedule: bool,
    ) -> Result<Vec<Outcome>, DrainError> {
        let mut out = Vec::new();
        for row in self.store.outbox_due(account, ignore_schedule).await? {
            // None: another drain claimed the row first.
            if let Some(outcome) = self.process(&row).await? {
                self.audit(&row, &outcome).await?;
                out.push(outcome);
            }
        }
        Ok(out)
    }

    /// The drain task of `account`: drains at once, then whenever the earliest queued row is
    /// due (back-off), when `wake` is notified (a message was queued), and at least every
    /// `idle`; ends when `cancel` fires. Per-message outcomes go to `on_outcome`.
    pub async fn run(
        &self,
        account: &str,
        wake: Arc<tokio::sync::Notify>,
        cancel: tokio_util::sync::CancellationToken,
        idle: Duration,
        on_outcome: impl Fn(&Outcome) + Send + Sync,
    ) -> Result<(), DrainError> {
        loop {
            for o in self.drain_account(account, false).await? {
                on_outcome(&o);
            }
            let wait = match self.store.outbox_next_due(account).await? {
                Some(at) => {
                    let secs = (at - crate::store::now()).max(0) as u64;
                    Duration::from_secs(secs).min(idle)
                }
                None => idle,
            };
            tokio::select! {
                _ = cancel.cancelled() => return Ok(()),
                _ = wake.notified() => {}
                _ = tokio::time::sleep(wait.max(Duration::from_millis(200))) => {}
            }
        }
    }

    /// One audit entry per attempt (ECO.4.1.1/4.1.2): the engine acted, on which mailbox, with
    /// the SMTP envelope (no content, no token), and the outcome.
    async fn audit(&self, row: &OutboxRow, outcome: &Outcome) -> Result<(), StoreError> {
        let request = format!(
            "SMTP MAIL FROM:<{}> RCPT TO:<{}> Message-ID:<{}> ({} octets)",
            row.envelope_from,
            row.recipients.join(">,<"),
            row.message_id,
            row.raw.len()
        );
        let result = match outcome {
            Outcome::Delivered { refused, .. } if refused.is_empty() => "envoyé".to_owned(),
            Outcome::Delivered { refused, .. } => format!(
                "envoyé ; refusé pour {}",
                refused
                    .iter()
                    .map(|(a, _)| a.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Outcome::AlreadySent { .. } => "déjà dans Envoyés : non renvoyé".to_owned(),
            Outcome::Retry { error, .. } => format!("nouvel essai prévu : {error}"),
            Outcome::Failed { error, .. } => format!("échec définitif : {error}"),
        };
        self.store
            .audit(
                self.credentials.actor().as_deref().unwrap_or("pli"),
                Some(&row.account),
                "send",
                &request,
                &result,
            )
            .await
    }

    async fn process(&self, row: &OutboxRow) -> Result<Option<Outcome>, DrainError> {
        let mid = row.message_id.clone();
        if row.state == "submitted" {
            let sent_copy = self.copy_to_sent(row).await.is_ok();
            if sent_copy {
                self.store.outbox_remove(row.id).await?;
            }
            return Ok(Some(Outcome::Delivered {
                message_id: mid,
                refused: refused_of(row),
                sent_copy,
            }));
        }
        if row.state == "sending" {
            // An attempt was interrupted: the server may have the message.
            match self.in_sent(row).await {
                Ok(true) => {
                    self.store.outbox_remove(row.id).await?;
                    return Ok(Some(Outcome::AlreadySent { message_id: mid }));
                }
                Ok(false) => {}
                Err(e) => {
                    let wait = self.backoff.delay(row.attempts);
                    let error = format!("dossier Envoyés inaccessible : {e}");
                    self.store.outbox_retry_later(row.id, &error, wait).await?;
                    return Ok(Some(Outcome::Retry {
                        message_id: mid,
                        error,
                        retry_in_secs: wait,
                    }));
                }
            }
        }
        if !self
            .store
            .outbox_mark_sending(row.id, &row.state, row.attempts, SENDING_LEASE_SECS)
            .await?
        {
            return Ok(None);
        }
        match self.submit(row).await {
            Ok(refused) => {
                let json = (!refused.is_empty())
                    .then(|| serde_json::to_string(&refused).unwrap_or_default());
                self.store
                    .outbox_mark_submitted(row.id, json.as_deref())
                    .await?;
                let sent_copy = match self.copy_to_sent(row).await {
                    Ok(()) => {
                        self.store.outbox_remove(row.id).await?;
                        true
                    }
                    Err(e) => {
                        tracing::warn!(message_id = %mid, "copy to Sent failed, kept for later: {e}");
                        false
                    }
                };
                Ok(Some(Outcome::Delivered {
                    message_id: mid,
                    refused,
                    sent_copy,
                }))
            }
            Err(SubmitError::Transient(error)) => {
                let wait = self.backoff.delay(row.attempts + 1);
                self.store.outbox_retry_later(row.id, &error, wait).await?;
                Ok(Some(Outcome::Retry {
                    message_id: mid,
                    error,
                    retry_in_secs: wait,
                }))
            }
            Err(SubmitError::Permanent(error, refused)) => {
                let json = serde_json::to_string(&refused).unwrap_or_default();
                self.store.outbox_fail(row.id, &error, Some(&json)).await?;
                Ok(Some(Outcome::Failed {
                    message_id: mid,
                    error,
                    refused,
                }))
            }
        }
    }

    /// One SMTP transaction; returns the recipients refused permanently (if some were accepted).
    async fn submit(&self, row: &OutboxRow) -> Result<Vec<(String, String)>, SubmitError> {
        let server = &self.operator.smtp;
        let params = super::tls_parameters(&self.operator)
            .map_err(|e| SubmitError::Transient(e.to_string()))?;
        let hello = ClientId::Domain("localhost".into());
        let host = server.connect_addr.as_deref().unwrap_or(&server.host);
        let wrapper = (server.security == Security::Tls).then(|| params.clone());
        let mut conn = AsyncSmtpConnection::connect_tokio1(
            (host, server.port),
            Some(self.timeout),
            &hello,
            wrapper,
            None,
        )
        .await
        .map_err(|e| classify(&e, "connexion SMTP"))?;
        if server.security == Security::Starttls {
            conn.starttls(params, &hello)
                .await
                .map_err(|e| classify(&e, "STARTTLS"))?;
        }
        if !conn.is_encrypted() {
            return Err(SubmitError::Transient(
                "la connexion SMTP n'est pas chiffrée : envoi refusé".into(),
            ));
        }
        let x = self
            .credentials
            .xoauth2(&row.account)
            .await
            .map_err(|e| SubmitError::Transient(e.to_string()))?;
        let creds = SmtpCredentials::new(x.user().to_owned(), x.token().expose().to_owned());
        conn.auth(&[Mechanism::Xoauth2], &creds)
            .await
            .map_err(|e| classify(&e, "authentification XOAUTH2"))?;
        // The EHLO after authentication: SIZE and DSN (lettre does not keep them).
        let ehlo = conn
            .command(Ehlo::new(hello.clone()))
            .await
            .map_err(|e| classify(&e, "EHLO"))?;
        let lines: Vec<String> = ehlo.message().map(str::to_owned).collect();
        let (max, dsn_offered) = ehlo_limits(&lines);
        if let Some(max) = max {
            if row.raw.len() > max {
                let _ = conn.command(Quit).await;
                return Err(SubmitError::Permanent(
                    format!(
                        "message trop volumineux : {} octets, le serveur accepte au plus {max} octets",
                        row.raw.len()
                    ),
                    Vec::new(),
                ));
            }
        }
        let dsn = row.dsn && dsn_offered;
        let mut mail_params = vec![MailParameter::Size(row.raw.len())];
        if !row.raw.is_ascii() && conn.server_info().supports_feature(Extension::EightBitMime) {
            mail_params.push(MailParameter::Body(MailBodyParameter::EightBitMime));
        }
        if dsn {
            mail_params.push(MailParameter::Other {
                keyword: "RET".into(),
                value: Some("HDRS".into()),
            });
        }
        let from: lettre::Address = row.envelope_from.parse().map_err(|e| {
            SubmitError::Permanent(format!("expéditeur invalide : {e}"), Vec::new())
        })?;
        conn.command(Mail::new(Some(from), mail_params))
            .await
            .map_err(|e| classify(&e, "MAIL FROM"))?;
        let mut refused = Vec::new();
        let mut accepted = 0;
        for r in &row.recipients {
            let addr: lettre::Address = match r.parse() {
                Ok(a) => a,
                Err(e) => {
                    refused.push((r.clone(), format!("adresse invalide : {e}")));
                    continue;
                }
            };
            let params = if dsn {
                vec![RcptParameter::Other {
                    keyword: "NOTIFY".into(),
                    value: Some("SUCCESS,FAILURE,DELAY".into()),
                }]
            } else {
                Vec::new()
            };
            match conn.command(Rcpt::new(addr, params)).await {
                Ok(_) => accepted += 1,
                Err(e) if e.is_permanent() => refused.push((r.clone(), e.to_string())),
                Err(e) => return Err(classify(&e, &format!("RCPT TO {r}"))),
            }
        }
        if accepted == 0 {
            let _ = conn.command(Quit).await;
            return Err(SubmitError::Permanent(
                "tous les destinataires ont été refusés par le serveur".into(),
                refused,
            ));
        }
        conn.command(Data).await.map_err(|e| classify(&e, "DATA"))?;
        conn.message(&row.raw)
            .await
            .map_err(|e| classify(&e, "envoi du contenu"))?;
        let _ = conn.command(Quit).await;
        Ok(refused)
    }

    async fn imap(&self, account: &str) -> Result<(ImapSession, String), String> {
        let mut session = imap::connect(
            &self.operator.imap,
            self.imap_tls.clone(),
            self.credentials.as_ref(),
            account,
        )
        .await
        .map_err(|e| e.to_string())?;
        let names: Vec<_> = session
            .list(Some(""), Some("*"))
            .await
            .map_err(|e| e.to_string())?
            .try_collect()
            .await
            .map_err(|e| e.to_string())?;
        let sent = names
            .iter()
            .find(|n| {
                n.attributes()
                    .iter()
                    .any(|a| matches!(a, async_imap::types::NameAttribute::Sent))
            })
            .map(|n| n.name().to_owned())
            .unwrap_or_else(|| "Sent".to_owned());
        Ok((session, sent))
    }

    /// True when Sent holds a message with this Message-ID.
    async fn in_sent(&self, row: &OutboxRow) -> Result<bool, String> {
        let (mut s, sent) = self.imap(&row.account).await?;
        let found = search_message_id(&mut s, &sent, &row.message_id).await;
        let _ = s.logout().await;
        found
    }

    /// APPENDs the exact bytes to Sent (\Seen), unless a copy is already there.
    async fn copy_to_sent(&self, row: &OutboxRow) -> Result<(), String> {
        let (mut s, sent) = self.imap(&row.account).await?;
        let result = async {
            if !search_message_id(&mut s, &sent, &row.message_id).await? {
                s.append(&sent, Some("(\\Seen)"), None, &row.raw)
                    .await
                    .map_err(|e| e.to_string())?;
            }
            Ok(())
        }
        .await;
        let _ = s.logout().await;
        result
    }
}

async fn search_message_id(
    s: &mut ImapSession,
    folder: &str,
    message_id: &str,
) -> Result<bool, String> {
    s.select(folder).await.map_err(|e| e.to_string())?;
    let quoted = message_id.replace(['\\', '"'], "");
    let uids = s
        .uid_search(format!("HEADER Message-ID \"{quoted}\""))
        .await
        .map_err(|e| e.to_string())?;
    Ok(!uids.is_empty())
}

fn refused_of(row: &OutboxRow) -> Vec<(String, String)> {
    row.refused
        .as_deref()
        .and_then(|j| serde_json::from_str(j).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let b = Backoff::default();
        assert_eq!(
            (1..=7).map(|n| b.delay(n)).collect::<Vec<_>>(),
            vec![30, 60, 120, 240, 480, 900, 900]
        );
    }

    #[test]
    fn ehlo_size_and_dsn_are_read() {
        let lines: Vec<String> = [
            "localhost",
            "PIPELINING",
            "SIZE 10240000",
            "DSN",
            "AUTH XOAUTH2",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(ehlo_limits(&lines), (Some(10_240_000), true));
        assert_eq!(ehlo_limits(&["x".into(), "SIZE".into()]), (None, false));
    }
}
