//! `pli account add|list`: the mailboxes the cache syncs (personal and service mailboxes).

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use pli_core::config::Config;
use pli_core::store::{self, Store};

/// `pli account …`
#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Add a mailbox to the local cache (synced by `pli sync`).
    Add(AddArgs),
    /// List the mailboxes of the local cache.
    List(ListArgs),
}

/// `pli account add`
#[derive(Debug, Args)]
pub struct AddArgs {
    /// Mailbox address (also the XOAUTH2 user).
    address: String,
    /// Mailbox kind: PER (personal), ORG (service), APP, CAB.
    #[arg(long, default_value = "PER", value_parser = ["PER", "ORG", "APP", "CAB"])]
    kind: String,
    /// Display name.
    #[arg(long)]
    name: Option<String>,
}

/// `pli account list`
#[derive(Debug, Args)]
pub struct ListArgs {
    /// JSON output.
    #[arg(long)]
    json: bool,
}

/// Loads the configuration named by `--config` / `PLI_CONFIG`.
pub fn load_config(path: Option<&Path>) -> anyhow::Result<Config> {
    let path = path.context("no configuration: pass --config FILE or set PLI_CONFIG")?;
    Ok(Config::load(path)?)
}

/// A tokio runtime for one command.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// A runtime on the calling thread, for a command that only reads the cache (`pli search`,
/// `pli audit`): no worker threads to start; SQLite runs on sqlx's own connection thread.
pub fn local_runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

/// Opens the profile's encrypted cache (key from the OS keyring, created on first run), and
/// records the configuration's `[[accounts]]` in it. A command's queries run one after
/// another: one read connection ([`store::Usage::Command`]).
pub async fn open_store(cfg: &Config) -> anyhow::Result<Store> {
    let store = Store::open_profile_for(
        &store::data_dir(cfg),
        &store::profile(cfg),
        store::Usage::Command,
    )
    .await?;
    for a in &cfg.accounts {
        let kind = serde_json::to_value(a.kind)?
            .as_str()
            .unwrap_or("PER")
            .to_owned();
        store
            .add_account(&a.address, &kind, a.display_name.as_deref())
            .await?;
    }
    Ok(store)
}

/// Runs `pli account …`.
pub fn run(config: Option<&Path>, cmd: AccountCommand) -> anyhow::Result<ExitCode> {
    let cfg = load_config(config)?;
    runtime()?.block_on(async {
        let store = open_store(&cfg).await?;
        match cmd {
            AccountCommand::Add(a) => {
                store
                    .add_account(&a.address.to_lowercase(), &a.kind, a.name.as_deref())
                    .await?;
                println!("compte ajouté : {} ({})", a.address.to_lowercase(), a.kind);
            }
            AccountCommand::List(l) => {
                let accounts = store.accounts().await?;
                if l.json {
                    let v: Vec<_> = accounts
                        .iter()
                        .map(|(_, a, k)| serde_json::json!({ "address": a, "kind": k }))
                        .collect();
                    println!("{}", serde_json::to_string_pretty(&v)?);
                } else {
                    for (_, a, k) in accounts {
                        println!("{a}\t{k}");
                    }
                }
            }
        }
        store.close().await;
        Ok(ExitCode::SUCCESS)
    })
}
