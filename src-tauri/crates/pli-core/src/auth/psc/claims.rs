//! PSC userinfo: JSON or a signed JWT (both occur at PSC), with the PSC claims
//! (`SubjectNameID`, `SubjectRefPro.exercices[]` …) turned into an [`Identity`]: who is
//! logged in.

use openidconnect::core::{
    CoreGenderClaim, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
};
use openidconnect::{
    AdditionalClaims, ClientId, SubjectIdentifier, UserInfoClaims, UserInfoError,
    UserInfoJsonWebToken, UserInfoVerifier,
};
use serde::{Deserialize, Deserializer, Serialize};

use super::verify::VerifyContext;
use crate::auth::{AuthError, IdTokenProblem};

fn string_or_vec<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<Option<String>>),
        Null(()),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) if s.is_empty() => vec![],
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v.into_iter().flatten().collect(),
        OneOrMany::Null(()) => vec![],
    })
}

/// One activity (place of practice) of an exercice.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Activity {
    /// Mode d'exercice (S salarié, L libéral …).
    pub code_mode_exercice: Option<String>,
    /// Secteur d'activité (SA07 …).
    pub code_secteur_dactivite: Option<String>,
    /// Rôle.
    pub code_role: Option<String>,
    /// SIRET of the site.
    pub numero_siret_site: Option<String>,
    /// SIREN of the site.
    pub numero_siren_site: Option<String>,
    /// FINESS of the site.
    pub numero_finess_site: Option<String>,
    /// FINESS of the legal entity.
    pub numero_finessetablissement_juridique: Option<String>,
    /// Technical id of the structure.
    pub identifiant_technique_de_la_structure: Option<String>,
    /// Registered name of the site.
    pub raison_sociale_site: Option<String>,
    /// Trade name of the site.
    pub enseigne_commerciale_site: Option<String>,
    /// Street number.
    pub numero_voie: Option<String>,
    /// Street name.
    pub libelle_voie: Option<String>,
    /// Postal code.
    pub code_postal: Option<String>,
    /// "CP VILLE" line.
    pub bureau_cedex: Option<String>,
    /// INSEE commune code.
    pub code_commune: Option<String>,
    /// Department.
    pub code_departement: Option<String>,
    /// Phone.
    pub telephone: Option<String>,
    /// E-mail of the activity.
    #[serde(rename = "adresseEMail")]
    pub adresse_email: Option<String>,
}

/// One professional practice (`SubjectRefPro.exercices[]`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Exercice {
    /// Profession code (10 médecin …, TRE_G15).
    pub code_profession: Option<String>,
    /// Professional category (C civil, M militaire, E étudiant).
    pub code_categorie_professionnelle: Option<String>,
    /// Civility of practice (DR …).
    pub code_civilite_dexercice: Option<String>,
    /// Name used in practice.
    pub nom_dexercice: Option<String>,
    /// Given name used in practice.
    pub prenom_dexercice: Option<String>,
    /// Kind of specialty (S spécialité ordinale …).
    pub code_type_savoir_faire: Option<String>,
    /// Specialty code (SM04 cardiologie …).
    pub code_savoir_faire: Option<String>,
    /// Places of practice.
    pub activities: Vec<Activity>,
}

/// `SubjectRefPro`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RefPro {
    /// Civility.
    pub code_civilite: Option<String>,
    /// Practices.
    pub exercices: Vec<Exercice>,
}

/// The PSC-specific userinfo claims.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PscClaims {
    /// National id of the professional.
    #[serde(rename = "SubjectNameID")]
    pub subject_name_id: Option<String>,
    /// Civility code.
    #[serde(rename = "codeCivilite")]
    pub code_civilite: Option<String>,
    /// Organisation name.
    #[serde(rename = "SubjectOrganization")]
    pub subject_organization: Option<String>,
    /// Organisation id.
    #[serde(rename = "SubjectOrganizationID")]
    pub subject_organization_id: Option<String>,
    /// Roles `profession^OID`.
    #[serde(rename = "SubjectRole", deserialize_with = "string_or_vec")]
    pub subject_role: Vec<String>,
    /// Sector `code^OID`.
    #[serde(rename = "Secteur_Activite")]
    pub secteur_activite: Option<String>,
    /// Authentication level `code^OID`.
    #[serde(rename = "Palier_Authentification")]
    pub palier_authentification: Option<String>,
    /// Practices.
    #[serde(rename = "SubjectRefPro")]
    pub subject_ref_pro: Option<RefPro>,
}
impl AdditionalClaims for PscClaims {}

/// Userinfo claims with PSC's additional claims.
pub type PscUserInfo = UserInfoClaims<PscClaims, CoreGenderClaim>;

/// Who is logged in, as shown to the user and checked against mailboxes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Identity {
    /// PSC subject (`f:<uuid>:<national id>`), stable for a person.
    pub sub: String,
    /// National id (`SubjectNameID`, RPPS with prefix 8 or ADELI-based).
    pub national_id: String,
    /// Given name.
    pub given_name: Option<String>,
    /// Family name.
    pub family_name: Option<String>,
    /// Civility code.
    pub civilite: Option<String>,
    /// Organisation, if any.
    pub organisation: Option<String>,
    /// E-mail, if any.
    pub email: Option<String>,
    /// Professional practices.
    pub exercices: Vec<Exercice>,
}

impl Identity {
    /// Builds the identity from userinfo; the national id is required.
    pub fn from_userinfo(info: &PscUserInfo) -> Result<Self, AuthError> {
        let extra = info.additional_claims();
        let national_id = extra
            .subject_name_id
            .clone()
            .or_else(|| info.preferred_username().map(|u| u.as_str().to_owned()))
            .ok_or_else(|| {
                AuthError::Http("userinfo sans SubjectNameID ni preferred_username".into())
            })?;
        Ok(Self {
            sub: info.subject().as_str().to_owned(),
            national_id,
            given_name: info
                .given_name()
                .and_then(|c| c.get(None))
                .map(|v| v.to_string()),
            family_name: info
                .family_name()
                .and_then(|c| c.get(None))
                .map(|v| v.to_string()),
            civilite: extra.code_civilite.clone(),
            organisation: extra.subject_organization.clone().filter(|s| !s.is_empty()),
            email: info.email().map(|e| e.as_str().to_owned()),
            exercices: extra
                .subject_ref_pro
                .as_ref()
                .map(|r| r.exercices.clone())
                .unwrap_or_default(),
        })
    }

    /// "Dr Anne LEFÈVRE (810100000001)" — civility of practice when known.
    pub fn display_name(&self) -> String {
        let civ = self
            .exercices
            .first()
            .and_then(|e| e.code_civilite_dexercice.as_deref())
            .map(|c| match c {
                "DR" => "Dr",
                "PR" => "Pr",
                other => other,
            });
        let names = [civ, self.given_name.as_deref(), self.family_name.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        format!("{names} ({})", self.national_id)
    }
}

/// Parses a userinfo response: `application/json`, or `application/jwt` verified against the
/// provider's keys (issuer and audience checked). The subject must be the session's.
pub fn parse_userinfo(
    content_type: Option<&str>,
    body: &[u8],
    ctx: &VerifyContext,
    expected_sub: &SubjectIdentifier,
) -> Result<PscUserInfo, AuthError> {
    let essence = content_type
        .unwrap_or("application/json")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "application/json" => PscUserInfo::from_json::<std::io::Error>(body, Some(expected_sub))
            .map_err(|e| match e {
                UserInfoError::ClaimsVerification(c) => {
                    AuthError::IdToken(IdTokenProblem::Subject(c.to_string()))
                }
                other => AuthError::Http(format!("userinfo illisible : {other}")),
            }),
        "application/jwt" => {
            let text = std::str::from_utf8(body)
                .map_err(|_| AuthError::Http("userinfo JWT non UTF-8".into()))?
                .trim();
            let jwt: UserInfoJsonWebToken<
                PscClaims,
                CoreGenderClaim,
                CoreJweContentEncryptionAlgorithm,
                CoreJwsSigningAlgorithm,
            > = serde_json::from_value(serde_json::Value::String(text.to_owned()))
                .map_err(|e| AuthError::IdToken(IdTokenProblem::Malformed(e.to_string())))?;
            let verifier: UserInfoVerifier<'_, CoreJweContentEncryptionAlgorithm, CoreJsonWebKey> =
                UserInfoVerifier::new(
                    ClientId::new(ctx.client_id.clone()),
                    ctx.issuer.clone(),
                    ctx.jwks.clone(),
                    Some(expected_sub.clone()),
                );
            jwt.claims(&verifier).map_err(|e| {
                AuthError::IdToken(match e {
                    openidconnect::ClaimsVerificationError::InvalidSubject(m) => {
                        IdTokenProblem::Subject(m)
                    }
                    openidconnect::ClaimsVerificationError::InvalidAudience(m) => {
                        IdTokenProblem::Audience(m)
                    }
                    openidconnect::ClaimsVerificationError::InvalidIssuer(m) => {
                        IdTokenProblem::Issuer(m)
                    }
                    other => IdTokenProblem::Signature(other.to_string()),
                })
            })
        }
        other => Err(AuthError::Http(format!(
            "userinfo : type de contenu inattendu {other}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::psc::verify::tests::{ctx, key, ATTACKER_KEY, ISSUER, PROVIDER_KEY};
    use openidconnect::{Audience, IssuerUrl};

    /// The shape of the spec's BAS sample (§2.3), values made up.
    const SAMPLE: &str = r#"{
      "sub": "f:a1b2c3d4-0000-4000-a000-000000000001:810100000001",
      "SubjectNameID": "810100000001",
      "preferred_username": "810100000001",
      "given_name": "Anne",
      "family_name": "LEFÈVRE",
      "codeCivilite": "MME",
      "email": "anne.lefevre@pli-sandbox.mssante.fr",
      "SubjectOrganization": "Centre hospitalier de test",
      "SubjectOrganizationID": "1250000001",
      "SubjectRole": ["10^1.2.250.1.213.1.1.5.5"],
      "Secteur_Activite": "SA07^1.2.250.1.71.4.2.4",
      "Palier_Authentification": "APPPRIP3^1.2.250.1.213.1.5.1.1.1",
      "PSI_Locale": "1.2.250.1.213.1.1.4.2",
      "UITVersion": "1.0",
      "otherIds": [{"identifiant": "10100000001", "origine": "RPPS", "qualite": 1}],
      "SubjectRefPro": {
        "codeCivilite": "MME",
        "exercices": [{
          "codeProfession": "10",
          "codeCategorieProfessionnelle": "C",
          "codeCiviliteDexercice": "DR",
          "nomDexercice": "LEFÈVRE",
          "prenomDexercice": "Anne",
          "codeTypeSavoirFaire": "S",
          "codeSavoirFaire": "SM04",
          "activities": [{
            "codeModeExercice": "S",
            "codeSecteurDactivite": "SA01",
            "codeSectionPharmacien": null,
            "codeRole": null,
            "codeGenreActivite": "GENR01",
            "numeroSiretSite": null,
            "numeroFinessSite": "250000001",
            "identifiantTechniqueDeLaStructure": "1250000001",
            "raisonSocialeSite": "Centre hospitalier de test",
            "codePostal": "25000",
            "bureauCedex": "25000 BESANCON",
            "adresseEMail": null
          }]
        }]
      }
    }"#;

    fn sub() -> SubjectIdentifier {
        SubjectIdentifier::new("f:a1b2c3d4-0000-4000-a000-000000000001:810100000001".into())
    }

    #[test]
    fn json_userinfo_gives_who_is_logged_in() {
        let info = parse_userinfo(
            Some("application/json; charset=utf-8"),
            SAMPLE.as_bytes(),
            &ctx(),
            &sub(),
        )
        .unwrap();
        let extra = info.additional_claims();
        assert_eq!(extra.subject_role, ["10^1.2.250.1.213.1.1.5.5"]);
        assert_eq!(
            extra.palier_authentification.as_deref(),
            Some("APPPRIP3^1.2.250.1.213.1.5.1.1.1")
        );
        let id = Identity::from_userinfo(&info).unwrap();
        assert_eq!(id.national_id, "810100000001");
        assert_eq!(id.family_name.as_deref(), Some("LEFÈVRE"));
        assert_eq!(id.display_name(), "Dr Anne LEFÈVRE (810100000001)");
        let ex = &id.exercices[0];
        assert_eq!(ex.code_profession.as_deref(), Some("10"));
        assert_eq!(ex.code_savoir_faire.as_deref(), Some("SM04"));
        let act = &ex.activities[0];
        assert_eq!(act.numero_finess_site.as_deref(), Some("250000001"));
        assert_eq!(
            act.raison_sociale_site.as_deref(),
            Some("Centre hospitalier de test")
        );
        assert_eq!(act.adresse_email, None);
    }

    #[test]
    fn userinfo_of_another_subject_is_rejected() {
        let other = SubjectIdentifier::new("f:x:810100000002".into());
        let err = parse_userinfo(None, SAMPLE.as_bytes(), &ctx(), &other).unwrap_err();
        assert!(
            matches!(err, AuthError::IdToken(IdTokenProblem::Subject(_))),
            "{err:?}"
        );
    }

    #[test]
    fn subject_role_may_be_a_single_string_or_empty() {
        let one = SAMPLE.replace(
            r#"["10^1.2.250.1.213.1.1.5.5"]"#,
            r#""40^1.2.250.1.213.1.1.5.5""#,
        );
        let info = parse_userinfo(None, one.as_bytes(), &ctx(), &sub()).unwrap();
        assert_eq!(
            info.additional_claims().subject_role,
            ["40^1.2.250.1.213.1.1.5.5"]
        );
        let none = SAMPLE.replace(r#"["10^1.2.250.1.213.1.1.5.5"]"#, "[]");
        let info = parse_userinfo(None, none.as_bytes(), &ctx(), &sub()).unwrap();
        assert!(info.additional_claims().subject_role.is_empty());
    }

    fn signed_userinfo(pem: &str) -> String {
        let mut info = PscUserInfo::from_json::<std::io::Error>(SAMPLE.as_bytes(), None).unwrap();
        info = info
            .set_issuer(Some(IssuerUrl::new(ISSUER.into()).unwrap()))
            .set_audiences(Some(vec![Audience::new("pli-desktop".into())]));
        let jwt: UserInfoJsonWebToken<
            PscClaims,
            CoreGenderClaim,
            CoreJweContentEncryptionAlgorithm,
            CoreJwsSigningAlgorithm,
        > = UserInfoJsonWebToken::new(
            info,
            &key(pem),
            CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        )
        .unwrap();
        serde_json::to_value(&jwt)
            .unwrap()
            .as_str()
            .unwrap()
            .to_owned()
    }

    #[test]
    fn signed_jwt_userinfo_is_verified_and_parsed() {
        let body = signed_userinfo(PROVIDER_KEY);
        let info =
            parse_userinfo(Some("application/jwt"), body.as_bytes(), &ctx(), &sub()).unwrap();
        let id = Identity::from_userinfo(&info).unwrap();
        assert_eq!(id.national_id, "810100000001");
        assert_eq!(id.exercices.len(), 1);

        let forged = signed_userinfo(ATTACKER_KEY);
        let err =
            parse_userinfo(Some("application/jwt"), forged.as_bytes(), &ctx(), &sub()).unwrap_err();
        assert!(
            matches!(err, AuthError::IdToken(IdTokenProblem::Signature(_))),
            "{err:?}"
        );
    }

    #[test]
    fn unexpected_content_type_is_an_error() {
        let err = parse_userinfo(Some("text/html"), b"<html>", &ctx(), &sub()).unwrap_err();
        assert!(err.to_string().contains("text/html"), "{err}");
    }
}
