//! From the document model to laid-out pages: header (title, patient,
//! document facts), then the body (sections with their narrative, the CR-BIO
//! results table), in the order and with the content the HTML view shows.

use std::collections::HashMap;

use super::layout::{Align, Cell, Inline, Item, Layout, Piece, Row, Style, Table};
use super::layout::{CONTENT_W, MARGIN_X};
use super::{winansi, PdfOptions};
use crate::model::{Actor, Body, Code, Document, InsKind, Period, PersonName, Section};
use crate::narrative::{plain_text, Element, Link, NarrativeNode, Revision, Style as NStyle};
use crate::narrative::{TableAttr, Tag};
use crate::render::{fmt_time, localise_number, number_footnotes};
use crate::Lang;

/// Fixed texts of the rendition.
struct Labels {
    kind: &'static str,
    patient: &'static str,
    birth_name: &'static str,
    used_name: &'static str,
    given_names: &'static str,
    birth_date: &'static str,
    birth_place: &'static str,
    sex: &'static str,
    ins: &'static str,
    ins_test: &'static str,
    ins_demo: &'static str,
    ins_nia: &'static str,
    other_ids: &'static str,
    document: &'static str,
    doc_type: &'static str,
    doc_date: &'static str,
    version: &'static str,
    author: &'static str,
    authors: &'static str,
    legal_authenticator: &'static str,
    signed_on: &'static str,
    custodian: &'static str,
    service_event: &'static str,
    encounter: &'static str,
    recipients: &'static str,
    confidentiality: &'static str,
    confidential: &'static str,
    very_confidential: &'static str,
    from: &'static str,
    to: &'static str,
    female: &'static str,
    male: &'static str,
    unknown: &'static str,
    untitled_section: &'static str,
    empty_section: &'static str,
    lab_title: &'static str,
    lab_hint: &'static str,
    analysis: &'static str,
    result: &'static str,
    unit: &'static str,
    reference_range: &'static str,
    interpretation: &'static str,
    pdf_copy_title: &'static str,
    pdf_copy_text: &'static str,
    n1_text: &'static str,
    image: &'static str,
    pdf_file: &'static str,
    attachment: &'static str,
    missing_media: &'static str,
    colophon: &'static str,
    doc_id: &'static str,
    born: &'static str,
    truncated: &'static str,
}

const FR: Labels = Labels {
    kind: "Document CDA",
    patient: "Patient",
    birth_name: "Nom de naissance",
    used_name: "Nom utilisé",
    given_names: "Prénom(s)",
    birth_date: "Date de naissance",
    birth_place: "Lieu de naissance",
    sex: "Sexe",
    ins: "INS",
    ins_test: "INS de test",
    ins_demo: "INS de démonstration",
    ins_nia: "INS-NIA (provisoire)",
    other_ids: "Autres identifiants",
    document: "Document",
    doc_type: "Type de document",
    doc_date: "Date du document",
    version: "Version",
    author: "Auteur",
    authors: "Auteurs",
    legal_authenticator: "Responsable du document",
    signed_on: "signé le",
    custodian: "Conservation",
    service_event: "Acte documenté",
    encounter: "Prise en charge",
    recipients: "Destinataires",
    confidentiality: "Confidentialité",
    confidential: "Confidentiel",
    very_confidential: "Très confidentiel",
    from: "du",
    to: "au",
    female: "Féminin",
    male: "Masculin",
    unknown: "Inconnu",
    untitled_section: "Section sans titre",
    empty_section: "Section vide",
    lab_title: "Résultats structurés",
    lab_hint: "Tableau construit à partir des données codées du compte rendu (niveau 3), \
               à rapprocher du texte ci-dessus.",
    analysis: "Analyse",
    result: "Résultat",
    unit: "Unité",
    reference_range: "Valeurs de référence",
    interpretation: "Interprétation",
    pdf_copy_title: "Version PDF",
    pdf_copy_text: "Le document CDA contient aussi une copie PDF, non reproduite ici.",
    n1_text: "Le contenu de ce document est un fichier joint au document CDA ; \
              il n'est pas reproduit ici.",
    image: "Image",
    pdf_file: "Document PDF joint",
    attachment: "Fichier joint",
    missing_media: "Image référencée absente du document",
    colophon: "Transcription PDF du document CDA établie par Pli (en-tête et texte des sections). \
               Le document CDA fait foi.",
    doc_id: "Identifiant du document",
    born: "né(e) le",
    truncated: "Document tronqué : la limite de {} pages du rendu PDF est atteinte. \
                Le document CDA complet fait foi.",
};

const EN: Labels = Labels {
    kind: "CDA document",
    patient: "Patient",
    birth_name: "Birth name",
    used_name: "Used name",
    given_names: "Given name(s)",
    birth_date: "Date of birth",
    birth_place: "Place of birth",
    sex: "Sex",
    ins: "INS",
    ins_test: "Test INS",
    ins_demo: "Demonstration INS",
    ins_nia: "INS-NIA (provisional)",
    other_ids: "Other identifiers",
    document: "Document",
    doc_type: "Document type",
    doc_date: "Document date",
    version: "Version",
    author: "Author",
    authors: "Authors",
    legal_authenticator: "Legal authenticator",
    signed_on: "signed on",
    custodian: "Custodian",
    service_event: "Documented act",
    encounter: "Encounter",
    recipients: "Recipients",
    confidentiality: "Confidentiality",
    confidential: "Confidential",
    very_confidential: "Very confidential",
    from: "from",
    to: "to",
    female: "Female",
    male: "Male",
    unknown: "Unknown",
    untitled_section: "Untitled section",
    empty_section: "Empty section",
    lab_title: "Structured results",
    lab_hint: "Table built from the report's coded data (level 3), to compare with the text above.",
    analysis: "Test",
    result: "Result",
    unit: "Unit",
    reference_range: "Reference range",
    interpretation: "Interpretation",
    pdf_copy_title: "PDF version",
    pdf_copy_text: "The CDA document also carries a PDF copy, not reproduced here.",
    n1_text: "This document's content is a file attached to the CDA document; \
              it is not reproduced here.",
    image: "Image",
    pdf_file: "Attached PDF document",
    attachment: "Attached file",
    missing_media: "Referenced image missing from the document",
    colophon: "PDF transcription of the CDA document made by Pli (header and section text). \
               The CDA document is authoritative.",
    doc_id: "Document identifier",
    born: "born",
    truncated: "Document truncated: the {}-page limit of the PDF rendition was reached. \
                The complete CDA document is authoritative.",
};

/// Indent of list items and nested content, in points.
const INDENT: f32 = 16.0;
/// Narrowest column nested content may shrink to.
const MIN_WIDTH: f32 = CONTENT_W * 0.45;

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
                self.l.from,
                fmt_time(a, self.lang),
                self.l.to,
                fmt_time(b, self.lang)
            )),
            (Some(a), _) | (None, Some(a)) => Some(fmt_time(a, self.lang)),
            (None, None) => None,
        }
    }

    fn gender(&self, g: &Code) -> String {
        match g.code.as_deref() {
            Some("F") => self.l.female.to_owned(),
            Some("M") => self.l.male.to_owned(),
            Some("U" | "UN") => self.l.unknown.to_owned(),
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
            l.document
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
                    rows.push((l.birth_name, vec![f.to_owned()]));
                }
                if let Some(u) = n.used_family() {
                    rows.push((l.used_name, vec![u.to_owned()]));
                }
                if let Some(g) = given_names(n) {
                    rows.push((l.given_names, vec![g.to_owned()]));
                }
                if n.family.is_empty() && n.given.is_empty() {
                    if let Some(t) = &n.text {
                        rows.push((l.birth_name, vec![t.clone()]));
                    }
                }
            }
            if let Some(b) = &p.birth_time {
                rows.push((l.birth_date, vec![fmt_time(b, self.lang)]));
            }
            if let Some(g) = &p.gender {
                rows.push((l.sex, vec![self.gender(g)]));
            }
            if let Some(bp) = &p.birth_place {
                rows.push((l.birth_place, vec![bp.clone()]));
            }
            if let Some(ins) = &p.ins {
                let label = match ins.kind {
                    InsKind::Nir => l.ins,
                    InsKind::Nia => l.ins_nia,
                    InsKind::TestNir => l.ins_test,
                    InsKind::DemoNir => l.ins_demo,
                };
                rows.push((label, vec![format!("{} (OID {})", ins.value, ins.oid)]));
            }
            if !p.other_ids.is_empty() {
                rows.push((
                    l.other_ids,
                    p.other_ids.iter().map(|i| i.display()).collect(),
                ));
            }
            self.facts(l.patient, rows);
        }

        let mut rows: Vec<(&str, Vec<String>)> = Vec::new();
        if let Some(c) = &doc.type_code {
            rows.push((l.doc_type, vec![Self::code_text(c)]));
        }
        if let Some(t) = &doc.effective_time {
            rows.push((l.doc_date, vec![fmt_time(t, self.lang)]));
        }
        if let Some(v) = &doc.version {
            rows.push((l.version, vec![v.clone()]));
        }
        match doc.confidentiality.as_ref().and_then(|c| c.code.as_deref()) {
            Some("R") => rows.push((l.confidentiality, vec![l.confidential.to_owned()])),
            Some("V") => rows.push((l.confidentiality, vec![l.very_confidential.to_owned()])),
            _ => {}
        }
        if !doc.authors.is_empty() {
            let title = if doc.authors.len() > 1 {
                l.authors
            } else {
                l.author
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
            rows.push((l.legal_authenticator, vec![t]));
        }
        if let Some(name) = doc.custodian.as_ref().and_then(|c| c.name.clone()) {
            rows.push((l.custodian, vec![name]));
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
                rows.push((l.service_event, vec![parts.join(", ")]));
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
                rows.push((l.encounter, vec![parts.join(", ")]));
            }
        }
        if !doc.recipients.is_empty() {
            rows.push((
                l.recipients,
                doc.recipients.iter().map(|a| self.actor_text(a)).collect(),
            ));
        }
        self.facts(l.document, rows);
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
                    self.heading(self.l.pdf_copy_title, 0);
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
            .unwrap_or(self.l.untitled_section)
            .to_owned();
        self.heading(&title, depth);
        if s.text.is_empty() {
            if s.sections.is_empty() {
                self.out.paragraph(
                    &text_items(self.l.empty_section, Style::BODY.italic().gray(0.4)),
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

    /// Lays out the pending inline content of a column flow as a paragraph.
    fn flush(&mut self, flow: &mut Flow, gap_after: f32) {
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

    fn styled(style: Style, e: &Element) -> Style {
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

    fn nodes(&mut self, flow: &mut Flow, nodes: &[NarrativeNode], style: Style) {
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

    fn element(&mut self, flow: &mut Flow, e: &Element, style: Style) {
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
                        Some((_, m)) => format!("{} ({})", self.l.attachment, m.sniffed_type),
                        None => self.l.missing_media.to_owned(),
                    };
                    flow.inline.text(&format!("[{what}]"), note);
                    flow.inline.space(note);
                }
                self.nodes(flow, &e.children, note);
                self.flush(flow, 4.0);
            }
        }
    }

    fn sup(style: Style) -> Style {
        Style {
            size: (style.size * 0.75).max(5.0),
            rise: (style.rise + style.size * 0.35).clamp(-4.0, 6.0),
            ..style
        }
    }

    fn list(&mut self, flow: &mut Flow, e: &Element, ordered: bool, style: Style) {
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

    fn table(&mut self, flow: &mut Flow, e: &Element, style: Style) {
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

    fn lab_table(&mut self) {
        let (l, lang) = (self.l, self.lang);
        self.heading(l.lab_title, 0);
        self.out.paragraph(
            &text_items(l.lab_hint, Style::BODY.sized(8.5).gray(0.35)),
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
                l.analysis,
                l.result,
                l.unit,
                l.reference_range,
                l.interpretation,
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
    use super::super::layout::Font;
    use super::*;

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
