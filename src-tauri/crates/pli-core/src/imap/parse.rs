//! From raw RFC 5322 bytes to what the cache stores, with mail-parser (RFC 2047 words,
//! ISO-8859-1 / windows-1252 and other charsets decoded to UTF-8; malformed input never panics).
//!
//! The text of attached health documents (CDA R2 narrative, the CDA and PDF documents of an
//! IHE_XDM.ZIP, PDF text) is extracted with pli-cda for the search index, under size, count,
//! length and time caps (see the constants below); a document that cannot be read adds no text.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{mpsc, Once};
use std::time::{Duration, Instant};

use mail_parser::{HeaderValue, MessageParser, MimeHeaders};
use pli_cda::model::Section;
use pli_cda::Document;

use crate::store::{BodyData, NewMessage};

/// Snippet length in characters.
const SNIPPET_CHARS: usize = 200;

/// Largest health-document attachment whose text is extracted for search (bytes, decoded);
/// a larger one is indexed by its name only.
const MAX_DOCUMENT_BYTES: usize = 20 << 20;
/// Most text extracted from one message's documents (bytes, cut at a character boundary).
const MAX_ATTACHMENT_TEXT: usize = 512 << 10;
/// Most documents read in one message (attachments plus the documents inside XDM archives).
const MAX_DOCUMENTS: usize = 32;
/// Time given to PDF text extraction for one whole message. The extractor runs on its own
/// thread; past the budget it is abandoned (left to finish on its own) and the PDF
/// contributes no text, so a PDF that makes the extractor loop cannot hold up the sync.
const PDF_BUDGET: Duration = Duration::from_secs(10);
/// Name of the PDF extraction threads; the panic hook stays silent for them.
const PDF_THREAD: &str = "pli-pdf-text";

fn text_values(v: &HeaderValue<'_>) -> Vec<String> {
    match v {
        HeaderValue::Text(t) => t.split_whitespace().map(clean_id).collect(),
        HeaderValue::TextList(l) => l.iter().map(|t| clean_id(t)).collect(),
        _ => Vec::new(),
    }
}

fn clean_id(s: &str) -> String {
    s.trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_owned()
}

fn addresses(a: Option<&mail_parser::Address<'_>>) -> Vec<String> {
    a.map(|a| {
        a.iter()
            .filter_map(|x| x.address())
            .map(str::to_lowercase)
            .collect()
    })
    .unwrap_or_default()
}

/// Parses a header block (or a whole message) into the header fields of a [`NewMessage`].
pub fn headers(uid: u32, raw: &[u8]) -> NewMessage {
    let mut m = NewMessage {
        uid,
        ..Default::default()
    };
    let Some(msg) = MessageParser::default().parse_headers(raw) else {
        return m;
    };
    m.message_id = msg.message_id().map(clean_id);
    m.in_reply_to = text_values(msg.in_reply_to()).into_iter().next();
    m.references = text_values(msg.references());
    m.from = msg.from().and_then(|a| a.first()).and_then(|a| {
        a.address()
            .map(|addr| (addr.to_lowercase(), a.name().map(str::to_owned)))
    });
    m.to = addresses(msg.to());
    m.cc = addresses(msg.cc());
    m.subject = msg.subject().map(str::to_owned);
    m.sent_at = msg.date().map(|d| d.to_timestamp());
    m.patient_ins = msg
        .header_raw("X-MSS-INS")
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty());
    m.mdn = crate::mssante::receipts::mdn_request(raw)
        .map(|r| (r.notify_to.to_lowercase(), r.differs_from_return_path));
    m
}

/// Is this attachment a health document (PDF, CDA XML, IHE XDM archive)?
fn is_document(name: Option<&str>, mime: &str) -> bool {
    let name = name.unwrap_or("").to_ascii_lowercase();
    let mime = mime.to_ascii_lowercase();
    mime == "application/pdf"
        || mime.ends_with("/xml")
        || mime == "application/zip" && name.contains("xdm")
        || name.ends_with(".pdf")
        || name.ends_with(".xml")
        || name.contains("ihe_xdm")
}

/// Parses a whole message into its body data (text, HTML, attachments).
pub fn body(raw: &[u8]) -> BodyData {
    let Some(msg) = MessageParser::default().parse(raw) else {
        return BodyData {
            text: String::from_utf8_lossy(raw).into_owned(),
            ..Default::default()
        };
    };
    let text = msg.body_text(0).map(|t| t.into_owned()).unwrap_or_default();
    let html = msg.body_html(0).map(|t| t.into_owned());
    let snippet: String = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(SNIPPET_CHARS)
        .collect();
    let mut documents = DocumentText::new();
    let attachments = msg
        .attachments()
        .enumerate()
        .map(|(i, p)| {
            let name = p.attachment_name().map(str::to_owned);
            let mime = p
                .content_type()
                .map(|c| match c.subtype() {
                    Some(s) => format!("{}/{}", c.ctype(), s),
                    None => c.ctype().to_owned(),
                })
                .unwrap_or_else(|| "application/octet-stream".into());
            let doc = is_document(name.as_deref(), &mime);
            if doc {
                documents.attachment(p.contents());
            }
            (i as u32, name, mime, p.len() as u64, doc)
        })
        .collect();
    BodyData {
        text,
        html,
        snippet,
        attachments,
        attachment_text: documents.out,
        reports: reports(raw),
    }
}

/// The delivery (DSN) or read (MDN) reports a message carries, one row per recipient.
fn reports(raw: &[u8]) -> Vec<crate::store::ReportRow> {
    use crate::mssante::receipts::{parse_report, ReportKind};
    let Some(r) = parse_report(raw) else {
        return Vec::new();
    };
    let Some(original) = r.original_message_id.filter(|o| !o.is_empty()) else {
        return Vec::new();
    };
    match r.kind {
        ReportKind::Mdn { disposition } => {
            let d = disposition.to_ascii_lowercase();
            let kind = if d.contains("displayed") {
                "read"
            } else {
                "other"
            };
            vec![(original, kind.to_owned(), None, disposition)]
        }
        ReportKind::Dsn { recipients } => recipients
            .into_iter()
            .map(|(recipient, action, status)| {
                let kind = match action.to_ascii_lowercase().as_str() {
                    "delivered" | "relayed" | "expanded" => "delivered",
                    "failed" => "failed",
                    "delayed" => "delayed",
                    _ => "other",
                };
                (original.clone(), kind.to_owned(), Some(recipient), status)
            })
            .collect(),
    }
}

/// Searchable text of a message's health documents, gathered under the caps above.
struct DocumentText {
    out: String,
    /// The text reached [`MAX_ATTACHMENT_TEXT`].
    capped: bool,
    documents: usize,
    pdf_deadline: Option<Instant>,
}

impl DocumentText {
    fn new() -> Self {
        Self {
            out: String::new(),
            capped: false,
            documents: 0,
            pdf_deadline: None,
        }
    }

    fn full(&self) -> bool {
        self.capped || self.documents >= MAX_DOCUMENTS
    }

    /// Appends `text` with its whitespace collapsed, cut at the cap.
    fn push(&mut self, text: &str) {
        for word in text.split_whitespace() {
            let sep = usize::from(!self.out.is_empty());
            let room = MAX_ATTACHMENT_TEXT.saturating_sub(self.out.len() + sep);
            let mut end = word.len().min(room);
            while !word.is_char_boundary(end) {
                end -= 1;
            }
            if end > 0 {
                if sep == 1 {
                    self.out.push(' ');
                }
                self.out.push_str(&word[..end]);
            }
            if end < word.len() {
                self.capped = true;
                return;
            }
        }
    }

    /// One attachment flagged as a health document: a PDF, an IHE XDM zip or a CDA XML,
    /// recognised by its bytes. Anything else, too large or unreadable adds nothing. A panic in
    /// a parser (none is expected) is contained: the document then adds nothing.
    fn attachment(&mut self, bytes: &[u8]) {
        if self.full() || bytes.len() > MAX_DOCUMENT_BYTES {
            return;
        }
        let _ = catch_unwind(AssertUnwindSafe(|| {
            if bytes.starts_with(b"PK\x03\x04") {
                self.xdm(bytes);
            } else {
                self.document(bytes);
            }
        }));
    }

    fn xdm(&mut self, bytes: &[u8]) {
        let Ok(pkg) = pli_cda::xdm::read(bytes) else {
            return;
        };
        if let Some(title) = &pkg.submission_set.title {
            self.push(title);
        }
        for d in &pkg.documents {
            if self.full() {
                return;
            }
            if !d.bytes.is_empty() && d.bytes.len() <= MAX_DOCUMENT_BYTES {
                self.document(&d.bytes);
            }
        }
    }

    /// A PDF or a CDA document.
    fn document(&mut self, bytes: &[u8]) {
        self.documents += 1;
        if bytes.starts_with(b"%PDF-") {
            self.pdf(bytes);
        } else if let Ok(doc) = pli_cda::parse(bytes) {
            self.cda(&doc);
        }
    }

    /// Title, patient, section titles and narrative, lab results, and the text of the PDF the
    /// document carries (N1 body or N3 PDF copy).
    fn cda(&mut self, doc: &Document) {
        self.push(&doc.title);
        if let Some(p) = &doc.patient {
            for n in &p.names {
                self.push(&n.display());
                for g in n.given_names().iter().skip(1) {
                    self.push(g);
                }
            }
        }
        fn sections(t: &mut DocumentText, list: &[Section]) {
            for s in list {
                if let Some(title) = &s.title {
                    t.push(title);
                }
                t.push(&pli_cda::narrative::plain_text(&s.text));
                sections(t, &s.sections);
            }
        }
        sections(self, doc.sections());
        for r in &doc.lab_results {
            self.push(&r.analysis);
            self.push(&r.value);
            if let Some(u) = &r.unit {
                self.push(u);
            }
        }
        if let Some(body) = doc.non_xml_body() {
            if body.sniffed_type.starts_with("text/plain") {
                self.push(&String::from_utf8_lossy(&body.bytes));
            }
        }
        if let Some(pdf) = doc.pdf() {
            self.pdf(&pdf.bytes);
        }
    }

    fn pdf(&mut self, bytes: &[u8]) {
        let deadline = *self
            .pdf_deadline
            .get_or_insert_with(|| Instant::now() + PDF_BUDGET);
        if let Some(text) = quiet_pdf_text(bytes, deadline) {
            self.push(&text);
        }
    }
}

/// Text of a PDF, or `None` when it has none, is malformed or is not done by `deadline`.
///
/// pdf-extract can panic on hostile files (pli-cda contains the panic) and might loop: it runs
/// on a thread of its own, whose panic messages the process hook does not print, and is
/// abandoned past the deadline.
pub fn quiet_pdf_text(bytes: &[u8], deadline: Instant) -> Option<String> {
    static HOOK: Once = Once::new();
    if !bytes.starts_with(b"%PDF-") {
        return None;
    }
    let left = deadline.checked_duration_since(Instant::now())?;
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if std::thread::current().name() != Some(PDF_THREAD) {
                previous(info);
            }
        }));
    });
    let (tx, rx) = mpsc::channel();
    let owned = bytes.to_vec();
    std::thread::Builder::new()
        .name(PDF_THREAD.into())
        .spawn(move || {
            let _ = tx.send(pli_cda::pdf_text(&owned).ok());
        })
        .ok()?;
    rx.recv_timeout(left).ok().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin1_and_encoded_words_are_decoded() {
        let raw = b"Message-ID: <a1@x>\r\nFrom: =?ISO-8859-1?Q?Dr_Fran=E7ois?= <F.X@Example.test>\r\n\
To: a@b.test, C <c@d.test>\r\nSubject: =?utf-8?B?w6ljaG9ncmFwaGll?=\r\nReferences: <r1@x> <r2@x>\r\n\
X-MSS-INS: 279035121518989\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\nR\xe9sultat normal.\r\n";
        let m = headers(7, raw);
        assert_eq!(m.message_id.as_deref(), Some("a1@x"));
        assert_eq!(
            m.from,
            Some(("f.x@example.test".into(), Some("Dr François".into())))
        );
        assert_eq!(m.to, vec!["a@b.test", "c@d.test"]);
        assert_eq!(m.subject.as_deref(), Some("échographie"));
        assert_eq!(m.references, vec!["r1@x", "r2@x"]);
        assert_eq!(m.patient_ins.as_deref(), Some("279035121518989"));
        let b = body(raw);
        assert_eq!(b.text.trim(), "Résultat normal.");
        assert!(!b.has_documents());
    }

    #[test]
    fn attachments_and_documents() {
        let raw = b"Subject: x\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\
Content-Type: text/plain\r\n\r\nvoir PJ\r\n--b\r\nContent-Type: application/zip; name=IHE_XDM.zip\r\n\
Content-Disposition: attachment; filename=IHE_XDM.zip\r\nContent-Transfer-Encoding: base64\r\n\r\nUEsDBA==\r\n--b--\r\n";
        let b = body(raw);
        assert_eq!(b.attachments.len(), 1);
        assert_eq!(b.attachments[0].1.as_deref(), Some("IHE_XDM.zip"));
        assert!(b.has_documents());
        assert_eq!(b.snippet, "voir PJ");
    }

    /// A minimal CDA R2 document with `body` (a structuredBody or a nonXMLBody).
    fn cda_with_body(body: &str) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<ClinicalDocument xmlns="urn:hl7-org:v3">
  <code code="11488-4" codeSystem="2.16.840.1.113883.6.1" displayName="CR de consultation"/>
  <title>Compte rendu de consultation</title>
  <effectiveTime value="20260101120000+0100"/>
  <recordTarget><patientRole><id root="1.2.250.1.213.1.4.10" extension="279035121518989"/>
    <patient><name><family qualifier="BR">MARTIN</family><given>Lucie</given></name>
    <administrativeGenderCode code="F"/><birthTime value="19790315"/></patient></patientRole></recordTarget>
  <component>{body}</component>
</ClinicalDocument>"#
        )
    }

    /// A minimal CDA R2 whose narrative holds `word`.
    fn cda(word: &str) -> String {
        cda_with_body(&format!(
            r#"<structuredBody><component><section><title>Conclusion</title>
<text><paragraph>Examen <content styleCode="Bold">{word}</content> sans anomalie.</paragraph></text>
</section></component></structuredBody>"#
        ))
    }

    /// A message whose only mention of anything is "voir PJ", with `bytes` attached.
    fn with_attachment(name: &str, mime: &str, bytes: &[u8]) -> Vec<u8> {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
        let lines: Vec<&str> = b64
            .as_bytes()
            .chunks(76)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        format!(
            "Subject: Envoi\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n\
--b\r\nContent-Type: text/plain\r\n\r\nvoir PJ\r\n--b\r\nContent-Type: {mime}; name={name}\r\n\
Content-Disposition: attachment; filename={name}\r\nContent-Transfer-Encoding: base64\r\n\r\n\
{}\r\n--b--\r\n",
            lines.join("\r\n")
        )
        .into_bytes()
    }

    #[test]
    fn cda_narrative_is_searchable_text() {
        let b = body(&with_attachment(
            "cr.xml",
            "text/xml",
            cda("Zorblaxite").as_bytes(),
        ));
        assert!(b.has_documents());
        assert!(!b.text.contains("Zorblaxite"));
        for word in [
            "Zorblaxite",
            "Conclusion",
            "MARTIN",
            "Lucie",
            "consultation",
        ] {
            assert!(
                b.attachment_text.contains(word),
                "{word}: {}",
                b.attachment_text
            );
        }
    }

    #[test]
    fn documents_inside_an_xdm_archive_are_read() {
        use crate::mssante::xdm::{build, CdaFile, Sender};
        let files = vec![CdaFile::parse("cr.xml", cda("Quimbrolase").into_bytes()).unwrap()];
        let sender = Sender {
            product_reference: "pli-test".into(),
            address: "a@pli.test".into(),
            display_name: "A".into(),
            recipients: vec!["b@pli.test".into()],
        };
        let zip = build(&files, &sender, "1.2.3.4", "20260101120000")
            .unwrap()
            .zip;
        let b = body(&with_attachment("IHE_XDM.ZIP", "application/zip", &zip));
        assert!(
            b.attachment_text.contains("Quimbrolase"),
            "{}",
            b.attachment_text
        );
    }

    /// A one-page PDF showing `word` in Helvetica.
    fn text_pdf(word: &str) -> Vec<u8> {
        let content = format!("BT /F1 24 Tf 72 700 Td ({word}) Tj ET");
        let objects = [
            "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] \
             /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>"
                .to_owned(),
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
            format!(
                "<< /Length {} >>\nstream\n{content}\nendstream",
                content.len()
            ),
        ];
        let mut pdf = b"%PDF-1.4\n".to_vec();
        let mut offsets = Vec::new();
        for (i, o) in objects.iter().enumerate() {
            offsets.push(pdf.len());
            pdf.extend(format!("{} 0 obj\n{o}\nendobj\n", i + 1).bytes());
        }
        let xref = pdf.len();
        let n = objects.len() + 1;
        pdf.extend(format!("xref\n0 {n}\n0000000000 65535 f \n").bytes());
        for o in offsets {
            pdf.extend(format!("{o:010} 00000 n \n").bytes());
        }
        pdf.extend(
            format!("trailer\n<< /Size {n} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n").bytes(),
        );
        pdf
    }

    #[test]
    fn pdf_text_standalone_and_inside_an_n1_cda() {
        use base64::Engine as _;
        let b = body(&with_attachment(
            "cr.pdf",
            "application/pdf",
            &text_pdf("Vorbulgine"),
        ));
        assert!(
            b.attachment_text.contains("Vorbulgine"),
            "{:?}",
            b.attachment_text
        );

        let b64 = base64::engine::general_purpose::STANDARD.encode(text_pdf("Plimbarate"));
        let n1 = cda_with_body(&format!(
            r#"<nonXMLBody><text mediaType="application/pdf" representation="B64">{b64}</text></nonXMLBody>"#
        ));
        let b = body(&with_attachment("n1.xml", "text/xml", n1.as_bytes()));
        assert!(
            b.attachment_text.contains("Plimbarate"),
            "{:?}",
            b.attachment_text
        );
    }

    #[test]
    fn hostile_documents_add_no_text_and_do_not_panic() {
        let mut truncated_zip = b"PK\x03\x04".to_vec();
        truncated_zip.extend_from_slice(&[0xff; 64]);
        let entity_bomb = "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"aaaa\">]>\
<ClinicalDocument xmlns=\"urn:hl7-org:v3\"><title>&a;Sekretwort</title></ClinicalDocument>";
        for (name, mime, bytes) in [
            ("IHE_XDM.zip", "application/zip", truncated_zip),
            (
                "cr.pdf",
                "application/pdf",
                b"%PDF-1.4\n1 0 obj <<>> garbage".to_vec(),
            ),
            ("cr.pdf", "application/pdf", b"not a pdf at all".to_vec()),
            ("cr.xml", "text/xml", entity_bomb.as_bytes().to_vec()),
            (
                "cr.xml",
                "text/xml",
                cda("Cutoff").as_bytes()[..200].to_vec(),
            ),
            ("cr.xml", "text/xml", vec![0xff, 0xfe, 0x00, 0x3c]),
        ] {
            let b = body(&with_attachment(name, mime, &bytes));
            assert_eq!(b.attachments.len(), 1, "{name}");
            assert_eq!(b.attachment_text, "", "{name}: {mime}");
        }
    }

    #[test]
    fn extracted_text_is_capped() {
        let mut t = DocumentText::new();
        let long = "mot ".repeat(MAX_ATTACHMENT_TEXT);
        t.push(&long);
        t.push("encore");
        assert!(t.out.len() <= MAX_ATTACHMENT_TEXT);
        assert!(t.full());
        t.attachment(cda("Tardif").as_bytes());
        assert!(!t.out.contains("Tardif"));
        let mut t = DocumentText::new();
        t.push(&format!("a{}", "é".repeat(MAX_ATTACHMENT_TEXT)));
        assert!(t.full() && t.out.len() == MAX_ATTACHMENT_TEXT - 1);
    }

    #[test]
    fn garbage_does_not_panic() {
        let m = headers(1, b"\xff\xfe\x00garbage");
        assert_eq!(m.uid, 1);
        let _ = body(b"\xff\xfe\x00garbage");
    }
}
