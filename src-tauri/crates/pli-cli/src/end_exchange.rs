//! `pli end-exchange --patient-ins INS`: one message to the patient with `X-MSS-MES: FIN`
//! (Ref#2 ECO.2.2.8), and the exchange recorded as ended in the local cache in the same
//! transaction as the outbox row.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use pli_core::mssante::{Draft, InsNumber};

use crate::account::load_config;
use crate::send::{queue_and_send, sender};

/// `pli end-exchange`
#[derive(Debug, Args)]
pub struct EndExchangeArgs {
    /// The patient's INS (key checked); the address is built from it.
    #[arg(long)]
    patient_ins: String,
    /// Subject.
    #[arg(long, default_value = "Fin de l'échange")]
    subject: String,
    /// File holding the body (default: a short closing note).
    #[arg(long)]
    body: Option<PathBuf>,
    /// Sending mailbox (default: the first personal mailbox of the configuration).
    #[arg(long)]
    from: Option<String>,
    /// JSON result on stdout.
    #[arg(long)]
    json: bool,
}

/// Runs `pli end-exchange`.
pub fn run(config: Option<&Path>, args: EndExchangeArgs) -> anyhow::Result<ExitCode> {
    let cfg = load_config(config)?;
    let (from, from_name, kind) = sender(&cfg, args.from.as_deref())?;
    let ins = InsNumber::parse(&args.patient_ins)?;
    let body = match &args.body {
        Some(p) => std::fs::read_to_string(p).with_context(|| format!("{}", p.display()))?,
        None => "Cet échange est terminé. Vous ne pouvez plus répondre à ce message.\n".to_owned(),
    };
    let draft = Draft {
        from,
        from_name,
        to: vec![ins.patient_address(&cfg.operator.patient_domain)],
        subject: args.subject.clone(),
        body,
        end_exchange: true,
        ..Default::default()
    };
    queue_and_send(&cfg, draft, &kind, args.json)
}
