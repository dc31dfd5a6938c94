//! Errors of the Pro Santé Connect flows. Messages are French: they reach the user.

use crate::secrets::SecretError;

/// Why an ID token (or a signed userinfo) was rejected. Each variant names the check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdTokenProblem {
    /// No ID token in a token response that must carry one.
    #[error("aucun jeton d'identité dans la réponse")]
    Missing,
    /// Signature invalid, unknown key or algorithm not allowed.
    #[error("signature invalide ({0})")]
    Signature(String),
    /// `iss` is not the configured issuer.
    #[error("émetteur (iss) inattendu ({0})")]
    Issuer(String),
    /// `aud` does not contain our client id.
    #[error("audience (aud) inattendue ({0})")]
    Audience(String),
    /// `exp` is in the past.
    #[error("jeton expiré ({0})")]
    Expired(String),
    /// `nonce` differs from the one sent in the authorization request.
    #[error("nonce différent de celui de la demande ({0})")]
    Nonce(String),
    /// `acr` below the required level (e.g. below `eidas1`).
    #[error("niveau d'authentification insuffisant ({0})")]
    Acr(String),
    /// `sub` differs from the session's subject (refresh, userinfo).
    #[error("identité différente de celle de la session ({0})")]
    Subject(String),
    /// Malformed token.
    #[error("jeton illisible ({0})")]
    Malformed(String),
}

/// Errors of login, refresh, userinfo and logout.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The provider's discovery document or keys could not be obtained.
    #[error("Pro Santé Connect injoignable ou mal configuré : {0}")]
    Discovery(String),
    /// An HTTP exchange with the provider failed (network, TLS, unexpected answer).
    #[error("échange avec Pro Santé Connect impossible : {0}")]
    Http(String),
    /// The configuration cannot be used for this flow.
    #[error("configuration Pro Santé Connect : {0}")]
    Config(String),
    /// A configured option Pli does not implement yet.
    #[error("non pris en charge pour l'instant : {0}")]
    Unsupported(String),
    /// The client secret could not be read from the keyring, or the refresh token stored.
    #[error(transparent)]
    Secret(#[from] SecretError),
    /// The ID token (or signed userinfo) failed a check.
    #[error("jeton d'identité refusé : {0}")]
    IdToken(#[from] IdTokenProblem),
    /// The provider answered an error at the token or CIBA endpoint.
    #[error("Pro Santé Connect a refusé la demande : {code}{}", description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Provider {
        /// OAuth error code (`invalid_grant`, `unknown_user_id`, …).
        code: String,
        /// Human description given by the provider, if any.
        description: Option<String>,
    },
    /// The user refused (consent page, e-CPS app, card).
    #[error("connexion refusée par l'utilisateur ou par Pro Santé Connect")]
    Denied,
    /// The CIBA request expired before approval.
    #[error(
        "la demande de connexion a expiré sans validation sur l'application e-CPS ou la carte"
    )]
    Expired,
    /// The browser login did not come back in time.
    #[error("délai de connexion dépassé : aucune réponse du navigateur")]
    Timeout,
    /// The user cancelled.
    #[error("connexion annulée")]
    Cancelled,
    /// The system browser could not be opened.
    #[error("impossible d'ouvrir le navigateur : {0} — ouvrez l'adresse affichée à la main")]
    Browser(String),
    /// The loopback listener could not be opened.
    #[error("impossible d'attendre la réponse du navigateur sur 127.0.0.1 : {0}")]
    Loopback(String),
    /// The authenticated person is not the one expected (CIBA `login_hint`, stored session).
    #[error("la personne authentifiée ({got}) n'est pas celle attendue ({expected})")]
    WrongPerson {
        /// National id expected.
        expected: String,
        /// National id authenticated.
        got: String,
    },
    /// No valid session: a new login is needed (ECO.1.2.6).
    #[error("la session Pro Santé Connect a expiré : reconnectez-vous")]
    LoginRequired,
    /// The session is locked after inactivity.
    #[error("session verrouillée après inactivité : reconnectez-vous pour continuer")]
    Locked,
}

impl From<AuthError> for super::CredentialsError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::LoginRequired => super::CredentialsError::LoginRequired,
            AuthError::Locked => super::CredentialsError::Locked,
            other => super::CredentialsError::Provider(other.to_string()),
        }
    }
}
