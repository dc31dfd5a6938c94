//! `pli search QUERY [--json]`: full-text search in the local cache, newest first.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use pli_core::store::{format_time, parse_date, SearchFilter};

use crate::account::{load_config, local_runtime, open_store};

/// `pli search`
#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Words (all required, accents ignored; `card*` for a prefix). Empty: filters only.
    #[arg(default_value = "")]
    query: String,
    /// JSON output (an array of hits).
    #[arg(long)]
    json: bool,
    /// Only this mailbox.
    #[arg(long)]
    account: Option<String>,
    /// Only this folder.
    #[arg(long)]
    folder: Option<String>,
    /// Sender address contains.
    #[arg(long)]
    from: Option<String>,
    /// Received on or after (YYYY-MM-DD or RFC 3339).
    #[arg(long)]
    since: Option<String>,
    /// Received before (YYYY-MM-DD or RFC 3339).
    #[arg(long)]
    until: Option<String>,
    /// Only unread messages.
    #[arg(long)]
    unread: bool,
    /// Only messages with a health document (PDF, CDA, IHE XDM).
    #[arg(long)]
    documents: bool,
    /// Page size.
    #[arg(long, default_value_t = 50)]
    limit: i64,
    /// Skip this many results (paging).
    #[arg(long, default_value_t = 0)]
    offset: i64,
}

fn date(s: &Option<String>) -> anyhow::Result<Option<i64>> {
    s.as_deref()
        .map(|d| parse_date(d).with_context(|| format!("date invalide : {d} (AAAA-MM-JJ)")))
        .transpose()
}

/// Runs `pli search`.
pub fn run(config: Option<&Path>, a: SearchArgs) -> anyhow::Result<ExitCode> {
    let cfg = load_config(config)?;
    let filter = SearchFilter {
        query: a.query.clone(),
        account: a.account.clone(),
        folder: a.folder.clone(),
        from: a.from.clone(),
        since: date(&a.since)?,
        until: date(&a.until)?,
        unread: a.unread,
        has_documents: a.documents,
        limit: Some(a.limit),
        offset: a.offset,
    };
    local_runtime()?.block_on(async {
        let store = open_store(&cfg).await?;
        let hits = store.search(&filter).await?;
        if a.json {
            println!("{}", serde_json::to_string_pretty(&hits)?);
        } else {
            for h in &hits {
                println!(
                    "{}  {:<30}  {}  [{} {}]{}",
                    h.received_at.map(format_time).unwrap_or_default(),
                    h.from.as_deref().unwrap_or(""),
                    h.subject.as_deref().unwrap_or("(sans objet)"),
                    h.account,
                    h.folder,
                    if h.has_documents { " 📎" } else { "" }
                );
            }
        }
        store.close().await;
        Ok(ExitCode::SUCCESS)
    })
}
