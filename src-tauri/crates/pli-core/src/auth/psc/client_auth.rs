//! How Pli authenticates itself (the client) at PSC's token, CIBA and revocation endpoints:
//! none (public client + PKCE), `client_secret_basic`, `client_secret_post`, or
//! `private_key_jwt` (RFC 7523 assertion signed with an RSA key kept in the keyring).

use std::fmt;

use base64::Engine as _;
use openidconnect::core::{CoreJwsSigningAlgorithm, CoreRsaPrivateSigningKey};
use openidconnect::{CsrfToken, PrivateSigningKey};

use crate::auth::AuthError;
use crate::config::{ClientAuth, Environment, PscClient, SecretRef};
use crate::secrets;

/// The assertion type of `private_key_jwt`.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Lifetime of a client assertion.
const ASSERTION_TTL_SECS: u64 = 60;

/// A client id with its authentication, the secret (or PEM private key) resolved.
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
    /// `client_assertion_type` and `client_assertion` for `private_key_jwt` (empty otherwise).
    /// `audience` is the provider's issuer, which Keycloak and the CIBA spec accept at every
    /// endpoint.
    pub fn assertion_params(
        &self,
        audience: &str,
    ) -> Result<Vec<(&'static str, String)>, AuthError> {
        if self.auth != ClientAuth::PrivateKeyJwt {
            return Ok(vec![]);
        }
        let pem = self
            .secret
            .as_deref()
            .ok_or_else(|| AuthError::Config("clé privée du client absente".into()))?;
        Ok(vec![
            ("client_assertion_type", JWT_BEARER.to_owned()),
            (
                "client_assertion",
                client_assertion(&self.id, pem, audience)?,
            ),
        ])
    }

    /// Adds client authentication to a hand-made request (CIBA, revocation): HTTP Basic with
    /// form-urlencoded parts (RFC 6749 §2.3.1), the secret in the body, a signed assertion, or
    /// just `client_id` for a public client.
    pub fn authenticate(
        &self,
        req: reqwest::RequestBuilder,
        form: &mut Vec<(&'static str, String)>,
        audience: &str,
    ) -> Result<reqwest::RequestBuilder, AuthError> {
        let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        Ok(match (self.auth, &self.secret) {
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
                form.extend(self.assertion_params(audience)?);
                req
            }
        })
    }
}

/// A signed RFC 7523 client assertion: `iss` = `sub` = client id, `aud`, a random `jti`, one
/// minute of validity, RS256 with the PEM (PKCS#1) RSA key.
pub(crate) fn client_assertion(
    client_id: &str,
    pem: &str,
    audience: &str,
) -> Result<String, AuthError> {
    let key = CoreRsaPrivateSigningKey::from_pem(pem, None)
        .map_err(|e| AuthError::Config(format!("clé privée du client illisible : {e}")))?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| AuthError::Config(e.to_string()))?
        .as_secs();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header = serde_json::json!({ "alg": "RS256", "typ": "JWT" });
    let claims = serde_json::json!({
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "jti": CsrfToken::new_random().secret(),
        "iat": now,
        "exp": now + ASSERTION_TTL_SECS,
    });
    let signing_input = format!(
        "{}.{}",
        b64.encode(header.to_string()),
        b64.encode(claims.to_string())
    );
    let sig = key
        .sign(
            &CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
            signing_input.as_bytes(),
        )
        .map_err(|e| AuthError::Config(format!("signature de l'assertion : {e}")))?;
    Ok(format!("{signing_input}.{}", b64.encode(sig)))
}

/// Resolves a registration's secret or key for `environment` (literal values only in the
/// sandbox).
pub(crate) fn resolve(
    reg: &PscClient,
    environment: Environment,
) -> Result<ResolvedClient, AuthError> {
    let secret = match reg.client_auth {
        ClientAuth::None => None,
        ClientAuth::ClientSecretBasic
        | ClientAuth::ClientSecretPost
        | ClientAuth::PrivateKeyJwt => Some(match &reg.client_secret {
            Some(SecretRef::Keyring(account)) => secrets::get(account)?,
            Some(SecretRef::SandboxLiteral(s)) if environment == Environment::Sandbox => s.clone(),
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
        }),
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
    use crate::auth::psc::verify::tests::{key, PROVIDER_KEY};
    use openidconnect::core::CoreJsonWebKey;
    use openidconnect::JsonWebKey as _;

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
        assert!(rc.assertion_params("https://psc.test").unwrap().is_empty());
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
                "aud",
            )
            .unwrap()
            .build()
            .unwrap();
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
        let _req = post
            .authenticate(
                reqwest::Client::new().post("http://127.0.0.1:9/x"),
                &mut form,
                "aud",
            )
            .unwrap();
        assert_eq!(
            form,
            [
                ("client_id", "pli client".to_owned()),
                ("client_secret", "a:b&c".to_owned())
            ]
        );
    }

    #[test]
    fn private_key_jwt_sends_a_signed_assertion_for_the_issuer() {
        let rc = resolve(
            &reg(
                ClientAuth::PrivateKeyJwt,
                Some(SecretRef::SandboxLiteral(PROVIDER_KEY.into())),
            ),
            Environment::Sandbox,
        )
        .unwrap();
        let mut form = Vec::new();
        let req = rc
            .authenticate(
                reqwest::Client::new().post("http://127.0.0.1:9/x"),
                &mut form,
                "https://psc.test/realm",
            )
            .unwrap()
            .build()
            .unwrap();
        assert!(req.headers().get("authorization").is_none());
        assert_eq!(form[0], ("client_id", "pli".to_owned()));
        assert_eq!(form[1], ("client_assertion_type", JWT_BEARER.to_owned()));
        let jwt = &form[2].1;
        assert!(!jwt.contains("PRIVATE KEY"));
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let claims: serde_json::Value =
            serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(claims["iss"], "pli");
        assert_eq!(claims["sub"], "pli");
        assert_eq!(claims["aud"], "https://psc.test/realm");
        assert_eq!(
            claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
            60
        );
        // The signature verifies with the key's public half, and not over altered claims.
        let public: CoreJsonWebKey = key(PROVIDER_KEY).as_verification_key();
        let sig = b64.decode(parts[2]).unwrap();
        let input = format!("{}.{}", parts[0], parts[1]);
        public
            .verify_signature(
                &CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
                input.as_bytes(),
                &sig,
            )
            .unwrap();
        let forged = format!("{}.{}", parts[0], b64.encode(b"{\"iss\":\"evil\"}"));
        assert!(public
            .verify_signature(
                &CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
                forged.as_bytes(),
                &sig,
            )
            .is_err());
        // Two assertions never share a jti (replay protection at the provider).
        let again = rc.assertion_params("https://psc.test/realm").unwrap();
        assert_ne!(&again[1].1, jwt);
    }

    #[test]
    fn unreadable_private_key_is_a_clear_error() {
        let rc = ResolvedClient {
            id: "pli".into(),
            auth: ClientAuth::PrivateKeyJwt,
            secret: Some("not a pem".into()),
        };
        let err = rc.assertion_params("aud").unwrap_err();
        assert!(err.to_string().contains("clé privée"), "{err}");
    }
}
