//! The CDA narrative block (`section/text`), converted into a closed, owned tree.
//!
//! This is the first half of the allow-list: only the narrative elements of the
//! CDA R2 schema survive, each with the few attributes it may carry, and every
//! value is validated here. Unknown elements lose their tags (their text stays,
//! escaped on output); `script`, `style` and embedded objects lose everything.
//! The renderer (second half) can only produce markup for what this tree holds.

use roxmltree::Node;
use serde::Serialize;

use crate::xml::{self, HL7_NS};

/// One node of the narrative.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NarrativeNode {
    /// Text, whitespace collapsed (kept as is inside `pre`).
    Text(String),
    /// An allow-listed element.
    Element(Element),
}

/// An allow-listed narrative element.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Element {
    /// What it is.
    pub tag: Tag,
    /// `@ID`, if it is a safe token.
    pub id: Option<String>,
    /// `@styleCode`, normalised.
    pub styles: Vec<Style>,
    /// `@revised`.
    pub revised: Option<Revision>,
    /// Allow-listed table attributes with validated values.
    pub attrs: Vec<(TableAttr, String)>,
    /// Children.
    pub children: Vec<NarrativeNode>,
}

/// The narrative elements of CDA R2.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tag {
    /// `paragraph`.
    Paragraph,
    /// `content`.
    Content,
    /// `caption`.
    Caption,
    /// `list`, ordered or not.
    List {
        /// `listType="ordered"`.
        ordered: bool,
    },
    /// `item`.
    Item,
    /// `table`.
    Table,
    /// `thead`.
    Thead,
    /// `tbody`.
    Tbody,
    /// `tfoot`.
    Tfoot,
    /// `tr`.
    Tr,
    /// `th`.
    Th,
    /// `td`.
    Td,
    /// `colgroup`.
    Colgroup,
    /// `col`.
    Col,
    /// `br`.
    Br,
    /// `sub`.
    Sub,
    /// `sup`.
    Sup,
    /// `pre` (tolerated; not in the CDA schema but seen in the wild).
    Pre,
    /// `footnote`.
    Footnote,
    /// `footnoteRef` pointing at a footnote's ID.
    FootnoteRef {
        /// The referenced footnote ID.
        idref: String,
    },
    /// `linkHtml`, with its target already classified.
    Link(Link),
    /// `renderMultiMedia`: IDs of `observationMedia` to show here.
    RenderMultiMedia {
        /// Referenced object IDs.
        refs: Vec<String>,
    },
}

/// A `linkHtml` target, classified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "target")]
pub enum Link {
    /// `#id` inside the document.
    Internal(String),
    /// An `http`/`https` URL: shown, opened only by an explicit user action.
    External(String),
    /// Any other scheme, or a relative path: the text stays, the link goes.
    Dropped,
}

/// Normalised `styleCode` tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Style {
    /// Bold.
    Bold,
    /// Italics.
    Italics,
    /// Underline.
    Underline,
    /// Emphasis.
    Emphasis,
    /// Left rule (table cells).
    Lrule,
    /// Right rule.
    Rrule,
    /// Top rule.
    Toprule,
    /// Bottom rule.
    Botrule,
    /// List bullets: disc.
    Disc,
    /// List bullets: circle.
    Circle,
    /// List bullets: square.
    Square,
    /// Ordered list: 1, 2, 3.
    Arabic,
    /// Ordered list: i, ii, iii.
    LittleRoman,
    /// Ordered list: I, II, III.
    BigRoman,
    /// Ordered list: a, b, c.
    LittleAlpha,
    /// Ordered list: A, B, C.
    BigAlpha,
}

impl Style {
    /// The CSS class the renderer uses.
    pub fn class(self) -> &'static str {
        match self {
            Self::Bold => "s-bold",
            Self::Italics => "s-italics",
            Self::Underline => "s-underline",
            Self::Emphasis => "s-emphasis",
            Self::Lrule => "s-lrule",
            Self::Rrule => "s-rrule",
            Self::Toprule => "s-toprule",
            Self::Botrule => "s-botrule",
            Self::Disc => "s-disc",
            Self::Circle => "s-circle",
            Self::Square => "s-square",
            Self::Arabic => "s-arabic",
            Self::LittleRoman => "s-little-roman",
            Self::BigRoman => "s-big-roman",
            Self::LittleAlpha => "s-little-alpha",
            Self::BigAlpha => "s-big-alpha",
        }
    }
}

/// Parses a `styleCode` value: case-insensitive, with the common non-standard
/// `BoldItalics` (and `Italic`) understood; unknown tokens are ignored.
pub fn parse_styles(value: &str) -> Vec<Style> {
    let mut out = Vec::new();
    for token in value.split_whitespace() {
        let found: &[Style] = match token.to_ascii_lowercase().as_str() {
            "bold" => &[Style::Bold],
            "italics" | "italic" => &[Style::Italics],
            "bolditalics" | "bolditalic" | "italicsbold" | "italicbold" => {
                &[Style::Bold, Style::Italics]
            }
            "underline" => &[Style::Underline],
            "emphasis" => &[Style::Emphasis],
            "lrule" => &[Style::Lrule],
            "rrule" => &[Style::Rrule],
            "toprule" => &[Style::Toprule],
            "botrule" => &[Style::Botrule],
            "disc" => &[Style::Disc],
            "circle" => &[Style::Circle],
            "square" => &[Style::Square],
            "arabic" => &[Style::Arabic],
            "littleroman" => &[Style::LittleRoman],
            "bigroman" => &[Style::BigRoman],
            "littlealpha" => &[Style::LittleAlpha],
            "bigalpha" => &[Style::BigAlpha],
            _ => &[],
        };
        for s in found {
            if !out.contains(s) {
                out.push(*s);
            }
        }
    }
    out
}

/// `@revised` on `content`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Revision {
    /// Inserted text.
    Insert,
    /// Deleted text.
    Delete,
}

/// The table attributes that survive, each with a validated value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TableAttr {
    /// `colspan` (1–1000).
    Colspan,
    /// `rowspan` (1–1000).
    Rowspan,
    /// `span` on `col`/`colgroup` (1–1000).
    Span,
    /// `align` (`left`, `center`, `right`, `justify`).
    Align,
    /// `valign` (`top`, `middle`, `bottom`, `baseline`).
    Valign,
    /// `width` (digits, optional `%` or `px`).
    Width,
    /// `scope` (`row`, `col`, `rowgroup`, `colgroup`).
    Scope,
    /// `abbr` (text).
    Abbr,
}

impl TableAttr {
    /// The HTML attribute name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Colspan => "colspan",
            Self::Rowspan => "rowspan",
            Self::Span => "span",
            Self::Align => "align",
            Self::Valign => "valign",
            Self::Width => "width",
            Self::Scope => "scope",
            Self::Abbr => "abbr",
        }
    }

    /// Validates a value: `Some(normalised)` when it may be emitted.
    fn validate(self, raw: &str) -> Option<String> {
        let v = raw.trim();
        let lower = v.to_ascii_lowercase();
        let ok = match self {
            Self::Colspan | Self::Rowspan | Self::Span => {
                v.len() <= 4
                    && v.bytes().all(|b| b.is_ascii_digit())
                    && v.parse::<u16>().is_ok_and(|n| (1..=1000).contains(&n))
            }
            Self::Align => matches!(lower.as_str(), "left" | "center" | "right" | "justify"),
            Self::Valign => matches!(lower.as_str(), "top" | "middle" | "bottom" | "baseline"),
            Self::Width => {
                let digits = lower.trim_end_matches('%').trim_end_matches("px");
                !digits.is_empty()
                    && digits.len() <= 4
                    && digits.bytes().all(|b| b.is_ascii_digit())
            }
            Self::Scope => matches!(lower.as_str(), "row" | "col" | "rowgroup" | "colgroup"),
            Self::Abbr => !v.is_empty() && v.chars().count() <= 200,
        };
        ok.then(|| {
            if self == Self::Abbr {
                v.to_owned()
            } else {
                lower
            }
        })
    }

    fn allowed_on(tag: &Tag) -> &'static [TableAttr] {
        use TableAttr::*;
        match tag {
            Tag::Table => &[Width],
            Tag::Th | Tag::Td => &[Colspan, Rowspan, Align, Valign, Scope, Abbr],
            Tag::Col | Tag::Colgroup => &[Span, Width, Align, Valign],
            Tag::Thead | Tag::Tbody | Tag::Tfoot | Tag::Tr => &[Align, Valign],
            _ => &[],
        }
    }
}

/// An `@ID` usable as an HTML id / fragment: 1–128 chars of `[A-Za-z0-9_.-]`.
pub(crate) fn safe_id(raw: &str) -> Option<String> {
    let v = raw.trim();
    let ok = !v.is_empty()
        && v.len() <= 128
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    ok.then(|| v.to_owned())
}

/// Classifies a `linkHtml/@href`. Browsers ignore ASCII tab and newline inside
/// URLs and trim spaces, so those are removed before the scheme is read: this
/// defeats `java\tscript:` and `  JavaScript:` alike.
pub fn classify_href(raw: &str) -> Link {
    let cleaned: String = raw
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .collect();
    if let Some(fragment) = cleaned.strip_prefix('#') {
        return safe_id(fragment).map_or(Link::Dropped, Link::Internal);
    }
    let lower = cleaned.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    match rest {
        Some(rest)
            if !rest.is_empty()
                && !rest.starts_with('/')
                && cleaned.bytes().all(|b| {
                    b.is_ascii_graphic() && !matches!(b, b'"' | b'\'' | b'<' | b'>' | b'`' | b'\\')
                }) =>
        {
            Link::External(cleaned)
        }
        _ => Link::Dropped,
    }
}

/// Elements whose content is dropped with them.
const DROP_WITH_CONTENT: &[&str] = &[
    "script", "style", "iframe", "object", "embed", "frame", "frameset", "svg", "math", "template",
    "noscript",
];

/// Converts the children of a `section/text` element.
pub(crate) fn convert_children(node: Node<'_, '_>, in_pre: bool) -> Vec<NarrativeNode> {
    let mut out = Vec::new();
    for child in node.children() {
        convert_into(child, in_pre, &mut out);
    }
    out
}

fn convert_into(node: Node<'_, '_>, in_pre: bool, out: &mut Vec<NarrativeNode>) {
    if node.is_text() {
        let raw = node.text().unwrap_or("");
        if in_pre {
            out.push(NarrativeNode::Text(raw.to_owned()));
        } else {
            let mut s = String::new();
            for ch in raw.chars() {
                if ch.is_whitespace() {
                    if !s.ends_with(' ') {
                        s.push(' ');
                    }
                } else {
                    s.push(ch);
                }
            }
            if !s.is_empty() {
                out.push(NarrativeNode::Text(s));
            }
        }
        return;
    }
    if !node.is_element() {
        return; // comments and processing instructions
    }
    let name = node.tag_name().name();
    let ns_ok = matches!(node.tag_name().namespace(), None | Some(HL7_NS));
    let tag = if ns_ok { tag_for(node, name) } else { None };
    let Some(tag) = tag else {
        if !DROP_WITH_CONTENT
            .iter()
            .any(|d| d.eq_ignore_ascii_case(name))
        {
            for c in node.children() {
                convert_into(c, in_pre, out);
            }
        }
        return;
    };
    let attrs = TableAttr::allowed_on(&tag)
        .iter()
        .filter_map(|a| {
            node.attribute(a.name())
                .and_then(|v| a.validate(v))
                .map(|v| (*a, v))
        })
        .collect();
    let child_pre = in_pre || tag == Tag::Pre;
    let children = if tag == Tag::Br || tag == Tag::Col {
        Vec::new()
    } else {
        convert_children(node, child_pre)
    };
    out.push(NarrativeNode::Element(Element {
        id: node.attribute("ID").and_then(safe_id),
        styles: node
            .attribute("styleCode")
            .map(parse_styles)
            .unwrap_or_default(),
        revised: match node.attribute("revised").map(str::trim) {
            Some("insert") => Some(Revision::Insert),
            Some("delete") => Some(Revision::Delete),
            _ => None,
        },
        attrs,
        children,
        tag,
    }));
}

fn tag_for(node: Node<'_, '_>, name: &str) -> Option<Tag> {
    Some(match name {
        "paragraph" => Tag::Paragraph,
        "content" => Tag::Content,
        "caption" => Tag::Caption,
        "list" => Tag::List {
            ordered: node.attribute("listType").map(str::trim) == Some("ordered"),
        },
        "item" => Tag::Item,
        "table" => Tag::Table,
        "thead" => Tag::Thead,
        "tbody" => Tag::Tbody,
        "tfoot" => Tag::Tfoot,
        "tr" => Tag::Tr,
        "th" => Tag::Th,
        "td" => Tag::Td,
        "colgroup" => Tag::Colgroup,
        "col" => Tag::Col,
        "br" => Tag::Br,
        "sub" => Tag::Sub,
        "sup" => Tag::Sup,
        "pre" => Tag::Pre,
        "footnote" => Tag::Footnote,
        "footnoteRef" => Tag::FootnoteRef {
            idref: node.attribute("IDREF").and_then(safe_id)?,
        },
        "linkHtml" => Tag::Link(node.attribute("href").map_or(Link::Dropped, classify_href)),
        "renderMultiMedia" => Tag::RenderMultiMedia {
            refs: node
                .attribute("referencedObject")
                .unwrap_or("")
                .split_whitespace()
                .filter_map(safe_id)
                .collect(),
        },
        _ => return None,
    })
}

/// Plain text of a narrative subtree (for footnote tooltips and labels).
pub fn plain_text(nodes: &[NarrativeNode]) -> String {
    let mut out = String::new();
    fn walk(nodes: &[NarrativeNode], out: &mut String) {
        for n in nodes {
            match n {
                NarrativeNode::Text(t) => xml::push_collapsed(out, t),
                NarrativeNode::Element(e) => {
                    if matches!(
                        e.tag,
                        Tag::Br | Tag::Td | Tag::Th | Tag::Paragraph | Tag::Item
                    ) && !out.ends_with(' ')
                    {
                        out.push(' ');
                    }
                    walk(&e.children, out);
                }
            }
        }
    }
    walk(nodes, &mut out);
    out.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn styles_are_normalised() {
        assert_eq!(parse_styles("bold"), vec![Style::Bold]);
        assert_eq!(
            parse_styles("BoldItalics Underline"),
            vec![Style::Bold, Style::Italics, Style::Underline]
        );
        assert_eq!(parse_styles("xFRsomething ITALICS"), vec![Style::Italics]);
    }

    #[test]
    fn hrefs_are_classified() {
        assert_eq!(classify_href("#sec1"), Link::Internal("sec1".into()));
        assert_eq!(
            classify_href(" https://www.e-cancer.fr "),
            Link::External("https://www.e-cancer.fr".into())
        );
        for bad in [
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            "java\tscript:alert(1)",
            " \njavascript:alert(1)",
            "vbscript:msgbox",
            "data:text/html;base64,PHNjcmlwdD4=",
            "file:///etc/passwd",
            "mailto:x@y.fr",
            "documentsAnnexes/AVK.pdf",
            "//evil.example/x",
            "https:///x",
            "https://x\"onmouseover=\"alert(1)",
            "#bad id\"x",
        ] {
            let got = classify_href(bad);
            assert!(
                matches!(got, Link::Dropped)
                    || matches!(&got, Link::Internal(i) if safe_id(i).is_some()),
                "{bad:?} gave {got:?}"
            );
        }
    }

    #[test]
    fn table_attributes_are_validated() {
        assert_eq!(TableAttr::Colspan.validate("2"), Some("2".into()));
        assert_eq!(TableAttr::Colspan.validate("0"), None);
        assert_eq!(TableAttr::Colspan.validate("2\" onclick=\"x"), None);
        assert_eq!(TableAttr::Width.validate("50%"), Some("50%".into()));
        assert_eq!(TableAttr::Align.validate("CENTER"), Some("center".into()));
        assert_eq!(TableAttr::Align.validate("expression(alert(1))"), None);
    }
}
