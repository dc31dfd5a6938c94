//! Composing an outgoing MSSanté message: RFC 5322 headers (Message-ID, In-Reply-To/References,
//! a meaningful display name, Reply-To), UTF-8 `text/plain` body, `X-MSS-NIL` on every mail,
//! `X-MSS-CODECDA`/`X-MSS-INS` and the `XDM/1.0/DDM+…` subject with an `IHE_XDM.ZIP` and the
//! N1 PDF for health documents, `X-MSS-MES: FIN` to end an exchange with a patient, and the
//! read-receipt request (Ref#2 ECO.2.1.x, ECO.2.2.x, ECO.2.3.1, ECO.2.4.x).

use std::hash::{BuildHasher, Hasher};

use mail_builder::headers::address::Address;
use mail_builder::headers::raw::Raw;
use mail_builder::MessageBuilder;
use pli_cda::model::Document;

use super::ins::{patient_ins_of, InsNumber};
use super::xdm::{self, CdaFile, Sender, XdmBuildError};

/// Total size limit of a message to a patient (Mon espace santé), in bytes.
pub const PATIENT_SIZE_LIMIT: usize = 25 * 1024 * 1024;

/// Why a message cannot be composed.
#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    /// Health-document packaging refused.
    #[error(transparent)]
    Xdm(#[from] XdmBuildError),
    /// No recipient.
    #[error("aucun destinataire : indiquez au moins une adresse (--to)")]
    NoRecipient,
    /// An address is not a plain `local@domain`.
    #[error("adresse invalide : « {0} »")]
    BadAddress(String),
    /// A patient address that does not carry a valid INS.
    #[error(
        "« {0} » n'est pas une adresse patient valide : l'adresse d'un patient se construit à \
         partir de son INS qualifié (--patient-ins), jamais à la main"
    )]
    BadPatientAddress(String),
    /// The documents concern another patient than the patient recipient.
    #[error(
        "les documents concernent le patient INS {documents}, mais le message est adressé au \
         patient INS {recipient}"
    )]
    PatientMismatch {
        /// INS in the documents.
        documents: String,
        /// INS of the recipient.
        recipient: String,
    },
    /// Too large for Mon espace santé.
    #[error(
        "message de {size} octets : Mon espace santé refuse les messages de plus de 25 Mo \
         ({limit} octets) ; retirez des pièces jointes"
    )]
    TooLargeForPatient {
        /// Message size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// End of exchange without a patient recipient.
    #[error("la fin d'échange (X-MSS-MES: FIN) ne s'adresse qu'à un patient (--patient-ins)")]
    EndWithoutPatient,
    /// Serialisation failed.
    #[error("composition du message : {0}")]
    Io(#[from] std::io::Error),
}

/// An ordinary attachment.
#[derive(Debug, Clone)]
pub struct Attachment {
    /// File name.
    pub name: String,
    /// MIME type.
    pub content_type: String,
    /// Content.
    pub bytes: Vec<u8>,
}

/// What the user asked to send.
#[derive(Debug, Clone, Default)]
pub struct Draft {
    /// Sender address (the mailbox).
    pub from: String,
    /// Sender display name (ECO.2.2.7).
    pub from_name: String,
    /// To.
    pub to: Vec<String>,
    /// Cc.
    pub cc: Vec<String>,
    /// Subject (replaced by the XDM subject when CDA documents are attached).
    pub subject: String,
    /// Plain-text body.
    pub body: String,
    /// Reply-To (ECO.2.2.5).
    pub reply_to: Option<String>,
    /// Message-ID of the message replied to (ECO.2.2.2).
    pub in_reply_to: Option<String>,
    /// References of the message replied to (ids without brackets).
    pub references: Vec<String>,
    /// CDA documents (one patient).
    pub documents: Vec<CdaFile>,
    /// Ordinary attachments.
    pub attachments: Vec<Attachment>,
    /// `X-MSS-MES: FIN` (ECO.2.2.8).
    pub end_exchange: bool,
    /// Ask for a read receipt (Disposition-Notification-To).
    pub receipt: bool,
    /// Ask for delivery receipts (a DSN, when the submission server offers it; ECO.2.3.1).
    pub delivery_receipt: bool,
}

/// A composed message, ready for the outbox.
#[derive(Debug, Clone)]
pub struct Composed {
    /// Message-ID without brackets.
    pub message_id: String,
    /// Exact bytes submitted and appended to Sent.
    pub raw: Vec<u8>,
    /// Envelope recipients (To + Cc).
    pub recipients: Vec<String>,
    /// INS of the patient recipients.
    pub patients: Vec<InsNumber>,
    /// Subject actually used.
    pub subject: String,
}

/// A new Message-ID `<time>.<random>.pli@<domain of from>` (without brackets).
pub fn new_message_id(from: &str) -> String {
    let domain = from.rsplit_once('@').map(|(_, d)| d).unwrap_or("pli.local");
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(nanos);
    h.write_u32(std::process::id());
    let r1 = h.finish();
    h.write_u64(r1);
    let r2 = h.finish();
    format!("{nanos:x}.{r1:016x}{r2:016x}.pli@{domain}")
}

fn plain_address(a: &str) -> Result<String, ComposeError> {
    let a = a.trim();
    let ok = a.split_once('@').is_some_and(|(l, d)| {
        !l.is_empty()
            && d.contains('.')
            && !a.contains(|c: char| c.is_whitespace() || "<>,;\"".contains(c))
    });
    if ok {
        Ok(a.to_owned())
    } else {
        Err(ComposeError::BadAddress(a.to_owned()))
    }
}

/// `DD/MM/YYYY` from `YYYYMMDD`.
fn french_date(d: &str) -> String {
    format!("{}/{}/{}", &d[6..8], &d[4..6], &d[..4])
}

/// `XDM/1.0/DDM+<libellé> <NOM> <prénom> <date de naissance>` (ECO.2.1.3).
pub fn xdm_subject(doc: &Document, patient: &xdm::PackagePatient) -> String {
    let label = doc
        .type_code
        .as_ref()
        .and_then(|c| c.display.clone())
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| doc.title.clone());
    let mut s = format!(
        "XDM/1.0/DDM+{} {} {}",
        label.trim(),
        patient.family,
        patient.given
    );
    if let Some(b) = &patient.birth_date {
        s.push(' ');
        s.push_str(&french_date(b));
    }
    s
}

/// The name of a document's PDF copy (ECO.2.1.6, rule in `pli_cda::rendition_file_name`); the
/// dossier number is the encounter's id when the document carries one (the record number of the
/// stay or visit in hospital CDAs), else left out as in the ANS example.
pub fn pdf_name(doc: &Document) -> String {
    let dossier = doc
        .encounter
        .as_ref()
        .and_then(|e| e.ids.iter().find_map(|i| i.extension.clone()));
    pli_cda::rendition_file_name(doc, dossier.as_deref())
}

/// A `2.25.<decimal>` OID (UUID-derived form) unique to this message.
fn submission_oid(message_id: &str) -> String {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write(message_id.as_bytes());
    let a = h.finish();
    h.write_u64(a);
    let b = h.finish();
    format!("2.25.{}", (u128::from(a) << 64) | u128::from(b))
}

/// XDS DTM of now (UTC).
fn dtm_now() -> String {
    let now = time::OffsetDateTime::now_utc();
    format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    )
}

/// Composes `draft`: validates addresses and patients, builds the XDM archive and the headers.
pub fn compose(
    draft: &Draft,
    product_reference: &str,
    patient_domain: &str,
) -> Result<Composed, ComposeError> {
    let from = plain_address(&draft.from)?;
    let to: Vec<String> = draft
        .to
        .iter()
        .map(|a| plain_address(a))
        .collect::<Result<_, _>>()?;
    let cc: Vec<String> = draft
        .cc
        .iter()
        .map(|a| plain_address(a))
        .collect::<Result<_, _>>()?;
    let recipients: Vec<String> = to.iter().chain(cc.iter()).cloned().collect();
    if recipients.is_empty() {
        return Err(ComposeError::NoRecipient);
    }
    let mut patients = Vec::new();
    for r in &recipients {
        let domain = r.rsplit_once('@').map(|(_, d)| d).unwrap_or("");
        if domain.eq_ignore_ascii_case(patient_domain) {
            let ins = patient_ins_of(r, patient_domain)
                .ok_or_else(|| ComposeError::BadPatientAddress(r.clone()))?;
            patients.push(ins);
        }
    }
    if draft.end_exchange && patients.is_empty() {
        return Err(ComposeError::EndWithoutPatient);
    }
    let message_id = new_message_id(&from);
    let mut subject = draft.subject.clone();
    let mut builder = MessageBuilder::new()
        .from(Address::new_address(
            Some(draft.from_name.clone()),
            from.clone(),
        ))
        .message_id(message_id.clone())
        .header("X-MSS-NIL", Raw::new(product_reference.to_owned()));
    if !to.is_empty() {
        builder = builder.to(to
            .iter()
            .map(|a| Address::new_address(None::<String>, a.clone()))
            .collect::<Vec<_>>());
    }
    if !cc.is_empty() {
        builder = builder.cc(cc
            .iter()
            .map(|a| Address::new_address(None::<String>, a.clone()))
            .collect::<Vec<_>>());
    }
    if let Some(r) = &draft.reply_to {
        builder = builder.reply_to(Address::new_address(None::<String>, plain_address(r)?));
    }
    if let Some(parent) = &draft.in_reply_to {
        builder = builder.in_reply_to(parent.clone());
        let mut refs = draft.references.clone();
        if !refs.contains(parent) {
            refs.push(parent.clone());
        }
        builder = builder.references(refs);
    }
    if draft.end_exchange {
        builder = builder.header("X-MSS-MES", Raw::new("FIN"));
    }
    if draft.receipt {
        builder = builder.header("Disposition-Notification-To", Raw::new(format!("<{from}>")));
    }
    let mut parts_after: Vec<(String, String, Vec<u8>)> = Vec::new();
    if !draft.documents.is_empty() {
        let sender = Sender {
            product_reference: product_reference.to_owned(),
            address: from.clone(),
            display_name: draft.from_name.clone(),
            recipients: recipients.clone(),
        };
        let submission = submission_oid(&message_id);
        let archive = xdm::build(&draft.documents, &sender, &submission, &dtm_now())?;
        if let Some((ins, _, _)) = &archive.patient.ins {
            for p in &patients {
                if p != ins {
                    return Err(ComposeError::PatientMismatch {
                        documents: ins.to_string(),
                        recipient: p.to_string(),
                    });
                }
            }
        }
        subject = xdm_subject(&draft.documents[0].document, &archive.patient);
        // ECO.2.4.1: one header, comma-separated values (decision 0014).
        builder = builder
            .header("X-MSS-CODECDA", Raw::new(archive.codes.join(",")))
            .header(
                "X-MSS-INS",
                Raw::new(if archive.patient.qualified { "O" } else { "N" }),
            );
        parts_after.push((
            "application/zip".into(),
            "IHE_XDM.ZIP".into(),
            archive.zip.clone(),
        ));
        // A PDF copy of each document (ECO.2.1.5): for N1 the embedded PDF, byte for byte; for
        // N3 (or an N1 whose body is not a PDF) a rendition made by pli-cda.
        for f in &draft.documents {
            let pdf = pli_cda::pdf::attached_pdf(&f.document, &pli_cda::PdfOptions::default());
            parts_after.push((
                "application/pdf".into(),
                pdf_name(&f.document),
                pdf.into_owned(),
            ));
        }
    }
    for a in &draft.attachments {
        parts_after.push((a.content_type.clone(), a.name.clone(), a.bytes.clone()));
    }
    builder = builder
        .subject(subject.clone())
        .text_body(draft.body.clone());
    for (ct, name, bytes) in parts_after {
        builder = builder.attachment(ct, name, bytes);
    }
    let raw = builder.write_to_vec()?;
    if !patients.is_empty() && raw.len() > PATIENT_SIZE_LIMIT {
        return Err(ComposeError::TooLargeForPatient {
            size: raw.len(),
            limit: PATIENT_SIZE_LIMIT,
        });
    }
    Ok(Composed {
        message_id,
        raw,
        recipients,
        patients,
        subject,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let root =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../tests/fixtures/cda");
        std::fs::read(root.join(name)).unwrap()
    }

    fn draft(to: &str) -> Draft {
        Draft {
            from: "anne.lefevre@pli-sandbox.mssante.fr".into(),
            from_name: "Dr Anne LEFÈVRE".into(),
            to: vec![to.into()],
            subject: "Rendez-vous".into(),
            body: "Bonjour, à demain.\n".into(),
            ..Default::default()
        }
    }

    #[test]
    fn eco_2_2_4_plain_message_is_utf8_text_plain_with_nil_and_no_cda_headers() {
        let c = compose(
            &draft("bruno.girard@cabinet-sandbox.mssante.fr"),
            "DEV935997",
            "patient.mssante.fr",
        )
        .unwrap();
        let text = String::from_utf8_lossy(&c.raw);
        assert!(text.contains("X-MSS-NIL: DEV935997\r\n"), "{text}");
        assert!(!text.contains("X-MSS-CODECDA") && !text.contains("X-MSS-INS"));
        assert!(!text.contains("In-Reply-To") && !text.contains("X-MSS-MES"));
        assert!(!text.contains("multipart/"), "{text}");
        assert!(
            text.contains("Content-Type: text/plain; charset=\"utf-8\"")
                || text.contains("Content-Type: text/plain; charset=utf-8"),
            "{text}"
        );
        assert!(text.contains(&format!("Message-ID: <{}>", c.message_id)));
        assert!(c.patients.is_empty());
    }

    #[test]
    fn eco_2_1_6_each_document_gets_a_pdf_copy_named_by_the_rule() {
        let mut d = draft("bruno.girard@cabinet-sandbox.mssante.fr");
        d.documents = vec![CdaFile::parse("v.xml", fixture("VAC_2023.01.xml")).unwrap()];
        let c = compose(&d, "DEV1", "patient.mssante.fr").unwrap();
        let m = mail_parser::MessageParser::default().parse(&c.raw).unwrap();
        let names: Vec<&str> = m
            .attachments()
            .filter_map(mail_parser::MimeHeaders::attachment_name)
            .collect();
        let pdf: Vec<&&str> = names.iter().filter(|n| n.ends_with(".pdf")).collect();
        assert_eq!(pdf.len(), 1, "{names:?}");
        // <date acte>_<type>_<NOM>_<prénom>[_<dossier>].pdf, ASCII letters, digits, - and _.
        let name = pdf[0];
        let parts: Vec<&str> = name.trim_end_matches(".pdf").split('_').collect();
        assert!(
            parts[0].len() == 8 && parts[0].bytes().all(|b| b.is_ascii_digit()),
            "{name}"
        );
        assert!(
            name.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)),
            "{name}"
        );
        let doc = &d.documents[0].document;
        let family = doc.patient.as_ref().unwrap().names[0]
            .birth_family()
            .unwrap()
            .to_uppercase();
        assert!(name.contains(&format!("_{family}_")), "{name}");
    }

    #[test]
    fn eco_2_4_2_x_mss_ins_is_n_without_the_identity_traits() {
        let cda = String::from_utf8(fixture("VAC_2023.01.xml")).unwrap();
        let start = cda.find("<administrativeGenderCode").unwrap();
        let end = start + cda[start..].find("/>").unwrap() + 2;
        let without_sex = format!("{}{}", &cda[..start], &cda[end..]);
        let mut d = draft("bruno.girard@cabinet-sandbox.mssante.fr");
        d.documents = vec![CdaFile::parse("v.xml", without_sex.into_bytes()).unwrap()];
        let c = compose(&d, "DEV1", "patient.mssante.fr").unwrap();
        let text = String::from_utf8_lossy(&c.raw);
        assert!(text.contains("X-MSS-INS: N\r\n"), "{text:.2000}");
        // With the sex back, the same document is qualified.
        d.documents = vec![CdaFile::parse("v.xml", cda.into_bytes()).unwrap()];
        let c = compose(&d, "DEV1", "patient.mssante.fr").unwrap();
        assert!(String::from_utf8_lossy(&c.raw).contains("X-MSS-INS: O\r\n"));
    }

    #[test]
    fn eco_2_1_1_documents_of_one_patient_sent_to_another_patient_are_refused() {
        let mut d = draft("292017505604894@patient.mssante.fr");
        d.documents = vec![CdaFile::parse("v.xml", fixture("VAC_2023.01.xml")).unwrap()];
        let e = compose(&d, "DEV1", "patient.mssante.fr").unwrap_err();
        assert!(
            matches!(&e, ComposeError::PatientMismatch { documents, recipient }
                if documents == "279035121518989" && recipient == "292017505604894"),
            "{e}"
        );
    }
}
