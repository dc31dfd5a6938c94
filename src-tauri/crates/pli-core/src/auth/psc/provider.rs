//! The PSC provider as configured: discovery (PSC's non-standard path first), signing keys,
//! the HTTP client, and the two registered clients (browser and CIBA) with their
//! authentication method.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use openidconnect::core::{
    CoreAuthDisplay, CoreClaimName, CoreClaimType, CoreClient, CoreClientAuthMethod, CoreGrantType,
    CoreJsonWebKey, CoreJsonWebKeySet, CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm, CoreResponseMode, CoreResponseType, CoreSubjectIdentifierType,
};
use openidconnect::{
    AdditionalProviderMetadata, AuthType, ClientId, ClientSecret, EndpointNotSet, EndpointSet,
    IssuerUrl, JsonWebKeySet, ProviderMetadata, RedirectUrl,
};
use serde::{Deserialize, Serialize};

use super::client_auth::{resolve, ResolvedClient};
use super::verify::VerifyContext;
use crate::auth::AuthError;
use crate::config::{ClientAuth, Config, Environment, PscClient, PscConfig};

/// The standard discovery path, tried when the configured (PSC) one fails.
pub const STANDARD_DISCOVERY_PATH: &str = "/.well-known/openid-configuration";

/// Metadata beyond OIDC Discovery core that Pli uses.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PscExtraMetadata {
    /// RP-initiated logout.
    #[serde(default)]
    pub end_session_endpoint: Option<String>,
    /// RFC 7009 revocation.
    #[serde(default)]
    pub revocation_endpoint: Option<String>,
    /// RFC 7662 introspection (used by the operator, not by Pli).
    #[serde(default)]
    pub introspection_endpoint: Option<String>,
    /// CIBA backchannel authentication.
    #[serde(default)]
    pub backchannel_authentication_endpoint: Option<String>,
}
impl AdditionalProviderMetadata for PscExtraMetadata {}

/// Provider metadata with PSC's extra endpoints.
pub type PscProviderMetadata = ProviderMetadata<
    PscExtraMetadata,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

/// The openidconnect client with authorization and token endpoints set.
pub(crate) type OidcClient =
    CoreClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// Which registered client a flow uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClientKind {
    /// `[psc.browser]`: authorization code + PKCE in the system browser.
    Browser,
    /// `[psc.ciba]`: push to the e-CPS app or the card.
    Ciba,
}

/// A discovered PSC provider for one configuration.
pub struct PscProvider {
    environment: Environment,
    config: PscConfig,
    http: reqwest::Client,
    metadata: PscProviderMetadata,
    jwks: CoreJsonWebKeySet,
}

impl fmt::Debug for PscProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PscProvider")
            .field("environment", &self.environment)
            .field("issuer", &self.config.issuer)
            .finish_non_exhaustive()
    }
}

/// The HTTP client for PSC: no redirects followed (token endpoints must not redirect), bounded
/// time, the configured extra trust anchor when there is one.
fn http_client(cfg: &PscConfig) -> Result<reqwest::Client, AuthError> {
    let mut b = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(30))
        .user_agent(concat!("Pli/", env!("CARGO_PKG_VERSION")));
    if let Some(ca) = &cfg.ca_file {
        let pem = std::fs::read(ca)
            .map_err(|e| AuthError::Config(format!("ca_file {} : {e}", ca.display())))?;
        for cert in reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| AuthError::Config(format!("ca_file {} : {e}", ca.display())))?
        {
            b = b.add_root_certificate(cert);
        }
    }
    b.build().map_err(|e| AuthError::Config(e.to_string()))
}

impl PscProvider {
    /// Fetches the discovery document (configured path, then the standard one) and the
    /// signing keys. The document's `issuer` must equal the configured issuer.
    pub async fn discover(config: &Config) -> Result<Arc<Self>, AuthError> {
        let psc = config.psc.clone();
        let http = http_client(&psc)?;
        let issuer = psc.issuer.trim_end_matches('/').to_owned();
        let mut paths = vec![psc.discovery_path.clone()];
        if psc.discovery_path != STANDARD_DISCOVERY_PATH {
            paths.push(STANDARD_DISCOVERY_PATH.to_owned());
        }
        let mut failures = Vec::new();
        let mut found = None;
        for path in paths {
            let url = format!("{issuer}{path}");
            match fetch_metadata(&http, &url).await {
                Ok(m) => {
                    found = Some(m);
                    break;
                }
                Err(e) => {
                    tracing::debug!(%url, error = %e, "PSC discovery failed at this path");
                    failures.push(format!("{url}: {e}"));
                }
            }
        }
        let metadata = found.ok_or_else(|| AuthError::Discovery(failures.join(" ; ")))?;
        if metadata.issuer().as_str().trim_end_matches('/') != issuer {
            return Err(AuthError::Discovery(format!(
                "le document annonce l'émetteur {} au lieu de {issuer}",
                metadata.issuer().as_str()
            )));
        }
        let jwks: CoreJsonWebKeySet = JsonWebKeySet::fetch_async(metadata.jwks_uri(), &http)
            .await
            .map_err(|e| AuthError::Discovery(format!("clés de signature : {e}")))?;
        Ok(Arc::new(Self {
            environment: config.environment,
            config: psc,
            http,
            metadata,
            jwks,
        }))
    }

    /// The environment this provider belongs to (namespaces the keyring entries).
    pub fn environment(&self) -> Environment {
        self.environment
    }

    /// The PSC settings.
    pub fn config(&self) -> &PscConfig {
        &self.config
    }

    /// The discovered metadata.
    pub fn metadata(&self) -> &PscProviderMetadata {
        &self.metadata
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The issuer as configured and confirmed by discovery.
    pub fn issuer(&self) -> &IssuerUrl {
        self.metadata.issuer()
    }

    fn registration(&self, kind: ClientKind) -> Result<&PscClient, AuthError> {
        match kind {
            ClientKind::Browser => Ok(&self.config.browser),
            ClientKind::Ciba => self.config.ciba.as_ref().ok_or_else(|| {
                AuthError::Config("aucun client CIBA ([psc.ciba]) n'est configuré".into())
            }),
        }
    }

    /// The client id and its secret (from the keyring, or the sandbox's literal).
    pub(crate) fn resolve_client(&self, kind: ClientKind) -> Result<ResolvedClient, AuthError> {
        resolve(self.registration(kind)?, self.environment)
    }

    /// An openidconnect client for `kind`, with the token endpoint authentication configured.
    pub(crate) fn oidc_client(
        &self,
        kind: ClientKind,
        redirect: Option<RedirectUrl>,
    ) -> Result<OidcClient, AuthError> {
        let rc = self.resolve_client(kind)?;
        let token_url = self
            .metadata
            .token_endpoint()
            .cloned()
            .ok_or_else(|| AuthError::Discovery("pas de token_endpoint".into()))?;
        let mut client = CoreClient::new(
            ClientId::new(rc.id.clone()),
            self.metadata.issuer().clone(),
            self.jwks.clone(),
        )
        .set_auth_uri(self.metadata.authorization_endpoint().clone())
        .set_token_uri(token_url);
        // With private_key_jwt the key is never a client secret: the assertion is added to
        // each request (`ResolvedClient::assertion_params`).
        if let (ClientAuth::ClientSecretBasic | ClientAuth::ClientSecretPost, Some(secret)) =
            (rc.auth, rc.secret)
        {
            client = client.set_client_secret(ClientSecret::new(secret));
        }
        client = client.set_auth_type(match rc.auth {
            ClientAuth::ClientSecretBasic => AuthType::BasicAuth,
            _ => AuthType::RequestBody,
        });
        if let Some(r) = redirect {
            client = client.set_redirect_uri(r);
        }
        Ok(client)
    }

    /// What ID tokens for `kind` are checked against.
    pub fn verify_context(&self, kind: ClientKind) -> Result<VerifyContext, AuthError> {
        Ok(VerifyContext {
            client_id: self.registration(kind)?.client_id.clone(),
            issuer: self.metadata.issuer().clone(),
            jwks: self.jwks.clone(),
            required_acr: self.config.acr_values.clone(),
        })
    }
}

async fn fetch_metadata(http: &reqwest::Client, url: &str) -> Result<PscProviderMetadata, String> {
    let resp = http.get(url).send().await.map_err(|e| e.to_string())?;
    let status = resp.status();
    if !status.is_success() {
        return Err(format!("HTTP {status}"));
    }
    let body = resp.bytes().await.map_err(|e| e.to_string())?;
    serde_json::from_slice(&body).map_err(|e| format!("document invalide : {e}"))
}
