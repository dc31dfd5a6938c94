//! A draft as a message of the server's Drafts folder, and back (decision 0031).
//!
//! The server copy is what another client (the operator's webmail, Pli on another
//! workstation) shows and resumes, so it is a plain message: `From` with its display name,
//! `To`/`Cc`, `Subject`, the text, `In-Reply-To`/`References` of an answer, the read-receipt
//! request (and Pli's own header for the delivery-receipt request), and the files **as the user attached them**. Health documents are not packaged as
//! IHE XDM here, and no MSSanté header (`X-MSS-*`) is written: packaging happens when the
//! message is sent, from the files, so a draft resumed anywhere sends the same message.
//!
//! A draft is work in progress: an address still being typed (not yet `local@domain`) is
//! left out of the server copy (the cache's copy keeps it); a patient recipient appears as
//! the patient address built from the INS once the INS is valid.

use mail_builder::headers::address::Address;
use mail_builder::headers::raw::Raw;
use mail_builder::MessageBuilder;
use mail_parser::{MessageParser, MimeHeaders};

use super::headers::new_message_id;
use super::ins::patient_ins_of;

/// Where a server copy keeps the request for delivery receipts. A DSN is asked for in the SMTP
/// envelope, not in the message, so no standard header carries it; Thunderbird keeps the same
/// choice in a private header of its drafts (`X-Mozilla-Draft-Info: …; DSN=1`). The header only
/// lives in the Drafts folder: the message sent is composed again from the fields.
pub const DELIVERY_RECEIPT_HEADER: &str = "X-Pli-Delivery-Receipt";

/// What a server copy carries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DraftMessage {
    /// Sending mailbox.
    pub from: String,
    /// Its display name.
    pub from_name: String,
    /// Recipients (the patient's address among them, when there is one).
    pub to: Vec<String>,
    /// Copies.
    pub cc: Vec<String>,
    /// Subject as typed.
    pub subject: String,
    /// Text.
    pub body: String,
    /// A read receipt is asked for.
    pub receipt: bool,
    /// Delivery receipts are asked for (kept in [`DELIVERY_RECEIPT_HEADER`]).
    pub delivery_receipt: bool,
    /// The message answered (Message-ID, without angle brackets).
    pub in_reply_to: Option<String>,
    /// Its references.
    pub references: Vec<String>,
    /// Attached files: (name, bytes).
    pub files: Vec<(String, Vec<u8>)>,
}

/// Whether `a` is a complete plain address (`local@domain.tld`, nothing that could break a
/// header).
fn complete_address(a: &str) -> bool {
    a.split_once('@').is_some_and(|(l, d)| {
        !l.is_empty()
            && d.contains('.')
            && !d.ends_with('.')
            && !a.contains(|c: char| c.is_whitespace() || c.is_control() || "<>,;\"()".contains(c))
    })
}

fn header_text(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The MIME of a draft; returns (Message-ID, bytes). Each version gets a new Message-ID (the
/// server copy is replaced as a whole).
pub fn draft_mime(
    d: &DraftMessage,
    content_type: impl Fn(&str) -> &'static str,
) -> Result<(String, Vec<u8>), std::io::Error> {
    let message_id = new_message_id(&d.from);
    let keep = |v: &[String]| -> Vec<Address<'static>> {
        v.iter()
            .map(|a| a.trim())
            .filter(|a| complete_address(a))
            .map(|a| Address::new_address(None::<String>, a.to_owned()))
            .collect()
    };
    let mut b = MessageBuilder::new()
        .message_id(message_id.clone())
        .subject(header_text(&d.subject))
        .text_body(d.body.clone());
    if complete_address(&d.from) {
        b = b.from(Address::new_address(
            Some(header_text(&d.from_name)),
            d.from.clone(),
        ));
    }
    let (to, cc) = (keep(&d.to), keep(&d.cc));
    if !to.is_empty() {
        b = b.to(to);
    }
    if !cc.is_empty() {
        b = b.cc(cc);
    }
    if let Some(parent) = d.in_reply_to.as_deref().filter(|p| complete_id(p)) {
        b = b.in_reply_to(parent.to_owned());
        let mut refs: Vec<String> = d
            .references
            .iter()
            .filter(|r| complete_id(r))
            .cloned()
            .collect();
        if !refs.iter().any(|r| r == parent) {
            refs.push(parent.to_owned());
        }
        b = b.references(refs);
    }
    if d.receipt && complete_address(&d.from) {
        b = b.header(
            "Disposition-Notification-To",
            Raw::new(format!("<{}>", d.from)),
        );
    }
    if d.delivery_receipt {
        b = b.header(DELIVERY_RECEIPT_HEADER, Raw::new("yes"));
    }
    for (name, bytes) in &d.files {
        b = b.attachment(content_type(name), header_text(name), bytes.clone());
    }
    Ok((message_id, b.write_to_vec()?))
}

fn complete_id(id: &str) -> bool {
    !id.is_empty()
        && !id.contains(|c: char| c.is_whitespace() || c.is_control() || "<>".contains(c))
}

/// A message of a Drafts folder read back: the fields, with a patient recipient taken out of
/// `to` (its INS in `patient_ins`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResumedDraft {
    /// The fields (`to` without the patient address).
    pub message: DraftMessage,
    /// The patient recipient's INS, when `To` held a patient address.
    pub patient_ins: Option<String>,
}

/// Reads a Drafts-folder message (written by Pli or by another client). `None` when the bytes
/// are not a message at all.
pub fn parse_draft(raw: &[u8], patient_domain: &str) -> Option<ResumedDraft> {
    let msg = MessageParser::default().parse(raw)?;
    let list = |a: Option<&mail_parser::Address<'_>>| -> Vec<String> {
        a.map(|a| {
            a.iter()
                .filter_map(|x| x.address())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
    };
    let (from, from_name) = msg
        .from()
        .and_then(|a| a.first())
        .map(|a| {
            (
                a.address().unwrap_or_default().to_owned(),
                a.name().unwrap_or_default().to_owned(),
            )
        })
        .unwrap_or_default();
    let mut patient_ins = None;
    let mut to = Vec::new();
    for a in list(msg.to()) {
        match patient_ins_of(&a, patient_domain) {
            Some(ins) if patient_ins.is_none() => patient_ins = Some(ins.to_string()),
            _ => to.push(a),
        }
    }
    let ids = |v: &mail_parser::HeaderValue<'_>| -> Vec<String> {
        match v {
            mail_parser::HeaderValue::Text(t) => vec![t.to_string()],
            mail_parser::HeaderValue::TextList(l) => l.iter().map(|t| t.to_string()).collect(),
            _ => Vec::new(),
        }
    };
    let files = msg
        .attachments()
        .map(|p| {
            let name = p
                .attachment_name()
                .map(str::to_owned)
                .unwrap_or_else(|| "piece-jointe".to_owned());
            (name, p.contents().to_vec())
        })
        .collect();
    let message = DraftMessage {
        from,
        from_name,
        to,
        cc: list(msg.cc()),
        subject: msg.subject().unwrap_or_default().to_owned(),
        body: msg
            .body_text(0)
            .map(|t| t.replace("\r\n", "\n"))
            .unwrap_or_default(),
        receipt: msg
            .header_raw("Disposition-Notification-To")
            .is_some_and(|v| !v.trim().is_empty()),
        delivery_receipt: msg
            .header_raw(DELIVERY_RECEIPT_HEADER)
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("yes")),
        in_reply_to: ids(msg.in_reply_to()).into_iter().next(),
        references: ids(msg.references()),
        files,
    };
    Some(ResumedDraft {
        message,
        patient_ins,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ct(name: &str) -> &'static str {
        if name.ends_with(".xml") {
            "text/xml"
        } else {
            "application/octet-stream"
        }
    }

    fn sample() -> DraftMessage {
        DraftMessage {
            from: "anne.lefevre@pli-sandbox.mssante.fr".into(),
            from_name: "Dr Anne LEFÈVRE".into(),
            to: vec![
                "bruno.girard@cabinet-sandbox.mssante.fr".into(),
                "292017505604894@patient.mssante.fr".into(),
            ],
            cc: vec!["secretariat@pli-sandbox.mssante.fr".into()],
            subject: "Résultats à revoir".into(),
            body: "Bonjour,\nvoici le compte rendu.\n".into(),
            receipt: true,
            delivery_receipt: true,
            in_reply_to: Some("parent.1@pli-sandbox.mssante.fr".into()),
            references: vec!["root.0@pli-sandbox.mssante.fr".into()],
            files: vec![
                ("cr-bio.xml".into(), b"<ClinicalDocument/>".to_vec()),
                ("scan.bin".into(), vec![0, 1, 2, 255]),
            ],
        }
    }

    #[test]
    fn a_draft_comes_back_as_it_was_written() {
        let d = sample();
        let (id, raw) = draft_mime(&d, ct).unwrap();
        let text = String::from_utf8_lossy(&raw);
        assert!(text.contains(&format!("Message-ID: <{id}>")), "{text}");
        // No MSSanté packaging in a draft: the files travel as attached.
        assert!(
            !text.contains("X-MSS-") && !text.contains("IHE_XDM"),
            "{text}"
        );
        let back = parse_draft(&raw, "patient.mssante.fr").unwrap();
        assert_eq!(back.patient_ins.as_deref(), Some("292017505604894"));
        let mut expected = d.clone();
        expected.to.retain(|a| !a.ends_with("@patient.mssante.fr"));
        // References gain the parent, as in a sent answer.
        expected
            .references
            .push("parent.1@pli-sandbox.mssante.fr".into());
        assert_eq!(back.message, expected);
    }

    #[test]
    fn addresses_still_being_typed_and_header_breaking_text_stay_out() {
        let mut d = sample();
        d.to = vec![
            "bruno.gir".into(),
            "x@y.fr\r\nBcc: spy@evil.fr".into(),
            "ok@a.fr".into(),
        ];
        d.cc = vec!["incomplet@".into()];
        d.subject = "Objet\r\nBcc: spy@evil.fr".into();
        d.files.clear();
        let (_, raw) = draft_mime(&d, ct).unwrap();
        let text = String::from_utf8_lossy(&raw);
        assert!(!text.to_ascii_lowercase().contains("\nbcc:"), "{text}");
        let back = parse_draft(&raw, "patient.mssante.fr").unwrap();
        assert_eq!(back.message.to, vec!["ok@a.fr".to_owned()]);
        assert!(back.message.cc.is_empty());
        assert!(back.message.subject.starts_with("Objet"));
    }

    #[test]
    fn a_draft_written_by_another_client_is_read() {
        let raw = b"From: Anne <anne@a.fr>\r\nTo: b@b.fr, c@c.fr\r\nSubject: =?utf-8?q?R=C3=A9union?=\r\n\
MIME-Version: 1.0\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\n\xe0 demain\r\n";
        let back = parse_draft(raw, "patient.mssante.fr").unwrap();
        assert_eq!(back.message.from, "anne@a.fr");
        assert_eq!(
            back.message.to,
            vec!["b@b.fr".to_owned(), "c@c.fr".to_owned()]
        );
        assert_eq!(back.message.subject, "Réunion");
        assert_eq!(back.message.body.trim(), "à demain");
        assert!(!back.message.receipt && back.patient_ins.is_none());
        assert!(back.message.files.is_empty());
    }
}
