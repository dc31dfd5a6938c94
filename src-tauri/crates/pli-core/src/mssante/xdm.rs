//! Building `IHE_XDM.ZIP` for health documents (Ref#2 ECO.2.1.1, ECO.2.1.2; IHE ITI-32 "ZIP over
//! e-mail"): `INDEX.HTM`, `README.TXT`, `IHE_XDM/SUBSET01/METADATA.XML` (ebRIM 3.0
//! `SubmitObjectsRequest`: one SubmissionSet, one DocumentEntry and one HasMember association per
//! document) and the CDA files `DOC0001.XML`, `DOC0002.XML`, … One patient per archive.
//!
//! Value choices the specification leaves open are recorded in
//! `docs/decisions/0014-sending-mssante-rules.md` (patientId CX form, formatCode, classCode).

use std::io::Write;

use ::sha1::{Digest, Sha1};
use pli_cda::model::{Actor, Document, InsKind, Patient};

use super::ins::InsNumber;

/// Why documents cannot be packaged together.
#[derive(Debug, thiserror::Error)]
pub enum XdmBuildError {
    /// A file is not a CDA document.
    #[error("« {name} » n'est pas un document CDA lisible : {reason}")]
    NotCda {
        /// File name.
        name: String,
        /// Parser message.
        reason: String,
    },
    /// Two patients in one message (ECO.2.1.1).
    #[error(
        "les documents joints concernent deux patients différents ({first} et {second}) : un \
         message MSSanté ne peut porter les documents que d'un seul patient ; envoyez un \
         message par patient"
    )]
    TwoPatients {
        /// The first patient.
        first: String,
        /// The other patient.
        second: String,
    },
    /// A document without a patient.
    #[error("le document « {0} » n'identifie aucun patient (recordTarget absent)")]
    NoPatient(String),
    /// Writing the archive failed.
    #[error("archive IHE_XDM : {0}")]
    Zip(String),
}

/// A CDA document to package: its file bytes and its parsed model.
#[derive(Debug, Clone)]
pub struct CdaFile {
    /// The name the user gave (for messages only).
    pub name: String,
    /// The exact bytes, packaged unchanged.
    pub bytes: Vec<u8>,
    /// The parsed document.
    pub document: Document,
}

impl CdaFile {
    /// Parses `bytes` as a CDA document.
    pub fn parse(name: &str, bytes: Vec<u8>) -> Result<Self, XdmBuildError> {
        let document = pli_cda::parse(&bytes).map_err(|e| XdmBuildError::NotCda {
            name: name.to_owned(),
            reason: e.to_string(),
        })?;
        Ok(Self {
            name: name.to_owned(),
            bytes,
            document,
        })
    }
}

/// Identity of the single patient of a package.
#[derive(Debug, Clone)]
pub struct PackagePatient {
    /// The INS with its OID, when the documents carry one with a valid key.
    pub ins: Option<(InsNumber, String, InsKind)>,
    /// Birth family name (upper case).
    pub family: String,
    /// First given name.
    pub given: String,
    /// Birth date `YYYYMMDD`, if known.
    pub birth_date: Option<String>,
    /// True when the INS is "qualified" here: INS OID, valid key, birth name, given name,
    /// birth date and sex present (X-MSS-INS: O).
    pub qualified: bool,
}

/// What the sender puts in README.TXT and the SubmissionSet.
#[derive(Debug, Clone)]
pub struct Sender {
    /// Product reference (X-MSS-NIL value).
    pub product_reference: String,
    /// Sender's MSSanté address.
    pub address: String,
    /// Display name of the sender.
    pub display_name: String,
    /// Recipient addresses (intendedRecipient).
    pub recipients: Vec<String>,
}

/// A built archive.
#[derive(Debug, Clone)]
pub struct XdmArchive {
    /// `IHE_XDM.ZIP` bytes.
    pub zip: Vec<u8>,
    /// The patient.
    pub patient: PackagePatient,
    /// CDA `code/@code` of each document, in order (X-MSS-CODECDA).
    pub codes: Vec<String>,
}

fn patient_key(p: &Patient) -> String {
    if let Some(ins) = &p.ins {
        return format!("INS {}", ins.value);
    }
    let name = p.names.first();
    format!(
        "{} {} {}",
        name.and_then(|n| n.birth_family()).unwrap_or_default(),
        name.and_then(|n| n.given.first().map(|g| g.value.clone()))
            .unwrap_or_default(),
        p.birth_time.as_ref().map(|t| t.raw.as_str()).unwrap_or("")
    )
    .to_uppercase()
}

/// The single patient of `files`, or why there is not exactly one.
pub fn single_patient(files: &[CdaFile]) -> Result<PackagePatient, XdmBuildError> {
    let mut first: Option<(String, &Patient)> = None;
    for f in files {
        let p = f
            .document
            .patient
            .as_ref()
            .ok_or_else(|| XdmBuildError::NoPatient(f.name.clone()))?;
        let key = patient_key(p);
        match &first {
            None => first = Some((key, p)),
            Some((k, _)) if *k != key => {
                return Err(XdmBuildError::TwoPatients {
                    first: k.clone(),
                    second: key,
                })
            }
            Some(_) => {}
        }
    }
    let (_, p) = first.ok_or_else(|| XdmBuildError::NoPatient(String::new()))?;
    let name = p.names.first();
    let family = name
        .and_then(|n| n.birth_family())
        .unwrap_or_default()
        .to_uppercase();
    let given = name
        .and_then(|n| n.given_names().into_iter().next())
        .unwrap_or_default();
    let birth_date = p
        .birth_time
        .as_ref()
        .map(|t| t.raw.chars().take(8).collect::<String>())
        .filter(|d| d.len() == 8);
    let ins = p.ins.as_ref().and_then(|i| {
        InsNumber::parse(&i.value)
            .ok()
            .map(|n| (n, i.oid.clone(), i.kind))
    });
    let qualified = ins.is_some()
        && !family.is_empty()
        && !given.is_empty()
        && birth_date.is_some()
        && p.gender.is_some();
    Ok(PackagePatient {
        ins,
        family,
        given,
        birth_date,
        qualified,
    })
}

/// `<matricule>^^^&<OID>&ISO^NH` (decision 0014); IPP-like ids as `^^^&root&ISO^PI`.
pub fn patient_cx(doc: &Document) -> String {
    let Some(p) = &doc.patient else {
        return String::new();
    };
    if let Some(ins) = &p.ins {
        return format!("{}^^^&{}&ISO^NH", ins.value, ins.oid);
    }
    p.other_ids
        .iter()
        .find_map(|id| {
            Some(format!(
                "{}^^^&{}&ISO^PI",
                id.extension.as_deref()?,
                id.root.as_deref()?
            ))
        })
        .unwrap_or_default()
}

/// XDS DTM: digits of an HL7 TS, at most `YYYYMMDDHHMMSS`, without the zone.
fn dtm(raw: &str) -> String {
    raw.chars()
        .take_while(|c| c.is_ascii_digit())
        .take(14)
        .collect()
}

fn unique_id(doc: &Document) -> String {
    match &doc.id {
        Some(id) => match (&id.root, &id.extension) {
            (Some(r), Some(e)) => format!("{r}^{e}"),
            (Some(r), None) => r.clone(),
            (None, Some(e)) => e.clone(),
            (None, None) => String::new(),
        },
        None => String::new(),
    }
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

fn slot(name: &str, values: &[String]) -> String {
    let vals: String = values
        .iter()
        .map(|v| format!("<rim:Value>{}</rim:Value>", xml_escape(v)))
        .collect();
    format!("<rim:Slot name=\"{name}\"><rim:ValueList>{vals}</rim:ValueList></rim:Slot>")
}

fn name(value: &str) -> String {
    format!(
        "<rim:Name><rim:LocalizedString xml:lang=\"fr-FR\" value=\"{}\"/></rim:Name>",
        xml_escape(value)
    )
}

#[allow(clippy::too_many_arguments)]
fn classification(
    id: &str,
    scheme: &str,
    object: &str,
    code: &str,
    coding_scheme: &str,
    display: &str,
) -> String {
    format!(
        "<rim:Classification id=\"{id}\" classificationScheme=\"{scheme}\" classifiedObject=\"{object}\" \
         nodeRepresentation=\"{}\">{}{}</rim:Classification>",
        xml_escape(code),
        slot("codingScheme", &[coding_scheme.to_owned()]),
        name(display)
    )
}

fn external_id(id: &str, scheme: &str, object: &str, value: &str, label: &str) -> String {
    format!(
        "<rim:ExternalIdentifier id=\"{id}\" identificationScheme=\"{scheme}\" registryObject=\"{object}\" \
         value=\"{}\">{}</rim:ExternalIdentifier>",
        xml_escape(value),
        name(label)
    )
}

fn xcn(a: &Actor) -> String {
    let id = a.ids.first();
    let pn = a.person.as_ref();
    format!(
        "{}^{}^{}^^^^^^&{}&ISO",
        id.and_then(|i| i.extension.as_deref()).unwrap_or(""),
        pn.and_then(|p| p.birth_family()).unwrap_or(""),
        pn.and_then(|p| p.given.first().map(|g| g.value.as_str()))
            .unwrap_or(""),
        id.and_then(|i| i.root.as_deref()).unwrap_or("")
    )
}

fn xon(a: &Actor) -> Option<String> {
    let org = a.organization.as_ref()?;
    let name = org.name.clone()?;
    Some(match org.ids.first() {
        Some(id) => format!(
            "{}^^^^^&{}&ISO^IDNST^^^{}",
            name,
            id.root.as_deref().unwrap_or(""),
            id.extension.as_deref().unwrap_or("")
        ),
        None => name,
    })
}

fn author_classification(id: &str, scheme: &str, object: &str, doc: &Document) -> String {
    let Some(a) = doc.authors.first() else {
        return String::new();
    };
    let mut slots = slot("authorPerson", &[xcn(a)]);
    if let Some(inst) = xon(a) {
        slots.push_str(&slot("authorInstitution", &[inst]));
    }
    if let Some(role) = a.role.as_ref().and_then(|r| r.code.clone()) {
        slots.push_str(&slot("authorSpecialty", &[role]));
    }
    format!(
        "<rim:Classification id=\"{id}\" classificationScheme=\"{scheme}\" classifiedObject=\"{object}\" \
         nodeRepresentation=\"\">{slots}</rim:Classification>"
    )
}

const DE_OBJECT_TYPE: &str = "urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1";
const SS_NODE: &str = "urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd";

/// The formatCode of a document (decision 0014).
pub fn format_code(doc: &Document) -> (&'static str, &'static str) {
    match doc.non_xml_body() {
        Some(m) if m.sniffed_type == "application/pdf" => {
            ("urn:ihe:iti:xds-sd:pdf:2008", "1.3.6.1.4.1.19376.1.2.3")
        }
        Some(_) => ("urn:ihe:iti:xds-sd:text:2008", "1.3.6.1.4.1.19376.1.2.3"),
        None => (
            "urn:ihe:iti:xds:2017:mimeTypeSufficient",
            "1.3.6.1.4.1.19376.1.2.3",
        ),
    }
}

/// METADATA.XML for `files` (already checked to concern one patient).
pub fn metadata_xml(files: &[CdaFile], sender: &Sender, submission_id: &str, now: &str) -> String {
    let first = &files[0].document;
    let patient_id = patient_cx(first);
    let mut objects = String::new();
    for (i, f) in files.iter().enumerate() {
        let d = &f.document;
        let de = format!("Document{:02}", i + 1);
        let code = d.type_code.clone().unwrap_or_default();
        let code_value = code.code.clone().unwrap_or_default();
        let code_system = code.system.clone().unwrap_or_default();
        let code_display = code.display.clone().unwrap_or_else(|| d.title.clone());
        let (fmt, fmt_scheme) = format_code(d);
        let conf = d.confidentiality.clone().unwrap_or_default();
        let mut slots = String::new();
        if let Some(t) = &d.effective_time {
            slots.push_str(&slot("creationTime", &[dtm(&t.raw)]));
        }
        slots.push_str(&slot("hash", &[sha1(&f.bytes)]));
        slots.push_str(&slot(
            "languageCode",
            &[d.language.clone().unwrap_or_else(|| "fr-FR".into())],
        ));
        slots.push_str(&slot("size", &[f.bytes.len().to_string()]));
        slots.push_str(&slot("sourcePatientId", std::slice::from_ref(&patient_id)));
        slots.push_str(&slot("URI", &[format!("DOC{:04}.XML", i + 1)]));
        let mut body = format!(
            "<rim:ExtrinsicObject id=\"{de}\" mimeType=\"text/xml\" objectType=\"{DE_OBJECT_TYPE}\" \
             status=\"urn:oasis:names:tc:ebxml-regrep:StatusType:Approved\">{slots}{}",
            name(&d.title)
        );
        body.push_str(&author_classification(
            &format!("{de}-author"),
            "urn:uuid:93606bcf-9494-43ec-9b4e-a7748d1a838d",
            &de,
            d,
        ));
        // classCode: the ASS_X04 typeCode → classCode table is not bundled yet; the typeCode is
        // repeated (decision 0014).
        body.push_str(&classification(
            &format!("{de}-class"),
            "urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a",
            &de,
            &code_value,
            &code_system,
            &code_display,
        ));
        body.push_str(&classification(
            &format!("{de}-conf"),
            "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f",
            &de,
            conf.code.as_deref().unwrap_or("N"),
            conf.system.as_deref().unwrap_or("2.16.840.1.113883.5.25"),
            conf.display.as_deref().unwrap_or("Normal"),
        ));
        body.push_str(&classification(
            &format!("{de}-format"),
            "urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d",
            &de,
            fmt,
            fmt_scheme,
            fmt,
        ));
        body.push_str(&classification(
            &format!("{de}-type"),
            "urn:uuid:f0306f51-975f-434e-a61c-c59651d33983",
            &de,
            &code_value,
            &code_system,
            &code_display,
        ));
        body.push_str(&external_id(
            &format!("{de}-pid"),
            "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427",
            &de,
            &patient_id,
            "XDSDocumentEntry.patientId",
        ));
        body.push_str(&external_id(
            &format!("{de}-uid"),
            "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab",
            &de,
            &unique_id(d),
            "XDSDocumentEntry.uniqueId",
        ));
        body.push_str("</rim:ExtrinsicObject>");
        objects.push_str(&body);
    }
    // The submission set.
    let ss = "SubmissionSet01";
    let mut pkg = format!(
        "<rim:RegistryPackage id=\"{ss}\">{}{}{}",
        slot("submissionTime", &[now.to_owned()]),
        slot(
            "intendedRecipient",
            &sender
                .recipients
                .iter()
                .map(|r| format!("^^^^^^^^^{r}"))
                .collect::<Vec<_>>()
        ),
        name(&first.title)
    );
    pkg.push_str(&author_classification(
        "SubmissionSet01-author",
        "urn:uuid:a7058bb9-b4e4-4307-ba5b-e3f0ab85e12d",
        ss,
        first,
    ));
    let ct = first.type_code.clone().unwrap_or_default();
    pkg.push_str(&classification(
        "SubmissionSet01-content",
        "urn:uuid:aa543740-bdda-424e-8c96-df4873be8500",
        ss,
        ct.code.as_deref().unwrap_or(""),
        ct.system.as_deref().unwrap_or(""),
        ct.display.as_deref().unwrap_or(&first.title),
    ));
    pkg.push_str(&external_id(
        "SubmissionSet01-uid",
        "urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8",
        ss,
        submission_id,
        "XDSSubmissionSet.uniqueId",
    ));
    pkg.push_str(&external_id(
        "SubmissionSet01-src",
        "urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832",
        ss,
        &format!("Pli^{}", sender.product_reference),
        "XDSSubmissionSet.sourceId",
    ));
    pkg.push_str(&external_id(
        "SubmissionSet01-pid",
        "urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446",
        ss,
        &patient_id,
        "XDSSubmissionSet.patientId",
    ));
    pkg.push_str("</rim:RegistryPackage>");
    pkg.push_str(&format!(
        "<rim:Classification id=\"SubmissionSet01-node\" classifiedObject=\"{ss}\" classificationNode=\"{SS_NODE}\"/>"
    ));
    for i in 0..files.len() {
        pkg.push_str(&format!(
            "<rim:Association id=\"Association{n:02}\" associationType=\"urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember\" \
             sourceObject=\"{ss}\" targetObject=\"Document{n:02}\">{}</rim:Association>",
            slot("SubmissionSetStatus", &["Original".to_owned()]),
            n = i + 1
        ));
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<lcm:SubmitObjectsRequest \
         xmlns:lcm=\"urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0\" \
         xmlns:rim=\"urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0\"><rim:RegistryObjectList>\
         {objects}{pkg}</rim:RegistryObjectList></lcm:SubmitObjectsRequest>\n"
    )
}

fn index_htm(files: &[CdaFile], patient: &PackagePatient, sender: &Sender) -> String {
    let mut rows = String::new();
    for (i, f) in files.iter().enumerate() {
        rows.push_str(&format!(
            "<li><a href=\"IHE_XDM/SUBSET01/DOC{:04}.XML\">{}</a></li>\n",
            i + 1,
            xml_escape(&f.document.title)
        ));
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"fr\"><head><meta charset=\"utf-8\"><title>IHE_XDM</title></head>\
         <body><h1>Documents de santé</h1><p>Patient : {} {}</p><p>Émetteur : {} &lt;{}&gt;</p>\
         <ul>\n{rows}</ul><p>Métadonnées : <a href=\"IHE_XDM/SUBSET01/METADATA.XML\">METADATA.XML</a></p>\
         </body></html>\n",
        xml_escape(&patient.family),
        xml_escape(&patient.given),
        xml_escape(&sender.display_name),
        xml_escape(&sender.address)
    )
}

fn readme_txt(sender: &Sender) -> String {
    format!(
        "Archive IHE XDM (ITI-32, ZIP over e-mail) produite par Pli {}\r\n\
         Editeur : Pli\r\nReference produit (X-MSS-NIL) : {}\r\nEmetteur : {} <{}>\r\n\
         Contenu : INDEX.HTM, IHE_XDM/SUBSET01/METADATA.XML et les documents CDA.\r\n",
        crate::VERSION,
        sender.product_reference,
        sender.display_name,
        sender.address
    )
}

/// Builds `IHE_XDM.ZIP` for `files` (one patient). `submission_id` is an OID-like unique id,
/// `now` the XDS DTM submission time.
pub fn build(
    files: &[CdaFile],
    sender: &Sender,
    submission_id: &str,
    now: &str,
) -> Result<XdmArchive, XdmBuildError> {
    let patient = single_patient(files)?;
    let metadata = metadata_xml(files, sender, submission_id, now);
    let zerr = |e: &dyn std::fmt::Display| XdmBuildError::Zip(e.to_string());
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let mut put = |path: &str, bytes: &[u8]| -> Result<(), XdmBuildError> {
        zip.start_file(path, opts).map_err(|e| zerr(&e))?;
        zip.write_all(bytes).map_err(|e| zerr(&e))
    };
    put("INDEX.HTM", index_htm(files, &patient, sender).as_bytes())?;
    put("README.TXT", readme_txt(sender).as_bytes())?;
    put("IHE_XDM/SUBSET01/METADATA.XML", metadata.as_bytes())?;
    for (i, f) in files.iter().enumerate() {
        put(&format!("IHE_XDM/SUBSET01/DOC{:04}.XML", i + 1), &f.bytes)?;
    }
    let zip = zip.finish().map_err(|e| zerr(&e))?.into_inner();
    let codes = files
        .iter()
        .filter_map(|f| f.document.type_code.as_ref().and_then(|c| c.code.clone()))
        .collect();
    Ok(XdmArchive {
        zip,
        patient,
        codes,
    })
}

/// SHA-1 of `bytes`, lower-case hex (kept here so the builder does not depend on the reader's).
pub fn sha1(bytes: &[u8]) -> String {
    Sha1::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
