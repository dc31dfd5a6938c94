//! ID token verification: signature (asymmetric algorithms only, keys from the provider's
//! JWKS), `iss`, `aud`, `exp`, `nonce` and `acr` (PSC levels `eidas1` < `eidas2` < `eidas3`;
//! the ANS Keycloak connector rejects anything below `eidas1`, so does Pli).

use openidconnect::core::{
    CoreIdToken, CoreIdTokenClaims, CoreIdTokenVerifier, CoreJsonWebKeySet, CoreJwsSigningAlgorithm,
};
use openidconnect::{
    AuthenticationContextClass, ClaimsVerificationError, ClientId, IssuerUrl, Nonce,
    SubjectIdentifier,
};

use crate::auth::IdTokenProblem;

/// What an ID token is checked against.
#[derive(Debug, Clone)]
pub struct VerifyContext {
    /// Our client id: must be in `aud`.
    pub client_id: String,
    /// The provider's issuer: must equal `iss`.
    pub issuer: IssuerUrl,
    /// The provider's signing keys.
    pub jwks: CoreJsonWebKeySet,
    /// Minimum `acr` (from the configuration's `acr_values`).
    pub required_acr: String,
}

/// What the nonce of an ID token must be.
#[derive(Debug, Clone, Copy)]
pub enum NonceCheck<'a> {
    /// Equal to the one sent in the authorization request (code flow).
    Expect(&'a Nonce),
    /// No nonce was sent (CIBA, refresh): any or none is accepted.
    NotSent,
}

/// Rank of a PSC authentication level; `None` for values Pli does not know.
pub fn acr_rank(acr: &str) -> Option<u8> {
    match acr {
        "eidas1" => Some(1),
        "eidas2" => Some(2),
        "eidas3" => Some(3),
        _ => None,
    }
}

/// Whether `got` satisfies `required`: known levels are ordered; an unknown required value
/// must be matched exactly; a missing or unknown `acr` never satisfies a known level.
pub fn acr_satisfies(got: Option<&str>, required: &str) -> Result<(), String> {
    // `acr_values` may list several values; the first one is the floor.
    let required = required.split_whitespace().next().unwrap_or("eidas1");
    let Some(got) = got else {
        return Err(format!("aucun acr, {required} exigé"));
    };
    let ok = match (acr_rank(got), acr_rank(required)) {
        (Some(g), Some(r)) => g >= r,
        (_, None) => got == required,
        (None, Some(_)) => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!("acr {got}, {required} exigé"))
    }
}

fn map_problem(e: ClaimsVerificationError) -> IdTokenProblem {
    use ClaimsVerificationError as E;
    match e {
        E::InvalidAudience(m) => IdTokenProblem::Audience(m),
        E::InvalidIssuer(m) => IdTokenProblem::Issuer(m),
        E::Expired(m) => IdTokenProblem::Expired(m),
        E::InvalidNonce(m) => IdTokenProblem::Nonce(m),
        E::InvalidAuthContext(m) => IdTokenProblem::Acr(m),
        E::InvalidSubject(m) => IdTokenProblem::Subject(m),
        E::SignatureVerification(s) => IdTokenProblem::Signature(s.to_string()),
        other => IdTokenProblem::Malformed(other.to_string()),
    }
}

/// The asymmetric algorithms accepted for ID tokens (never `none`, never HMAC).
pub(crate) fn allowed_algs() -> Vec<CoreJwsSigningAlgorithm> {
    use CoreJwsSigningAlgorithm as A;
    vec![
        A::RsaSsaPkcs1V15Sha256,
        A::RsaSsaPkcs1V15Sha384,
        A::RsaSsaPkcs1V15Sha512,
        A::RsaSsaPssSha256,
        A::RsaSsaPssSha384,
        A::RsaSsaPssSha512,
        A::EcdsaP256Sha256,
        A::EcdsaP384Sha384,
        A::EdDsa,
    ]
}

/// Verifies a raw ID token and returns its claims; `expected_sub` is the session's subject
/// for ID tokens that come with a refresh.
pub fn verify_id_token(
    raw: &str,
    ctx: &VerifyContext,
    nonce: NonceCheck<'_>,
    expected_sub: Option<&SubjectIdentifier>,
) -> Result<CoreIdTokenClaims, IdTokenProblem> {
    let token: CoreIdToken = raw
        .parse()
        .map_err(|e: serde_json::Error| IdTokenProblem::Malformed(e.to_string()))?;
    let required = ctx.required_acr.clone();
    let verifier = CoreIdTokenVerifier::new_public_client(
        ClientId::new(ctx.client_id.clone()),
        ctx.issuer.clone(),
        ctx.jwks.clone(),
    )
    .set_allowed_algs(allowed_algs())
    .set_auth_context_verifier_fn(move |acr: Option<&AuthenticationContextClass>| {
        acr_satisfies(acr.map(|a| a.as_str()), &required)
    });
    let claims = match nonce {
        NonceCheck::Expect(n) => token.claims(&verifier, n),
        NonceCheck::NotSent => token.claims(&verifier, |_: Option<&Nonce>| Ok(())),
    }
    .map_err(map_problem)?
    .clone();
    if let Some(sub) = expected_sub {
        if claims.subject() != sub {
            return Err(IdTokenProblem::Subject(format!(
                "{} au lieu de {}",
                claims.subject().as_str(),
                sub.as_str()
            )));
        }
    }
    Ok(claims)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use chrono::{Duration, Utc};
    use openidconnect::core::{CoreGenderClaim, CoreRsaPrivateSigningKey};
    use openidconnect::{
        Audience, EmptyAdditionalClaims, IdTokenClaims, JsonWebKeyId, JsonWebKeySet,
        PrivateSigningKey, StandardClaims,
    };

    pub const PROVIDER_KEY: &str = include_str!("testdata/provider-test-key.pem");
    pub const ATTACKER_KEY: &str = include_str!("testdata/attacker-test-key.pem");
    pub const ISSUER: &str = "https://psc.test/auth/realms/esante-wallet";

    pub fn key(pem: &str) -> CoreRsaPrivateSigningKey {
        CoreRsaPrivateSigningKey::from_pem(pem, Some(JsonWebKeyId::new("k1".into()))).unwrap()
    }

    pub fn ctx() -> VerifyContext {
        VerifyContext {
            client_id: "pli-desktop".into(),
            issuer: IssuerUrl::new(ISSUER.into()).unwrap(),
            jwks: JsonWebKeySet::new(vec![key(PROVIDER_KEY).as_verification_key()]),
            required_acr: "eidas1".into(),
        }
    }

    struct Spec<'a> {
        iss: &'a str,
        aud: &'a str,
        nonce: Option<&'a str>,
        acr: Option<&'a str>,
        exp_in: Duration,
        key: &'a str,
        sub: &'a str,
    }

    fn good() -> Spec<'static> {
        Spec {
            iss: ISSUER,
            aud: "pli-desktop",
            nonce: Some("n-123"),
            acr: Some("eidas1"),
            exp_in: Duration::minutes(5),
            key: PROVIDER_KEY,
            sub: "f:uuid:810100000001",
        }
    }

    fn sign(s: Spec<'_>) -> String {
        let now = Utc::now();
        let mut claims = IdTokenClaims::<EmptyAdditionalClaims, CoreGenderClaim>::new(
            IssuerUrl::new(s.iss.into()).unwrap(),
            vec![Audience::new(s.aud.into())],
            now + s.exp_in,
            now,
            StandardClaims::new(SubjectIdentifier::new(s.sub.into())),
            EmptyAdditionalClaims {},
        );
        if let Some(n) = s.nonce {
            claims = claims.set_nonce(Some(Nonce::new(n.into())));
        }
        if let Some(a) = s.acr {
            claims = claims.set_auth_context_ref(Some(AuthenticationContextClass::new(a.into())));
        }
        let t = CoreIdToken::new(
            claims,
            &key(s.key),
            CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
            None,
            None,
        )
        .unwrap();
        t.to_string()
    }

    fn check(raw: &str) -> Result<CoreIdTokenClaims, IdTokenProblem> {
        verify_id_token(
            raw,
            &ctx(),
            NonceCheck::Expect(&Nonce::new("n-123".into())),
            None,
        )
    }

    #[test]
    fn a_well_formed_token_passes() {
        let c = check(&sign(good())).unwrap();
        assert_eq!(c.subject().as_str(), "f:uuid:810100000001");
    }

    #[test]
    fn tampered_payload_breaks_the_signature() {
        let raw = sign(good());
        let mut parts: Vec<String> = raw.split('.').map(str::to_owned).collect();
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let payload = String::from_utf8(b64.decode(&parts[1]).unwrap()).unwrap();
        let forged = payload.replace("810100000001", "810100000002");
        assert_ne!(payload, forged);
        parts[1] = b64.encode(forged);
        let err = check(&parts.join(".")).unwrap_err();
        assert!(matches!(err, IdTokenProblem::Signature(_)), "{err:?}");
    }

    #[test]
    fn token_signed_by_another_key_is_rejected() {
        let err = check(&sign(Spec {
            key: ATTACKER_KEY,
            ..good()
        }))
        .unwrap_err();
        assert!(matches!(err, IdTokenProblem::Signature(_)), "{err:?}");
    }

    #[test]
    fn wrong_nonce_is_rejected() {
        let err = check(&sign(Spec {
            nonce: Some("other"),
            ..good()
        }))
        .unwrap_err();
        assert!(matches!(err, IdTokenProblem::Nonce(_)), "{err:?}");
        let err = check(&sign(Spec {
            nonce: None,
            ..good()
        }))
        .unwrap_err();
        assert!(matches!(err, IdTokenProblem::Nonce(_)), "{err:?}");
    }

    #[test]
    fn wrong_audience_is_rejected() {
        let err = check(&sign(Spec {
            aud: "another-client",
            ..good()
        }))
        .unwrap_err();
        assert!(matches!(err, IdTokenProblem::Audience(_)), "{err:?}");
    }

    #[test]
    fn wrong_issuer_is_rejected() {
        let err = check(&sign(Spec {
            iss: "https://evil.test/realm",
            ..good()
        }))
        .unwrap_err();
        assert!(matches!(err, IdTokenProblem::Issuer(_)), "{err:?}");
    }

    #[test]
    fn expired_token_is_rejected() {
        let err = check(&sign(Spec {
            exp_in: Duration::seconds(-10),
            ..good()
        }))
        .unwrap_err();
        assert!(matches!(err, IdTokenProblem::Expired(_)), "{err:?}");
    }

    #[test]
    fn acr_below_eidas1_or_missing_is_rejected() {
        for acr in [None, Some("eidas0"), Some("urn:low"), Some("")] {
            let err = check(&sign(Spec { acr, ..good() })).unwrap_err();
            assert!(matches!(err, IdTokenProblem::Acr(_)), "{acr:?}: {err:?}");
            assert!(
                err.to_string().contains("eidas1 exigé"),
                "message says what is required: {err}"
            );
        }
        // Higher levels satisfy the floor.
        check(&sign(Spec {
            acr: Some("eidas2"),
            ..good()
        }))
        .unwrap();
    }

    #[test]
    fn refresh_id_token_for_another_subject_is_rejected() {
        let raw = sign(Spec {
            nonce: None,
            ..good()
        });
        let other = SubjectIdentifier::new("f:uuid:810100000002".into());
        let err = verify_id_token(&raw, &ctx(), NonceCheck::NotSent, Some(&other)).unwrap_err();
        assert!(matches!(err, IdTokenProblem::Subject(_)), "{err:?}");
    }

    #[test]
    fn acr_order() {
        assert!(acr_satisfies(Some("eidas3"), "eidas1").is_ok());
        assert!(acr_satisfies(Some("eidas1"), "eidas2").is_err());
        assert!(acr_satisfies(Some("custom"), "custom").is_ok());
        assert!(acr_satisfies(Some("eidas1"), "custom").is_err());
    }
}
