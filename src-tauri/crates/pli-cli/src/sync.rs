//! `pli sync [--account A] [--once]`: IMAP → local encrypted cache.
//!
//! Credentials: `PLI_ACCESS_TOKEN` when set, else the PSC session kept by `pli login`. Without `--once`, every account is kept in sync (IDLE on INBOX, reconnect with
//! back-off) until the process is stopped.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::bail;
use clap::Args;
use pli_core::imap::runner::{self, Endpoint, Watch};
use pli_core::imap::sync::{SyncEvent, SyncOptions};

use crate::account::{load_config, open_store, runtime};

/// `pli sync`
#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Only this mailbox (default: every account of the cache and the configuration).
    #[arg(long)]
    account: Option<String>,
    /// Sync once and exit (default: keep syncing with IDLE).
    #[arg(long)]
    once: bool,
    /// Headers only, no bodies.
    #[arg(long)]
    headers_only: bool,
    /// JSON reports on stdout.
    #[arg(long)]
    json: bool,
    /// Progress events on stderr.
    #[arg(long)]
    progress: bool,
}

/// Runs `pli sync`.
pub fn run(config: Option<&Path>, args: SyncArgs) -> anyhow::Result<ExitCode> {
    let cfg = load_config(config)?;
    let credentials = runtime()?.block_on(crate::login::mail_credentials(
        &cfg,
        "le cache local reste consultable hors ligne",
    ))?;
    let endpoint = Endpoint {
        server: cfg.operator.imap.clone(),
        tls: pli_core::tls::client_config(&cfg.operator.trust_anchors)?,
        credentials,
    };
    let options = SyncOptions {
        bodies: !args.headers_only,
        ..Default::default()
    };
    let show = args.progress;
    let progress: runner::Progress = Arc::new(move |e: SyncEvent| {
        if show {
            eprintln!("{}", serde_json::to_string(&e).unwrap_or_default());
        }
    });
    runtime()?.block_on(async {
        // `--once --account A`: the login starts at once and the cache opens (keyring,
        // SQLCipher, migrations) while the server checks the token, which is most of a
        // no-change resync (tests/bench/sync).
        let early_login = match (&args.account, args.once) {
            (Some(a), true) => {
                let (endpoint, address) = (endpoint.clone(), a.to_lowercase());
                Some(tokio::spawn(async move {
                    runner::login(&endpoint, &address).await
                }))
            }
            _ => None,
        };
        let store = open_store(&cfg).await?;
        let mut accounts: Vec<(String, String)> = store
            .accounts()
            .await?
            .into_iter()
            .map(|(_, a, k)| (a, k))
            .collect();
        if let Some(only) = &args.account {
            accounts.retain(|(a, _)| a.eq_ignore_ascii_case(only));
            if accounts.is_empty() {
                bail!("compte inconnu : {only} (ajoutez-le avec `pli account add`)");
            }
        }
        if accounts.is_empty() {
            bail!("aucun compte : ajoutez-en un avec `pli account add ADRESSE`");
        }
        if args.once {
            let results = match early_login {
                Some(login) => {
                    let (address, kind) = &accounts[0];
                    let r = match login.await {
                        Ok(Ok(mut session)) => {
                            runner::sync_session_once(
                                &mut session,
                                &endpoint,
                                &store,
                                address,
                                kind,
                                &options,
                                &progress,
                            )
                            .await
                        }
                        Ok(Err(e)) => Err(e),
                        Err(e) => bail!("connexion interrompue : {e}"),
                    };
                    vec![(address.clone(), r)]
                }
                None => {
                    runner::sync_all_once(&endpoint, &store, &accounts, &options, progress).await
                }
            };
            let mut failed = false;
            for (account, r) in results {
                match r {
                    Ok(rep) if args.json => println!(
                        "{}",
                        serde_json::json!({ "account": account, "ok": true, "report": rep })
                    ),
                    Ok(rep) => println!(
                        "{account}: {} dossiers, {} nouveaux, {} drapeaux modifiés, {} supprimés, {} corps",
                        rep.folders, rep.new, rep.flag_changes, rep.expunged, rep.bodies
                    ),
                    Err(e) => {
                        failed = true;
                        if args.json {
                            println!(
                                "{}",
                                serde_json::json!({ "account": account, "ok": false, "error": e.to_string() })
                            );
                        } else {
                            eprintln!("{account}: {e}");
                        }
                    }
                }
            }
            store.close().await;
            return Ok(if failed { ExitCode::from(2) } else { ExitCode::SUCCESS });
        }
        let json = args.json;
        let on_sync: runner::OnSync = Arc::new(move |account, r| match r {
            Ok(rep) if json => println!(
                "{}",
                serde_json::json!({ "account": account, "ok": true, "report": rep })
            ),
            Ok(rep) => println!(
                "{account}: {} nouveaux, {} drapeaux modifiés, {} supprimés",
                rep.new, rep.flag_changes, rep.expunged
            ),
            Err(e) => eprintln!("{account}: {e} (nouvelle tentative)"),
        });
        let watches = accounts.into_iter().map(|(address, kind)| {
            runner::watch(
                Watch {
                    endpoint: endpoint.clone(),
                    store: store.clone(),
                    address,
                    kind,
                    options: options.clone(),
                    progress: progress.clone(),
                    on_sync: on_sync.clone(),
                },
                std::future::pending::<()>(),
            )
        });
        futures_join(watches).await;
        Ok(ExitCode::SUCCESS)
    })
}

/// Runs the watch loops side by side (they only end with the process).
async fn futures_join(
    watches: impl Iterator<Item = impl std::future::Future<Output = ()> + Send + 'static>,
) {
    let handles: Vec<_> = watches.map(tokio::spawn).collect();
    for h in handles {
        h.await.ok();
    }
}
