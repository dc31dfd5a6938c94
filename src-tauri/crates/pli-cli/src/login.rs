//! `pli login`, `pli whoami`, `pli logout`: the Pro Santé Connect session from a terminal.
//!
//! The refresh token goes to the OS keyring (service `fr.pli.app`, account
//! `psc-refresh:<env>:<national id>`); nothing else is written. `whoami` resumes the stored
//! session (one refresh) and prints who is logged in.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use pli_core::auth::psc::{
    self, login_with_browser, login_with_ciba, BrowserLogin, CancellationToken, CibaLogin,
    CibaStarted, PscProvider, PscSession,
};
use pli_core::auth::AuthError;
use pli_core::config::{Config, Environment};
use serde::Serialize;

/// The PSC environment named on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EnvArg {
    /// The local sandbox (tests/sandbox).
    Sandbox,
    /// PSC "BAS", the test platform.
    Bas,
    /// PSC production.
    Prod,
}

impl EnvArg {
    fn environment(self) -> Environment {
        match self {
            EnvArg::Sandbox => Environment::Sandbox,
            EnvArg::Bas => Environment::Bas,
            EnvArg::Prod => Environment::Production,
        }
    }
}

/// Arguments of `pli login`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    pli --config target/sandbox/pli.toml login --env sandbox\n  \
    pli login --env bas --ciba --login-hint 810012345678 --channel CARD\n\n\
    The browser login listens on http://127.0.0.1:<random port>/callback and opens the system \
    browser (xdg-open / open / rundll32); the address is also printed, to open by hand. \
    The refresh token is kept in the OS keyring only.")]
pub struct LoginArgs {
    /// Environment the configuration must target (checked against its `environment`).
    #[arg(long, value_enum)]
    env: EnvArg,
    /// Push to the e-CPS app or the CPS card (CIBA) instead of the browser.
    #[arg(long, requires = "login_hint")]
    ciba: bool,
    /// National id (RPPS/ADELI-based): required with --ciba; pre-fills the browser page otherwise.
    #[arg(long)]
    login_hint: Option<String>,
    /// CIBA channel sent to PSC (`channel`): CARD, or the e-CPS value of the deployment.
    #[arg(long, default_value = "CARD")]
    channel: String,
    /// Only print the login address; do not start the browser.
    #[arg(long)]
    no_browser: bool,
    /// Seconds to wait for the browser or the phone.
    #[arg(long, default_value_t = 300)]
    timeout: u64,
    /// Print who logged in as JSON.
    #[arg(long)]
    json: bool,
}

/// Arguments of `pli whoami`.
#[derive(Debug, Args)]
pub struct WhoamiArgs {
    /// Environment the configuration must target; defaults to the configuration's.
    #[arg(long, value_enum)]
    env: Option<EnvArg>,
    /// Whose stored session (national id); defaults to the last login.
    #[arg(long)]
    national_id: Option<String>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Arguments of `pli logout`.
#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// Environment the configuration must target; defaults to the configuration's.
    #[arg(long, value_enum)]
    env: Option<EnvArg>,
    /// Whose session (national id); defaults to the last login.
    #[arg(long)]
    national_id: Option<String>,
}

#[derive(Serialize)]
struct WhoAmI<'a> {
    environment: &'static str,
    client: psc::ClientKind,
    display_name: String,
    #[serde(flatten)]
    identity: &'a psc::Identity,
}

fn load(path: Option<&Path>, env: Option<EnvArg>) -> anyhow::Result<Config> {
    let path = path.context("no configuration: pass --config FILE or set PLI_CONFIG")?;
    let cfg = Config::load(path)?;
    if let Some(env) = env {
        if env.environment() != cfg.environment {
            bail!(
                "--env {} : la configuration {} vise l'environnement {}",
                psc::env_name(env.environment()),
                path.display(),
                psc::env_name(cfg.environment)
            );
        }
    }
    Ok(cfg)
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

fn print_identity(env: Environment, session: &PscSession, json: bool) -> anyhow::Result<()> {
    let id = session.identity();
    if json {
        let w = WhoAmI {
            environment: psc::env_name(env),
            client: session.client_kind(),
            display_name: id.display_name(),
            identity: id,
        };
        println!("{}", serde_json::to_string(&w)?);
        return Ok(());
    }
    println!("{}", id.display_name());
    for ex in &id.exercices {
        let specialty = ex.code_savoir_faire.as_deref().unwrap_or("-");
        let profession = ex.code_profession.as_deref().unwrap_or("-");
        println!("  profession {profession}, spécialité {specialty}");
        for a in &ex.activities {
            let name = a
                .raison_sociale_site
                .as_deref()
                .or(a.enseigne_commerciale_site.as_deref())
                .unwrap_or("(structure sans nom)");
            let place = a.bureau_cedex.as_deref().unwrap_or("");
            println!("    {name} {place}");
        }
    }
    Ok(())
}

/// `pli login`.
pub fn login(path: Option<&Path>, args: LoginArgs) -> anyhow::Result<ExitCode> {
    let cfg = load(path, Some(args.env))?;
    let rt = runtime()?;
    let cancel = CancellationToken::new();
    let session = rt.block_on(async {
        let provider = PscProvider::discover(&cfg).await?;
        let timeout = Duration::from_secs(args.timeout);
        if args.ciba {
            let req = CibaLogin {
                login_hint: args.login_hint.clone().unwrap_or_default(),
                binding_message: None,
                channel: Some(args.channel.clone()),
            };
            let on_started = |s: &CibaStarted| {
                eprintln!(
                    "Validez la demande « {} » sur votre application e-CPS ou avec votre carte \
                     (valable {} s)…",
                    s.binding_message,
                    s.expires_in.as_secs()
                );
            };
            let guard = cancel.clone();
            tokio::select! {
                r = login_with_ciba(&provider, &req, &on_started, &cancel) => r,
                _ = tokio::time::sleep(timeout) => { guard.cancel(); Err(AuthError::Timeout) }
            }
        } else {
            let no_browser = args.no_browser;
            let open = move |url: &str| -> Result<(), String> {
                eprintln!("Connexion Pro Santé Connect : ouvrez cette adresse dans votre navigateur :\n{url}");
                if !no_browser {
                    if let Err(e) = pli_core::engine::open_system_browser(url) {
                        eprintln!("(navigateur non lancé : {e})");
                    }
                }
                Ok(())
            };
            let opts = BrowserLogin {
                timeout,
                login_hint: args.login_hint.clone(),
                ..BrowserLogin::default()
            };
            login_with_browser(&provider, &open, &opts, &cancel).await
        }
    })?;
    print_identity(cfg.environment, &session, args.json)?;
    Ok(ExitCode::SUCCESS)
}

/// `pli whoami`.
pub fn whoami(path: Option<&Path>, args: WhoamiArgs) -> anyhow::Result<ExitCode> {
    let cfg = load(path, args.env)?;
    let rt = runtime()?;
    let session = rt.block_on(async {
        let provider = PscProvider::discover(&cfg).await?;
        PscSession::resume(provider, args.national_id.as_deref()).await
    });
    match session {
        Ok(s) => {
            print_identity(cfg.environment, &s, args.json)?;
            Ok(ExitCode::SUCCESS)
        }
        Err(AuthError::LoginRequired) => {
            eprintln!("pli: aucune session Pro Santé Connect valide : lancez `pli login`");
            Ok(ExitCode::from(2))
        }
        Err(e) => Err(e.into()),
    }
}

/// `pli logout`.
pub fn logout(path: Option<&Path>, args: LogoutArgs) -> anyhow::Result<ExitCode> {
    let cfg = load(path, args.env)?;
    let rt = runtime()?;
    rt.block_on(async {
        let provider = PscProvider::discover(&cfg).await?;
        match PscSession::resume(provider, args.national_id.as_deref()).await {
            Ok(s) => {
                s.logout(None).await?;
                eprintln!("Déconnecté : {}", s.identity().display_name());
                Ok::<_, anyhow::Error>(())
            }
            Err(AuthError::LoginRequired) => {
                eprintln!("Aucune session ouverte.");
                Ok(())
            }
            Err(e) => {
                // PSC unreachable: at least nothing stays on this computer.
                psc::forget(cfg.environment, args.national_id.as_deref())?;
                Err(anyhow::Error::from(e).context(
                    "session effacée du trousseau, mais non révoquée chez Pro Santé Connect",
                ))
            }
        }
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Credentials for IMAP and SMTP: `PLI_ACCESS_TOKEN` when set (automation, tests), else the
/// PSC session `pli login` keeps in the keyring, refreshed by the session itself. `what_then`
/// tells the user what happens to their work when there is no session.
pub async fn mail_credentials(
    cfg: &Config,
    what_then: &str,
) -> anyhow::Result<std::sync::Arc<dyn pli_core::auth::Credentials>> {
    if let Some(t) = std::env::var("PLI_ACCESS_TOKEN")
        .ok()
        .filter(|t| !t.is_empty())
    {
        return Ok(std::sync::Arc::new(pli_core::auth::StaticToken(
            pli_core::auth::AccessToken::new(t),
        )));
    }
    let provider = PscProvider::discover(cfg).await?;
    match PscSession::resume(provider, None).await {
        Ok(s) => Ok(std::sync::Arc::new(s)),
        Err(AuthError::LoginRequired) => bail!(
            "aucune session Pro Santé Connect valide : lancez `pli login` (ou passez \
             PLI_ACCESS_TOKEN) ; {what_then}"
        ),
        Err(e) => Err(e.into()),
    }
}
