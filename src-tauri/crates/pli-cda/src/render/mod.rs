//! HTML rendering: one self-contained, printable page per document.
//!
//! Output is written only from the sanitised model; every sender string goes
//! through [`esc`]. The page carries its own CSS, no script, and a
//! Content-Security-Policy that allows nothing but inline style and `data:` images.

mod body;
mod head;
mod labels;
mod style;

use std::fmt::Write as _;

use crate::model::{Document, Timestamp};
pub(crate) use body::{localise_number, number_footnotes};
use labels::{labels, Labels};

/// Label language.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Lang {
    /// French (default).
    #[default]
    Fr,
    /// English.
    En,
}

/// Rendering options.
#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    /// Label language.
    pub lang: Lang,
    /// Show only the last 4 characters of the INS (privacy, e.g. on screen sharing).
    pub mask_ins: bool,
    /// Text of the N1 PDF, shown as a preview (get it with [`Document::pdf_text`]).
    pub pdf_preview_text: Option<String>,
}

/// The Content-Security-Policy of every rendered page.
pub const CSP: &str = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; \
                       form-action 'none'; base-uri 'none'; frame-ancestors 'self'";

/// Renders a document as one self-contained HTML page.
pub fn render_html(doc: &Document, options: &RenderOptions) -> String {
    let l = labels(options.lang);
    let mut ctx = Ctx {
        doc,
        l,
        options,
        out: String::with_capacity(
            64 * 1024
                + doc
                    .media
                    .iter()
                    .map(|m| m.bytes.len() * 4 / 3)
                    .sum::<usize>(),
        ),
        footnotes: body::number_footnotes(doc),
        footnote_counter: 0,
    };
    let out = &mut ctx.out;
    out.push_str("<!DOCTYPE html>\n<html lang=\"");
    out.push_str(l.html_lang);
    out.push_str("\">\n<head>\n<meta charset=\"utf-8\">\n");
    let _ = writeln!(
        out,
        "<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">"
    );
    out.push_str("<meta name=\"referrer\" content=\"no-referrer\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(out, "<title>{}</title>", esc(&doc.title));
    out.push_str("<style>");
    out.push_str(style::CSS);
    out.push_str("</style>\n</head>\n<body>\n<article class=\"cda-doc\">\n");
    head::header(&mut ctx);
    ctx.out.push_str("<main class=\"doc-body\">\n");
    body::body(&mut ctx);
    ctx.out.push_str("</main>\n");
    head::footer(&mut ctx);
    ctx.out.push_str("</article>\n</body>\n</html>\n");
    ctx.out
}

/// Rendering state shared by the page parts.
pub(crate) struct Ctx<'a> {
    pub doc: &'a Document,
    pub l: &'static Labels,
    pub options: &'a RenderOptions,
    pub out: String,
    /// Footnote ID → number, assigned in document order.
    pub footnotes: std::collections::HashMap<String, usize>,
    pub footnote_counter: usize,
}

/// Escapes text for HTML element content and double- or single-quoted attributes.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    push_esc(&mut out, s);
    out
}

/// Appends escaped text.
pub(crate) fn push_esc(out: &mut String, s: &str) {
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Controls other than whitespace have no business in a page.
            c if c.is_control() && !matches!(c, '\n' | '\t' | '\r') => {}
            c => out.push(c),
        }
    }
}

/// Formats a timestamp for display: `04/01/2024 à 16:05` or `2024-01-04 16:05`.
pub(crate) fn fmt_time(t: &Timestamp, lang: Lang) -> String {
    let iso = &t.iso;
    let (date, time) = match iso.split_once('T') {
        Some((d, t)) => (d, Some(&t[..t.len().min(5)])),
        None => (iso.as_str(), None),
    };
    let date = match lang {
        Lang::Fr => {
            let parts: Vec<&str> = date.split('-').collect();
            parts.iter().rev().copied().collect::<Vec<_>>().join("/")
        }
        Lang::En => date.to_owned(),
    };
    match (time, lang) {
        (Some(t), Lang::Fr) => format!("{date} à {t}"),
        (Some(t), Lang::En) => format!("{date} {t}"),
        (None, _) => date,
    }
}

/// Human size: `318 Ko` / `318 KB`.
pub(crate) fn fmt_size(bytes: usize, lang: Lang) -> String {
    let (k, m) = match lang {
        Lang::Fr => ("Ko", "Mo"),
        Lang::En => ("KB", "MB"),
    };
    if bytes >= 1 << 20 {
        let v = format!("{:.1}", bytes as f64 / f64::from(1u32 << 20));
        let v = if lang == Lang::Fr {
            v.replace('.', ",")
        } else {
            v
        };
        format!("{v} {m}")
    } else {
        format!("{} {k}", bytes.div_ceil(1024))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(
            esc("<a href=\"x\" onclick='y'>&</a>\u{7}"),
            "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;"
        );
    }

    #[test]
    fn times() {
        let t = crate::parse_ts("20240104160527+0100").unwrap();
        assert_eq!(fmt_time(&t, Lang::Fr), "04/01/2024 à 16:05");
        assert_eq!(fmt_time(&t, Lang::En), "2024-01-04 16:05");
        assert_eq!(
            fmt_time(&crate::parse_ts("19790328").unwrap(), Lang::Fr),
            "28/03/1979"
        );
    }
}
