//! `METADATA.XML`: the ebRIM `SubmitObjectsRequest` of an XDM subset.
//!
//! Elements are matched by local name only, and undeclared namespace prefixes
//! (seen in the wild: `ns3:` with no `xmlns:ns3`) are bound to a placeholder
//! before parsing, so such packages still open.

use roxmltree::Node;
use serde::Serialize;

use crate::error::{CdaError, XdmError};
use crate::xml::{parse_xml, utf8_text};

// XDS classification and identification schemes.
const DE_AUTHOR: &str = "urn:uuid:93606bcf-9494-43ec-9b4e-a7748d1a838d";
const DE_CLASS: &str = "urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a";
const DE_CONFIDENTIALITY: &str = "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f";
const DE_FORMAT: &str = "urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d";
const DE_TYPE: &str = "urn:uuid:f0306f51-975f-434e-a61c-c59651d33983";
const DE_PATIENT_ID: &str = "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427";
const DE_UNIQUE_ID: &str = "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab";
const SS_AUTHOR: &str = "urn:uuid:a7058bb9-b4e4-4307-ba5b-e3f0ab85e12d";
const SS_CONTENT_TYPE: &str = "urn:uuid:aa543740-bdda-424e-8c96-df4873be8500";
const SS_PATIENT_ID: &str = "urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446";
const SS_SOURCE_ID: &str = "urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832";
const SS_UNIQUE_ID: &str = "urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8";

/// A code from an XDS classification.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct XdmCode {
    /// `nodeRepresentation`.
    pub code: Option<String>,
    /// The `codingScheme` slot.
    pub scheme: Option<String>,
    /// `Name/LocalizedString/@value`.
    pub display: Option<String>,
}

/// The submission set (`RegistryPackage`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SubmissionSet {
    /// `XDSSubmissionSet.patientId` (CX: `id^^^&oid&ISO`).
    pub patient_id: Option<String>,
    /// `XDSSubmissionSet.uniqueId`.
    pub unique_id: Option<String>,
    /// `XDSSubmissionSet.sourceId`.
    pub source_id: Option<String>,
    /// `submissionTime` slot.
    pub submission_time: Option<String>,
    /// Author persons (XCN).
    pub author_person: Vec<String>,
    /// Author institutions (XON).
    pub author_institution: Vec<String>,
    /// Content type code.
    pub content_type: Option<XdmCode>,
    /// Title.
    pub title: Option<String>,
}

/// A document entry (`ExtrinsicObject`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DocumentEntry {
    /// The entry's `id` attribute.
    pub entry_id: Option<String>,
    /// `URI` slot: file name in the subset folder.
    pub uri: Option<String>,
    /// `mimeType` attribute.
    pub mime_type: Option<String>,
    /// `hash` slot (SHA-1, hex).
    pub hash: Option<String>,
    /// `size` slot.
    pub size: Option<u64>,
    /// `XDSDocumentEntry.patientId`.
    pub patient_id: Option<String>,
    /// `sourcePatientId` slot.
    pub source_patient_id: Option<String>,
    /// `XDSDocumentEntry.uniqueId`.
    pub unique_id: Option<String>,
    /// `creationTime` slot.
    pub creation_time: Option<String>,
    /// `languageCode` slot.
    pub language: Option<String>,
    /// Title.
    pub title: Option<String>,
    /// Class code.
    pub class_code: Option<XdmCode>,
    /// Type code.
    pub type_code: Option<XdmCode>,
    /// Format code.
    pub format_code: Option<XdmCode>,
    /// Confidentiality code.
    pub confidentiality: Option<XdmCode>,
    /// Author persons.
    pub author_person: Vec<String>,
    /// Author institutions.
    pub author_institution: Vec<String>,
}

pub(super) struct Parsed {
    pub submission_set: SubmissionSet,
    pub entries: Vec<DocumentEntry>,
}

/// Parses METADATA.XML bytes.
pub(super) fn parse(bytes: &[u8]) -> Result<Parsed, XdmError> {
    let err = |e: CdaError| XdmError::Metadata(e.to_string());
    let mut text = utf8_text(bytes).map_err(err)?.to_owned();
    // Bind stray prefixes one by one (bounded), then parse for real.
    for _ in 0..16 {
        match roxmltree::Document::parse_with_options(
            &text,
            roxmltree::ParsingOptions {
                allow_dtd: false,
                nodes_limit: 1_000_000,
                ..Default::default()
            },
        ) {
            Err(roxmltree::Error::UnknownNamespace(prefix, _)) => {
                text = bind_prefix(&text, &prefix)
                    .ok_or_else(|| XdmError::Metadata(format!("unbound prefix {prefix}")))?;
            }
            _ => break,
        }
    }
    let doc = parse_xml(&text, 1_000_000, 128).map_err(err)?;
    let root = doc.root_element();
    let entries = root
        .descendants()
        .filter(|n| local(n, "ExtrinsicObject"))
        .map(entry)
        .collect();
    let packages: Vec<Node<'_, '_>> = root
        .descendants()
        .filter(|n| local(n, "RegistryPackage"))
        .collect();
    let ss = packages
        .iter()
        .find(|p| external_id(**p, SS_PATIENT_ID).is_some())
        .or_else(|| packages.first())
        .map(|p| submission_set(*p))
        .unwrap_or_default();
    Ok(Parsed {
        submission_set: ss,
        entries,
    })
}

/// Adds `xmlns:prefix="urn:pli:unbound:prefix"` to the root start tag.
fn bind_prefix(text: &str, prefix: &str) -> Option<String> {
    if !prefix
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
    {
        return None;
    }
    let bytes = text.as_bytes();
    let mut i = 0;
    // Find the first start tag: '<' followed by a name character.
    while i + 1 < bytes.len() {
        if bytes[i] == b'<' && (bytes[i + 1].is_ascii_alphabetic() || bytes[i + 1] == b'_') {
            let mut j = i + 1;
            while j < bytes.len() && !matches!(bytes[j], b' ' | b'\t' | b'\r' | b'\n' | b'>' | b'/')
            {
                j += 1;
            }
            let mut out = String::with_capacity(text.len() + 64);
            out.push_str(&text[..j]);
            out.push_str(&format!(" xmlns:{prefix}=\"urn:pli:unbound:{prefix}\""));
            out.push_str(&text[j..]);
            return Some(out);
        }
        i += 1;
    }
    None
}

fn local(n: &Node<'_, '_>, name: &str) -> bool {
    n.is_element() && n.tag_name().name() == name
}

fn kids<'a, 'i: 'a>(n: Node<'a, 'i>, name: &'a str) -> impl Iterator<Item = Node<'a, 'i>> + 'a {
    n.children().filter(move |c| local(c, name))
}

fn slot(n: Node<'_, '_>, name: &str) -> Vec<String> {
    kids(n, "Slot")
        .filter(|s| s.attribute("name") == Some(name))
        .flat_map(|s| {
            kids(s, "ValueList")
                .flat_map(|vl| kids(vl, "Value"))
                .filter_map(|v| {
                    v.text()
                        .map(str::trim)
                        .filter(|t| !t.is_empty())
                        .map(str::to_owned)
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

fn first_slot(n: Node<'_, '_>, name: &str) -> Option<String> {
    slot(n, name).into_iter().next()
}

fn name_of(n: Node<'_, '_>) -> Option<String> {
    kids(n, "Name")
        .flat_map(|x| kids(x, "LocalizedString"))
        .find_map(|l| {
            l.attribute("value")
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        })
}

fn classifications<'a, 'i: 'a>(
    n: Node<'a, 'i>,
    scheme: &'a str,
) -> impl Iterator<Item = Node<'a, 'i>> + 'a {
    kids(n, "Classification").filter(move |c| c.attribute("classificationScheme") == Some(scheme))
}

fn code(n: Node<'_, '_>, scheme: &str) -> Option<XdmCode> {
    classifications(n, scheme).next().map(|c| XdmCode {
        code: c.attribute("nodeRepresentation").map(str::to_owned),
        scheme: first_slot(c, "codingScheme"),
        display: name_of(c),
    })
}

fn external_id(n: Node<'_, '_>, scheme: &str) -> Option<String> {
    kids(n, "ExternalIdentifier")
        .find(|e| e.attribute("identificationScheme") == Some(scheme))
        .and_then(|e| e.attribute("value").map(str::trim).map(str::to_owned))
}

fn entry(n: Node<'_, '_>) -> DocumentEntry {
    let authors: Vec<Node<'_, '_>> = classifications(n, DE_AUTHOR).collect();
    DocumentEntry {
        entry_id: n.attribute("id").map(str::to_owned),
        uri: first_slot(n, "URI"),
        mime_type: n.attribute("mimeType").map(str::to_owned),
        hash: first_slot(n, "hash"),
        size: first_slot(n, "size").and_then(|s| s.parse().ok()),
        patient_id: external_id(n, DE_PATIENT_ID),
        source_patient_id: first_slot(n, "sourcePatientId"),
        unique_id: external_id(n, DE_UNIQUE_ID),
        creation_time: first_slot(n, "creationTime"),
        language: first_slot(n, "languageCode"),
        title: name_of(n),
        class_code: code(n, DE_CLASS),
        type_code: code(n, DE_TYPE),
        format_code: code(n, DE_FORMAT),
        confidentiality: code(n, DE_CONFIDENTIALITY),
        author_person: authors
            .iter()
            .flat_map(|a| slot(*a, "authorPerson"))
            .collect(),
        author_institution: authors
            .iter()
            .flat_map(|a| slot(*a, "authorInstitution"))
            .collect(),
    }
}

fn submission_set(n: Node<'_, '_>) -> SubmissionSet {
    let authors: Vec<Node<'_, '_>> = classifications(n, SS_AUTHOR).collect();
    SubmissionSet {
        patient_id: external_id(n, SS_PATIENT_ID),
        unique_id: external_id(n, SS_UNIQUE_ID),
        source_id: external_id(n, SS_SOURCE_ID),
        submission_time: first_slot(n, "submissionTime"),
        author_person: authors
            .iter()
            .flat_map(|a| slot(*a, "authorPerson"))
            .collect(),
        author_institution: authors
            .iter()
            .flat_map(|a| slot(*a, "authorInstitution"))
            .collect(),
        content_type: code(n, SS_CONTENT_TYPE),
        title: name_of(n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stray_prefix_is_bound() {
        let xml = r#"<?xml version="1.0"?><ns3:SubmitObjectsRequest><ns3:RegistryObjectList>
            <ns3:ExtrinsicObject id="d1" mimeType="text/xml"><ns3:Slot name="URI"><ns3:ValueList>
            <ns3:Value>DOC0001.XML</ns3:Value></ns3:ValueList></ns3:Slot></ns3:ExtrinsicObject>
            </ns3:RegistryObjectList></ns3:SubmitObjectsRequest>"#;
        let p = parse(xml.as_bytes()).unwrap();
        assert_eq!(p.entries.len(), 1);
        assert_eq!(p.entries[0].uri.as_deref(), Some("DOC0001.XML"));
    }
}
