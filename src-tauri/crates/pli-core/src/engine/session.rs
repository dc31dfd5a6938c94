//! Login, logout and the background sync of the logged-in person's mailboxes.

use std::sync::Arc;
use std::time::Duration;

use super::{Active, Engine, EngineError, Result};
use crate::api::{EngineEvent, SessionInfo};
use crate::auth::psc::{
    self, login_with_browser, login_with_ciba, BrowserLogin, CancellationToken, CibaLogin,
    CibaStarted, PscProvider, PscSession,
};
use crate::auth::{AccessToken, AuthError, Credentials, StaticToken};
use crate::imap::runner::{self, Watch};
use crate::imap::sync::{SyncEvent, SyncOptions};

/// How the user logs in.
#[derive(Debug, Clone)]
pub enum LoginMethod {
    /// The system browser (authorization code + PKCE, loopback redirect).
    Browser {
        /// National id to pre-fill, if given.
        login_hint: Option<String>,
    },
    /// A push to the e-CPS app or the CPS card (CIBA) for this national id.
    Ciba {
        /// National id.
        national_id: String,
    },
}

/// Starts the system browser on `url` without waiting for it.
pub fn open_system_browser(url: &str) -> std::result::Result<(), String> {
    use std::process::{Command, Stdio};
    let mut cmd = if cfg!(target_os = "macos") {
        Command::new("open")
    } else if cfg!(windows) {
        // rundll32 takes the URL as one argument; `cmd /C start` would split it at `&`.
        let mut c = Command::new("rundll32");
        c.arg("url.dll,FileProtocolHandler");
        c
    } else {
        Command::new("xdg-open")
    };
    cmd.arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// How long the browser or the phone may take.
const LOGIN_TIMEOUT: Duration = Duration::from_secs(300);

impl Engine {
    /// Who is logged in.
    pub async fn session_info(&self) -> SessionInfo {
        match self.inner.active.read().await.as_ref() {
            Some(a) => a.info.clone(),
            None => SessionInfo {
                logged_in: false,
                environment: self.environment_name(),
                ..Default::default()
            },
        }
    }

    /// Resumes the session kept in the keyring (or takes `PLI_ACCESS_TOKEN` for automation),
    /// then starts the sync. "No session" is not an error: the login screen is shown.
    pub async fn resume(&self) -> SessionInfo {
        if let Some(t) = std::env::var("PLI_ACCESS_TOKEN")
            .ok()
            .filter(|t| !t.is_empty())
        {
            let info = SessionInfo {
                logged_in: true,
                environment: self.environment_name(),
                display_name: Some("Jeton d'accès fourni (PLI_ACCESS_TOKEN)".to_owned()),
                ..Default::default()
            };
            self.activate(None, Arc::new(StaticToken(AccessToken::new(t))), info)
                .await;
            return self.session_info().await;
        }
        // The person of the stored session is shown at once with the cached mail (online or
        // not); PSC is asked in the background, and the sync starts once it answered.
        match psc::stored_identity(self.inner.cfg.environment) {
            Ok(Some(shown)) => {
                let info = SessionInfo {
                    logged_in: true,
                    environment: self.environment_name(),
                    display_name: Some(shown.display_name),
                    national_id: Some(shown.national_id.clone()),
                    profession: shown.profession,
                    error: None,
                };
                self.resume_in_background(shown.national_id, info.clone())
                    .await;
                return info;
            }
            Ok(None) => {}
            Err(e) => return self.not_logged_in(Some(e.to_string())),
        }
        // A session stored before identities were kept (or none): ask PSC now.
        let provider = match PscProvider::discover(&self.inner.cfg).await {
            Ok(p) => p,
            Err(e) => return self.not_logged_in(Some(e.to_string())),
        };
        match PscSession::resume(provider, None).await {
            Ok(s) => {
                self.established(s).await;
                self.session_info().await
            }
            Err(AuthError::LoginRequired) => self.not_logged_in(None),
            Err(e) => self.not_logged_in(Some(e.to_string())),
        }
    }

    /// Shows the stored session's person while PSC is asked in the background: on success the
    /// session is established (sync starts); a refused refresh or another person ends it (the
    /// login screen comes back, ECO.1.2.6); an unreachable PSC is retried with back-off
    /// (2 s doubling to 60 s) while the cached mail stays readable (ECO.1.2.3).
    async fn resume_in_background(&self, national_id: String, info: SessionInfo) {
        self.settle();
        let stop = CancellationToken::new();
        if let Some(old) = self.inner.active.write().await.replace(Active {
            psc: None,
            credentials: Arc::new(Resuming),
            info,
            stop: stop.clone(),
            resuming: true,
        }) {
            old.stop.cancel();
        }
        self.spawn_lock_watch(stop.clone());
        let engine = self.clone();
        tokio::spawn(async move {
            let mut wait = Duration::from_secs(2);
            loop {
                let attempt = async {
                    let provider = PscProvider::discover(&engine.inner.cfg).await?;
                    PscSession::resume(provider, Some(&national_id)).await
                };
                let result = tokio::select! {
                    _ = stop.cancelled() => return,
                    r = attempt => r,
                };
                match result {
                    Ok(session) => {
                        // Logged out or locked meanwhile: the refresh just stored must go too.
                        if stop.is_cancelled() {
                            psc::forget(engine.inner.cfg.environment, Some(&national_id)).ok();
                            return;
                        }
                        engine.established(session).await;
                        return;
                    }
                    Err(e) if is_transient(&e) => {
                        tracing::warn!(error = %e, "PSC unreachable at start; cached mail shown");
                        engine.emit(EngineEvent::SyncFailed {
                            account: "Pro Santé Connect".into(),
                            error: format!(
                                "hors ligne, nouvel essai dans {} s : {e}",
                                wait.as_secs()
                            ),
                        });
                        tokio::select! {
                            _ = stop.cancelled() => return,
                            _ = tokio::time::sleep(wait) => {}
                        }
                        wait = (wait * 2).min(Duration::from_secs(60));
                    }
                    Err(e) => {
                        // A refused refresh already cleared the stored session (LoginRequired);
                        // another person's token must not stay either.
                        tracing::warn!(error = %e, "stored PSC session refused");
                        if matches!(e, AuthError::WrongPerson { .. }) {
                            psc::forget(engine.inner.cfg.environment, Some(&national_id)).ok();
                        }
                        if !stop.is_cancelled() {
                            engine.end_local_session_because(e.to_string()).await;
                        }
                        return;
                    }
                }
            }
        });
    }

    fn not_logged_in(&self, error: Option<String>) -> SessionInfo {
        self.settle();
        SessionInfo {
            logged_in: false,
            environment: self.environment_name(),
            error,
            ..Default::default()
        }
    }

    /// Logs in with Pro Santé Connect, then starts the sync.
    pub async fn login(&self, method: LoginMethod) -> Result<SessionInfo> {
        let provider = PscProvider::discover(&self.inner.cfg).await?;
        let cancel = CancellationToken::new();
        let session = match method {
            LoginMethod::Ciba { national_id } => {
                let national_id = national_id.trim().to_owned();
                if national_id.is_empty() || !national_id.chars().all(|c| c.is_ascii_alphanumeric())
                {
                    return Err(EngineError::Invalid(
                        "saisissez votre identifiant national (RPPS ou ADELI, chiffres seulement)"
                            .into(),
                    ));
                }
                let req = CibaLogin {
                    login_hint: national_id,
                    binding_message: None,
                    channel: Some("CARD".to_owned()),
                };
                let events = self.inner.events.clone();
                let on_started = move |s: &CibaStarted| {
                    events(EngineEvent::CibaStarted {
                        binding_message: s.binding_message.clone(),
                        expires_in: s.expires_in.as_secs() as i64,
                    })
                };
                let guard = cancel.clone();
                tokio::select! {
                    r = login_with_ciba(&provider, &req, &on_started, &cancel) => r?,
                    _ = tokio::time::sleep(LOGIN_TIMEOUT) => { guard.cancel(); return Err(AuthError::Timeout.into()) }
                }
            }
            LoginMethod::Browser { login_hint } => {
                let open = |url: &str| open_system_browser(url);
                let opts = BrowserLogin {
                    timeout: LOGIN_TIMEOUT,
                    login_hint,
                    ..BrowserLogin::default()
                };
                login_with_browser(&provider, &open, &opts, &cancel).await?
            }
        };
        self.established(session).await;
        Ok(self.session_info().await)
    }

    async fn established(&self, session: PscSession) {
        let shown = session.shown_identity();
        let info = SessionInfo {
            logged_in: true,
            environment: self.environment_name(),
            display_name: Some(shown.display_name),
            national_id: Some(shown.national_id),
            profession: shown.profession,
            error: None,
        };
        // A fresh login is a fresh authentication: the inactivity clock restarts.
        self.inner.lock.unlock();
        let session = Arc::new(session.with_lock(self.inner.lock.clone()));
        let credentials: Arc<dyn Credentials> = session.clone();
        self.activate(Some(session), credentials, info).await;
    }

    async fn activate(
        &self,
        psc: Option<Arc<PscSession>>,
        credentials: Arc<dyn Credentials>,
        info: SessionInfo,
    ) {
        let stop = CancellationToken::new();
        let actor = info.national_id.clone().unwrap_or_else(|| "pli".into());
        self.settle();
        if let Some(old) = self.inner.active.write().await.replace(Active {
            psc: psc.clone(),
            credentials,
            info,
            stop: stop.clone(),
            resuming: false,
        }) {
            old.stop.cancel();
        }
        self.inner
            .store
            .audit(&actor, None, "login", "Pro Santé Connect", "ok")
            .await
            .ok();
        if let Some(psc) = psc {
            // Keep the tokens fresh; a refused refresh ends the session in the UI.
            let engine = self.clone();
            let stop2 = stop.clone();
            tokio::spawn(async move {
                let why = psc.keep_alive(&stop2).await;
                if stop2.is_cancelled() {
                    return;
                }
                if matches!(why, AuthError::Locked) {
                    engine.lock_now().await;
                } else {
                    tracing::warn!(error = %why, "PSC session ended");
                    engine.end_local_session().await;
                }
            });
            // Watch the inactivity lock (keep-alive only looks at it between renewals).
            self.spawn_lock_watch(stop.clone());
        }
        self.start_sync(stop).await;
    }

    /// Locks the session when the inactivity delay passes, until `stop`.
    fn spawn_lock_watch(&self, stop: CancellationToken) {
        let engine = self.clone();
        tokio::spawn(async move {
            loop {
                let wait = engine
                    .inner
                    .lock
                    .remaining()
                    .clamp(Duration::from_millis(200), Duration::from_secs(30));
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tokio::time::sleep(wait) => {}
                }
                if engine.inner.lock.is_locked() {
                    engine.lock_now().await;
                    return;
                }
            }
        });
    }

    /// Records user activity (the UI calls it, throttled); returns the seconds left before the
    /// session locks.
    pub fn touch(&self) -> i64 {
        self.inner.lock.touch();
        self.inner.lock.remaining().as_secs() as i64
    }

    /// Locks after inactivity: stops the session and the sync, forgets the stored refresh
    /// token (so nothing resumes without a new authentication) and tells the UI, which hides
    /// the mail behind the login screen. The cache stays, encrypted.
    async fn lock_now(&self) {
        self.settle();
        let Some(active) = self.inner.active.write().await.take() else {
            return;
        };
        active.stop.cancel();
        let id = active.info.national_id.clone();
        if active.psc.is_some() || active.resuming {
            if let Err(e) = psc::forget(self.inner.cfg.environment, id.as_deref()) {
                tracing::warn!(error = %e, "could not forget the locked session");
            }
        }
        self.inner
            .store
            .audit(
                id.as_deref().unwrap_or("pli"),
                None,
                "lock",
                "inactivité",
                "session verrouillée",
            )
            .await
            .ok();
        self.emit(EngineEvent::Locked {
            national_id: id,
            after_minutes: self.inner.lock.delay().as_secs().div_ceil(60) as i64,
        });
    }

    async fn end_local_session(&self) {
        self.settle();
        if let Some(a) = self.inner.active.write().await.take() {
            a.stop.cancel();
        }
        self.emit(EngineEvent::SessionEnded);
    }

    /// Ends the session with the reason shown on the login screen.
    async fn end_local_session_because(&self, why: String) {
        self.emit(EngineEvent::SyncFailed {
            account: "Pro Santé Connect".into(),
            error: why,
        });
        self.end_local_session().await;
    }

    /// Logs out: revokes the session at PSC, forgets it in the keyring, stops the sync.
    /// The cache stays (it is encrypted and readable only with this computer's keyring).
    pub async fn logout(&self) -> Result<()> {
        self.settle();
        let active = self.inner.active.write().await.take();
        let Some(active) = active else {
            return Ok(());
        };
        active.stop.cancel();
        let actor = active.info.national_id.clone().unwrap_or_default();
        let result = match &active.psc {
            Some(s) => match s.logout(None).await {
                Ok(()) => Ok(()),
                Err(e) => {
                    psc::forget(
                        self.inner.cfg.environment,
                        active.info.national_id.as_deref(),
                    )?;
                    Err(EngineError::Other(format!(
                        "session effacée de cet ordinateur, mais non révoquée chez Pro Santé \
                         Connect : {e}"
                    )))
                }
            },
            // Still resuming (PSC not reached yet): forget it here; nothing to revoke with.
            None if active.resuming => {
                psc::forget(
                    self.inner.cfg.environment,
                    active.info.national_id.as_deref(),
                )?;
                Ok(())
            }
            None => Ok(()),
        };
        self.inner
            .store
            .audit(&actor, None, "logout", "Pro Santé Connect", "ok")
            .await
            .ok();
        self.emit(EngineEvent::SessionEnded);
        result
    }

    /// The mailboxes to sync: every account of the cache.
    async fn sync_accounts(&self) -> Result<Vec<(String, String)>> {
        Ok(self
            .inner
            .store
            .accounts()
            .await?
            .into_iter()
            .map(|(_, a, k)| (a, k))
            .collect())
    }

    fn progress_sink(&self) -> runner::Progress {
        let events = self.inner.events.clone();
        Arc::new(move |e: SyncEvent| {
            let (account, folder, phase, done, total) = match e {
                SyncEvent::Headers {
                    account,
                    folder,
                    done,
                    total,
                } => (account, folder, "headers", done, total),
                SyncEvent::Bodies {
                    account,
                    folder,
                    done,
                    total,
                } => (account, folder, "bodies", done, total),
            };
            events(EngineEvent::SyncProgress {
                account,
                folder,
                phase: phase.to_owned(),
                done: done as i64,
                total: total as i64,
            })
        })
    }

    fn on_sync_sink(&self) -> runner::OnSync {
        let events = self.inner.events.clone();
        Arc::new(move |account, r| match r {
            Ok(rep) => events(EngineEvent::MailChanged {
                account: account.to_owned(),
                new: rep.new_incoming as i64,
            }),
            Err(e) => events(EngineEvent::SyncFailed {
                account: account.to_owned(),
                error: e.to_string(),
            }),
        })
    }

    /// One watch loop (sync, IDLE, reconnect with back-off) for one mailbox, until `stop`.
    fn spawn_watch(
        &self,
        endpoint: &crate::imap::runner::Endpoint,
        address: String,
        kind: String,
        stop: &CancellationToken,
    ) {
        let w = Watch {
            endpoint: endpoint.clone(),
            store: self.inner.store.clone(),
            address,
            kind,
            options: SyncOptions::default(),
            progress: self.progress_sink(),
            on_sync: self.on_sync_sink(),
        };
        let stop = stop.clone();
        tokio::spawn(async move { runner::watch(w, stop.cancelled_owned()).await });
    }

    /// Starts one watch loop per mailbox and the outbox retry loop, all stopped by `stop`.
    async fn start_sync(&self, stop: CancellationToken) {
        let Ok(endpoint) = self.endpoint().await else {
            return;
        };
        let accounts = match self.sync_accounts().await {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(error = %e, "no accounts to sync");
                return;
            }
        };
        for (address, kind) in accounts {
            self.spawn_watch(&endpoint, address, kind, &stop);
        }
        let engine = self.clone();
        tokio::spawn(async move { engine.outbox_loop(stop).await });
        // Drafts saved while offline or before the last quit get their server copy.
        self.schedule_draft_upload();
    }

    /// Adds a mailbox (typically a service mailbox the person is allowed on) to the cache
    /// and, when logged in, starts syncing it at once. The operator decides access: a mailbox
    /// the person may not use fails to sync with the server's refusal, shown to the user.
    pub async fn add_mailbox(&self, address: &str, kind: &str, display_name: &str) -> Result<()> {
        let address = address.trim().to_lowercase();
        let valid = address
            .split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.contains(['@', ' ']));
        if !valid {
            return Err(EngineError::Invalid(format!(
                "adresse de messagerie invalide : {address}"
            )));
        }
        if crate::annuaire::parse_kind(kind).is_none() {
            return Err(EngineError::Invalid(format!(
                "type de boîte inconnu : {kind} (PER, ORG, APP, CAB)"
            )));
        }
        let name = display_name.trim();
        if name.is_empty() {
            return Err(EngineError::Invalid(
                "donnez un nom d'affichage à la boîte (il accompagne l'adresse dans les messages \
                 envoyés, Ref#2 ECO.2.2.7)"
                    .into(),
            ));
        }
        self.inner
            .store
            .add_account(&address, kind, Some(name))
            .await?;
        self.inner
            .store
            .audit(
                &self.actor().await,
                Some(&address),
                "add-mailbox",
                kind,
                "ok",
            )
            .await
            .ok();
        let stop = self
            .inner
            .active
            .read()
            .await
            .as_ref()
            .map(|a| a.stop.clone());
        if let (Some(stop), Ok(endpoint)) = (stop, self.endpoint().await) {
            self.spawn_watch(&endpoint, address, kind.to_owned(), &stop);
        }
        Ok(())
    }

    /// One sync pass of every mailbox now (the "Relever" button); events report it.
    pub async fn sync_now(&self) -> Result<()> {
        let endpoint = self.endpoint().await?;
        let accounts = self.sync_accounts().await?;
        let results = runner::sync_all_once(
            &endpoint,
            &self.inner.store,
            &accounts,
            &SyncOptions::default(),
            self.progress_sink(),
        )
        .await;
        for (account, r) in results {
            match r {
                Ok(rep) => self.emit(EngineEvent::MailChanged {
                    account,
                    new: rep.new_incoming as i64,
                }),
                Err(e) => self.emit(EngineEvent::SyncFailed {
                    account,
                    error: e.to_string(),
                }),
            }
        }
        Ok(())
    }
}

/// The credentials of a session still being resumed: no mail server is asked until PSC answers.
#[derive(Debug)]
struct Resuming;

impl Credentials for Resuming {
    fn xoauth2<'a>(
        &'a self,
        _mailbox: &'a str,
    ) -> std::pin::Pin<
        Box<
            dyn std::future::Future<
                    Output = std::result::Result<
                        crate::auth::Xoauth2,
                        crate::auth::CredentialsError,
                    >,
                > + Send
                + 'a,
        >,
    > {
        Box::pin(async {
            Err(crate::auth::CredentialsError::Provider(
                "connexion en cours (ou hors ligne) : réessayez dans un instant".into(),
            ))
        })
    }
}

/// Whether a failed resume may succeed later (PSC or the network unreachable) rather than
/// being a refusal (expired or revoked session, another person).
fn is_transient(e: &AuthError) -> bool {
    match e {
        AuthError::Http(_) | AuthError::Discovery(_) | AuthError::Timeout => true,
        AuthError::Provider { code, .. } => {
            matches!(code.as_str(), "server_error" | "temporarily_unavailable")
        }
        _ => false,
    }
}
