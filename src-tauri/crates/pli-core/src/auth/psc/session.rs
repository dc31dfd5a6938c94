//! A logged-in PSC session: the access token in memory only (ECO.1.2.5), refreshed shortly
//! before it expires (ECO.1.2.7), the refresh token in the keyring; a refused refresh ends
//! the session (ECO.1.2.6). It is the [`Credentials`] provider of the mail code.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use openidconnect::core::{CoreErrorResponseType, CoreTokenResponse};
use openidconnect::{
    OAuth2TokenResponse, RefreshToken, RequestTokenError, StandardErrorResponse, SubjectIdentifier,
    TokenResponse,
};
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::claims::{parse_userinfo, Identity};
use super::provider::{ClientKind, PscProvider};
use super::store::{self, ShownIdentity, StoredSession};
use super::verify::{verify_id_token, NonceCheck};
use crate::auth::{
    AccessToken, AuthError, Credentials, CredentialsError, IdTokenProblem, InactivityLock,
    OpenBrowser, Xoauth2,
};

/// Lifetime assumed when the provider does not say (`expires_in` absent).
const DEFAULT_LIFETIME: Duration = Duration::from_secs(60);

/// How long before expiry the access token is renewed: a quarter of its lifetime, at most
/// 30 s (PSC: 2 min tokens, renewed after 1 min 30 s).
pub fn refresh_margin(lifetime: Duration) -> Duration {
    (lifetime / 4).min(Duration::from_secs(30))
}

/// Whether a token with `remaining` time left out of `lifetime` must be renewed now.
pub fn refresh_due(remaining: Duration, lifetime: Duration) -> bool {
    remaining <= refresh_margin(lifetime)
}

/// The token fields of a token response, whatever flow produced it.
pub(crate) struct Issued {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub id_token: Option<String>,
    pub expires_in: Option<Duration>,
}

impl From<&CoreTokenResponse> for Issued {
    fn from(r: &CoreTokenResponse) -> Self {
        Self {
            access_token: r.access_token().secret().clone(),
            refresh_token: r.refresh_token().map(|t| t.secret().clone()),
            id_token: r.id_token().map(|t| t.to_string()),
            expires_in: r.expires_in(),
        }
    }
}

struct Tokens {
    access: Option<AccessToken>,
    expires_at: Instant,
    lifetime: Duration,
    refresh: Option<String>,
    id_token: Option<String>,
    ended: bool,
}

impl Tokens {
    fn set(&mut self, issued: Issued) {
        let lifetime = issued.expires_in.unwrap_or(DEFAULT_LIFETIME);
        self.access = Some(AccessToken::new(issued.access_token));
        self.lifetime = lifetime;
        self.expires_at = Instant::now() + lifetime;
        if let Some(r) = issued.refresh_token {
            self.refresh = Some(r);
        }
        if let Some(i) = issued.id_token {
            self.id_token = Some(i);
        }
    }
}

/// A Pro Santé Connect session for one person.
pub struct PscSession {
    provider: Arc<PscProvider>,
    kind: ClientKind,
    identity: Identity,
    tokens: Mutex<Tokens>,
    lock: Option<Arc<InactivityLock>>,
    /// Who was stored with the session when it was resumed, kept until userinfo answers.
    stored_shown: Option<ShownIdentity>,
}

impl fmt::Debug for PscSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PscSession")
            .field("client", &self.kind)
            .field("national_id", &self.identity.national_id)
            .finish_non_exhaustive()
    }
}

/// The error of a token-endpoint request made through openidconnect.
pub(crate) fn token_error<RE: std::error::Error + 'static>(
    e: RequestTokenError<RE, StandardErrorResponse<CoreErrorResponseType>>,
) -> AuthError {
    match e {
        RequestTokenError::ServerResponse(r) => AuthError::Provider {
            code: r.error().as_ref().to_owned(),
            description: r.error_description().cloned(),
        },
        RequestTokenError::Request(e) => AuthError::Http(e.to_string()),
        RequestTokenError::Parse(e, _) => AuthError::Http(format!("réponse illisible : {e}")),
        RequestTokenError::Other(m) => AuthError::Http(m),
    }
}

impl PscSession {
    /// Turns a fresh token response into a session: checks the ID token (nonce for the code
    /// flow), gets userinfo for the same subject, checks the expected person when there is
    /// one, and stores the refresh token in the keyring.
    pub(crate) async fn establish(
        provider: Arc<PscProvider>,
        kind: ClientKind,
        issued: Issued,
        nonce: NonceCheck<'_>,
        expected_national_id: Option<&str>,
    ) -> Result<Self, AuthError> {
        let ctx = provider.verify_context(kind)?;
        let raw_id = issued.id_token.as_deref().ok_or(IdTokenProblem::Missing)?;
        let claims = verify_id_token(raw_id, &ctx, nonce, None)?;
        let sub = claims.subject().clone();
        let mut tokens = Tokens {
            access: None,
            expires_at: Instant::now(),
            lifetime: DEFAULT_LIFETIME,
            refresh: None,
            id_token: None,
            ended: false,
        };
        tokens.set(issued);
        let access = tokens.access.clone().expect("just set");
        let identity = fetch_identity(&provider, kind, &access, &sub).await?;
        if let Some(expected) = expected_national_id {
            if identity.national_id != expected {
                return Err(AuthError::WrongPerson {
                    expected: expected.to_owned(),
                    got: identity.national_id,
                });
            }
        }
        let session = Self {
            provider,
            kind,
            identity,
            tokens: Mutex::new(tokens),
            lock: None,
            stored_shown: None,
        };
        {
            let t = session.tokens.lock().await;
            session.persist(&t)?;
        }
        tracing::info!(
            national_id = %session.identity.national_id,
            client = ?kind,
            "PSC login"
        );
        Ok(session)
    }

    /// Resumes the session stored in the keyring for `national_id` (or the last person who
    /// logged in): refreshes at once and reads userinfo. A refused refresh clears the entry
    /// and returns [`AuthError::LoginRequired`].
    pub async fn resume(
        provider: Arc<PscProvider>,
        national_id: Option<&str>,
    ) -> Result<Self, AuthError> {
        let env = provider.environment();
        let national_id = match national_id {
            Some(n) => n.to_owned(),
            None => store::current(env)?.ok_or(AuthError::LoginRequired)?,
        };
        let stored = match store::load(env, &national_id) {
            Ok(s) => s,
            Err(crate::secrets::SecretError::NotFound(_)) => return Err(AuthError::LoginRequired),
            Err(e) => return Err(e.into()),
        };
        let sub = SubjectIdentifier::new(stored.sub.clone());
        let tokens = Tokens {
            access: None,
            expires_at: Instant::now(),
            lifetime: DEFAULT_LIFETIME,
            refresh: Some(stored.refresh_token),
            id_token: None,
            ended: false,
        };
        let placeholder = Identity {
            sub: stored.sub,
            national_id: national_id.clone(),
            given_name: None,
            family_name: None,
            civilite: None,
            organisation: None,
            email: None,
            exercices: vec![],
        };
        let mut session = Self {
            provider,
            kind: stored.client,
            identity: placeholder,
            tokens: Mutex::new(tokens),
            lock: None,
            stored_shown: stored.shown,
        };
        session.refresh().await?;
        let access = session.access_token().await?;
        let identity = fetch_identity(&session.provider, session.kind, &access, &sub).await?;
        if identity.national_id != national_id {
            return Err(AuthError::WrongPerson {
                expected: national_id,
                got: identity.national_id,
            });
        }
        session.identity = identity;
        session.stored_shown = None;
        // Store who this is for the next start (names may have changed at PSC).
        {
            let t = session.tokens.lock().await;
            session.persist(&t)?;
        }
        Ok(session)
    }

    /// Who the header shows: name without the national id, profession of the first activity.
    pub fn shown_identity(&self) -> ShownIdentity {
        if let Some(s) = &self.stored_shown {
            return s.clone();
        }
        let id = &self.identity;
        ShownIdentity {
            national_id: id.national_id.clone(),
            display_name: id
                .display_name()
                .trim_end_matches(&format!(" ({})", id.national_id))
                .to_owned(),
            profession: id.exercices.first().and_then(|e| e.code_profession.clone()),
        }
    }

    /// Locks credentials behind an inactivity lock (the UI touches it on user activity).
    pub fn with_lock(mut self, lock: Arc<InactivityLock>) -> Self {
        self.lock = Some(lock);
        self
    }

    /// Who is logged in.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// Which registered client the session uses.
    pub fn client_kind(&self) -> ClientKind {
        self.kind
    }

    /// The keyring account holding this session's refresh token.
    pub fn keyring_account(&self) -> String {
        store::refresh_account(self.provider.environment(), &self.identity.national_id)
    }

    fn persist(&self, t: &Tokens) -> Result<(), AuthError> {
        if let Some(refresh) = &t.refresh {
            store::save(
                self.provider.environment(),
                &self.identity.national_id,
                &StoredSession {
                    client: self.kind,
                    sub: self.identity.sub.clone(),
                    refresh_token: refresh.clone(),
                    shown: Some(self.shown_identity()),
                },
            )?;
        }
        Ok(())
    }

    fn end(&self, t: &mut Tokens) {
        t.ended = true;
        t.access = None;
        t.refresh = None;
        t.id_token = None;
        if let Err(e) = store::clear(self.provider.environment(), &self.identity.national_id) {
            tracing::warn!(error = %e, "could not clear the stored PSC session");
        }
    }

    /// A valid access token, renewed first when it is about to expire.
    pub async fn access_token(&self) -> Result<AccessToken, AuthError> {
        if self.lock.as_ref().is_some_and(|l| l.is_locked()) {
            return Err(AuthError::Locked);
        }
        let mut t = self.tokens.lock().await;
        if t.ended {
            return Err(AuthError::LoginRequired);
        }
        let remaining = t.expires_at.saturating_duration_since(Instant::now());
        if t.access.is_none() || refresh_due(remaining, t.lifetime) {
            match self.refresh_locked(&mut t).await {
                Ok(()) => {}
                // PSC unreachable but the current token still valid for a moment: use it
                // (ECO.1.2.3, the rest of the client keeps working); the next call retries.
                Err(e) if !t.ended && t.access.is_some() && !remaining.is_zero() => {
                    tracing::warn!(error = %e, "PSC refresh failed; current token kept");
                }
                Err(e) => return Err(e),
            }
        }
        t.access.clone().ok_or(AuthError::LoginRequired)
    }

    /// Time until the access token is due for renewal (zero when it is due now).
    pub async fn next_refresh_in(&self) -> Duration {
        let t = self.tokens.lock().await;
        let remaining = t.expires_at.saturating_duration_since(Instant::now());
        remaining.saturating_sub(refresh_margin(t.lifetime))
    }

    /// Keeps the session alive while Pli runs: renews the access token when due, so the
    /// refresh token never lapses between two mail connections (ECO.1.2.7). Stops when
    /// cancelled, when the session ends (returns [`AuthError::LoginRequired`]) or locks
    /// ([`AuthError::Locked`]: a locked session is left to expire). A failed renewal is retried
    /// after 10 s (PSC unreachable, ECO.1.2.3).
    pub async fn keep_alive(&self, cancel: &tokio_util::sync::CancellationToken) -> AuthError {
        let mut wait = self.next_refresh_in().await;
        loop {
            if self.tokens.lock().await.ended {
                return AuthError::LoginRequired;
            }
            if self.lock.as_ref().is_some_and(|l| l.is_locked()) {
                return AuthError::Locked;
            }
            tokio::select! {
                _ = cancel.cancelled() => return AuthError::Cancelled,
                _ = tokio::time::sleep(wait) => {}
            }
            wait = match self.refresh().await {
                Ok(()) => self.next_refresh_in().await,
                Err(AuthError::LoginRequired) => return AuthError::LoginRequired,
                Err(e) => {
                    tracing::warn!(error = %e, "PSC keep-alive: renewal failed, retrying");
                    Duration::from_secs(10)
                }
            };
        }
    }

    /// Renews the access token now (also rotates the refresh token when the provider does).
    pub async fn refresh(&self) -> Result<(), AuthError> {
        let mut t = self.tokens.lock().await;
        if t.ended {
            return Err(AuthError::LoginRequired);
        }
        self.refresh_locked(&mut t).await
    }

    async fn refresh_locked(&self, t: &mut Tokens) -> Result<(), AuthError> {
        let Some(refresh) = t.refresh.clone() else {
            self.end(t);
            return Err(AuthError::LoginRequired);
        };
        let client = self.provider.oidc_client(self.kind, None)?;
        let refresh = RefreshToken::new(refresh);
        let mut req = client.exchange_refresh_token(&refresh);
        for (k, v) in self
            .provider
            .resolve_client(self.kind)?
            .assertion_params(self.provider.issuer().as_str())?
        {
            req = req.add_extra_param(k, v);
        }
        let resp = req.request_async(self.provider.http()).await;
        let resp = match resp.map_err(token_error) {
            Ok(r) => r,
            Err(AuthError::Provider { code, description })
                if code == "invalid_grant" || code == "unauthorized_client" =>
            {
                tracing::info!(%code, ?description, "PSC refresh refused: session ended");
                self.end(t);
                return Err(AuthError::LoginRequired);
            }
            Err(e) => return Err(e),
        };
        let issued = Issued::from(&resp);
        if let Some(raw) = issued.id_token.as_deref() {
            let ctx = self.provider.verify_context(self.kind)?;
            let sub = SubjectIdentifier::new(self.identity.sub.clone());
            verify_id_token(raw, &ctx, NonceCheck::NotSent, Some(&sub))?;
        }
        t.set(issued);
        self.persist(t)?;
        tracing::debug!(
            lifetime_s = t.lifetime.as_secs(),
            "PSC access token renewed"
        );
        Ok(())
    }

    /// Reads userinfo again with the current access token.
    pub async fn userinfo(&self) -> Result<Identity, AuthError> {
        let access = self.access_token().await?;
        let sub = SubjectIdentifier::new(self.identity.sub.clone());
        fetch_identity(&self.provider, self.kind, &access, &sub).await
    }

    /// The RP-initiated logout URL (`id_token_hint`, `client_id`), when the provider has one.
    pub async fn end_session_url(&self) -> Option<url::Url> {
        let t = self.tokens.lock().await;
        let endpoint = self
            .provider
            .metadata()
            .additional_metadata()
            .end_session_endpoint
            .clone()?;
        let mut url = url::Url::parse(&endpoint).ok()?;
        {
            let mut q = url.query_pairs_mut();
            if let Some(id) = &t.id_token {
                q.append_pair("id_token_hint", id);
            }
            q.append_pair(
                "client_id",
                &self.provider.resolve_client(self.kind).ok()?.id,
            );
        }
        Some(url)
    }

    /// Explicit logout: revokes the refresh and access tokens at the provider, clears the
    /// keyring, ends the session, and opens the provider's end-session page in the browser
    /// when an opener is given (it ends the provider's browser session). The keyring is
    /// cleared even when the provider cannot be reached; that failure is then returned.
    pub async fn logout(&self, browser: Option<&dyn OpenBrowser>) -> Result<(), AuthError> {
        let end_session = self.end_session_url().await;
        let mut t = self.tokens.lock().await;
        let refresh = t.refresh.clone();
        let access = t.access.clone();
        self.end(&mut t);
        drop(t);
        let mut result = Ok(());
        if let Some(r) = refresh {
            result = result.and(self.revoke(&r, "refresh_token").await);
        }
        if let Some(a) = access {
            result = result.and(self.revoke(a.expose(), "access_token").await);
        }
        if let (Some(open), Some(url)) = (browser, end_session) {
            if let Err(e) = open.open(url.as_str()) {
                tracing::warn!(error = %e, "could not open the end-session page");
            }
        }
        tracing::info!(national_id = %self.identity.national_id, "PSC logout");
        result
    }

    async fn revoke(&self, token: &str, hint: &'static str) -> Result<(), AuthError> {
        let Some(endpoint) = self
            .provider
            .metadata()
            .additional_metadata()
            .revocation_endpoint
            .clone()
        else {
            return Ok(());
        };
        let rc = self.provider.resolve_client(self.kind)?;
        let mut form = vec![
            ("token", token.to_owned()),
            ("token_type_hint", hint.to_owned()),
        ];
        let req = rc.authenticate(
            self.provider.http().post(&endpoint),
            &mut form,
            self.provider.issuer().as_str(),
        )?;
        let resp = req
            .form(&form)
            .send()
            .await
            .map_err(|e| AuthError::Http(e.without_url().to_string()))?;
        if resp.status().is_success() {
            Ok(())
        } else {
            Err(AuthError::Http(format!(
                "révocation : HTTP {}",
                resp.status()
            )))
        }
    }
}

async fn fetch_identity(
    provider: &PscProvider,
    kind: ClientKind,
    access: &AccessToken,
    sub: &SubjectIdentifier,
) -> Result<Identity, AuthError> {
    let endpoint = provider
        .metadata()
        .userinfo_endpoint()
        .ok_or_else(|| AuthError::Discovery("pas de userinfo_endpoint".into()))?;
    let resp = provider
        .http()
        .get(endpoint.as_str())
        .bearer_auth(access.expose())
        .header("accept", "application/json, application/jwt")
        .send()
        .await
        .map_err(|e| AuthError::Http(e.without_url().to_string()))?;
    let status = resp.status();
    if !status.is_success() {
        return Err(AuthError::Http(format!("userinfo : HTTP {status}")));
    }
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = resp
        .bytes()
        .await
        .map_err(|e| AuthError::Http(e.to_string()))?;
    let ctx = provider.verify_context(kind)?;
    let info = parse_userinfo(content_type.as_deref(), &body, &ctx, sub)?;
    Identity::from_userinfo(&info)
}

impl Credentials for PscSession {
    fn xoauth2<'a>(
        &'a self,
        mailbox: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<Xoauth2, CredentialsError>> + Send + 'a>> {
        Box::pin(async move {
            let token = self.access_token().await?;
            Ok(Xoauth2::new(mailbox, &token))
        })
    }

    fn actor(&self) -> Option<String> {
        Some(self.identity.national_id.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn psc_two_minute_tokens_are_renewed_thirty_seconds_before_expiry() {
        let two_min = Duration::from_secs(120);
        assert_eq!(refresh_margin(two_min), Duration::from_secs(30));
        assert!(!refresh_due(Duration::from_secs(31), two_min));
        assert!(refresh_due(Duration::from_secs(30), two_min));
        assert!(refresh_due(Duration::ZERO, two_min));
        // Short-lived tokens: a quarter of the lifetime.
        assert_eq!(
            refresh_margin(Duration::from_secs(8)),
            Duration::from_secs(2)
        );
        assert!(!refresh_due(Duration::from_secs(3), Duration::from_secs(8)));
    }
}
