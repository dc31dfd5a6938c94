//! `pli send` and the shared path of `pli end-exchange`: compose with the MSSanté rules, write
//! to the outbox (one transaction), then drain the outbox at once (SMTP, then copy to Sent).
//!
//! Credentials: `login::mail_credentials` (`PLI_ACCESS_TOKEN`, else the PSC session that
//! `pli login` keeps in the keyring).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use pli_core::config::{Config, MailboxKind};
use pli_core::mssante::xdm::CdaFile;
use pli_core::mssante::{self, Attachment, Draft, InsNumber};
use pli_core::smtp::outbox::{Backoff, Drain, Outcome};
use pli_core::store::NewOutgoing;

use crate::account::{load_config, open_store, runtime};

/// `pli send`
#[derive(Debug, Args)]
pub struct SendArgs {
    /// Recipient (repeatable).
    #[arg(long)]
    to: Vec<String>,
    /// Copy recipient (repeatable).
    #[arg(long)]
    cc: Vec<String>,
    /// Subject (replaced by `XDM/1.0/DDM+…` when CDA documents are attached, ECO.2.1.3).
    #[arg(long)]
    subject: String,
    /// File holding the plain-text body (UTF-8).
    #[arg(long)]
    body: PathBuf,
    /// Attachment (repeatable); CDA documents go into IHE_XDM.ZIP.
    #[arg(long)]
    attach: Vec<PathBuf>,
    /// Adds the patient `<INS>@patient.mssante.fr` as recipient (INS key checked).
    #[arg(long)]
    patient_ins: Option<String>,
    /// Ask for a read receipt (Disposition-Notification-To) and a DSN.
    #[arg(long)]
    receipt: bool,
    /// Sending mailbox (default: the first personal mailbox of the configuration).
    #[arg(long)]
    from: Option<String>,
    /// Reply-To address.
    #[arg(long)]
    reply_to: Option<String>,
    /// Message-ID of the message this one answers (In-Reply-To / References).
    #[arg(long)]
    in_reply_to: Option<String>,
    /// JSON result on stdout.
    #[arg(long)]
    json: bool,
}

/// The mailbox to send from and its display name (ECO.2.2.7).
pub fn sender(cfg: &Config, from: Option<&str>) -> anyhow::Result<(String, String, String)> {
    let account = match from {
        Some(f) => cfg
            .accounts
            .iter()
            .find(|a| a.address.eq_ignore_ascii_case(f)),
        None => cfg
            .accounts
            .iter()
            .find(|a| a.kind == MailboxKind::Personal)
            .or(cfg.accounts.first()),
    };
    let (address, name, kind) = match (account, from) {
        (Some(a), _) => (
            a.address.clone(),
            a.display_name.clone(),
            serde_json::to_value(a.kind)?
                .as_str()
                .unwrap_or("PER")
                .to_owned(),
        ),
        (None, Some(f)) => (f.to_owned(), None, "PER".to_owned()),
        (None, None) => anyhow::bail!(
            "aucune boîte d'envoi : ajoutez un [[accounts]] à la configuration ou passez --from"
        ),
    };
    let name = name.filter(|n| !n.trim().is_empty()).with_context(|| {
        format!(
            "la boîte {address} n'a pas de nom d'affichage (display_name) : un nom explicite est \
             exigé à côté de l'adresse (Ref#2 ECO.2.2.7)"
        )
    })?;
    Ok((address, name, kind))
}

fn content_type(path: &Path) -> &'static str {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("pdf") => "application/pdf",
        Some("zip") => "application/zip",
        Some("txt") => "text/plain; charset=utf-8",
        Some("xml") => "text/xml",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    }
}

/// Splits attachments into CDA documents and ordinary files.
pub fn read_attachments(paths: &[PathBuf]) -> anyhow::Result<(Vec<CdaFile>, Vec<Attachment>)> {
    let mut docs = Vec::new();
    let mut files = Vec::new();
    for p in paths {
        let bytes = std::fs::read(p).with_context(|| format!("{}", p.display()))?;
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "piece-jointe".into());
        let looks_cda = content_type(p) == "text/xml"
            && String::from_utf8_lossy(&bytes[..bytes.len().min(4096)])
                .contains("ClinicalDocument");
        if looks_cda {
            docs.push(CdaFile::parse(&name, bytes)?);
        } else {
            files.push(Attachment {
                name,
                content_type: content_type(p).to_owned(),
                bytes,
            });
        }
    }
    Ok((docs, files))
}

/// Queues `draft` (recording ended exchanges in the same transaction) and drains the outbox.
pub fn queue_and_send(
    cfg: &Config,
    mut draft: Draft,
    kind: &str,
    json: bool,
) -> anyhow::Result<ExitCode> {
    draft.from = draft.from.trim().to_owned();
    let composed = mssante::compose(&draft, &cfg.product_reference, &cfg.operator.patient_domain)?;
    let ended: Vec<String> = if draft.end_exchange {
        composed.patients.iter().map(|p| p.to_string()).collect()
    } else {
        Vec::new()
    };
    runtime()?.block_on(async {
        let store = open_store(cfg).await?;
        store
            .outbox_enqueue(&NewOutgoing {
                account: &draft.from,
                account_kind: kind,
                message_id: &composed.message_id,
                recipients: &composed.recipients,
                dsn: draft.receipt,
                raw: &composed.raw,
                ends_exchange_with: &ended,
            })
            .await?;
        let credentials =
            crate::login::mail_credentials(cfg, "le message reste dans la boîte d'envoi").await?;
        let drain = Drain {
            operator: cfg.operator.clone(),
            imap_tls: pli_core::tls::client_config(&cfg.operator.trust_anchors)?,
            credentials,
            store: store.clone(),
            backoff: Backoff::default(),
            timeout: Duration::from_secs(60),
        };
        let outcomes = drain.drain_account(&draft.from, true).await?;
        store.close().await;
        let mine = outcomes.iter().find(|o| match o {
            Outcome::Delivered { message_id, .. }
            | Outcome::AlreadySent { message_id }
            | Outcome::Retry { message_id, .. }
            | Outcome::Failed { message_id, .. } => *message_id == composed.message_id,
        });
        let ok = matches!(
            mine,
            Some(Outcome::Delivered { .. } | Outcome::AlreadySent { .. })
        );
        if json {
            println!(
                "{}",
                serde_json::json!({
                    "message_id": composed.message_id,
                    "subject": composed.subject,
                    "recipients": composed.recipients,
                    "size": composed.raw.len(),
                    "ended_exchange_with": ended,
                    "outcome": mine,
                    "others": outcomes.iter().filter(|o| mine != Some(*o)).collect::<Vec<_>>(),
                })
            );
        } else {
            match mine {
                Some(Outcome::Delivered { refused, .. }) => {
                    println!(
                        "envoyé : <{}> « {} »",
                        composed.message_id, composed.subject
                    );
                    for (a, why) in refused {
                        println!("  refusé pour {a} : {why}");
                    }
                }
                Some(Outcome::Retry {
                    error,
                    retry_in_secs,
                    ..
                }) => {
                    println!("dans la boîte d'envoi, nouvel essai dans {retry_in_secs} s : {error}")
                }
                Some(Outcome::Failed { error, refused, .. }) => {
                    println!("échec définitif : {error}");
                    for (a, why) in refused {
                        println!("  {a} : {why}");
                    }
                }
                Some(Outcome::AlreadySent { .. }) => println!("déjà envoyé"),
                None => println!("dans la boîte d'envoi"),
            }
        }
        Ok(if ok {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(2)
        })
    })
}

/// Runs `pli send`.
pub fn run(config: Option<&Path>, args: SendArgs) -> anyhow::Result<ExitCode> {
    let cfg = load_config(config)?;
    let (from, from_name, kind) = sender(&cfg, args.from.as_deref())?;
    let body = std::fs::read_to_string(&args.body)
        .with_context(|| format!("corps du message {} (UTF-8 attendu)", args.body.display()))?;
    let (documents, attachments) = read_attachments(&args.attach)?;
    let mut to = args.to.clone();
    if let Some(ins) = &args.patient_ins {
        let ins = InsNumber::parse(ins)?;
        to.push(ins.patient_address(&cfg.operator.patient_domain));
    }
    let draft = Draft {
        from,
        from_name,
        to,
        cc: args.cc.clone(),
        subject: args.subject.clone(),
        body,
        reply_to: args.reply_to.clone(),
        in_reply_to: args.in_reply_to.clone(),
        references: Vec::new(),
        documents,
        attachments,
        end_exchange: false,
        receipt: args.receipt,
    };
    queue_and_send(&cfg, draft, &kind, args.json)
}
