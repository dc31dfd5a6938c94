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

use super::verify::VerifyContext;
use crate::auth::AuthError;
use crate::config::{ClientAuth, Config, Environment, PscClient, PscConfig, SecretRef};
use crate::secrets;

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

/// A client id with its authentication, the secret resolved from the keyring.
#[derive(Clone)]
pub(crate) struct ResolvedClient {
    pub id: String,
    pub auth: ClientAuth,
    pub secret: Option<String>,
}

impl fmt::Debug for ResolvedClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResolvedClient")
            .field("id", &self.id)
            .field("auth", &self.auth)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl ResolvedClient {
    /// Adds client authentication to a hand-made token-endpoint-style request (CIBA,
    /// revocation): HTTP Basic with form-urlencoded parts (RFC 6749 §2.3.1), the secret in the
    /// body, or just `client_id` for a public client.
    pub fn authenticate(
        &self,
        req: reqwest::RequestBuilder,
        form: &mut Vec<(&'static str, String)>,
    ) -> reqwest::RequestBuilder {
        let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        match (self.auth, &self.secret) {
            (ClientAuth::ClientSecretBasic, Some(secret)) => {
                req.basic_auth(enc(&self.id), Some(enc(secret)))
            }
            (ClientAuth::ClientSecretPost, Some(secret)) => {
                form.push(("client_id", self.id.clone()));
                form.push(("client_secret", secret.clone()));
                req
            }
            _ => {
                form.push(("client_id", self.id.clone()));
                req
            }
        }
    }
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
        if let Some(secret) = rc.secret {
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

/// Resolves a registration's secret for `environment` (literal secrets only in the sandbox).
fn resolve(reg: &PscClient, environment: Environment) -> Result<ResolvedClient, AuthError> {
    let secret = match reg.client_auth {
        ClientAuth::None => None,
        ClientAuth::PrivateKeyJwt => {
            return Err(AuthError::Unsupported(
                "authentification du client par private_key_jwt".into(),
            ))
        }
        ClientAuth::ClientSecretBasic | ClientAuth::ClientSecretPost => {
            Some(match &reg.client_secret {
                Some(SecretRef::Keyring(account)) => secrets::get(account)?,
                Some(SecretRef::SandboxLiteral(s)) if environment == Environment::Sandbox => {
                    s.clone()
                }
                Some(SecretRef::SandboxLiteral(_)) => {
                    return Err(AuthError::Config(
                        "secret littéral refusé hors du bac à sable".into(),
                    ))
                }
                None => {
                    return Err(AuthError::Config(format!(
                        "le client {} n'a pas de client_secret",
                        reg.client_id
                    )))
                }
            })
        }
    };
    Ok(ResolvedClient {
        id: reg.client_id.clone(),
        auth: reg.client_auth,
        secret,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg(auth: ClientAuth, secret: Option<SecretRef>) -> PscClient {
        PscClient {
            client_id: "pli".into(),
            client_auth: auth,
            client_secret: secret,
        }
    }

    #[test]
    fn public_client_has_no_secret() {
        let rc = resolve(&reg(ClientAuth::None, None), Environment::Production).unwrap();
        assert!(rc.secret.is_none());
    }

    #[test]
    fn literal_secret_only_in_the_sandbox_and_never_in_debug() {
        let r = reg(
            ClientAuth::ClientSecretBasic,
            Some(SecretRef::SandboxLiteral("s3cret".into())),
        );
        let rc = resolve(&r, Environment::Sandbox).unwrap();
        assert_eq!(rc.secret.as_deref(), Some("s3cret"));
        assert!(!format!("{rc:?}").contains("s3cret"));
        let err = resolve(&r, Environment::Bas).unwrap_err();
        assert!(matches!(err, AuthError::Config(_)), "{err:?}");
    }

    #[test]
    fn private_key_jwt_says_not_supported_yet() {
        let err = resolve(
            &reg(ClientAuth::PrivateKeyJwt, None),
            Environment::Production,
        )
        .unwrap_err();
        assert!(matches!(err, AuthError::Unsupported(_)), "{err:?}");
        assert!(err.to_string().contains("private_key_jwt"), "{err}");
    }

    #[test]
    fn basic_auth_encodes_id_and_secret_form_style() {
        let rc = ResolvedClient {
            id: "pli client".into(),
            auth: ClientAuth::ClientSecretBasic,
            secret: Some("a:b&c".into()),
        };
        let mut form = Vec::new();
        let req = rc
            .authenticate(
                reqwest::Client::new().post("http://127.0.0.1:9/x"),
                &mut form,
            )
            .build()
            .unwrap();
        use base64::Engine as _;
        let expected = base64::engine::general_purpose::STANDARD.encode("pli+client:a%3Ab%26c");
        assert_eq!(
            req.headers()["authorization"].to_str().unwrap(),
            format!("Basic {expected}")
        );
        assert!(form.is_empty());
        let post = ResolvedClient {
            auth: ClientAuth::ClientSecretPost,
            ..rc
        };
        let _req = post.authenticate(
            reqwest::Client::new().post("http://127.0.0.1:9/x"),
            &mut form,
        );
        assert_eq!(
            form,
            [
                ("client_id", "pli client".to_owned()),
                ("client_secret", "a:b&c".to_owned())
            ]
        );
    }
}
