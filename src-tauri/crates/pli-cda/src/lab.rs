//! Level-3 laboratory results of a CR-BIO, flattened into rows as biologists'
//! viewers show them next to the narrative (analysis, value, unit, range, flag).

use std::collections::HashMap;

use roxmltree::Node;

use crate::header::{code, parse_ts};
use crate::model::LabResult;
use crate::xml::{attr, child, children, is_hl7, text_of, xsi_type};

/// Index of narrative elements by `@ID`, to resolve `originalText/reference`.
pub(crate) type IdIndex<'a, 'i> = HashMap<&'a str, Node<'a, 'i>>;

pub(crate) fn id_index<'a, 'i>(root: Node<'a, 'i>) -> IdIndex<'a, 'i> {
    root.descendants()
        .filter(Node::is_element)
        .filter_map(|n| n.attribute("ID").map(|id| (id.trim(), n)))
        .collect()
}

/// Resolves `originalText` (reference to narrative, or inline text).
fn original_text(node: Node<'_, '_>, ids: &IdIndex<'_, '_>) -> Option<String> {
    let ot = child(node, "originalText")?;
    if let Some(r) = child(ot, "reference").and_then(|r| attr(r, "value")) {
        if let Some(t) = r
            .strip_prefix('#')
            .and_then(|id| ids.get(id))
            .and_then(|n| text_of(*n))
        {
            return Some(t);
        }
    }
    ot.children()
        .filter(Node::is_text)
        .filter_map(|t| t.text())
        .map(str::trim)
        .find(|t| !t.is_empty())
        .map(str::to_owned)
}

/// The label of a coded element: narrative text, else display name, else code.
fn code_label(node: Node<'_, '_>, ids: &IdIndex<'_, '_>) -> Option<String> {
    original_text(node, ids).or_else(|| code(node).and_then(|c| c.label().map(str::to_owned)))
}

fn pq(node: Node<'_, '_>) -> (Option<String>, Option<String>) {
    let unit = attr(node, "unit").filter(|u| u != "1");
    (attr(node, "value"), unit)
}

/// Formats an `IVL_PQ` (value or range). Returns (text, unit).
fn interval(node: Node<'_, '_>) -> (String, Option<String>) {
    let low = child(node, "low").map(pq);
    let high = child(node, "high").map(pq);
    let inclusive = |n: &str| {
        child(node, n)
            .and_then(|e| e.attribute("inclusive"))
            .map(str::trim)
            != Some("false")
    };
    let unit = low
        .as_ref()
        .and_then(|l| l.1.clone())
        .or_else(|| high.as_ref().and_then(|h| h.1.clone()));
    let text = match (low.and_then(|l| l.0), high.and_then(|h| h.0)) {
        (Some(l), Some(h)) => format!("{l} – {h}"),
        (Some(l), None) => format!("{} {l}", if inclusive("low") { "≥" } else { ">" }),
        (None, Some(h)) => format!("{} {h}", if inclusive("high") { "≤" } else { "<" }),
        (None, None) => text_of(node).unwrap_or_default(),
    };
    (text, unit)
}

/// Formats an observation `value` by its `xsi:type`. Returns (text, unit).
fn value_text(v: Node<'_, '_>, ids: &IdIndex<'_, '_>) -> (String, Option<String>) {
    let kind = xsi_type(v).unwrap_or_default();
    match kind.as_str() {
        "PQ" => {
            let (value, unit) = pq(v);
            (value.unwrap_or_default(), unit)
        }
        "IVL_PQ" => interval(v),
        "CD" | "CE" | "CV" | "CO" | "CS" => (code_label(v, ids).unwrap_or_default(), None),
        "RTO" | "RTO_PQ_PQ" | "RTO_INT_INT" => {
            let n = child(v, "numerator").and_then(|n| attr(n, "value"));
            let d = child(v, "denominator").and_then(|d| attr(d, "value"));
            (
                format!("{}/{}", n.unwrap_or_default(), d.unwrap_or_default()),
                None,
            )
        }
        "TS" => (
            attr(v, "value")
                .and_then(|t| parse_ts(&t))
                .map(|t| t.iso)
                .unwrap_or_default(),
            None,
        ),
        _ => (
            attr(v, "value")
                .or_else(|| original_text(v, ids))
                .or_else(|| text_of(v))
                .unwrap_or_default(),
            None,
        ),
    }
}

fn reference_range(obs: Node<'_, '_>, ids: &IdIndex<'_, '_>) -> Option<String> {
    let ranges: Vec<String> = children(obs, "referenceRange")
        .filter_map(|r| child(r, "observationRange"))
        .filter_map(|or| {
            if let Some(v) = child(or, "value") {
                let (t, unit) = interval(v);
                if !t.is_empty() {
                    return Some(match unit {
                        Some(u) => format!("{t} {u}"),
                        None => t,
                    });
                }
            }
            let text = child(or, "text")?;
            child(text, "reference")
                .and_then(|r| attr(r, "value"))
                .and_then(|r| {
                    r.strip_prefix('#')
                        .and_then(|id| ids.get(id))
                        .and_then(|n| text_of(*n))
                })
                .or_else(|| text_of(text))
        })
        .collect();
    (!ranges.is_empty()).then(|| ranges.join(" ; "))
}

/// The label of an organizer: its isolate's organism, else its code.
fn organizer_label(org: Node<'_, '_>, ids: &IdIndex<'_, '_>) -> Option<String> {
    let organism = child(org, "specimen")
        .and_then(|s| child(s, "specimenRole"))
        .and_then(|s| child(s, "specimenPlayingEntity"))
        .and_then(|e| child(e, "code"))
        .and_then(|c| code_label(c, ids));
    organism.or_else(|| child(org, "code").and_then(|c| code_label(c, ids)))
}

/// Extracts every observation with a value from the entries of the given
/// sections (the caller leaves out the PDF copy section).
pub(crate) fn extract<'a, 'i>(
    sections: &[Node<'a, 'i>],
    ids: &IdIndex<'a, 'i>,
    max_rows: usize,
) -> Vec<LabResult> {
    let mut rows = Vec::new();
    for section in sections {
        for entry in section.descendants().filter(|n| is_hl7(n, "entry")) {
            for obs in entry.descendants().filter(|n| is_hl7(n, "observation")) {
                if rows.len() >= max_rows {
                    return rows;
                }
                let Some(value) = child(obs, "value") else {
                    continue;
                };
                let (text, unit) = value_text(value, ids);
                if text.is_empty() {
                    continue;
                }
                let code_node = child(obs, "code");
                let mut groups: Vec<String> = obs
                    .ancestors()
                    .skip(1)
                    .take_while(|a| !is_hl7(a, "entry"))
                    .filter(|a| is_hl7(a, "organizer"))
                    .filter_map(|o| organizer_label(o, ids))
                    .collect();
                groups.reverse();
                rows.push(LabResult {
                    group: (!groups.is_empty()).then(|| groups.join(" › ")),
                    analysis: code_node
                        .and_then(|c| code_label(c, ids))
                        .unwrap_or_else(|| "—".to_owned()),
                    code: code_node.and_then(|c| attr(c, "code")),
                    value: text,
                    unit,
                    reference_range: reference_range(obs, ids),
                    interpretation: child(obs, "interpretationCode").and_then(code),
                });
            }
        }
    }
    rows
}
