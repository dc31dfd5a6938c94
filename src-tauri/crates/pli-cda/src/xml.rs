//! Safe XML loading and small helpers over roxmltree.
//!
//! roxmltree never fetches anything and ignores processing instructions such as
//! `<?xml-stylesheet?>`; on top of it we refuse any DTD (so no entity can be
//! declared), cap the node count, and check the nesting depth before any of our
//! own recursive walks run.

use roxmltree::{Document, Node, ParsingOptions};

use crate::error::CdaError;

/// The HL7 v3 namespace of CDA R2.
pub(crate) const HL7_NS: &str = "urn:hl7-org:v3";

/// Decodes bytes as UTF-8 text, dropping a leading byte-order mark.
pub(crate) fn utf8_text(bytes: &[u8]) -> Result<&str, CdaError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|_| CdaError::NotUtf8)
}

/// Parses XML text with DTDs refused and the node count capped, then checks depth.
pub(crate) fn parse_xml(
    text: &str,
    nodes_limit: u32,
    max_depth: usize,
) -> Result<Document<'_>, CdaError> {
    let options = ParsingOptions {
        allow_dtd: false,
        nodes_limit,
        ..ParsingOptions::default()
    };
    let doc = Document::parse_with_options(text, options).map_err(|e| match e {
        roxmltree::Error::DtdDetected => CdaError::Doctype,
        other => CdaError::Xml(other.to_string()),
    })?;
    check_depth(&doc, max_depth)?;
    Ok(doc)
}

/// Iterative depth check (no recursion: the point is to protect recursive code).
fn check_depth(doc: &Document<'_>, max_depth: usize) -> Result<(), CdaError> {
    let mut stack: Vec<(Node<'_, '_>, usize)> = vec![(doc.root(), 0)];
    while let Some((node, depth)) = stack.pop() {
        if depth > max_depth {
            return Err(CdaError::TooDeep(max_depth));
        }
        for child in node.children().filter(Node::is_element) {
            stack.push((child, depth + 1));
        }
    }
    Ok(())
}

/// True for an element with this local name in the HL7 namespace (or no namespace,
/// which some hand-made documents use).
pub(crate) fn is_hl7(node: &Node<'_, '_>, name: &str) -> bool {
    node.is_element()
        && node.tag_name().name() == name
        && matches!(node.tag_name().namespace(), None | Some(HL7_NS))
}

/// First HL7 child element with this local name.
pub(crate) fn child<'a, 'i>(node: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    node.children().find(|c| is_hl7(c, name))
}

/// All HL7 child elements with this local name.
pub(crate) fn children<'a, 'i: 'a>(
    node: Node<'a, 'i>,
    name: &'a str,
) -> impl Iterator<Item = Node<'a, 'i>> + 'a {
    node.children().filter(move |c| is_hl7(c, name))
}

/// Follows a path of HL7 child elements.
pub(crate) fn path<'a, 'i>(node: Node<'a, 'i>, names: &[&str]) -> Option<Node<'a, 'i>> {
    names.iter().try_fold(node, |n, name| child(n, name))
}

/// A non-empty, trimmed attribute value.
pub(crate) fn attr(node: Node<'_, '_>, name: &str) -> Option<String> {
    node.attribute(name)
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// The element's text content with whitespace runs collapsed; `None` when empty.
pub(crate) fn text_of(node: Node<'_, '_>) -> Option<String> {
    let mut out = String::new();
    for d in node.descendants().filter(Node::is_text) {
        push_collapsed(&mut out, d.text().unwrap_or(""));
    }
    let t = out.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

/// Appends `s` to `out`, collapsing whitespace runs to one space.
pub(crate) fn push_collapsed(out: &mut String, s: &str) {
    for ch in s.chars() {
        if ch.is_whitespace() {
            if !out.ends_with(' ') && !out.is_empty() {
                out.push(' ');
            }
        } else {
            out.push(ch);
        }
    }
}

/// The `xsi:type` of an element, without its prefix (`PQ`, `CD`, `IVL_PQ`…).
pub(crate) fn xsi_type(node: Node<'_, '_>) -> Option<String> {
    node.attributes()
        .find(|a| {
            a.name() == "type" && a.namespace() == Some("http://www.w3.org/2001/XMLSchema-instance")
        })
        .map(|a| {
            let v = a.value().trim();
            v.rsplit(':').next().unwrap_or(v).to_owned()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bom_is_stripped_and_invalid_utf8_refused() {
        assert_eq!(utf8_text(b"\xEF\xBB\xBF<a/>").unwrap(), "<a/>");
        assert!(matches!(utf8_text(b"<a>\xFF</a>"), Err(CdaError::NotUtf8)));
    }

    #[test]
    fn doctype_is_refused() {
        let xml = "<!DOCTYPE x [<!ENTITY a \"b\">]><x>&a;</x>";
        assert!(matches!(parse_xml(xml, 1000, 10), Err(CdaError::Doctype)));
    }

    #[test]
    fn depth_is_capped() {
        let xml = format!("{}{}", "<a>".repeat(50), "</a>".repeat(50));
        assert!(matches!(
            parse_xml(&xml, 10_000, 20),
            Err(CdaError::TooDeep(20))
        ));
        assert!(parse_xml(&xml, 10_000, 60).is_ok());
    }

    #[test]
    fn collapsed_text() {
        let doc = parse_xml("<a> x \n <b>y</b>\tz </a>", 100, 10).unwrap();
        assert_eq!(text_of(doc.root_element()).as_deref(), Some("x y z"));
    }
}
