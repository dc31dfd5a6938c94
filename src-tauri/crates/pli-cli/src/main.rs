//! `pli`: the Pli engine from a terminal.
//!
//! Every subcommand is a thin call into `pli-core` (or `pli-cda`); the command names, flags
//! and JSON fields are contracts other tools rely on (documented in `pli --help`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod account;
mod annuaire;
mod audit;
mod cda;
mod config_cmd;
mod discover;
mod end_exchange;
mod login;
mod search;
mod send;
mod sync;

/// Pli — messagerie sécurisée de santé (MSSanté) / secure health mail client.
#[derive(Debug, Parser)]
#[command(
    name = "pli",
    version,
    about,
    long_about = None,
    propagate_version = true,
    after_help = "Environment:\n  \
        PLI_CONFIG               the configuration file (as --config)\n  \
        PLI_PROFILE              the local cache's profile (default: the environment's name)\n  \
        PLI_ACCESS_TOKEN         an access token to use instead of the PSC session (tests)\n  \
        PLI_LOG                  log filter on standard error (e.g. debug, pli_core=trace)\n  \
        PLI_NO_SESSION_KEY_COPY  1: no session copy of the cache key in the Linux kernel keyring"
)]
struct Cli {
    /// Configuration file (pli.toml); the sandbox writes target/sandbox/pli.toml. Without it
    /// (and without PLI_CONFIG): the machine-wide file (/etc/pli/pli.toml, …), then the
    /// user's ($XDG_CONFIG_HOME/pli/pli.toml, …); see docs/deployment.md.
    #[arg(long, global = true, env = "PLI_CONFIG")]
    config: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Mailboxes of the local cache.
    #[command(subcommand)]
    Account(account::AccountCommand),
    /// The MSSanté directory (annuaire).
    #[command(subcommand)]
    Annuaire(annuaire::AnnuaireCommand),
    /// Health documents (CDA R2 N1/N3, IHE XDM).
    #[command(subcommand)]
    Cda(cda::CdaCommand),
    /// Show the effective configuration (secrets redacted) after validation.
    Config(config_cmd::ConfigArgs),
    /// Find a mailbox's IMAP and submission servers from DNS SRV records (RFC 6186); manual
    /// --imap/--smtp values win. JSON fields: imap, smtp ({host, port, security} or null),
    /// source.
    Discover(discover::DiscoverArgs),
    /// Sync the mailboxes into the local encrypted cache.
    Sync(sync::SyncArgs),
    /// Search the local cache (full text and filters), newest first.
    Search(search::SearchArgs),
    /// The local audit log.
    Audit(audit::AuditArgs),
    /// Log in to Pro Santé Connect (browser, or push to e-CPS/card with --ciba); the refresh
    /// token goes to the OS keyring.
    Login(login::LoginArgs),
    /// Who is logged in (resumes the session stored in the keyring).
    Whoami(login::WhoamiArgs),
    /// Log out: revoke the PSC tokens and clear the keyring.
    Logout(login::LogoutArgs),
    /// Send a message with the MSSanté rules (outbox, XOAUTH2 SMTP, IHE XDM for CDA documents).
    Send(send::SendArgs),
    /// End the exchange with a patient: one message with `X-MSS-MES: FIN`, recorded locally.
    EndExchange(end_exchange::EndExchangeArgs),
}

fn main() -> ExitCode {
    pli_core::init_process();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("PLI_LOG"))
        .with_writer(std::io::stderr)
        .init();
    let mut cli = Cli::parse();
    if cli.config.is_none() {
        // Neither --config nor PLI_CONFIG: the machine-wide, then the per-user file.
        cli.config = pli_core::config::locate(None).map(|l| l.path);
    }
    let result = match cli.command {
        Command::Account(cmd) => account::run(cli.config.as_deref(), cmd),
        Command::Annuaire(cmd) => annuaire::run(cli.config.as_deref(), cmd),
        Command::Cda(cmd) => cda::run(cmd),
        Command::Config(args) => config_cmd::run(cli.config.as_deref(), args),
        Command::Discover(args) => discover::run(cli.config.as_deref(), args),
        Command::Sync(args) => sync::run(cli.config.as_deref(), args),
        Command::Search(args) => search::run(cli.config.as_deref(), args),
        Command::Audit(args) => audit::run(cli.config.as_deref(), args),
        Command::Login(args) => login::login(cli.config.as_deref(), args),
        Command::Whoami(args) => login::whoami(cli.config.as_deref(), args),
        Command::Logout(args) => login::logout(cli.config.as_deref(), args),
        Command::Send(args) => send::run(cli.config.as_deref(), args),
        Command::EndExchange(args) => end_exchange::run(cli.config.as_deref(), args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("pli: {e:#}");
            ExitCode::from(1)
        }
    }
}
