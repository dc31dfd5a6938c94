//! The engine as a front-end sees it: one object holding the configuration, the encrypted
//! cache, the Pro Santé Connect session and the background sync, with one method per user
//! action. The desktop shell's commands and (progressively) the `pli` commands are thin
//! calls into it; it knows nothing of Tauri. Events go out through an [`EventSink`].
//!
//! Sub-modules: `session` (login, logout, background sync), `mail` (lists, reading, flags,
//! patients, search), `documents` (opening attachments: CDA, XDM, PDF), `outgoing`
//! (compose → outbox → SMTP), `drafts` (compose drafts in the cache and the server's Drafts folder), `directory` (recipient search), `names` (display helpers).

mod directory;
mod documents;
mod drafts;
pub mod links;
mod mail;
pub mod names;
pub mod outgoing;
mod session;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tokio::sync::RwLock;

use crate::annuaire::{Directory, Narrowing};
use crate::api::{EngineEvent, SessionInfo};
use crate::auth::psc::PscSession;
use crate::auth::Credentials;
use crate::config::{Config, MailboxKind};
use crate::store::{self, Store};

pub use session::{open_system_browser, LoginMethod};

/// Where engine events go (the shell forwards them to the window).
pub type EventSink = Arc<dyn Fn(EngineEvent) + Send + Sync>;

/// Errors shown to the user: one French sentence each.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// No session: log in first.
    #[error("connectez-vous avec Pro Santé Connect pour accéder aux serveurs de messagerie")]
    NotLoggedIn,
    /// The session was locked, closed or never opened: the cache is not served until the
    /// user authenticates again.
    #[error("session verrouillée ou fermée : reconnectez-vous avec Pro Santé Connect pour lire le courrier")]
    Sealed,
    /// A message, folder or attachment that is not (or no longer) in the cache.
    #[error("{0} introuvable dans le cache local")]
    NotFound(String),
    /// Bad input from the user.
    #[error("{0}")]
    Invalid(String),
    /// Anything from below, already worded for the user.
    #[error("{0}")]
    Other(String),
}

macro_rules! from_err {
    ($($t:ty),*) => {$(
        impl From<$t> for EngineError {
            fn from(e: $t) -> Self { EngineError::Other(e.to_string()) }
        }
    )*};
}
from_err!(
    crate::store::StoreError,
    crate::auth::AuthError,
    crate::imap::ImapError,
    crate::imap::sync::SyncError,
    crate::tls::TlsError,
    crate::mssante::ComposeError,
    crate::mssante::InsError,
    crate::mssante::xdm::XdmBuildError,
    crate::smtp::outbox::DrainError,
    crate::annuaire::AnnuaireError,
    crate::secrets::SecretError
);

impl From<EngineError> for crate::api::CommandError {
    fn from(e: EngineError) -> Self {
        use crate::api::ErrorCode;
        let code = match &e {
            EngineError::NotLoggedIn => ErrorCode::NotLoggedIn,
            EngineError::Sealed => ErrorCode::Sealed,
            EngineError::NotFound(_) => ErrorCode::NotFound,
            EngineError::Invalid(_) => ErrorCode::Invalid,
            EngineError::Other(_) => ErrorCode::Failed,
        };
        Self {
            code,
            message: e.to_string(),
        }
    }
}

/// Result of an engine call.
pub type Result<T> = std::result::Result<T, EngineError>;

/// The logged-in state.
struct Active {
    /// The PSC session (absent when an access token came from `PLI_ACCESS_TOKEN`).
    psc: Option<Arc<PscSession>>,
    /// What IMAP and SMTP authenticate with.
    credentials: Arc<dyn Credentials>,
    /// Who, for the header.
    info: SessionInfo,
    /// Stops the background sync and the session keep-alive.
    stop: tokio_util::sync::CancellationToken,
    /// Shown from the keyring while the stored PSC session is being resumed in the background
    /// (offline start): no sync yet, and a logout or a lock forgets the stored session.
    resuming: bool,
}

struct Inner {
    cfg: Config,
    store: Store,
    events: EventSink,
    active: RwLock<Option<Active>>,
    /// The LDAP directory, connected on first use (queries share its one connection).
    directory: tokio::sync::OnceCell<Directory>,
    /// The offline directory, opened on first use (a refresh by `pli annuaire import` is one
    /// transaction in the same file, which this connection then reads).
    local_directory: tokio::sync::OnceCell<crate::annuaire::local::LocalDirectory>,
    /// The FHIR directory client, made on first use (key read from the keyring once).
    fhir: tokio::sync::OnceCell<crate::annuaire::fhir::FhirDirectory>,
    narrowing: Mutex<Narrowing>,
    /// Locks the session after inactivity (the UI touches it on user activity).
    lock: Arc<crate::auth::InactivityLock>,
    /// Raw messages fetched for attachments, most recent last (a few, in memory only).
    raw_cache: Mutex<VecDeque<(i64, Arc<Vec<u8>>)>>,
    /// Whether the start-up is over: the stored session was resumed or found missing, or the
    /// user logged in, out, or was locked out. From then on the cache is served only while a
    /// session is open (see [`Engine::readable`]).
    settled: std::sync::atomic::AtomicBool,
    /// The drafts' server-copy timer is running (see `drafts`).
    draft_timer: std::sync::atomic::AtomicBool,
}

/// The engine. Cheap to clone; all clones share one state.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("environment", &self.inner.cfg.environment)
            .finish_non_exhaustive()
    }
}

/// `PER`/`ORG`/`APP`/`CAB` of a configured mailbox.
pub fn kind_code(kind: MailboxKind) -> &'static str {
    match kind {
        MailboxKind::Personal => "PER",
        MailboxKind::Organisational => "ORG",
        MailboxKind::Applicative => "APP",
        MailboxKind::Cabinet => "CAB",
    }
}

/// The inactivity delay: `PLI_LOCK_AFTER_SECS` when set (tests, kiosks), else the default
/// (2 h, `auth::DEFAULT_LOCK_AFTER`).
fn lock_delay() -> std::time::Duration {
    std::env::var("PLI_LOCK_AFTER_SECS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .filter(|s| *s > 0)
        .map(std::time::Duration::from_secs)
        .unwrap_or(crate::auth::DEFAULT_LOCK_AFTER)
}

impl Engine {
    /// Opens the cache of this configuration (creating it and its keyring key on first run)
    /// and registers the configured mailboxes. Does not touch the network.
    pub async fn open(cfg: Config, events: EventSink) -> Result<Self> {
        let store = Store::open_profile(&store::data_dir(&cfg), &store::profile(&cfg)).await?;
        for a in &cfg.accounts {
            store
                .add_account(&a.address, kind_code(a.kind), a.display_name.as_deref())
                .await?;
        }
        Ok(Self {
            inner: Arc::new(Inner {
                cfg,
                store,
                events,
                active: RwLock::new(None),
                directory: tokio::sync::OnceCell::new(),
                local_directory: tokio::sync::OnceCell::new(),
                fhir: tokio::sync::OnceCell::new(),
                narrowing: Mutex::new(Narrowing::default()),
                lock: Arc::new(crate::auth::InactivityLock::new(lock_delay())),
                raw_cache: Mutex::new(VecDeque::new()),
                settled: std::sync::atomic::AtomicBool::new(false),
                draft_timer: std::sync::atomic::AtomicBool::new(false),
            }),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.cfg
    }

    /// The cache.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    fn emit(&self, e: EngineEvent) {
        (self.inner.events)(e)
    }

    /// The environment's name (`production`, `bas`, `sandbox`).
    pub fn environment_name(&self) -> String {
        crate::auth::psc::env_name(self.inner.cfg.environment).to_owned()
    }

    /// Refuses to serve the cache (mail, documents, patients, drafts, directory recents, the
    /// audit trail, the outbox) once the session is locked, closed or missing. Before the
    /// start-up settles it is served, so the inbox's first page can be read beside the
    /// session's resumption (the UI shows it only once a session is known); the UI hides mail
    /// behind the lock screen as well, and this keeps the engine from handing it to anything
    /// asking meanwhile.
    async fn readable(&self) -> Result<()> {
        if self
            .inner
            .settled
            .load(std::sync::atomic::Ordering::Acquire)
            && self.inner.active.read().await.is_none()
        {
            return Err(EngineError::Sealed);
        }
        Ok(())
    }

    /// Marks the start-up as over (see [`Engine::readable`]).
    fn settle(&self) {
        self.inner
            .settled
            .store(true, std::sync::atomic::Ordering::Release);
    }

    /// The credentials of the open session.
    async fn credentials(&self) -> Result<Arc<dyn Credentials>> {
        self.inner
            .active
            .read()
            .await
            .as_ref()
            .map(|a| a.credentials.clone())
            .ok_or(EngineError::NotLoggedIn)
    }

    /// Who acts, for the audit log.
    async fn actor(&self) -> String {
        self.inner
            .active
            .read()
            .await
            .as_ref()
            .and_then(|a| a.info.national_id.clone())
            .unwrap_or_else(|| "pli".to_owned())
    }

    /// The IMAP endpoint for the open session.
    async fn endpoint(&self) -> Result<crate::imap::runner::Endpoint> {
        Ok(crate::imap::runner::Endpoint {
            server: self.inner.cfg.operator.imap.clone(),
            tls: crate::tls::client_config(&self.inner.cfg.operator.trust_anchors)?,
            credentials: self.credentials().await?,
        })
    }

    /// Stops background work and closes the cache.
    pub async fn shutdown(&self) {
        if let Some(a) = self.inner.active.write().await.take() {
            a.stop.cancel();
        }
        self.inner.store.checkpoint().await.ok();
    }
}

#[cfg(test)]
mod tests {
    use super::EngineError;
    use crate::api::CommandError;

    /// The window acts on the kind (a locked session's refusals are not shown as errors), not
    /// on the wording: each engine error keeps its kind on the way, as the UI reads it.
    #[test]
    fn command_errors_carry_their_kind_and_sentence() {
        let cases = [
            (EngineError::Sealed, "sealed"),
            (EngineError::NotLoggedIn, "not_logged_in"),
            (EngineError::NotFound("ce message".into()), "not_found"),
            (EngineError::Invalid("INS invalide".into()), "invalid"),
            (EngineError::Other("serveur injoignable".into()), "failed"),
        ];
        for (e, code) in cases {
            let sentence = e.to_string();
            let json = serde_json::to_value(CommandError::from(e)).unwrap();
            assert_eq!(json["code"], code);
            assert_eq!(json["message"], sentence.as_str());
        }
        let shell = serde_json::to_value(CommandError::from("aucune configuration".to_owned()));
        assert_eq!(shell.unwrap()["code"], "failed");
    }
}
