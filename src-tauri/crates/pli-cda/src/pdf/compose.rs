//! From the document model to laid-out pages: header (title, patient,
//! document facts), then the body (sections with their narrative, the CR-BIO
//! results table), in the order and with the content the HTML view shows.

use std::collections::HashMap;

use super::layout::{Align, Cell, Inline, Item, Layout, Piece, Row, Style, Table};
use super::layout::{CONTENT_W, MARGIN_X};
use super::{winansi, PdfOptions};
use crate::model::{Actor, Body, Code, Document, InsKind, Period, PersonName, Section};
use crate::render::{fmt_time, localise_number, number_footnotes};
use crate::Lang;

mod labels;
mod narrative;

use labels::{Labels, EN, FR};
use narrative::INDENT;

/// The laid-out pages, as content streams.
pub(crate) fn pages(doc: &Document, options: &PdfOptions) -> Vec<String> {
    let l = match options.lang {
        Lang::Fr => &FR,
        Lang::En => &EN,
    };
    let mut c = Composer {
        doc,
        l,
        lang: options.lang,
        out: Layout::new(options.max_pages),
        footnote_ids: number_footnotes(doc),
        footnote_counter: 0,
        notes: Vec::new(),
    };
    c.header();
    c.body();
    c.colophon();
    let notice = winansi::encode(
        &l.truncated
            .replace("{}", &options.max_pages.max(1).to_string()),
    );
    let footer = winansi::encode(&c.footer_text());
    c.out.finish(&footer, &notice)
}

struct Composer<'d> {
    doc: &'d Document,
    l: &'static Labels,
    lang: Lang,
    out: Layout,
    footnote_ids: HashMap<String, usize>,
    footnote_counter: usize,
    /// Footnotes of the current section: number and content.
    notes: Vec<(usize, Vec<Item>)>,
}

/// Where narrative goes: a column of the page, or one table cell (inline only).
struct Flow {
    inline: Inline,
    x: f32,
    width: f32,
    /// List marker waiting for the item's first line.
    marker: Option<Piece>,
    /// Inside a table cell: blocks become line breaks.
    in_cell: bool,
}

impl Flow {
    fn column(x: f32, width: f32) -> Self {
        Self {
            inline: Inline::default(),
            x,
            width,
            marker: None,
            in_cell: false,
        }
    }

    fn cell() -> Self {
        Self {
            in_cell: true,
            ..Self::column(0.0, CONTENT_W)
        }
    }
}

fn text_items(text: &str, style: Style) -> Vec<Item> {
    let mut i = Inline::default();
    i.text(text, style);
    i.take()
}

fn cell(text: &str, style: Style) -> Cell {
    Cell::new(text_items(text, style))
}

/// The birth given names as the CI-SIS header carries them: the unqualified
/// `given` (full list), else the first birth (`BR`) given name, else any.
pub(crate) fn given_names(n: &PersonName) -> Option<&str> {
    n.given
        .iter()
        .find(|g| g.qualifier.is_none())
        .or_else(|| {
            n.given
                .iter()
                .find(|g| g.qualifier.as_deref() == Some("BR"))
        })
        .or_else(|| n.given.first())
        .map(|g| g.value.as_str())
}

impl Composer<'_> {
    fn code_text(c: &Code) -> String {
        match (c.display.as_deref(), c.code.as_deref()) {
            (Some(d), Some(k)) if d != k => format!("{d} ({k})"),
            (Some(d), _) => d.to_owned(),
            (None, Some(k)) => k.to_owned(),
            (None, None) => String::new(),
        }
    }

    fn period_text(&self, p: &Period) -> Option<String> {
        match (&p.low, &p.high) {
            (Some(a), Some(b)) if a.iso != b.iso => Some(format!(
                "{} {} {} {}",
                self.l.terms.from,
                fmt_time(a, self.lang),
                self.l.terms.to,
                fmt_time(b, self.lang)
            )),
            (Some(a), _) | (None, Some(a)) => Some(fmt_time(a, self.lang)),
            (None, None) => None,
        }
    }

    fn gender(&self, g: &Code) -> String {
        match g.code.as_deref() {
            Some("F") => self.l.terms.female.to_owned(),
            Some("M") => self.l.terms.male.to_owned(),
            Some("U" | "UN") => self.l.terms.unknown.to_owned(),
            _ => g.label().unwrap_or("").to_owned(),
        }
    }

    fn actor_text(&self, a: &Actor) -> String {
        let mut parts = vec![a.display_name()];
        if let Some(r) = a.role.as_ref().and_then(Code::label) {
            parts.push(r.to_owned());
        }
        if a.person.is_some() || a.device.is_some() {
            if let Some(o) = a.organization.as_ref().and_then(|o| o.name.clone()) {
                parts.push(o);
            }
        }
        parts.retain(|p| !p.trim().is_empty());
        parts.join(" \u{2013} ")
    }

    /// A titled key/value block on a light background.
    fn facts(&mut self, title: &str, rows: Vec<(&str, Vec<String>)>) {
        if rows.is_empty() {
            return;
        }
        let label = Style::BODY.sized(9.0).gray(0.3);
        let value = Style::BODY.sized(9.5);
        let mut table = Table {
            fractions: Some(vec![0.27, 0.73]),
            header_rows: 1,
            ..Table::default()
        };
        table.rows.push(Row {
            cells: vec![Cell::spanning(
                text_items(title, Style::BODY.bold().sized(10.5)),
                2,
            )],
            fill: Some(0.9),
            rule: false,
        });
        for (k, values) in rows {
            let mut v = Inline::default();
            for (i, line) in values.iter().enumerate() {
                if i > 0 {
                    v.line_break(value);
                }
                v.text(line, value);
            }
            table.rows.push(Row {
                cells: vec![cell(k, label), Cell::new(v.take())],
                fill: Some(0.96),
                rule: false,
            });
        }
        self.out.table(table, MARGIN_X, CONTENT_W);
        self.out.gap(8.0);
    }

    fn header(&mut self) {
        let (doc, l) = (self.doc, self.l);
        let mut kind = Vec::new();
        if let Some(t) = doc.type_code.as_ref().and_then(Code::label) {
            if t != doc.title {
                kind.push(t.to_owned());
            }
        }
        kind.push(format!("{} {}", l.kind, doc.level()));
        let small = Style::BODY.sized(8.5).gray(0.35);
        self.out.paragraph(
            &text_items(&kind.join(" \u{00B7} "), small),
            MARGIN_X,
            CONTENT_W,
            Align::Left,
            None,
            0.0,
        );
        self.out.gap(2.0);
        let title = if doc.title.trim().is_empty() {
            l.terms.document
        } else {
            doc.title.as_str()
        };
        self.out.paragraph(
            &text_items(title, Style::BODY.bold().sized(16.0)),
            MARGIN_X,
            CONTENT_W,
            Align::Left,
            None,
            0.0,
        );
        self.out.gap(8.0);

        if let Some(p) = &doc.patient {
            let mut rows: Vec<(&str, Vec<String>)> = Vec::new();
            if let Some(n) = p.names.first() {
                if let Some(f) = n.birth_family() {
                    rows.push((l.terms.birth_name, vec![f.to_owned()]));
                }
                if let Some(u) = n.used_family() {
                    rows.push((l.terms.used_name, vec![u.to_owned()]));
                }
                if let Some(g) = given_names(n) {
                    rows.push((l.given_names, vec![g.to_owned()]));
                }
                if n.family.is_empty() && n.given.is_empty() {
                    if let Some(t) = &n.text {
                        rows.push((l.terms.birth_name, vec![t.clone()]));
                    }
                }
            }
            if let Some(b) = &p.birth_time {
                rows.push((l.birth_date, vec![fmt_time(b, self.lang)]));
            }
            if let Some(g) = &p.gender {
                rows.push((l.terms.sex, vec![self.gender(g)]));
            }
            if let Some(bp) = &p.birth_place {
                rows.push((l.terms.birth_place, vec![bp.clone()]));
            }
            if let Some(ins) = &p.ins {
                let label = match ins.kind {
                    InsKind::Nir => l.terms.ins,
                    InsKind::Nia => l.terms.ins_nia,
                    InsKind::TestNir => l.terms.ins_test,
                    InsKind::DemoNir => l.terms.ins_demo,
                };
                rows.push((label, vec![format!("{} (OID {})", ins.value, ins.oid)]));
            }
            if !p.other_ids.is_empty() {
                rows.push((
                    l.terms.other_ids,
                    p.other_ids.iter().map(|i| i.display()).collect(),
                ));
            }
            self.facts(l.terms.patient, rows);
        }

        let mut rows: Vec<(&str, Vec<String>)> = Vec::new();
        if let Some(c) = &doc.type_code {
            rows.push((l.terms.doc_type, vec![Self::code_text(c)]));
        }
        if let Some(t) = &doc.effective_time {
            rows.push((l.doc_date, vec![fmt_time(t, self.lang)]));
        }
        if let Some(v) = &doc.version {
            rows.push((l.terms.version, vec![v.clone()]));
        }
        match doc.confidentiality.as_ref().and_then(|c| c.code.as_deref()) {
            Some("R") => rows.push((
                l.terms.confidentiality,
                vec![l.terms.confidential.to_owned()],
            )),
            Some("V") => rows.push((
                l.terms.confidentiality,
                vec![l.terms.very_confidential.to_owned()],
            )),
            _ => {}
        }
        if !doc.authors.is_empty() {
            let title = if doc.authors.len() > 1 {
                l.terms.authors
            } else {
                l.terms.author
            };
            rows.push((
                title,
                doc.authors.iter().map(|a| self.actor_text(a)).collect(),
            ));
        }
        if let Some(a) = &doc.legal_authenticator {
            let mut t = self.actor_text(a);
            if let Some(time) = &a.time {
                t.push_str(&format!(", {} {}", l.signed_on, fmt_time(time, self.lang)));
            }
            rows.push((l.terms.legal_authenticator, vec![t]));
        }
        if let Some(name) = doc.custodian.as_ref().and_then(|c| c.name.clone()) {
            rows.push((l.terms.custodian, vec![name]));
        }
        for se in &doc.service_events {
            let mut parts: Vec<String> = Vec::new();
            if let Some(c) = se.code.as_ref().and_then(Code::label) {
                parts.push(c.to_owned());
            }
            if let Some(p) = self.period_text(&se.period) {
                parts.push(p);
            }
            if !parts.is_empty() {
                rows.push((l.terms.service_event, vec![parts.join(", ")]));
            }
        }
        if let Some(e) = &doc.encounter {
            let mut parts: Vec<String> = Vec::new();
            if let Some(c) = e.code.as_ref().and_then(Code::label) {
                parts.push(c.to_owned());
            }
            if let Some(p) = self.period_text(&e.period) {
                parts.push(p);
            }
            if let Some(loc) = &e.location {
                parts.push(loc.clone());
            }
            if !parts.is_empty() {
                rows.push((l.terms.encounter, vec![parts.join(", ")]));
            }
        }
        if !doc.recipients.is_empty() {
            rows.push((
                l.terms.recipients,
                doc.recipients.iter().map(|a| self.actor_text(a)).collect(),
            ));
        }
        self.facts(l.terms.document, rows);
    }

    fn heading(&mut self, text: &str, depth: usize) {
        let size = match depth {
            0 => 13.0,
            1 => 11.5,
            _ => 10.5,
        };
        self.out.gap(if depth == 0 { 8.0 } else { 5.0 });
        let mark = self.out.mark();
        // Keep the heading with about five lines of what follows.
        self.out.paragraph(
            &text_items(text, Style::BODY.bold().sized(size)),
            MARGIN_X,
            CONTENT_W,
            Align::Left,
            None,
            64.0,
        );
        if depth == 0 {
            self.out.rule(MARGIN_X, CONTENT_W, 0.55, 0.6);
        }
        self.out.gap(3.0);
        self.out.keep_with_next(mark);
    }

    fn body(&mut self) {
        let doc = self.doc;
        match &doc.body {
            Body::NonXml { .. } => {
                self.out.paragraph(
                    &text_items(self.l.n1_text, Style::BODY.italic()),
                    MARGIN_X,
                    CONTENT_W,
                    Align::Left,
                    None,
                    0.0,
                );
            }
            Body::Structured { sections } => {
                for s in sections.iter().filter(|s| !s.is_pdf_copy()) {
                    self.section(s, 0);
                }
                if !doc.lab_results.is_empty() {
                    self.lab_table();
                }
                // The CI-SIS "PDF copy" section: mentioned, not reproduced.
                if sections.iter().any(Section::is_pdf_copy) {
                    self.heading(self.l.terms.pdf_version, 0);
                    self.out.paragraph(
                        &text_items(self.l.pdf_copy_text, Style::BODY.italic()),
                        MARGIN_X,
                        CONTENT_W,
                        Align::Left,
                        None,
                        0.0,
                    );
                }
            }
        }
    }

    fn section(&mut self, s: &Section, depth: usize) {
        if self.out.truncated {
            return;
        }
        let title = s
            .title
            .as_deref()
            .filter(|t| !t.trim().is_empty())
            .or_else(|| s.code.as_ref().and_then(Code::label))
            .unwrap_or(self.l.terms.untitled_section)
            .to_owned();
        self.heading(&title, depth);
        if s.text.is_empty() {
            if s.sections.is_empty() {
                self.out.paragraph(
                    &text_items(self.l.terms.empty_section, Style::BODY.italic().gray(0.4)),
                    MARGIN_X,
                    CONTENT_W,
                    Align::Left,
                    None,
                    0.0,
                );
            }
        } else {
            let mut flow = Flow::column(MARGIN_X, CONTENT_W);
            self.nodes(&mut flow, &s.text, Style::BODY);
            self.flush(&mut flow, 0.0);
            self.footnotes();
        }
        for sub in &s.sections {
            self.section(sub, depth + 1);
        }
    }

    /// The footnotes collected in the current section, in small print.
    fn footnotes(&mut self) {
        let notes = std::mem::take(&mut self.notes);
        if notes.is_empty() {
            return;
        }
        self.out.gap(4.0);
        self.out.rule(MARGIN_X, CONTENT_W * 0.3, 0.6, 0.4);
        for (n, items) in notes {
            let marker = Piece {
                bytes: format!("[{n}]").into_bytes(),
                style: Style::BODY.sized(8.5),
            };
            self.out.paragraph(
                &items,
                MARGIN_X + INDENT,
                CONTENT_W - INDENT,
                Align::Left,
                Some(marker),
                0.0,
            );
        }
    }

    fn lab_table(&mut self) {
        let (l, lang) = (self.l, self.lang);
        self.heading(l.terms.lab_title, 0);
        self.out.paragraph(
            &text_items(l.terms.lab_hint, Style::BODY.sized(8.5).gray(0.35)),
            MARGIN_X,
            CONTENT_W,
            Align::Left,
            None,
            0.0,
        );
        self.out.gap(4.0);
        let head = Style::BODY.sized(9.0).bold();
        let body = Style::BODY.sized(9.0);
        let mut table = Table {
            header_rows: 1,
            fractions: Some(vec![0.33, 0.17, 0.12, 0.2, 0.18]),
            ..Table::default()
        };
        table.rows.push(Row {
            cells: [
                l.terms.analysis,
                l.terms.result,
                l.terms.unit,
                l.terms.reference_range,
                l.terms.interpretation,
            ]
            .iter()
            .map(|t| cell(t, head))
            .collect(),
            fill: Some(0.9),
            rule: true,
        });
        let mut current: Option<&str> = None;
        for r in &self.doc.lab_results {
            if r.group.as_deref() != current {
                current = r.group.as_deref();
                if let Some(g) = current {
                    table.rows.push(Row {
                        cells: vec![Cell::spanning(text_items(g, head), 5)],
                        fill: Some(0.96),
                        rule: true,
                    });
                }
            }
            let flag = r.interpretation.as_ref();
            let abnormal = flag.and_then(|f| f.code.as_deref()).is_some_and(|c| {
                matches!(
                    c,
                    "H" | "HH" | "L" | "LL" | "A" | "AA" | "R" | "POS" | ">" | "<"
                )
            });
            let v = if abnormal { body.bold() } else { body };
            table.rows.push(Row {
                cells: vec![
                    cell(&r.analysis, body),
                    cell(&localise_number(&r.value, lang), v),
                    cell(r.unit.as_deref().unwrap_or(""), body),
                    cell(
                        &localise_number(r.reference_range.as_deref().unwrap_or(""), lang),
                        body,
                    ),
                    cell(
                        flag.and_then(|f| f.display.as_deref().or(f.code.as_deref()))
                            .unwrap_or(""),
                        v,
                    ),
                ],
                fill: None,
                rule: true,
            });
        }
        self.out.table(table, MARGIN_X, CONTENT_W);
    }

    fn colophon(&mut self) {
        let small = Style::BODY.sized(7.5).gray(0.4);
        self.out.gap(14.0);
        let mut i = Inline::default();
        i.text(self.l.colophon, small);
        if let Some(id) = &self.doc.id {
            i.line_break(small);
            i.text(&format!("{} : {}", self.l.doc_id, id.display()), small);
        }
        self.out
            .paragraph(&i.take(), MARGIN_X, CONTENT_W, Align::Left, None, 0.0);
    }

    /// The footer of every page: patient, birth date, document title.
    fn footer_text(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        if let Some(p) = &self.doc.patient {
            if let Some(n) = p.names.first() {
                let name = [
                    n.birth_family().map(str::to_owned),
                    given_names(n).map(str::to_owned),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
                if !name.is_empty() {
                    parts.push(name);
                }
            }
            if let Some(b) = &p.birth_time {
                parts.push(format!("{} {}", self.l.born, fmt_time(b, self.lang)));
            }
        }
        parts.push(self.doc.title.clone());
        parts.retain(|p| !p.trim().is_empty());
        parts.join(" \u{00B7} ")
    }
}
