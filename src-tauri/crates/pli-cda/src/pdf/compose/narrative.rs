//! Narrative blocks into the page flow: paragraphs, inline styles, lists and
//! the document's own tables.

use super::{Composer, Flow};
use crate::narrative::{plain_text, Element, Link, NarrativeNode, Revision, Style as NStyle};
use crate::narrative::{TableAttr, Tag};
use crate::pdf::layout::{Align, Cell, Piece, Row, Style, Table, CONTENT_W};
use crate::pdf::winansi;

/// Indent of list items and nested content, in points.
pub(super) const INDENT: f32 = 16.0;
/// Narrowest column nested content may shrink to.
const MIN_WIDTH: f32 = CONTENT_W * 0.45;

impl Composer<'_> {
    /// Lays out the pending inline content of a column flow as a paragraph.
    pub(super) fn flush(&mut self, flow: &mut Flow, gap_after: f32) {
        if flow.in_cell {
            if !flow.inline.at_line_start() {
                flow.inline.line_break(Style::BODY);
            }
            return;
        }
        if flow.inline.is_empty() {
            flow.inline.take();
            return;
        }
        let items = flow.inline.take();
        let marker = flow.marker.take();
        self.out
            .paragraph(&items, flow.x, flow.width, Align::Left, marker, 0.0);
        self.out.gap(gap_after);
    }

    pub(super) fn styled(style: Style, e: &Element) -> Style {
        let mut s = style;
        for st in &e.styles {
            match st {
                NStyle::Bold => s = s.bold(),
                NStyle::Italics | NStyle::Emphasis => s = s.italic(),
                NStyle::Underline => s.underline = true,
                _ => {}
            }
        }
        match e.revised {
            Some(Revision::Delete) => s.strike = true,
            Some(Revision::Insert) => s.underline = true,
            None => {}
        }
        s
    }

    pub(super) fn nodes(&mut self, flow: &mut Flow, nodes: &[NarrativeNode], style: Style) {
        for n in nodes {
            if self.out.truncated {
                return;
            }
            match n {
                NarrativeNode::Text(t) => flow.inline.text(t, style),
                NarrativeNode::Element(e) => self.element(flow, e, style),
            }
        }
    }

    pub(super) fn element(&mut self, flow: &mut Flow, e: &Element, style: Style) {
        let style = Self::styled(style, e);
        match &e.tag {
            Tag::Content | Tag::Col | Tag::Colgroup => self.nodes(flow, &e.children, style),
            Tag::Sub | Tag::Sup => {
                let size = (style.size * 0.75).max(5.0);
                let rise = if e.tag == Tag::Sup {
                    style.size * 0.35
                } else {
                    -style.size * 0.15
                };
                let s = Style {
                    size,
                    // Nested scripts stay near the line.
                    rise: (style.rise + rise).clamp(-4.0, 6.0),
                    ..style
                };
                self.nodes(flow, &e.children, s);
            }
            Tag::Br => flow.inline.line_break(style),
            Tag::Link(link) => {
                self.nodes(flow, &e.children, style);
                if let Link::External(url) = link {
                    if plain_text(&e.children) != *url {
                        flow.inline.text(&format!(" ({url})"), style);
                    }
                }
            }
            Tag::FootnoteRef { idref } => {
                let mark = self
                    .footnote_ids
                    .get(idref)
                    .map_or_else(|| "[?]".to_owned(), |n| format!("[{n}]"));
                flow.inline.text(&mark, Self::sup(style));
            }
            Tag::Footnote => {
                self.footnote_counter += 1;
                let n = self.footnote_counter;
                flow.inline.text(&format!("[{n}]"), Self::sup(style));
                let mut note = Flow::cell();
                self.nodes(&mut note, &e.children, Style::BODY.sized(8.5));
                self.notes.push((n, note.inline.take()));
            }
            Tag::Paragraph | Tag::Pre | Tag::Caption => {
                self.flush(flow, 0.0);
                if e.tag == Tag::Pre {
                    let mut raw = String::new();
                    raw_text(&e.children, &mut raw);
                    for line in raw.trim_matches('\n').split('\n') {
                        flow.inline.text(line, style);
                        flow.inline.line_break(style);
                    }
                } else {
                    let s = if e.tag == Tag::Caption {
                        style.bold()
                    } else {
                        style
                    };
                    self.nodes(flow, &e.children, s);
                }
                self.flush(flow, 4.0);
            }
            Tag::List { ordered } => self.list(flow, e, *ordered, style),
            Tag::Item => {
                self.flush(flow, 0.0);
                self.nodes(flow, &e.children, style);
                self.flush(flow, 2.0);
            }
            Tag::Table => self.table(flow, e, style),
            Tag::Thead | Tag::Tbody | Tag::Tfoot | Tag::Tr | Tag::Th | Tag::Td => {
                // Table parts outside a table: keep their text.
                self.nodes(flow, &e.children, style);
                if matches!(e.tag, Tag::Th | Tag::Td) {
                    flow.inline.space(style);
                } else {
                    self.flush(flow, 0.0);
                }
            }
            Tag::RenderMultiMedia { refs } => {
                self.flush(flow, 0.0);
                let note = Style {
                    gray: 0.35,
                    ..style.italic()
                };
                for r in refs {
                    let what = match self.doc.media_by_id(r) {
                        Some((_, m)) if m.sniffed_type.starts_with("image/") => {
                            self.l.image.to_owned()
                        }
                        Some((_, m)) if m.sniffed_type == "application/pdf" => {
                            self.l.pdf_file.to_owned()
                        }
                        Some((_, m)) => format!("{} ({})", self.l.terms.attachment, m.sniffed_type),
                        None => self.l.terms.missing_media.to_owned(),
                    };
                    flow.inline.text(&format!("[{what}]"), note);
                    flow.inline.space(note);
                }
                self.nodes(flow, &e.children, note);
                self.flush(flow, 4.0);
            }
        }
    }

    pub(super) fn sup(style: Style) -> Style {
        Style {
            size: (style.size * 0.75).max(5.0),
            rise: (style.rise + style.size * 0.35).clamp(-4.0, 6.0),
            ..style
        }
    }

    pub(super) fn list(&mut self, flow: &mut Flow, e: &Element, ordered: bool, style: Style) {
        self.flush(flow, 0.0);
        let kind = e.styles.iter().copied().find(|s| {
            matches!(
                s,
                NStyle::Arabic
                    | NStyle::LittleRoman
                    | NStyle::BigRoman
                    | NStyle::LittleAlpha
                    | NStyle::BigAlpha
            )
        });
        let ordered = ordered || kind.is_some();
        for c in &e.children {
            if let NarrativeNode::Element(x) = c {
                if x.tag == Tag::Caption {
                    self.element(flow, x, style);
                }
            }
        }
        let mut number = 0usize;
        for c in &e.children {
            if self.out.truncated {
                return;
            }
            let children: &[NarrativeNode] = match c {
                NarrativeNode::Element(x) if x.tag == Tag::Caption => continue,
                NarrativeNode::Element(x) if x.tag == Tag::Item => &x.children,
                NarrativeNode::Text(t) if t.trim().is_empty() => continue,
                other => std::slice::from_ref(other),
            };
            let item_style = match c {
                NarrativeNode::Element(x) => Self::styled(style, x),
                NarrativeNode::Text(_) => style,
            };
            number += 1;
            let mark = if ordered {
                format!("{}.", ordinal(number, kind))
            } else {
                "\u{2022}".to_owned()
            };
            if flow.in_cell {
                if !flow.inline.at_line_start() {
                    flow.inline.line_break(style);
                }
                flow.inline.text(&format!("{mark} "), item_style);
                self.nodes(flow, children, item_style);
                flow.inline.line_break(style);
                continue;
            }
            let saved = (flow.x, flow.width);
            if flow.width - INDENT >= MIN_WIDTH {
                flow.x += INDENT;
                flow.width -= INDENT;
            }
            flow.marker = Some(Piece {
                bytes: winansi::encode(&mark),
                style: Style {
                    rise: 0.0,
                    underline: false,
                    strike: false,
                    ..item_style
                },
            });
            self.nodes(flow, children, item_style);
            self.flush(flow, 1.5);
            flow.marker = None;
            (flow.x, flow.width) = saved;
        }
        if !flow.in_cell {
            self.out.gap(3.0);
        }
    }

    pub(super) fn table(&mut self, flow: &mut Flow, e: &Element, style: Style) {
        self.flush(flow, 0.0);
        if flow.in_cell {
            // A table inside a cell: one line per row, cells separated by " | ".
            for_rows(e, &mut |row, _| {
                let mut first = true;
                for cell in row {
                    if !first {
                        flow.inline.text(" | ", style);
                    }
                    first = false;
                    let s = if cell.tag == Tag::Th {
                        style.bold()
                    } else {
                        style
                    };
                    self.nodes(flow, &cell.children, Self::styled(s, cell));
                }
                flow.inline.line_break(style);
            });
            return;
        }
        for c in &e.children {
            if let NarrativeNode::Element(x) = c {
                if x.tag == Tag::Caption {
                    self.element(flow, x, style);
                }
            }
        }
        let mut table = Table::default();
        let mut leading_header = true;
        for_rows(e, &mut |cells, in_thead| {
            let all_th = !cells.is_empty() && cells.iter().all(|c| c.tag == Tag::Th);
            let header = in_thead || (leading_header && all_th);
            leading_header = header;
            let mut row = Row {
                fill: header.then_some(0.9),
                rule: true,
                ..Row::default()
            };
            for c in cells {
                let s = if c.tag == Tag::Th {
                    style.sized(9.0).bold()
                } else {
                    style.sized(9.0)
                };
                let mut f = Flow::cell();
                self.nodes(&mut f, &c.children, Self::styled(s, c));
                let attr = |a: TableAttr| {
                    c.attrs
                        .iter()
                        .find(|(k, _)| *k == a)
                        .map(|(_, v)| v.as_str())
                };
                let span = |a: TableAttr| attr(a).and_then(|v| v.parse().ok()).unwrap_or(1);
                let mut cell = Cell::new(f.inline.take());
                cell.colspan = span(TableAttr::Colspan);
                cell.rowspan = span(TableAttr::Rowspan);
                cell.align = match attr(TableAttr::Align) {
                    Some("right") => Align::Right,
                    Some("center") => Align::Center,
                    _ => Align::Left,
                };
                row.cells.push(cell);
            }
            if header {
                table.header_rows += 1;
            }
            table.rows.push(row);
        });
        self.out.table(table, flow.x, flow.width);
        self.out.gap(6.0);
    }
}

/// Rows of a narrative table in order (thead, tbody, tfoot, bare tr), each as
/// its th/td cells, with whether it sits in a thead.
fn for_rows(table: &Element, f: &mut dyn FnMut(Vec<&Element>, bool)) {
    fn cells(tr: &Element) -> Vec<&Element> {
        tr.children
            .iter()
            .filter_map(|c| match c {
                NarrativeNode::Element(x) if matches!(x.tag, Tag::Th | Tag::Td) => Some(x),
                _ => None,
            })
            .collect()
    }
    for c in &table.children {
        let NarrativeNode::Element(x) = c else {
            continue;
        };
        match x.tag {
            Tag::Thead | Tag::Tbody | Tag::Tfoot => {
                for r in &x.children {
                    if let NarrativeNode::Element(tr) = r {
                        if tr.tag == Tag::Tr {
                            f(cells(tr), x.tag == Tag::Thead);
                        }
                    }
                }
            }
            Tag::Tr => f(cells(x), false),
            _ => {}
        }
    }
}

/// Text of a subtree with its whitespace as sent (for `pre`).
fn raw_text(nodes: &[NarrativeNode], out: &mut String) {
    for n in nodes {
        match n {
            NarrativeNode::Text(t) => out.push_str(t),
            NarrativeNode::Element(e) => {
                if e.tag == Tag::Br {
                    out.push('\n');
                }
                raw_text(&e.children, out);
            }
        }
    }
}

/// The label of list item `n` (from 1) in a list style.
fn ordinal(n: usize, kind: Option<NStyle>) -> String {
    fn alpha(mut n: usize, base: u8) -> String {
        let mut s = Vec::new();
        while n > 0 {
            n -= 1;
            s.push(base + (n % 26) as u8);
            n /= 26;
        }
        s.reverse();
        String::from_utf8(s).unwrap_or_default()
    }
    fn roman(mut n: usize) -> String {
        if n == 0 || n >= 4000 {
            return n.to_string();
        }
        let table = [
            (1000, "m"),
            (900, "cm"),
            (500, "d"),
            (400, "cd"),
            (100, "c"),
            (90, "xc"),
            (50, "l"),
            (40, "xl"),
            (10, "x"),
            (9, "ix"),
            (5, "v"),
            (4, "iv"),
            (1, "i"),
        ];
        let mut s = String::new();
        for (v, r) in table {
            while n >= v {
                s.push_str(r);
                n -= v;
            }
        }
        s
    }
    match kind {
        Some(NStyle::LittleAlpha) => alpha(n, b'a'),
        Some(NStyle::BigAlpha) => alpha(n, b'A'),
        Some(NStyle::LittleRoman) => roman(n),
        Some(NStyle::BigRoman) => roman(n).to_uppercase(),
        _ => n.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdf::layout::Font;

    #[test]
    fn ordinals() {
        assert_eq!(ordinal(3, None), "3");
        assert_eq!(ordinal(28, Some(NStyle::LittleAlpha)), "ab");
        assert_eq!(ordinal(14, Some(NStyle::BigRoman)), "XIV");
        assert_eq!(ordinal(4, Some(NStyle::LittleRoman)), "iv");
    }

    #[test]
    fn fonts_differ_by_weight() {
        assert_eq!(Font::Regular.bold(), Font::Bold);
        assert_eq!(Font::Bold.italic(), Font::BoldItalic);
    }
}
