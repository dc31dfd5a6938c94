//! The INS (Identifiant National de Santé) matricule and the patient's Mon espace santé
//! address built from it (Ref#2 ECO.2.2.6).
//!
//! The matricule is the 15-character NIR or NIA: 13 characters (digits, with `2A`/`2B` for the
//! département of birth in Corsica) and a 2-digit key equal to `97 − (number mod 97)`, where
//! Corsica's `2A` counts as `19` and `2B` as `18` before the modulo. A patient address is only
//! ever built from a matricule whose key checks: it is never typed by hand.

use std::fmt;

/// Why a matricule INS is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InsError {
    /// Not 15 characters of the expected shape.
    #[error(
        "matricule INS « {0} » mal formé : 15 caractères attendus (13 chiffres, 2A/2B pour la \
         Corse, puis la clé à 2 chiffres)"
    )]
    Malformed(String),
    /// The key does not match the number.
    #[error(
        "matricule INS « {value} » invalide : la clé {found} ne correspond pas (clé attendue \
         {expected}) ; vérifiez le numéro sur la carte Vitale ou le téléservice INSi"
    )]
    BadKey {
        /// The matricule as given.
        value: String,
        /// Key found in the number.
        found: u8,
        /// Key computed from the first 13 characters.
        expected: u8,
    },
}

/// A matricule INS whose key has been checked.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InsNumber(String);

impl InsNumber {
    /// Parses and checks a matricule (spaces are ignored; `2a`/`2b` are upper-cased).
    pub fn parse(input: &str) -> Result<Self, InsError> {
        let value: String = input
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let malformed = || InsError::Malformed(input.trim().to_owned());
        if value.len() != 15 || !value.is_ascii() {
            return Err(malformed());
        }
        let (body, key) = value.split_at(13);
        // Positions 6-7 (the département) may be 2A or 2B; everything else is a digit.
        let corsica = match &body[5..7] {
            "2A" => Some("19"),
            "2B" => Some("18"),
            _ => None,
        };
        let numeric = match corsica {
            Some(sub) => format!("{}{}{}", &body[..5], sub, &body[7..]),
            None => body.to_owned(),
        };
        if !numeric.bytes().all(|b| b.is_ascii_digit()) || !key.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(malformed());
        }
        // First digit: 1/2 (NIR), 3/4 (temporary registration), 7/8 (NIA).
        if !matches!(numeric.as_bytes()[0], b'1'..=b'4' | b'7' | b'8') {
            return Err(malformed());
        }
        let n: u64 = numeric.parse().map_err(|_| malformed())?;
        let expected = (97 - (n % 97)) as u8;
        let found: u8 = key.parse().map_err(|_| malformed())?;
        if found != expected {
            return Err(InsError::BadKey {
                value,
                found,
                expected,
            });
        }
        Ok(Self(value))
    }

    /// The 15 characters.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The patient's Mon espace santé address, `<INS>@<patient_domain>`.
    pub fn patient_address(&self, patient_domain: &str) -> String {
        format!("{}@{}", self.0, patient_domain)
    }
}

impl fmt::Display for InsNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The matricule of a patient address (`<INS>@domain`), when the local part is a valid INS
/// and the domain is the patient domain.
pub fn patient_ins_of(address: &str, patient_domain: &str) -> Option<InsNumber> {
    let (local, domain) = address.rsplit_once('@')?;
    if !domain.eq_ignore_ascii_case(patient_domain) {
        return None;
    }
    InsNumber::parse(local).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eco_2_2_6_valid_nir_keys_pass() {
        // The sandbox patients and the CDA fixtures' INS.
        for ins in [
            "279035121518989",
            "292017505604894",
            "178086912345644",
            "201121305500772",
        ] {
            assert_eq!(InsNumber::parse(ins).unwrap().as_str(), ins);
        }
        // Spaces as printed on a card are ignored.
        assert_eq!(
            InsNumber::parse("2 79 03 51 215 189 89").unwrap().as_str(),
            "279035121518989"
        );
    }

    #[test]
    fn eco_2_2_6_corsican_numbers_use_19_and_18() {
        let a = InsNumber::parse("185052A00412356").unwrap();
        assert_eq!(a.as_str(), "185052A00412356");
        assert_eq!(
            InsNumber::parse("276062b03308744").unwrap().as_str(),
            "276062B03308744"
        );
        // The key of the same number read literally (2A → 20) would differ: 2A is 19.
        let literal = 97 - (1_850_520_004_123u64 % 97);
        let corsican = 97 - (1_850_519_004_123u64 % 97);
        assert_eq!(corsican, 56);
        assert_ne!(literal, corsican);
        // 2A with the 2B key is refused.
        assert!(matches!(
            InsNumber::parse("185052B00412356"),
            Err(InsError::BadKey { .. })
        ));
    }

    #[test]
    fn eco_2_2_6_wrong_key_and_malformed_are_refused() {
        assert_eq!(
            InsNumber::parse("279035121518988"),
            Err(InsError::BadKey {
                value: "279035121518988".into(),
                found: 88,
                expected: 89
            })
        );
        // One digit changed in the body.
        assert!(matches!(
            InsNumber::parse("279035121518889"),
            Err(InsError::BadKey { .. })
        ));
        for bad in [
            "",
            "27903512151898",
            "2790351215189890",
            "27903512151898X",
            "2790X5121518989",
            "979035121518989",
            "279035121518989@patient.mssante.fr",
        ] {
            assert!(
                matches!(InsNumber::parse(bad), Err(InsError::Malformed(_))),
                "{bad} accepted"
            );
        }
        let msg = InsNumber::parse("279035121518988").unwrap_err().to_string();
        assert!(msg.contains("clé attendue 89"), "{msg}");
    }

    #[test]
    fn eco_2_2_6_test_and_nia_numbers_follow_the_same_key() {
        // NIA (provisional, first digit 7/8) and test matricules (test OIDs) carry the same key;
        // this number is built here: 7 + 12 digits, key computed independently.
        let body = 7_990_112_345_678u64;
        let key = 97 - body % 97;
        let nia = format!("{body}{key:02}");
        assert!(InsNumber::parse(&nia).is_ok());
        let wrong = format!("{body}{:02}", (key % 97) + 1);
        assert!(InsNumber::parse(&wrong).is_err());
    }

    #[test]
    fn eco_2_2_6_patient_address_comes_from_a_checked_ins() {
        let ins = InsNumber::parse("279035121518989").unwrap();
        assert_eq!(
            ins.patient_address("patient.mssante.fr"),
            "279035121518989@patient.mssante.fr"
        );
        assert_eq!(
            patient_ins_of("279035121518989@Patient.MSSante.fr", "patient.mssante.fr"),
            Some(ins)
        );
        assert_eq!(
            patient_ins_of("279035121518988@patient.mssante.fr", "patient.mssante.fr"),
            None
        );
        assert_eq!(
            patient_ins_of("anne@pli-sandbox.mssante.fr", "patient.mssante.fr"),
            None
        );
    }
}
