//! From bytes to [`Document`]: wrapper detection, header, body, media, lab rows.

use roxmltree::Node;

use crate::error::CdaError;
use crate::header;
use crate::lab;
use crate::media::{decode_base64, sniff};
use crate::model::{Body, Document, Media, MediaOrigin, Section, Wrapper};
use crate::narrative::convert_children;
use crate::xml::{attr, child, children, is_hl7, parse_xml, path, text_of, utf8_text, HL7_NS};
use crate::Limits;

const XMLDSIG_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
const XSLT_NS: &str = "http://www.w3.org/1999/XSL/Transform";

/// Maximum number of lab rows kept (a CR-BIO has tens to a few hundred).
const MAX_LAB_ROWS: usize = 5_000;

pub(crate) fn parse_with_limits(bytes: &[u8], limits: &Limits) -> Result<Document, CdaError> {
    if bytes.len() > limits.max_document_bytes {
        return Err(CdaError::TooLarge {
            size: bytes.len(),
            limit: limits.max_document_bytes,
        });
    }
    let text = utf8_text(bytes)?;
    let xml = parse_xml(text, limits.max_nodes, limits.max_depth)?;
    let (cd, wrapper) = find_clinical_document(xml.root_element())?;

    let type_code = child(cd, "code").and_then(header::code);
    let title = child(cd, "title")
        .and_then(text_of)
        .or_else(|| type_code.as_ref().and_then(|c| c.display.clone()))
        .unwrap_or_else(|| "Document CDA".to_owned());

    let mut media = Vec::new();
    let component = child(cd, "component").ok_or(CdaError::NoBody)?;
    let body = if let Some(nxb) = child(component, "nonXMLBody") {
        let text = child(nxb, "text").ok_or(CdaError::NoBody)?;
        media.push(media_from(text, None, MediaOrigin::NonXmlBody, limits)?);
        Body::NonXml { media: 0 }
    } else if let Some(sb) = child(component, "structuredBody") {
        for om in sb.descendants().filter(|n| is_hl7(n, "observationMedia")) {
            if media.len() >= limits.max_media {
                return Err(CdaError::Media(format!(
                    "more than {} embedded files",
                    limits.max_media
                )));
            }
            if let Some(value) = child(om, "value") {
                media.push(media_from(
                    value,
                    attr(om, "ID"),
                    MediaOrigin::ObservationMedia,
                    limits,
                )?);
            }
        }
        let total: usize = media.iter().map(|m| m.bytes.len()).sum();
        if total > limits.max_total_media_bytes {
            return Err(CdaError::Media(format!(
                "embedded files total {total} bytes (limit {})",
                limits.max_total_media_bytes
            )));
        }
        Body::Structured {
            sections: top_sections(sb).map(section).collect(),
        }
    } else {
        return Err(CdaError::NoBody);
    };

    let mut doc = Document {
        wrapper,
        id: child(cd, "id").and_then(header::identifier),
        title,
        type_code,
        effective_time: child(cd, "effectiveTime").and_then(header::timestamp),
        confidentiality: child(cd, "confidentialityCode").and_then(header::code),
        language: child(cd, "languageCode").and_then(|l| attr(l, "code")),
        set_id: child(cd, "setId").and_then(header::identifier),
        version: child(cd, "versionNumber").and_then(|v| attr(v, "value")),
        parent_document: path(cd, &["relatedDocument", "parentDocument", "id"])
            .and_then(header::identifier),
        patient: header::patient(cd),
        authors: header::authors(cd),
        custodian: header::custodian(cd),
        legal_authenticator: header::legal_authenticator(cd),
        recipients: header::recipients(cd),
        informants: header::informants(cd),
        encounter: header::encounter(cd),
        service_events: header::service_events(cd),
        body,
        media,
        lab_results: Vec::new(),
    };

    if doc.is_lab_report() {
        if let Some(sb) = child(component, "structuredBody") {
            let ids = lab::id_index(sb);
            let sections: Vec<Node<'_, '_>> = top_sections(sb)
                .filter(|s| {
                    child(*s, "code")
                        .and_then(|c| c.attribute("code"))
                        .map(str::trim)
                        != Some("55108-5")
                })
                .collect();
            doc.lab_results = lab::extract(&sections, &ids, MAX_LAB_ROWS);
        }
    }
    Ok(doc)
}

/// The `ClinicalDocument` element: the root, or inside a XAdES enveloping
/// signature, or inside an "auto-presentable" XSLT (which is never run).
fn find_clinical_document<'a, 'i>(
    root: Node<'a, 'i>,
) -> Result<(Node<'a, 'i>, Option<Wrapper>), CdaError> {
    if is_hl7(&root, "ClinicalDocument") {
        return Ok((root, None));
    }
    let wrapper = match (root.tag_name().namespace(), root.tag_name().name()) {
        (Some(XMLDSIG_NS), "Signature") => Wrapper::XadesSignature,
        (Some(XSLT_NS), "stylesheet" | "transform") => Wrapper::AutoPresentable,
        (_, name) => return Err(CdaError::NotCda(name.to_owned())),
    };
    root.descendants()
        .find(|n| {
            n.is_element()
                && n.tag_name().name() == "ClinicalDocument"
                && n.tag_name().namespace() == Some(HL7_NS)
        })
        .map(|cd| (cd, Some(wrapper)))
        .ok_or_else(|| CdaError::NotCda(root.tag_name().name().to_owned()))
}

fn top_sections<'a, 'i: 'a>(body: Node<'a, 'i>) -> impl Iterator<Item = Node<'a, 'i>> + 'a {
    children(body, "component").filter_map(|c| child(c, "section"))
}

fn section(node: Node<'_, '_>) -> Section {
    Section {
        id: attr(node, "ID"),
        code: child(node, "code").and_then(header::code),
        title: child(node, "title").and_then(text_of),
        text: child(node, "text")
            .map(|t| convert_children(t, false))
            .unwrap_or_default(),
        sections: children(node, "component")
            .filter_map(|c| child(c, "section"))
            .map(section)
            .collect(),
    }
}

/// Decodes a `nonXMLBody/text` or `observationMedia/value` element.
fn media_from(
    node: Node<'_, '_>,
    id: Option<String>,
    origin: MediaOrigin,
    limits: &Limits,
) -> Result<Media, CdaError> {
    let declared_type = attr(node, "mediaType");
    let remote_reference = child(node, "reference").and_then(|r| attr(r, "value"));
    let content: String = node
        .children()
        .filter(Node::is_text)
        .filter_map(|t| t.text())
        .collect();
    let b64 = attr(node, "representation").is_some_and(|r| r.eq_ignore_ascii_case("B64"));
    let bytes = if b64 {
        decode_base64(&content, limits.max_media_bytes)?
    } else {
        let trimmed = content.trim();
        if trimmed.len() > limits.max_media_bytes {
            return Err(CdaError::Media(format!(
                "an embedded text is {} bytes (limit {})",
                trimmed.len(),
                limits.max_media_bytes
            )));
        }
        trimmed.as_bytes().to_vec()
    };
    Ok(Media {
        id,
        declared_type,
        sniffed_type: if bytes.is_empty() {
            "application/octet-stream"
        } else {
            sniff(&bytes)
        },
        bytes,
        origin,
        remote_reference,
    })
}
