//! From raw RFC 5322 bytes to what the cache stores, with mail-parser (RFC 2047 words,
//! ISO-8859-1 / windows-1252 and other charsets decoded to UTF-8; malformed input never panics).

use mail_parser::{HeaderValue, MessageParser, MimeHeaders};

use crate::store::{BodyData, NewMessage};

/// Snippet length in characters.
const SNIPPET_CHARS: usize = 200;

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
            (i as u32, name, mime, p.len() as u64, doc)
        })
        .collect();
    BodyData {
        text,
        html,
        snippet,
        attachments,
    }
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

    #[test]
    fn garbage_does_not_panic() {
        let m = headers(1, b"\xff\xfe\x00garbage");
        assert_eq!(m.uid, 1);
        let _ = body(b"\xff\xfe\x00garbage");
    }
}
