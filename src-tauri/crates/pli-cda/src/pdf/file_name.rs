//! The file name of the PDF rendition (MSSanté Ref#2 ECO.2.1.6).

use super::compose::given_names;
use super::winansi;
use crate::model::{Document, Timestamp};

/// Longest kept length of each part, in characters.
const MAX_TYPE: usize = 60;
const MAX_NAME: usize = 40;
const MAX_DOSSIER: usize = 30;

/// The name of the PDF rendition of `doc`:
/// `<date acte>_<type document>_<NOM>_<prénom>_<n° dossier>.pdf` (ECO.2.1.6),
/// e.g. `20240104_CR_d_examens_biologiques_PAT-TROIS_DOMINIQUE.pdf`.
///
/// Each part, and the choices made where the requirement is silent:
/// - **date de l'acte**: `YYYYMMDD` of the documented act, i.e. the start of the
///   first `documentationOf/serviceEvent/effectiveTime` (its end if it has no
///   start), else the start of `componentOf/encompassingEncounter`, else the
///   document's `effectiveTime` (mandatory in the CI-SIS header). Only the
///   digits given are kept (a year-only time gives `YYYY`).
/// - **type document**: the display name of the document type (`code/@displayName`,
///   as in the ANS example `20220531_CR_d_imagerie_medicale_CORSE_FIGATELLIX.pdf`
///   built from "CR d'imagerie médicale"), else the title, else the type code.
/// - **NOM**: the patient's birth family name (`family[@qualifier="BR"]`, else the
///   first family name), in capitals.
/// - **prénom**: the first given name at birth (`given[@qualifier="BR"]`, which the
///   CI-SIS header uses for it), else the first word of the first given name;
///   letter case kept as sent.
/// - **n° dossier**: not in the CDA with a defined meaning, so the caller passes
///   it (the sender's own record number for the patient, if it has one).
///
/// An unknown or empty part is **left out with its separator**, as the ANS
/// example does for the record number; with no part at all the name is
/// `document.pdf`.
///
/// Sanitising: each part is transliterated to ASCII (accents and ligatures
/// dropped: `é` → `e`, `œ` → `oe`, `ß` → `ss`, as the ANS example writes
/// "medicale"), so the name survives every mail client, archive tool and file
/// system without encoding questions; letters, digits and `-` are kept; every
/// other run of characters (spaces, apostrophes, `/`, `\`, `.`, control
/// characters…) becomes one `_`; parts are trimmed of `_` and `-` at both ends
/// and cut to a bounded length. The result therefore only holds `[A-Za-z0-9_-]`
/// before `.pdf` (no path separator, no `..`, no leading dot or dash), is at
/// most 200 bytes, and never is a Windows device name.
pub fn rendition_file_name(doc: &Document, dossier: Option<&str>) -> String {
    let date = act_date(doc).map(|t| {
        t.raw
            .chars()
            .take_while(char::is_ascii_digit)
            .take(8)
            .collect::<String>()
    });
    let date = date.filter(|d| d.len() >= 4);
    let kind = doc
        .type_code
        .as_ref()
        .and_then(|c| c.display.as_deref())
        .filter(|d| !d.trim().is_empty())
        .or(Some(doc.title.as_str()).filter(|t| !t.trim().is_empty()))
        .or_else(|| doc.type_code.as_ref().and_then(|c| c.code.as_deref()));
    let name = doc.patient.as_ref().and_then(|p| p.names.first());
    let family = name.and_then(|n| n.birth_family()).map(str::to_uppercase);
    let given = name.and_then(|n| {
        n.given
            .iter()
            .find(|g| g.qualifier.as_deref() == Some("BR"))
            .map(|g| g.value.as_str())
            .or_else(|| given_names(n).and_then(|g| g.split_whitespace().next()))
    });

    let parts = [
        date.map(|d| sanitise(&d, 8)),
        kind.map(|k| sanitise(k, MAX_TYPE)),
        family.map(|f| sanitise(&f, MAX_NAME)),
        given.map(|g| sanitise(g, MAX_NAME)),
        dossier.map(|d| sanitise(d, MAX_DOSSIER)),
    ];
    let stem = parts
        .into_iter()
        .flatten()
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("_");
    if stem.is_empty() {
        return "document.pdf".to_owned();
    }
    if is_device_name(&stem) {
        return format!("document_{stem}.pdf");
    }
    format!("{stem}.pdf")
}

fn act_date(doc: &Document) -> Option<&Timestamp> {
    doc.service_events
        .iter()
        .find_map(|s| s.period.low.as_ref().or(s.period.high.as_ref()))
        .or_else(|| {
            doc.encounter
                .as_ref()
                .and_then(|e| e.period.low.as_ref().or(e.period.high.as_ref()))
        })
        .or(doc.effective_time.as_ref())
}

/// Appends the ASCII form of a WinAnsi byte: letters, digits and `-` as they
/// are, accented letters without their accent, ligatures spelt out. Returns
/// false for anything else.
fn push_ascii(out: &mut String, b: u8) -> bool {
    // Base letters of 0xC0–0xFF; `?` where there is none or it is handled below.
    const LATIN1: &[u8; 64] = b"AAAAAA?CEEEEIIIIDNOOOOO?OUUUUY??aaaaaa?ceeeeiiiidnooooo?ouuuuy?y";
    let spelt = match b {
        b'0'..=b'9' | b'A'..=b'Z' | b'a'..=b'z' | b'-' => {
            out.push(char::from(b));
            return true;
        }
        0xC6 => "AE",
        0xE6 => "ae",
        0xDE => "TH",
        0xFE => "th",
        0xDF => "ss",
        0x8C => "OE",
        0x9C => "oe",
        0x8A => "S",
        0x9A => "s",
        0x8E => "Z",
        0x9E => "z",
        0x9F => "Y",
        0xC0..=0xFF if LATIN1[usize::from(b - 0xC0)] != b'?' => {
            out.push(char::from(LATIN1[usize::from(b - 0xC0)]));
            return true;
        }
        _ => return false,
    };
    out.push_str(spelt);
    true
}

/// One part of the name: ASCII letters, digits, `-` and single `_`, trimmed.
fn sanitise(text: &str, max: usize) -> String {
    let mut out = String::new();
    for b in winansi::encode(text) {
        if !push_ascii(&mut out, b) && !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    out.truncate(max);
    out.trim_matches(|c| c == '_' || c == '-').to_owned()
}

/// Windows refuses these names whatever the extension.
fn is_device_name(stem: &str) -> bool {
    let upper = stem.to_ascii_uppercase();
    matches!(upper.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || ((upper.starts_with("COM") || upper.starts_with("LPT"))
            && upper.len() == 4
            && upper.as_bytes()[3].is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Code, NamePart, Patient, PersonName, ServiceEvent};

    fn doc() -> Document {
        let xml = crate::pdf::tests::MINIMAL_CDA;
        crate::parse(xml.as_bytes()).unwrap()
    }

    fn part(value: &str, qualifier: Option<&str>) -> NamePart {
        NamePart {
            value: value.to_owned(),
            qualifier: qualifier.map(str::to_owned),
        }
    }

    #[test]
    fn ans_example_shape() {
        let mut d = doc();
        d.type_code = Some(Code {
            code: Some("18748-4".into()),
            system: None,
            display: Some("CR d'imagerie médicale".into()),
        });
        d.service_events = vec![ServiceEvent {
            period: crate::model::Period {
                low: crate::parse_ts("20220531101500+0200"),
                high: None,
            },
            ..ServiceEvent::default()
        }];
        d.patient = Some(Patient {
            names: vec![PersonName {
                family: vec![part("Corse", Some("BR"))],
                given: vec![part("FIGATELLIX", None)],
                ..PersonName::default()
            }],
            ..Patient::default()
        });
        assert_eq!(
            rendition_file_name(&d, None),
            "20220531_CR_d_imagerie_medicale_CORSE_FIGATELLIX.pdf"
        );
        assert_eq!(
            rendition_file_name(&d, Some("D-2024/0042")),
            "20220531_CR_d_imagerie_medicale_CORSE_FIGATELLIX_D-2024_0042.pdf"
        );
    }

    #[test]
    fn accents_and_first_birth_given_name() {
        let mut d = doc();
        d.patient = Some(Patient {
            names: vec![PersonName {
                family: vec![
                    part("Lœuvre-Bérégovoy", Some("BR")),
                    part("Martin", Some("SP")),
                ],
                given: vec![
                    part("Hélène Françoise", None),
                    part("Hélène", Some("BR")),
                    part("Lena", Some("CL")),
                ],
                ..PersonName::default()
            }],
            ..Patient::default()
        });
        // Document date as the act date when there is no service event or encounter.
        assert_eq!(
            rendition_file_name(&d, None),
            "20240101_CR_de_consultation_LOEUVRE-BEREGOVOY_Helene.pdf"
        );
        // Without a BR given name: the first word of the given names.
        if let Some(p) = d.patient.as_mut() {
            p.names[0].given.retain(|g| g.qualifier.is_none());
        }
        assert!(rendition_file_name(&d, None).ends_with("_LOEUVRE-BEREGOVOY_Helene.pdf"));
    }

    #[test]
    fn hostile_parts_are_neutralised() {
        let mut d = doc();
        d.type_code = Some(Code {
            code: None,
            system: None,
            display: Some("../../etc/passwd\u{0}\r\n<script>".into()),
        });
        d.patient = Some(Patient {
            names: vec![PersonName {
                family: vec![part("..\\..\\Windows", None)],
                given: vec![part("-rf /", None)],
                ..PersonName::default()
            }],
            ..Patient::default()
        });
        let name = rendition_file_name(&d, Some("a/b\\c..d:e*f?g\"h<i>j|k\u{202E}fdp.exe"));
        assert_eq!(
            name,
            "20240101_etc_passwd_script_WINDOWS_rf_a_b_c_d_e_f_g_h_i_j_k_fdp_exe.pdf"
        );
        let stem = name.strip_suffix(".pdf").unwrap();
        assert!(stem
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'));

        // Long parts are bounded.
        d.type_code = None;
        d.title = "x".repeat(10_000);
        let name = rendition_file_name(&d, Some(&"9".repeat(10_000)));
        assert!(name.len() <= 200, "{}", name.len());
    }

    #[test]
    fn unknown_parts_are_left_out() {
        let mut d = doc();
        d.effective_time = None;
        d.type_code = None;
        d.title = String::new();
        d.patient = None;
        assert_eq!(rendition_file_name(&d, None), "document.pdf");
        assert_eq!(rendition_file_name(&d, Some("  ")), "document.pdf");
        assert_eq!(rendition_file_name(&d, Some("nul")), "document_nul.pdf");
        assert_eq!(rendition_file_name(&d, Some("COM1")), "document_COM1.pdf");
        assert_eq!(
            rendition_file_name(&d, Some("Dossier 12")),
            "Dossier_12.pdf"
        );
        // Characters with no ASCII form: separators, not question marks.
        assert_eq!(rendition_file_name(&d, Some("患者 7")), "7.pdf");
    }
}
