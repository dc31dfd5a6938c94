//! Authorization code + PKCE (S256) in the system browser with a loopback redirect
//! (RFC 8252): `state` and `nonce` checked, `scope` and `acr_values` from the configuration.

use std::sync::Arc;
use std::time::Duration;

use openidconnect::core::CoreAuthenticationFlow;
use openidconnect::{
    AuthenticationContextClass, AuthorizationCode, CsrfToken, Nonce, PkceCodeChallenge,
    RedirectUrl, Scope,
};
use tokio_util::sync::CancellationToken;

use super::loopback::{Callback, Loopback};
use super::provider::{ClientKind, PscProvider};
use super::session::{token_error, Issued, PscSession};
use super::verify::NonceCheck;
use crate::auth::{AuthError, OpenBrowser};

/// Options of a browser login.
#[derive(Debug, Clone)]
pub struct BrowserLogin {
    /// How long to wait for the browser to come back.
    pub timeout: Duration,
    /// Ask the provider to authenticate again even if the browser has a PSC session
    /// (`prompt=login`): on a shared workstation, never log in as the previous user.
    pub force_login: bool,
    /// Pre-fills the national id on the provider's page (`login_hint`).
    pub login_hint: Option<String>,
}

impl Default for BrowserLogin {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(300),
            force_login: true,
            login_hint: None,
        }
    }
}

/// Runs the code flow: opens `browser` on the authorization URL, waits for the loopback
/// callback, redeems the code with the PKCE verifier and establishes the session.
pub async fn login_with_browser(
    provider: &Arc<PscProvider>,
    browser: &dyn OpenBrowser,
    opts: &BrowserLogin,
    cancel: &CancellationToken,
) -> Result<PscSession, AuthError> {
    let loopback = Loopback::bind().await?;
    let redirect = RedirectUrl::new(loopback.redirect_uri())
        .map_err(|e| AuthError::Loopback(e.to_string()))?;
    let client = provider.oidc_client(ClientKind::Browser, Some(redirect))?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let cfg = provider.config();
    let mut req = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge);
    for s in cfg.scopes.iter().filter(|s| s.as_str() != "openid") {
        req = req.add_scope(Scope::new(s.clone()));
    }
    for acr in cfg.acr_values.split_whitespace() {
        req = req.add_auth_context_value(AuthenticationContextClass::new(acr.to_owned()));
    }
    if opts.force_login {
        req = req.add_prompt(openidconnect::core::CoreAuthPrompt::Login);
    }
    if let Some(hint) = &opts.login_hint {
        req = req.add_extra_param("login_hint", hint.clone());
    }
    let (url, state, nonce) = req.url();
    browser.open(url.as_str()).map_err(AuthError::Browser)?;
    let callback = loopback
        .wait(
            state.secret(),
            provider.issuer().as_str(),
            opts.timeout,
            cancel,
        )
        .await?;
    let code = match callback {
        Callback::Code(c) => c,
        Callback::Error { code, .. } if code == "access_denied" => return Err(AuthError::Denied),
        Callback::Error { code, description } => {
            return Err(AuthError::Provider { code, description })
        }
    };
    let mut exchange = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier);
    for (k, v) in provider
        .resolve_client(ClientKind::Browser)?
        .assertion_params(provider.issuer().as_str())?
    {
        exchange = exchange.add_extra_param(k, v);
    }
    let resp = exchange
        .request_async(provider.http())
        .await
        .map_err(token_error)?;
    PscSession::establish(
        provider.clone(),
        ClientKind::Browser,
        Issued::from(&resp),
        NonceCheck::Expect(&nonce),
        None,
    )
    .await
}
