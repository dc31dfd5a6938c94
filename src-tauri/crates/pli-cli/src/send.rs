//! `pli send` and the shared path of `pli end-exchange`: compose with the MSSanté rules, write
//! to the outbox (one transaction), then drain the outbox at once (SMTP, then copy to Sent).
//!
//! Credentials: `login::mail_credentials` (`PLI_ACCESS_TOKEN`, else the PSC session that
//! `pli login` keeps in the keyring).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use pli_core::config::Config;
use pli_core::engine::outgoing;
use pli_core::mssante::xdm::CdaFile;
use pli_core::mssante::{Attachment, Draft, InsNumber};
use pli_core::smtp::outbox::Outcome;

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
    /// Ask for a DSN (delivery receipt) only.
    #[arg(long)]
    delivery_receipt: bool,
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

/// The sending mailbox, its display name and kind (see `pli_core::engine::outgoing::sender`).
pub fn sender(cfg: &Config, from: Option<&str>) -> anyhow::Result<(String, String, String)> {
    Ok(outgoing::sender(cfg, from)?)
}

/// Reads attachment files: CDA documents (packaged as IHE XDM) apart from the others.
pub fn read_attachments(paths: &[PathBuf]) -> anyhow::Result<(Vec<CdaFile>, Vec<Attachment>)> {
    let mut files = Vec::new();
    for p in paths {
        let bytes = std::fs::read(p).with_context(|| format!("{}", p.display()))?;
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "piece-jointe".into());
        files.push((name, bytes));
    }
    Ok(outgoing::sort_attachments(files)?)
}

/// Queues `draft` (recording ended exchanges in the same transaction) and drains the outbox.
pub fn queue_and_send(
    cfg: &Config,
    draft: Draft,
    kind: &str,
    json: bool,
) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let store = open_store(cfg).await?;
        let account = draft.from.clone();
        let (composed, ended) = outgoing::enqueue(cfg, &store, draft, kind).await?;
        let credentials =
            crate::login::mail_credentials(cfg, "le message reste dans la boîte d'envoi").await?;
        let (outcome, others) =
            outgoing::drain_now(cfg, &store, credentials, &account, &composed.message_id).await?;
        store.close().await;
        let mine = outcome.as_ref();
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
                    "others": others,
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
        delivery_receipt: args.receipt || args.delivery_receipt,
    };
    queue_and_send(&cfg, draft, &kind, args.json)
}
