//! Pro Santé Connect (OpenID Connect on the `openidconnect` crate): discovery at PSC's
//! non-standard path, authorization code + PKCE in the system browser, CIBA, userinfo (JSON or
//! signed JWT), refresh, keyring storage and logout. Decision 0011 records the choices.

mod ciba;
mod claims;
mod client_auth;
mod code_flow;
mod loopback;
mod provider;
mod session;
mod store;
mod verify;

pub use ciba::{binding_message, login_with_ciba, CibaLogin, CibaStarted};
pub use claims::{parse_userinfo, Activity, Exercice, Identity, PscClaims, PscUserInfo, RefPro};
pub use code_flow::{login_with_browser, BrowserLogin};
pub use loopback::{Callback, Loopback};
pub use provider::{ClientKind, PscExtraMetadata, PscProvider, PscProviderMetadata};
pub use session::{refresh_due, refresh_margin, PscSession};
pub use store::{
    current as current_login, current_account, env_name, forget, refresh_account, stored_identity,
    ShownIdentity,
};
pub use verify::{acr_satisfies, verify_id_token, NonceCheck, VerifyContext};

/// The nonce type of ID token checks.
pub use openidconnect::Nonce;
/// Cancels a login in progress (browser wait, CIBA polling).
pub use tokio_util::sync::CancellationToken;
