//! The PDF file itself: objects, strings, cross-reference table, trailer.
//!
//! The file is a plain PDF 1.4 with one catalog, one page tree, four standard
//! fonts, an information dictionary and one uncompressed content stream per
//! page. Nothing else is ever written: no annotation, no action, no JavaScript,
//! no outline, no form, no embedded file, no external reference. Text from the
//! document reaches the file only inside literal strings written by
//! [`push_literal`] (content streams) or as UTF-16BE hexadecimal strings
//! ([`push_text_string`], information dictionary), so it cannot end a string
//! and inject operators or objects.

use std::fmt::Write as _;

use sha1::{Digest, Sha1};

use super::layout::{PAGE_H, PAGE_W};

/// Document-level metadata for the information dictionary and the catalog.
#[derive(Debug, Default)]
pub(crate) struct Info {
    /// `/Title` (any Unicode text).
    pub title: String,
    /// `/Subject`.
    pub subject: String,
    /// `/CreationDate` as an HL7 timestamp (`20240104160527+0100`), if known.
    pub hl7_date: Option<String>,
    /// `/Lang` of the catalog (`fr-FR`).
    pub lang: String,
}

/// Appends a PDF literal string: `(`, `)` and `\` are escaped with a backslash,
/// bytes outside printable ASCII are written as octal escapes, so the file stays
/// 7-bit and no line ending can appear inside a string.
pub(crate) fn push_literal(out: &mut String, bytes: &[u8]) {
    out.push('(');
    for &b in bytes {
        match b {
            b'(' | b')' | b'\\' => {
                out.push('\\');
                out.push(char::from(b));
            }
            0x20..=0x7E => out.push(char::from(b)),
            _ => {
                let _ = write!(out, "\\{b:03o}");
            }
        }
    }
    out.push(')');
}

/// Appends a text string for the information dictionary: UTF-16BE with a byte
/// order mark, written in hexadecimal (every Unicode character survives).
pub(crate) fn push_text_string(out: &mut String, text: &str) {
    out.push_str("<FEFF");
    for unit in text
        .chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .encode_utf16()
    {
        let _ = write!(out, "{unit:04X}");
    }
    out.push('>');
}

/// A PDF date (`D:20240104160527+01'00'`) from an HL7 timestamp; `None` when the
/// value is not a timestamp.
pub(crate) fn pdf_date(hl7: &str) -> Option<String> {
    let digits: String = hl7.chars().take_while(char::is_ascii_digit).collect();
    if digits.len() < 4 || digits.len() > 14 || !digits.len().is_multiple_of(2) {
        return None;
    }
    let mut out = format!("D:{digits}");
    let rest = &hl7[digits.len()..];
    let rest = rest.split_once('.').map_or(rest, |(_, tz)| {
        tz.trim_start_matches(|c: char| c.is_ascii_digit())
    });
    let tz = rest.as_bytes();
    if tz.len() == 5 && matches!(tz[0], b'+' | b'-') && tz[1..].iter().all(u8::is_ascii_digit) {
        let _ = write!(out, "{}{}'{}'", char::from(tz[0]), &rest[1..3], &rest[3..5]);
    }
    Some(out)
}

/// A number for a content stream: at most two decimals, no exponent, no `-0`.
pub(crate) fn num(v: f32) -> String {
    let v = if v.is_finite() { v } else { 0.0 };
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" || s.is_empty() {
        "0".to_owned()
    } else {
        s.to_owned()
    }
}

/// The standard fonts: resource name and base font.
pub(crate) const FONTS: [(&str, &str); 4] = [
    ("F1", "Helvetica"),
    ("F2", "Helvetica-Bold"),
    ("F3", "Helvetica-Oblique"),
    ("F4", "Helvetica-BoldOblique"),
];

struct Objects {
    buf: Vec<u8>,
    /// Byte offset of object `n` at index `n - 1`.
    offsets: Vec<usize>,
}

impl Objects {
    fn object(&mut self, number: usize, body: &str) {
        debug_assert_eq!(number, self.offsets.len() + 1);
        self.offsets.push(self.buf.len());
        self.buf
            .extend_from_slice(format!("{number} 0 obj\n{body}\nendobj\n").as_bytes());
    }

    fn stream(&mut self, number: usize, data: &str) {
        debug_assert_eq!(number, self.offsets.len() + 1);
        self.offsets.push(self.buf.len());
        self.buf.extend_from_slice(
            format!("{number} 0 obj\n<< /Length {} >>\nstream\n", data.len()).as_bytes(),
        );
        self.buf.extend_from_slice(data.as_bytes());
        self.buf.extend_from_slice(b"\nendstream\nendobj\n");
    }
}

/// Assembles the file from the pages' content streams.
///
/// Object numbers: 1 catalog, 2 page tree, 3–6 fonts, 7 information
/// dictionary, then for page `k` (from 0) `8 + 2k` the page and `9 + 2k` its
/// content stream.
pub(crate) fn assemble(pages: &[String], info: &Info) -> Vec<u8> {
    let mut o = Objects {
        buf: Vec::with_capacity(pages.iter().map(String::len).sum::<usize>() + 4096),
        offsets: Vec::new(),
    };
    // Header, then a comment with high bytes so tools treat the file as binary.
    o.buf.extend_from_slice(b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n");

    let mut catalog = String::from(
        "<< /Type /Catalog /Pages 2 0 R /ViewerPreferences << /DisplayDocTitle true >> /Lang ",
    );
    push_literal(&mut catalog, info.lang.as_bytes());
    catalog.push_str(" >>");
    o.object(1, &catalog);

    let kids: Vec<String> = (0..pages.len())
        .map(|k| format!("{} 0 R", 8 + 2 * k))
        .collect();
    o.object(
        2,
        &format!(
            "<< /Type /Pages /Kids [{}] /Count {} >>",
            kids.join(" "),
            pages.len()
        ),
    );
    for (i, (_, base)) in FONTS.iter().enumerate() {
        o.object(
            3 + i,
            &format!(
                "<< /Type /Font /Subtype /Type1 /BaseFont /{base} /Encoding /WinAnsiEncoding >>"
            ),
        );
    }

    let mut dict = String::from("<< /Title ");
    push_text_string(&mut dict, &info.title);
    dict.push_str(" /Subject ");
    push_text_string(&mut dict, &info.subject);
    let producer = format!("Pli (pli-cda {})", env!("CARGO_PKG_VERSION"));
    dict.push_str(" /Creator ");
    push_text_string(&mut dict, "Pli");
    dict.push_str(" /Producer ");
    push_text_string(&mut dict, &producer);
    if let Some(date) = info.hl7_date.as_deref().and_then(pdf_date) {
        dict.push_str(" /CreationDate ");
        push_literal(&mut dict, date.as_bytes());
        dict.push_str(" /ModDate ");
        push_literal(&mut dict, date.as_bytes());
    }
    dict.push_str(" >>");
    o.object(7, &dict);

    let fonts: String = FONTS
        .iter()
        .enumerate()
        .map(|(i, (name, _))| format!("/{name} {} 0 R", 3 + i))
        .collect::<Vec<_>>()
        .join(" ");
    for (k, content) in pages.iter().enumerate() {
        let page = 8 + 2 * k;
        o.object(
            page,
            &format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {} {}] \
                 /Resources << /Font << {fonts} >> /ProcSet [/PDF /Text] >> /Contents {} 0 R >>",
                num(PAGE_W),
                num(PAGE_H),
                page + 1
            ),
        );
        o.stream(page + 1, content);
    }

    // A deterministic file identifier: a digest of everything written so far.
    let digest = Sha1::digest(&o.buf);
    let id: String = digest[..16].iter().map(|b| format!("{b:02X}")).collect();

    let xref_at = o.buf.len();
    let mut tail = format!("xref\n0 {}\n0000000000 65535 f \n", o.offsets.len() + 1);
    for off in &o.offsets {
        let _ = writeln!(tail, "{off:010} 00000 n ");
    }
    let _ = write!(
        tail,
        "trailer\n<< /Size {} /Root 1 0 R /Info 7 0 R /ID [<{id}> <{id}>] >>\nstartxref\n{xref_at}\n%%EOF\n",
        o.offsets.len() + 1
    );
    o.buf.extend_from_slice(tail.as_bytes());
    o.buf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_strings_are_escaped() {
        let mut s = String::new();
        push_literal(&mut s, b"a(b)c\\d) Tj /JavaScript (x");
        assert_eq!(s, "(a\\(b\\)c\\\\d\\) Tj /JavaScript \\(x)");
        let mut s = String::new();
        push_literal(&mut s, &[b'x', 0xE9, 0x0A, 0x0D, 0x80]);
        assert_eq!(s, "(x\\351\\012\\015\\200)");
        // Whatever the input, the string ends at the one closing parenthesis.
        let nasty: Vec<u8> = (0u8..=255).chain(b"\\\\)))((".iter().copied()).collect();
        let mut s = String::new();
        push_literal(&mut s, &nasty);
        assert_eq!(literal_end(s.as_bytes()), Some(s.len()));
    }

    /// Where a literal string starting at byte 0 ends, read as a PDF parser does.
    fn literal_end(b: &[u8]) -> Option<usize> {
        let (mut depth, mut i) = (0usize, 0);
        while i < b.len() {
            match b[i] {
                b'\\' => i += 1,
                b'(' => depth += 1,
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(i + 1);
                    }
                }
                _ => {}
            }
            i += 1;
        }
        None
    }

    #[test]
    fn text_strings_are_utf16_hex() {
        let mut s = String::new();
        push_text_string(&mut s, "é)€\u{1F600}\u{7}");
        assert_eq!(s, "<FEFF00E9002920ACD83DDE00>");
    }

    #[test]
    fn dates() {
        assert_eq!(
            pdf_date("20240104160527+0100").as_deref(),
            Some("D:20240104160527+01'00'")
        );
        assert_eq!(
            pdf_date("20240104160527.123-0500").as_deref(),
            Some("D:20240104160527-05'00'")
        );
        assert_eq!(pdf_date("19790328").as_deref(), Some("D:19790328"));
        assert_eq!(pdf_date("2024010"), None);
        assert_eq!(pdf_date(") /JS (x"), None);
        assert_eq!(pdf_date("2024+01'00) /JS").as_deref(), Some("D:2024"));
    }

    #[test]
    fn numbers() {
        assert_eq!(num(12.0), "12");
        assert_eq!(num(12.345), "12.35");
        assert_eq!(num(-0.001), "0");
        assert_eq!(num(0.5), "0.5");
        assert_eq!(num(f32::NAN), "0");
    }
}
