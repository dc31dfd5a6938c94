//! Authentication: Pro Santé Connect tokens and the SASL XOAUTH2 string built from them.
//!
//! The mail code never sees OAuth flows: it asks a [`Credentials`] provider for a fresh
//! [`Xoauth2`] for a mailbox (Ref#2 ECO.1.2.1), and the provider owns refresh and login.

mod error;
mod lock;
pub mod psc;
mod secret;
mod xoauth2;

pub use error::{AuthError, IdTokenProblem};
pub use lock::{InactivityLock, DEFAULT_LOCK_AFTER};
pub use secret::AccessToken;
pub use xoauth2::Xoauth2;

use std::future::Future;
use std::pin::Pin;

/// Why credentials could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    /// No valid PSC session: the user must log in again (ECO.1.2.6).
    #[error("la session Pro Santé Connect a expiré : reconnectez-vous")]
    LoginRequired,
    /// The provider could not be reached or answered with an error.
    #[error("Pro Santé Connect : {0}")]
    Provider(String),
    /// The session is locked after inactivity; the user must authenticate again.
    #[error("session verrouillée après inactivité : reconnectez-vous pour continuer")]
    Locked,
}

/// Opens a URL for the user: the app opens the system browser; tests drive the URL
/// themselves. Returns a message when the browser could not be started.
pub trait OpenBrowser: Send + Sync {
    /// Opens `url`.
    fn open(&self, url: &str) -> Result<(), String>;
}

impl<F> OpenBrowser for F
where
    F: Fn(&str) -> Result<(), String> + Send + Sync,
{
    fn open(&self, url: &str) -> Result<(), String> {
        self(url)
    }
}

/// Gives the mail code a fresh XOAUTH2 string for a mailbox.
pub trait Credentials: Send + Sync + std::fmt::Debug {
    /// Returns credentials valid now for `mailbox` (refreshing the token if needed).
    fn xoauth2<'a>(
        &'a self,
        mailbox: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<Xoauth2, CredentialsError>> + Send + 'a>>;

    /// Who acts with these credentials, for the audit trail (ECO.4.1.1): the national id of
    /// a PSC session; `None` for a token given by hand (tests, automation).
    fn actor(&self) -> Option<String> {
        None
    }
}

/// Credentials from a token obtained elsewhere (tests, `pli` with a token in the keyring).
#[derive(Debug, Clone)]
pub struct StaticToken(pub AccessToken);

impl Credentials for StaticToken {
    fn xoauth2<'a>(
        &'a self,
        mailbox: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<Xoauth2, CredentialsError>> + Send + 'a>> {
        let x = Xoauth2::new(mailbox, &self.0);
        Box::pin(async move { Ok(x) })
    }
}
