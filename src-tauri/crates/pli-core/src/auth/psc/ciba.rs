//! CIBA (Client-Initiated Backchannel Authentication), poll mode: a push to the e-CPS app or
//! the CPS card. Backchannel request with `login_hint` (national id), `binding_message`,
//! `acr_values` and PSC's `channel`; then the token endpoint is polled honouring `interval`,
//! `slow_down`, `authorization_pending`, `expired_token` and `access_denied`. Cancellable.

use std::sync::Arc;
use std::time::Duration;

use openidconnect::core::CoreTokenResponse;
use openidconnect::CsrfToken;
use serde::Deserialize;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::provider::{ClientKind, PscProvider};
use super::session::{Issued, PscSession};
use super::verify::NonceCheck;
use crate::auth::AuthError;

/// The CIBA grant type.
pub const CIBA_GRANT: &str = "urn:openid:params:grant-type:ciba";

/// A CIBA login request.
#[derive(Debug, Clone)]
pub struct CibaLogin {
    /// National id of the professional (`login_hint`).
    pub login_hint: String,
    /// Short text shown on the phone/card reader and in Pli, to match both; generated when
    /// `None`.
    pub binding_message: Option<String>,
    /// PSC's `channel` (`CARD` in ANS's example; the e-CPS value is not confirmed).
    pub channel: Option<String>,
}

/// What to show the user while waiting.
#[derive(Debug, Clone)]
pub struct CibaStarted {
    /// The binding message sent; show it so the user can compare with the phone.
    pub binding_message: String,
    /// How long the request stays valid.
    pub expires_in: Duration,
}

#[derive(Deserialize)]
struct BackchannelResponse {
    auth_req_id: String,
    expires_in: u64,
    #[serde(default)]
    interval: Option<u64>,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

/// A short binding message, "Pli-" and four digits: only characters Keycloak-based providers
/// accept in `binding_message` (letters, digits, `-_+.,`), no spaces.
pub fn binding_message() -> String {
    let r = CsrfToken::new_random();
    let digits: String = r
        .secret()
        .bytes()
        .take(4)
        .map(|b| char::from(b'0' + b % 10))
        .collect();
    format!("Pli-{digits}")
}

/// Interval after a `slow_down` (RFC 8628 §3.5 / CIBA §11: at least 5 s more).
pub fn slowed_down(interval: Duration) -> Duration {
    interval + Duration::from_secs(5)
}

/// Runs CIBA for `req` and establishes the session; `on_started` is called once the
/// provider accepted the request (show the binding message).
pub async fn login_with_ciba(
    provider: &Arc<PscProvider>,
    req: &CibaLogin,
    on_started: &(dyn Fn(&CibaStarted) + Send + Sync),
    cancel: &CancellationToken,
) -> Result<PscSession, AuthError> {
    let endpoint = provider
        .metadata()
        .additional_metadata()
        .backchannel_authentication_endpoint
        .clone()
        .ok_or_else(|| AuthError::Discovery("pas de point d'accès CIBA".into()))?;
    let token_endpoint = provider
        .metadata()
        .token_endpoint()
        .ok_or_else(|| AuthError::Discovery("pas de token_endpoint".into()))?
        .to_string();
    let rc = provider.resolve_client(ClientKind::Ciba)?;
    let cfg = provider.config();
    let binding = req.binding_message.clone().unwrap_or_else(binding_message);
    let mut form = vec![
        ("scope", cfg.scopes.join(" ")),
        ("acr_values", cfg.acr_values.clone()),
        ("login_hint", req.login_hint.clone()),
        ("binding_message", binding.clone()),
    ];
    if let Some(c) = &req.channel {
        form.push(("channel", c.clone()));
    }
    let http = provider.http();
    let post = rc.authenticate(http.post(&endpoint), &mut form, provider.issuer().as_str())?;
    let resp = tokio::select! {
        _ = cancel.cancelled() => return Err(AuthError::Cancelled),
        r = post.form(&form).send() => r.map_err(|e| AuthError::Http(e.without_url().to_string()))?,
    };
    let status = resp.status();
    let body = resp
        .bytes()
        .await
        .map_err(|e| AuthError::Http(e.to_string()))?;
    if !status.is_success() {
        return Err(provider_error(status, &body));
    }
    let started: BackchannelResponse = serde_json::from_slice(&body)
        .map_err(|e| AuthError::Http(format!("réponse CIBA illisible : {e}")))?;
    let expires_in = Duration::from_secs(started.expires_in);
    on_started(&CibaStarted {
        binding_message: binding,
        expires_in,
    });
    let deadline = Instant::now() + expires_in;
    let mut interval = Duration::from_secs(started.interval.unwrap_or(5).max(1));
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return Err(AuthError::Cancelled),
            _ = tokio::time::sleep(interval) => {}
        }
        if Instant::now() >= deadline {
            return Err(AuthError::Expired);
        }
        let mut form = vec![
            ("grant_type", CIBA_GRANT.to_owned()),
            ("auth_req_id", started.auth_req_id.clone()),
        ];
        let post = rc.authenticate(
            http.post(&token_endpoint),
            &mut form,
            provider.issuer().as_str(),
        )?;
        let resp = tokio::select! {
            _ = cancel.cancelled() => return Err(AuthError::Cancelled),
            r = post.form(&form).send() => r.map_err(|e| AuthError::Http(e.without_url().to_string()))?,
        };
        let status = resp.status();
        let body = resp
            .bytes()
            .await
            .map_err(|e| AuthError::Http(e.to_string()))?;
        if status.is_success() {
            let tokens: CoreTokenResponse = serde_json::from_slice(&body)
                .map_err(|e| AuthError::Http(format!("réponse de jeton illisible : {e}")))?;
            return PscSession::establish(
                provider.clone(),
                ClientKind::Ciba,
                Issued::from(&tokens),
                NonceCheck::NotSent,
                Some(&req.login_hint),
            )
            .await;
        }
        match poll_outcome(status, &body) {
            Poll::Pending => {}
            Poll::SlowDown => interval = slowed_down(interval),
            Poll::Fail(e) => return Err(e),
        }
    }
}

enum Poll {
    Pending,
    SlowDown,
    Fail(AuthError),
}

fn poll_outcome(status: reqwest::StatusCode, body: &[u8]) -> Poll {
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(e) => match e.error.as_str() {
            "authorization_pending" => Poll::Pending,
            "slow_down" => Poll::SlowDown,
            "expired_token" => Poll::Fail(AuthError::Expired),
            "access_denied" => Poll::Fail(AuthError::Denied),
            _ => Poll::Fail(AuthError::Provider {
                code: e.error,
                description: e.error_description,
            }),
        },
        Err(_) => Poll::Fail(AuthError::Http(format!(
            "point d'accès de jeton : HTTP {status}"
        ))),
    }
}

fn provider_error(status: reqwest::StatusCode, body: &[u8]) -> AuthError {
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(e) if e.error == "access_denied" => AuthError::Denied,
        Ok(e) => AuthError::Provider {
            code: e.error,
            description: e.error_description,
        },
        Err(_) => AuthError::Http(format!("CIBA : HTTP {status}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poll_answers_are_classified() {
        let s = reqwest::StatusCode::BAD_REQUEST;
        assert!(matches!(
            poll_outcome(s, br#"{"error":"authorization_pending"}"#),
            Poll::Pending
        ));
        assert!(matches!(
            poll_outcome(s, br#"{"error":"slow_down"}"#),
            Poll::SlowDown
        ));
        assert!(matches!(
            poll_outcome(s, br#"{"error":"expired_token"}"#),
            Poll::Fail(AuthError::Expired)
        ));
        assert!(matches!(
            poll_outcome(s, br#"{"error":"access_denied"}"#),
            Poll::Fail(AuthError::Denied)
        ));
        assert!(matches!(
            poll_outcome(s, br#"{"error":"invalid_grant","error_description":"x"}"#),
            Poll::Fail(AuthError::Provider { .. })
        ));
        assert!(matches!(
            poll_outcome(s, b"<html>"),
            Poll::Fail(AuthError::Http(_))
        ));
        assert_eq!(slowed_down(Duration::from_secs(5)), Duration::from_secs(10));
    }

    #[test]
    fn binding_messages_are_short_and_plain() {
        let m = binding_message();
        assert!(m.starts_with("Pli-"), "{m}");
        assert_eq!(m.len(), 8);
        assert!(m[4..].chars().all(|c| c.is_ascii_digit()), "{m}");
    }
}
