//! The document body: N3 sections and narrative, N1 content, CR-BIO results.

use std::collections::HashMap;
use std::fmt::Write as _;

use super::{esc, fmt_size, push_esc, Ctx, Lang};
use crate::media::{encode_base64, is_inline_image};
use crate::model::{Body, Code, Document, Media, Section};
use crate::narrative::{plain_text, Element, Link, NarrativeNode, Revision, Tag};

/// Assigns numbers to footnotes in document order; returns ID → number.
pub(crate) fn number_footnotes(doc: &Document) -> HashMap<String, usize> {
    fn walk(nodes: &[NarrativeNode], n: &mut usize, map: &mut HashMap<String, usize>) {
        for node in nodes {
            if let NarrativeNode::Element(e) = node {
                if e.tag == Tag::Footnote {
                    *n += 1;
                    if let Some(id) = &e.id {
                        map.entry(id.clone()).or_insert(*n);
                    }
                }
                walk(&e.children, n, map);
            }
        }
    }
    fn sections(list: &[Section], n: &mut usize, map: &mut HashMap<String, usize>) {
        for s in list {
            walk(&s.text, n, map);
            sections(&s.sections, n, map);
        }
    }
    let mut map = HashMap::new();
    sections(doc.sections(), &mut 0, &mut map);
    map
}

pub(super) fn body(ctx: &mut Ctx<'_>) {
    match &ctx.doc.body {
        Body::NonXml { media } => {
            if let Some(m) = ctx.doc.media.get(*media) {
                non_xml(ctx, m, *media);
            }
        }
        Body::Structured { sections } => {
            // Clinical content first, then the structured results, then the PDF copy.
            for s in sections.iter().filter(|s| !s.is_pdf_copy()) {
                section(ctx, s, 0);
            }
            if !ctx.doc.lab_results.is_empty() {
                lab_table(ctx);
            }
            for s in sections.iter().filter(|s| s.is_pdf_copy()) {
                section(ctx, s, 0);
            }
        }
    }
}

fn section(ctx: &mut Ctx<'_>, s: &Section, depth: usize) {
    let level = (depth + 2).min(6);
    let id_attr =
        s.id.as_deref()
            .and_then(crate::narrative::safe_id)
            .map(|id| format!(" id=\"cda-{}\"", esc(&id)))
            .unwrap_or_default();
    if s.is_pdf_copy() {
        let _ = writeln!(ctx.out, "<section class=\"cda-section pdf-copy\"{id_attr}>");
        let _ = writeln!(ctx.out, "<h{level}>{}</h{level}>", ctx.l.terms.pdf_version);
        let pdf = first_pdf_ref(&s.text, ctx.doc).or_else(|| {
            ctx.doc
                .media
                .iter()
                .position(|m| m.sniffed_type == "application/pdf")
                .map(|i| (i, &ctx.doc.media[i]))
        });
        let _ = write!(
            ctx.out,
            "<p class=\"pdf-copy-line\">{}",
            ctx.l.pdf_copy_text
        );
        if let Some((i, m)) = pdf {
            open_button(ctx, i, m, ctx.l.open_pdf);
        }
        ctx.out.push_str("</p>\n");
    } else {
        let _ = writeln!(ctx.out, "<section class=\"cda-section\"{id_attr}>");
        let title = s
            .title
            .as_deref()
            .or_else(|| s.code.as_ref().and_then(Code::label))
            .unwrap_or(ctx.l.terms.untitled_section);
        let code_title = s
            .code
            .as_ref()
            .and_then(|c| c.code.as_deref())
            .map(|c| format!(" title=\"{}\"", esc(c)))
            .unwrap_or_default();
        let _ = writeln!(ctx.out, "<h{level}{code_title}>{}</h{level}>", esc(title));
        if !s.text.is_empty() {
            ctx.out.push_str("<div class=\"narrative\">");
            let mut notes = Vec::new();
            nodes(ctx, &s.text, &mut notes, false);
            ctx.out.push_str("</div>\n");
            if !notes.is_empty() {
                let _ = write!(
                    ctx.out,
                    "<ol class=\"footnotes\" aria-label=\"{}\">",
                    ctx.l.footnotes
                );
                for (n, html) in notes {
                    let _ = write!(ctx.out, "<li value=\"{n}\" id=\"fn-{n}\">{html}</li>");
                }
                ctx.out.push_str("</ol>\n");
            }
        } else if s.sections.is_empty() {
            let _ = writeln!(
                ctx.out,
                "<p class=\"muted\">{}</p>",
                ctx.l.terms.empty_section
            );
        }
        for sub in &s.sections {
            section(ctx, sub, depth + 1);
        }
    }
    ctx.out.push_str("</section>\n");
}

fn first_pdf_ref<'d>(nodes: &[NarrativeNode], doc: &'d Document) -> Option<(usize, &'d Media)> {
    for n in nodes {
        if let NarrativeNode::Element(e) = n {
            if let Tag::RenderMultiMedia { refs } = &e.tag {
                if let Some(found) = refs
                    .iter()
                    .filter_map(|r| doc.media_by_id(r))
                    .find(|(_, m)| m.sniffed_type == "application/pdf")
                {
                    return Some(found);
                }
            }
            if let Some(found) = first_pdf_ref(&e.children, doc) {
                return Some(found);
            }
        }
    }
    None
}

/// A button the app wires to its viewer: no href, no script, just the index.
fn open_button(ctx: &mut Ctx<'_>, index: usize, m: &Media, label: &str) {
    let _ = write!(
        ctx.out,
        " <button type=\"button\" class=\"open-media\" data-pli-media=\"{index}\">{label}</button> <span class=\"muted\">({})</span>",
        fmt_size(m.bytes.len(), ctx.options.lang)
    );
}

/// Renders narrative nodes. Footnote bodies are collected into `notes`.
fn nodes(
    ctx: &mut Ctx<'_>,
    list: &[NarrativeNode],
    notes: &mut Vec<(usize, String)>,
    in_table: bool,
) {
    for n in list {
        match n {
            NarrativeNode::Text(t) => push_esc(&mut ctx.out, t),
            NarrativeNode::Element(e) => element(ctx, e, notes, in_table),
        }
    }
}

fn open_tag(ctx: &mut Ctx<'_>, name: &str, e: &Element, extra_class: Option<&str>) {
    let out = &mut ctx.out;
    out.push('<');
    out.push_str(name);
    if let Some(id) = &e.id {
        let _ = write!(out, " id=\"cda-{}\"", esc(id));
    }
    let mut classes: Vec<&str> = e.styles.iter().map(|s| s.class()).collect();
    if let Some(c) = extra_class {
        classes.push(c);
    }
    if !classes.is_empty() {
        let _ = write!(out, " class=\"{}\"", classes.join(" "));
    }
    for (a, v) in &e.attrs {
        let _ = write!(out, " {}=\"{}\"", a.name(), esc(v));
    }
    out.push('>');
}

fn wrap(
    ctx: &mut Ctx<'_>,
    name: &str,
    e: &Element,
    notes: &mut Vec<(usize, String)>,
    in_table: bool,
) {
    open_tag(ctx, name, e, None);
    nodes(ctx, &e.children, notes, in_table);
    let _ = write!(ctx.out, "</{name}>");
}

fn element(ctx: &mut Ctx<'_>, e: &Element, notes: &mut Vec<(usize, String)>, in_table: bool) {
    match &e.tag {
        Tag::Paragraph => wrap(ctx, "p", e, notes, in_table),
        Tag::Content => match e.revised {
            Some(Revision::Insert) => wrap(ctx, "ins", e, notes, in_table),
            Some(Revision::Delete) => wrap(ctx, "del", e, notes, in_table),
            None => wrap(ctx, "span", e, notes, in_table),
        },
        Tag::Caption => {
            if in_table {
                wrap(ctx, "caption", e, notes, in_table);
            } else {
                open_tag(ctx, "div", e, Some("caption"));
                nodes(ctx, &e.children, notes, in_table);
                ctx.out.push_str("</div>");
            }
        }
        Tag::List { ordered } => {
            let (captions, items): (Vec<&NarrativeNode>, Vec<&NarrativeNode>) = e
                .children
                .iter()
                .partition(|c| matches!(c, NarrativeNode::Element(x) if x.tag == Tag::Caption));
            for c in captions {
                if let NarrativeNode::Element(c) = c {
                    element(ctx, c, notes, false);
                }
            }
            let name = if *ordered { "ol" } else { "ul" };
            open_tag(ctx, name, e, None);
            for item in items {
                match item {
                    NarrativeNode::Element(x) => element(ctx, x, notes, false),
                    NarrativeNode::Text(t) if t.trim().is_empty() => {}
                    NarrativeNode::Text(t) => {
                        ctx.out.push_str("<li>");
                        push_esc(&mut ctx.out, t);
                        ctx.out.push_str("</li>");
                    }
                }
            }
            let _ = write!(ctx.out, "</{name}>");
        }
        Tag::Item => wrap(ctx, "li", e, notes, false),
        Tag::Table => {
            ctx.out.push_str("<div class=\"table-wrap\">");
            open_tag(ctx, "table", e, None);
            // Only whitespace text is legal between table parts; drop the rest of it.
            let (caption, rest): (Vec<&NarrativeNode>, Vec<&NarrativeNode>) = e
                .children
                .iter()
                .partition(|c| matches!(c, NarrativeNode::Element(x) if x.tag == Tag::Caption));
            for c in caption.into_iter().chain(rest) {
                if let NarrativeNode::Element(x) = c {
                    element(ctx, x, notes, true);
                }
            }
            ctx.out.push_str("</table></div>");
        }
        Tag::Thead | Tag::Tbody | Tag::Tfoot | Tag::Tr | Tag::Colgroup => {
            let name = match e.tag {
                Tag::Thead => "thead",
                Tag::Tbody => "tbody",
                Tag::Tfoot => "tfoot",
                Tag::Tr => "tr",
                _ => "colgroup",
            };
            open_tag(ctx, name, e, None);
            for c in &e.children {
                if let NarrativeNode::Element(x) = c {
                    element(ctx, x, notes, true);
                }
            }
            let _ = write!(ctx.out, "</{name}>");
        }
        Tag::Th => wrap(ctx, "th", e, notes, true),
        Tag::Td => wrap(ctx, "td", e, notes, true),
        Tag::Col => open_tag(ctx, "col", e, None),
        Tag::Br => ctx.out.push_str("<br>"),
        Tag::Sub => wrap(ctx, "sub", e, notes, in_table),
        Tag::Sup => wrap(ctx, "sup", e, notes, in_table),
        Tag::Pre => wrap(ctx, "pre", e, notes, in_table),
        Tag::Footnote => {
            ctx.footnote_counter += 1;
            let n = ctx.footnote_counter;
            let _ = write!(
                ctx.out,
                "<sup class=\"fn-mark\"><a href=\"#fn-{n}\" id=\"fnref-{n}\">[{n}]</a></sup>"
            );
            // Render the note's body into its own buffer, for the list under the section.
            let saved = std::mem::take(&mut ctx.out);
            nodes(ctx, &e.children, notes, false);
            let html = std::mem::replace(&mut ctx.out, saved);
            notes.push((n, html));
        }
        Tag::FootnoteRef { idref } => match ctx.footnotes.get(idref).copied() {
            Some(n) => {
                let _ = write!(
                    ctx.out,
                    "<sup class=\"fn-mark\"><a href=\"#fn-{n}\">[{n}]</a></sup>"
                );
            }
            None => ctx.out.push_str("<sup class=\"fn-mark\">[?]</sup>"),
        },
        Tag::Link(link) => match link {
            Link::Internal(id) => {
                let _ = write!(ctx.out, "<a href=\"#cda-{}\">", esc(id));
                nodes(ctx, &e.children, notes, in_table);
                ctx.out.push_str("</a>");
            }
            Link::External(url) => {
                let _ = write!(
                    ctx.out,
                    "<a class=\"ext-link\" data-pli-href=\"{u}\" title=\"{t} : {u}\">",
                    u = esc(url),
                    t = ctx.l.external_link
                );
                nodes(ctx, &e.children, notes, in_table);
                ctx.out.push_str("</a>");
                if plain_text(&e.children) != *url {
                    let _ = write!(
                        ctx.out,
                        " <span class=\"link-target\">({})</span>",
                        esc(url)
                    );
                }
            }
            Link::Dropped => {
                ctx.out.push_str("<span class=\"link-dropped\">");
                nodes(ctx, &e.children, notes, in_table);
                ctx.out.push_str("</span>");
            }
        },
        Tag::RenderMultiMedia { refs } => multimedia(ctx, e, refs, notes),
    }
}

fn multimedia(ctx: &mut Ctx<'_>, e: &Element, refs: &[String], notes: &mut Vec<(usize, String)>) {
    let doc = ctx.doc;
    let caption_text = plain_text(&e.children);
    ctx.out.push_str("<figure class=\"media\">");
    for r in refs {
        match doc.media_by_id(r) {
            Some((_, m)) if is_inline_image(m.sniffed_type) => {
                let _ = write!(
                    ctx.out,
                    "<img alt=\"{}\" src=\"data:{};base64,{}\">",
                    esc(&caption_text),
                    m.sniffed_type,
                    encode_base64(&m.bytes)
                );
            }
            Some((i, m)) => {
                ctx.out.push_str("<span class=\"media-note\">");
                media_label(ctx, i, m);
                ctx.out.push_str("</span>");
            }
            None => {
                let _ = write!(
                    ctx.out,
                    "<span class=\"media-note\">{}</span>",
                    ctx.l.terms.missing_media
                );
            }
        }
    }
    if !e.children.is_empty() {
        ctx.out.push_str("<figcaption>");
        nodes(ctx, &e.children, notes, false);
        ctx.out.push_str("</figcaption>");
    }
    ctx.out.push_str("</figure>");
}

/// A one-line description of a non-displayable medium, with its open button.
fn media_label(ctx: &mut Ctx<'_>, index: usize, m: &Media) {
    let l = ctx.l;
    if m.bytes.is_empty() && m.remote_reference.is_some() {
        ctx.out.push_str(l.remote_not_loaded);
        return;
    }
    match m.sniffed_type {
        "application/pdf" => {
            let _ = write!(ctx.out, "{} PDF", l.terms.attachment);
            open_button(ctx, index, m, l.open_pdf);
        }
        "text/html" | "image/svg+xml" => ctx.out.push_str(l.active_refused),
        other => {
            let _ = write!(ctx.out, "{} ({})", l.terms.attachment, esc(other));
            open_button(ctx, index, m, l.open_attachment);
        }
    }
}

/// Maximum characters of PDF text shown in the N1 preview.
const PREVIEW_CHARS: usize = 8_000;

fn non_xml(ctx: &mut Ctx<'_>, m: &Media, index: usize) {
    let l = ctx.l;
    ctx.out.push_str("<section class=\"n1-body\">\n");
    match m.sniffed_type {
        "application/pdf" => {
            let _ = write!(
                ctx.out,
                "<div class=\"n1-card\"><div class=\"n1-icon\" aria-hidden=\"true\">PDF</div><div>\
                 <p class=\"strong\">{}</p><p>{}</p><p>",
                l.n1_pdf_title, l.n1_pdf_text
            );
            open_button(ctx, index, m, l.open_pdf);
            ctx.out.push_str("</p></div></div>\n");
            if let Some(text) = ctx.options.pdf_preview_text.as_deref() {
                let text = text.trim();
                if !text.is_empty() {
                    let shown: String = text.chars().take(PREVIEW_CHARS).collect();
                    let _ = write!(
                        ctx.out,
                        "<h2>{}</h2>\n<pre class=\"pdf-preview\">",
                        l.preview
                    );
                    push_esc(&mut ctx.out, &tidy_preview(&shown));
                    ctx.out.push_str("</pre>\n");
                    if shown.len() < text.len() {
                        let _ = writeln!(ctx.out, "<p class=\"muted\">{}</p>", l.preview_truncated);
                    }
                }
            }
        }
        t if is_inline_image(t) => {
            let _ = write!(
                ctx.out,
                "<figure class=\"media\"><img alt=\"\" src=\"data:{t};base64,{}\"></figure>",
                encode_base64(&m.bytes)
            );
        }
        "text/plain" => {
            ctx.out.push_str("<pre class=\"plain\">");
            push_esc(&mut ctx.out, &String::from_utf8_lossy(&m.bytes));
            ctx.out.push_str("</pre>\n");
        }
        _ => {
            let _ = write!(
                ctx.out,
                "<div class=\"n1-card\"><div><p class=\"strong\">{}</p><p>",
                l.terms.attachment
            );
            media_label(ctx, index, m);
            let _ = writeln!(
                ctx.out,
                "</p><p class=\"muted\">{}</p></div></div>",
                l.attachment_text
            );
        }
    }
    ctx.out.push_str("</section>\n");
}

/// Collapses the runs of blank lines pdf-extract leaves between text blocks.
fn tidy_preview(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = 0;
    for line in text.lines() {
        let line = line.trim_end();
        if line.trim().is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// French decimal comma between digits (`0.512` → `0,512`).
pub(crate) fn localise_number(s: &str, lang: Lang) -> String {
    if lang == Lang::En {
        return s.to_owned();
    }
    let chars: Vec<char> = s.chars().collect();
    chars
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let digit_around = i > 0
                && chars[i - 1].is_ascii_digit()
                && chars.get(i + 1).is_some_and(char::is_ascii_digit);
            if c == '.' && digit_around {
                ','
            } else {
                c
            }
        })
        .collect()
}

fn lab_table(ctx: &mut Ctx<'_>) {
    let (l, lang) = (ctx.l, ctx.options.lang);
    let out = &mut ctx.out;
    let _ = write!(
        out,
        "<section class=\"lab-results\">\n<h2>{}</h2>\n<p class=\"muted\">{}</p>\n<div class=\"table-wrap\"><table class=\"results\">\
         <thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead>\n<tbody>",
        l.terms.lab_title, l.terms.lab_hint, l.terms.analysis, l.terms.result, l.terms.unit, l.terms.reference_range, l.terms.interpretation
    );
    let mut current: Option<&str> = None;
    for r in &ctx.doc.lab_results {
        if r.group.as_deref() != current {
            current = r.group.as_deref();
            if let Some(g) = current {
                let _ = write!(
                    out,
                    "<tr class=\"group\"><th colspan=\"5\">{}</th></tr>",
                    esc(g)
                );
            }
        }
        let flag = r.interpretation.as_ref();
        let abnormal = flag.and_then(|f| f.code.as_deref()).is_some_and(|c| {
            matches!(
                c,
                "H" | "HH" | "L" | "LL" | "A" | "AA" | "R" | "POS" | ">" | "<"
            )
        });
        let row_class = if abnormal { " class=\"abnormal\"" } else { "" };
        let _ = write!(
            out,
            "<tr{row_class}><td>{}</td><td class=\"value\">{}</td><td>{}</td><td>{}</td><td class=\"flag\"",
            esc(&r.analysis),
            esc(&localise_number(&r.value, lang)),
            esc(r.unit.as_deref().unwrap_or("")),
            esc(&localise_number(r.reference_range.as_deref().unwrap_or(""), lang)),
        );
        match flag {
            Some(f) => {
                let _ = write!(
                    out,
                    " title=\"{}\">{}</td></tr>",
                    esc(f.display.as_deref().unwrap_or("")),
                    esc(f.display.as_deref().or(f.code.as_deref()).unwrap_or(""))
                );
            }
            None => out.push_str("></td></tr>"),
        }
    }
    out.push_str("</tbody></table></div>\n</section>\n");
}
