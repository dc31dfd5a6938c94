//! `pli audit [--since DATE] [--json]`: the local audit log (who, when, action, server request).

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use pli_core::store::{format_time, parse_date};

use crate::account::{load_config, local_runtime, open_store};

/// `pli audit`
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Entries on or after this date (YYYY-MM-DD or RFC 3339).
    #[arg(long)]
    since: Option<String>,
    /// JSON output (an array of entries).
    #[arg(long)]
    json: bool,
}

/// Runs `pli audit`.
pub fn run(config: Option<&Path>, a: AuditArgs) -> anyhow::Result<ExitCode> {
    let cfg = load_config(config)?;
    let since = a
        .since
        .as_deref()
        .map(|d| parse_date(d).with_context(|| format!("date invalide : {d} (AAAA-MM-JJ)")))
        .transpose()?;
    local_runtime()?.block_on(async {
        let store = open_store(&cfg).await?;
        let entries = store.audit_entries(since).await?;
        if a.json {
            println!("{}", serde_json::to_string_pretty(&entries)?);
        } else {
            for e in &entries {
                println!(
                    "{}  {}  {}  {}  {}  → {}",
                    format_time(e.at),
                    e.actor,
                    e.account.as_deref().unwrap_or("-"),
                    e.action,
                    e.request,
                    e.outcome
                );
            }
        }
        store.close().await;
        Ok(ExitCode::SUCCESS)
    })
}
