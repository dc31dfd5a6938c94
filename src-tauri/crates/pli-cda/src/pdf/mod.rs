//! PDF, both ways:
//! - [`pdf_text`]: the text of a PDF a document carries (N1 body, PDF copy);
//! - [`render_pdf`]: the PDF rendition of a CDA document that MSSanté asks to
//!   attach next to `IHE_XDM.zip` when sending it (Ref#2 ECO.2.1.5), and
//!   [`rendition_file_name`], its file name (ECO.2.1.6).
//!
//! The rendition is written here from scratch, with no PDF library:
//! - **format**: PDF 1.4, A4 portrait pages, the standard Type 1 fonts
//!   Helvetica, Helvetica-Bold, Helvetica-Oblique and Helvetica-BoldOblique in
//!   WinAnsiEncoding (not embedded: every reader has them), uncompressed content
//!   streams, a cross-reference table and a trailer with a file identifier.
//!   It is **not PDF/A-1** (which ECO.2.1.5 names): PDF/A-1 needs embedded
//!   fonts, XMP metadata and an output intent, which this writer does not add.
//! - **content**, in the order of the HTML view: document type and title; the
//!   patient (birth name, used name, given names, birth date, sex, birth place,
//!   INS with its OID, other identifiers); the document facts (type, date,
//!   version, confidentiality, authors with role and organisation, legal
//!   authenticator, custodian, documented act, encounter, recipients); then each
//!   section's title and narrative (paragraphs, lists, tables, captions, bold,
//!   italics, underline, revisions, sub/superscripts, footnotes, links written
//!   out as text); the CR-BIO structured results as a five-column table
//!   (analysis, value, unit, reference range, interpretation), grouped by
//!   battery; the presence of a PDF copy is mentioned. Images and other embedded
//!   media are not drawn: a bracketed note stands in their place. Table cells
//!   follow `colspan` and `rowspan` on the column grid (a spanning cell's text
//!   is drawn in its first row); a table keeps at most 16 columns (further cells
//!   are merged into the last one, separated by `|`).
//! - **layout**: text wrapped at spaces (words wider than a column are cut),
//!   automatic page breaks, headings kept with what follows, table header rows
//!   repeated on each page, rows split across pages when taller than a page;
//!   every page has a footer with the patient, birth date and title and
//!   "Page n / N".
//! - **text**: Unicode is mapped to WinAnsi; characters WinAnsi lacks get a
//!   substitute when a readable one exists (`≥` → `>=`) and **become `?`
//!   otherwise** (see the `winansi` module for the full rule).
//! - **safety**: the file holds no annotation, link, action, JavaScript, form,
//!   embedded file or external reference; document text only ever appears
//!   inside escaped literal strings (or UTF-16 hexadecimal strings in the
//!   information dictionary). Work and size are bounded: at most
//!   [`PdfOptions::max_pages`] pages ([`DEFAULT_MAX_PAGES`] by default); when the
//!   cap cuts the document, the last page says so ("Document tronqué" /
//!   "Document truncated").
//! - **deterministic**: no clock, no randomness; the creation date is the
//!   document's `effectiveTime` and the file identifier a digest of the content,
//!   so the same document and options always give the same bytes.

mod compose;
mod extract;
mod file_name;
mod layout;
mod winansi;
mod writer;

use std::borrow::Cow;

pub use extract::{pdf_text, PdfError};
pub use file_name::rendition_file_name;

use crate::model::Document;
use crate::Lang;

/// Default page cap of [`render_pdf`].
pub const DEFAULT_MAX_PAGES: usize = 500;

/// Options of [`render_pdf`].
#[derive(Debug, Clone)]
pub struct PdfOptions {
    /// Language of the fixed labels (French by default).
    pub lang: Lang,
    /// Most pages written (at least 1). Content past the cap is dropped and
    /// the last page carries a truncation notice.
    pub max_pages: usize,
}

impl Default for PdfOptions {
    fn default() -> Self {
        Self {
            lang: Lang::Fr,
            max_pages: DEFAULT_MAX_PAGES,
        }
    }
}

/// Renders a parsed CDA document as the bytes of a PDF 1.4 file (see the
/// module documentation for what it holds). Meant for N3 documents; for an N1
/// document the header is rendered and the body is only mentioned: use
/// [`attached_pdf`] to get what ECO.2.1.5 wants in both cases.
pub fn render_pdf(doc: &Document, options: &PdfOptions) -> Vec<u8> {
    let pages = compose::pages(doc, options);
    let info = writer::Info {
        title: doc.title.clone(),
        subject: doc
            .type_code
            .as_ref()
            .and_then(|c| c.label())
            .unwrap_or_default()
            .to_owned(),
        hl7_date: doc.effective_time.as_ref().map(|t| t.raw.clone()),
        lang: catalog_lang(doc.language.as_deref(), options.lang),
    };
    writer::assemble(&pages, &info)
}

/// The PDF to attach when sending `doc` (ECO.2.1.5): for an N1 document whose
/// body is a PDF, that PDF unchanged; otherwise the rendition of
/// [`render_pdf`].
pub fn attached_pdf<'d>(doc: &'d Document, options: &PdfOptions) -> Cow<'d, [u8]> {
    match doc.non_xml_body() {
        Some(m) if m.sniffed_type == "application/pdf" => Cow::Borrowed(&m.bytes),
        _ => Cow::Owned(render_pdf(doc, options)),
    }
}

/// The catalog's `/Lang`: the document's language when it looks like a
/// language tag, else the label language.
fn catalog_lang(doc_lang: Option<&str>, lang: Lang) -> String {
    match doc_lang.map(str::trim) {
        Some(l)
            if !l.is_empty()
                && l.len() <= 35
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') =>
        {
            l.to_owned()
        }
        _ => match lang {
            Lang::Fr => "fr-FR".to_owned(),
            Lang::En => "en".to_owned(),
        },
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A small N3 document with a patient, an author and one section.
    pub(crate) const MINIMAL_CDA: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<ClinicalDocument xmlns="urn:hl7-org:v3">
  <id root="1.2.3" extension="doc-1"/>
  <code code="11488-4" codeSystem="2.16.840.1.113883.6.1" displayName="CR de consultation"/>
  <title>Compte rendu de consultation</title>
  <effectiveTime value="20240101120000+0100"/>
  <languageCode code="fr-FR"/>
  <recordTarget><patientRole><id root="1.2.250.1.213.1.4.8" extension="123456789012345"/>
    <patient><name><family qualifier="BR">TESTFAMILLE</family><given>Jeanne</given></name>
    <administrativeGenderCode code="F"/><birthTime value="19800101"/></patient></patientRole></recordTarget>
  <author><time value="20240101"/><assignedAuthor><assignedPerson><name><given>Paul</given><family>AUTEUR</family></name></assignedPerson></assignedAuthor></author>
  <component><structuredBody><component><section ID="s1">
    <code code="11348-0" codeSystem="2.16.840.1.113883.6.1"/>
    <title>Antécédents</title>
    <text>SECTION_TEXT</text>
  </section></component></structuredBody></component>
</ClinicalDocument>"#;

    fn doc_with(text: &str) -> Document {
        crate::parse(MINIMAL_CDA.replace("SECTION_TEXT", text).as_bytes()).unwrap()
    }

    /// The file with every literal and hexadecimal string's content removed,
    /// read the way a PDF parser reads it (nesting, backslash escapes). What
    /// is left is the PDF syntax: names, operators, numbers, dictionaries.
    fn syntax_only(pdf: &[u8]) -> String {
        let mut out = Vec::new();
        let mut i = 0;
        while i < pdf.len() {
            match pdf[i] {
                b'(' => {
                    let mut depth = 0usize;
                    while i < pdf.len() {
                        match pdf[i] {
                            b'\\' => i += 1,
                            b'(' => depth += 1,
                            b')' => {
                                depth -= 1;
                                if depth == 0 {
                                    break;
                                }
                            }
                            _ => {}
                        }
                        i += 1;
                    }
                    out.extend_from_slice(b"()");
                }
                b'<' if pdf.get(i + 1) != Some(&b'<') => {
                    while i < pdf.len() && pdf[i] != b'>' {
                        i += 1;
                    }
                    out.extend_from_slice(b"<>");
                }
                b'<' => {
                    out.extend_from_slice(b"<<");
                    i += 1;
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    /// Checks the cross-reference table against the file: every offset points
    /// at `n 0 obj`, and `startxref` points at `xref`.
    fn check_xref(pdf: &[u8]) -> usize {
        // One character per byte, so string offsets are file offsets.
        let text: String = pdf
            .iter()
            .map(|&b| if b < 0x80 { char::from(b) } else { '?' })
            .collect();
        let tail = text.rsplit_once("startxref\n").unwrap().1;
        let xref_at: usize = tail.lines().next().unwrap().trim().parse().unwrap();
        assert!(text[xref_at..].starts_with("xref\n"), "startxref offset");
        let mut lines = text[xref_at..].lines().skip(1);
        let header = lines.next().unwrap();
        let (first, count) = header.split_once(' ').unwrap();
        assert_eq!(first, "0");
        let count: usize = count.parse().unwrap();
        let entries: Vec<&str> = lines.take(count).collect();
        assert_eq!(entries[0], "0000000000 65535 f ");
        for (n, e) in entries.iter().enumerate().skip(1) {
            assert_eq!(e.len(), 19, "entry {n}: {e:?}"); // plus the newline: 20 bytes
            assert!(e.ends_with(" 00000 n "));
            let off: usize = e[..10].parse().unwrap();
            assert!(
                text[off..].starts_with(&format!("{n} 0 obj\n")),
                "object {n} not at {off}"
            );
        }
        // Every object in the file is in the table.
        assert_eq!(text.matches(" 0 obj\n").count(), count - 1);
        assert!(text.contains(&format!("/Size {count} ")));
        // Stream lengths are exact.
        let mut rest = &text[..];
        while let Some(p) = rest.find("<< /Length ") {
            let after = &rest[p + 11..];
            let len: usize = after[..after.find(' ').unwrap()].parse().unwrap();
            let data = &after[after.find("stream\n").unwrap() + 7..];
            assert!(data[len..].starts_with("\nendstream"), "stream length");
            rest = &data[len..];
        }
        count
    }

    #[test]
    fn xref_offsets_point_at_their_objects() {
        let pdf = render_pdf(
            &doc_with("<paragraph>Bonjour</paragraph>"),
            &PdfOptions::default(),
        );
        assert!(pdf.starts_with(b"%PDF-1.4\n"));
        assert!(pdf.ends_with(b"%%EOF\n"));
        // 7 fixed objects plus page and content for one page.
        assert_eq!(check_xref(&pdf), 10);

        let many = "<paragraph>Lorem ipsum dolor sit amet, é à ç.</paragraph>".repeat(600);
        let pdf = render_pdf(&doc_with(&many), &PdfOptions::default());
        let objects = check_xref(&pdf);
        let pages = (objects - 8) / 2;
        assert!(pages > 5, "{pages}");
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains(&format!("/Count {pages} ")));
        assert!(text.contains(&format!("(Page {pages} / {pages}) Tj")));
    }

    #[test]
    fn hostile_text_cannot_inject_syntax() {
        let evil =
            "<paragraph>) Tj ET endstream endobj 9 0 obj &lt;&lt; /Type /Action /S /JavaScript \
                    /JS (app.alert\\(1\\)) /OpenAction /URI (http://x) /Launch /AA \
                    \\) \\\\) ((( %%EOF trailer</paragraph>\
                    <paragraph><linkHtml href=\"javascript:alert(1)\">clic</linkHtml> \
                    <linkHtml href=\"https://exemple.fr/a)b\">site</linkHtml></paragraph>";
        let mut d = doc_with(evil);
        d.title = "Titre) /JS (x".into();
        d.language = Some(") /JS (".into());
        let pdf = render_pdf(&d, &PdfOptions::default());
        check_xref(&pdf);
        let syntax = syntax_only(&pdf);
        for bad in [
            "/JavaScript",
            "/JS",
            "/OpenAction",
            "/AA",
            "/URI",
            "/Launch",
            "/Annots",
            "/Action",
            "/EmbeddedFile",
            "/AcroForm",
            "/Names",
            "/Outlines",
        ] {
            assert!(!syntax.contains(bad), "{bad} outside a string");
        }
        assert_eq!(syntax.matches("endobj").count(), check_xref(&pdf) - 1);
        assert_eq!(syntax.matches("%%EOF").count(), 1);
        // The hostile text is still there, as text.
        assert!(String::from_utf8_lossy(&pdf).contains("\\) Tj ET endstream"));
        // The link target is written out, never linked.
        assert!(String::from_utf8_lossy(&pdf).contains("(https://exemple.fr/a\\)b\\)"));
    }

    #[test]
    fn output_is_deterministic() {
        let d = doc_with("<list><item>un</item><item>deux</item></list>");
        let a = render_pdf(&d, &PdfOptions::default());
        let b = render_pdf(&d.clone(), &PdfOptions::default());
        assert_eq!(a, b);
        let text = String::from_utf8_lossy(&a);
        assert!(text.contains("/CreationDate (D:20240101120000+01'00')"));
        assert!(text.contains("/Lang (fr-FR)"));
        assert!(!text.contains("/Annots"));
    }

    #[test]
    fn page_cap_truncates_with_a_notice() {
        let many =
            "<paragraph>Ligne de texte assez longue pour remplir la page.</paragraph>".repeat(3000);
        let d = doc_with(&many);
        let pdf = render_pdf(
            &d,
            &PdfOptions {
                max_pages: 4,
                ..PdfOptions::default()
            },
        );
        assert_eq!(check_xref(&pdf), 8 + 2 * 4);
        let text = String::from_utf8_lossy(&pdf);
        assert_eq!(text.matches("(Document tronqu\\351").count(), 1);
        let last = text.rfind("/Type /Page ").unwrap();
        assert!(text[last..].contains("(Document tronqu\\351"));
        let en = render_pdf(
            &d,
            &PdfOptions {
                max_pages: 2,
                lang: Lang::En,
            },
        );
        assert!(String::from_utf8_lossy(&en).contains("(Document truncated: the 2-page limit"));
        // Zero means one page, not an empty file.
        let one = render_pdf(
            &d,
            &PdfOptions {
                max_pages: 0,
                ..PdfOptions::default()
            },
        );
        assert_eq!(check_xref(&one), 10);
    }

    #[test]
    fn french_text_is_winansi_in_the_stream() {
        let d = doc_with("<paragraph>Œdème « sévère » – coût 12 € ; l’été 10⁹/L ≥ 3</paragraph>");
        let text = String::from_utf8_lossy(&render_pdf(&d, &PdfOptions::default())).into_owned();
        // Œ 0x8C, « 0xAB, é 0xE9, » 0xBB, – 0x96, û 0xFB, € 0x80, ’ 0x92.
        assert!(
            text.contains("(\\214d\\350me \\253 s\\351v\\350re \\273"),
            "{text}"
        );
        assert!(text.contains("\\226 co\\373t 12 \\200"));
        assert!(text.contains("l\\222\\351t\\351 10^9/L >= 3"));
        assert!(text.contains("/Encoding /WinAnsiEncoding"));
        // The section title in the information dictionary is UTF-16.
        assert!(text.contains("/Title <FEFF0043006F006D007000740065"));
    }

    #[test]
    fn n1_documents_attach_their_own_pdf() {
        let d = doc_with("x");
        assert!(matches!(
            attached_pdf(&d, &PdfOptions::default()),
            Cow::Owned(_)
        ));
    }

    #[test]
    fn catalog_language() {
        assert_eq!(catalog_lang(Some("fr-FR"), Lang::En), "fr-FR");
        assert_eq!(catalog_lang(Some(") /JS ("), Lang::Fr), "fr-FR");
        assert_eq!(catalog_lang(None, Lang::En), "en");
    }
}
