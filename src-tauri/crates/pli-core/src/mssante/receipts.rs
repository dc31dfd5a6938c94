//! Read receipts (MDN, RFC 8098) and delivery reports (DSN, RFC 3464): what a received message
//! asks for, the MDN the user agrees to send back (Ref#2 ECO.3.1.6), and the matching of an
//! incoming MDN or DSN to the message it reports on (by `Original-Message-ID`, or the
//! Message-ID of the returned headers).

use mail_builder::headers::address::Address;
use mail_builder::headers::content_type::ContentType;
use mail_builder::headers::raw::Raw;
use mail_builder::mime::MimePart;
use mail_builder::MessageBuilder;
use mail_parser::{MessageParser, MimeHeaders};

use super::headers::new_message_id;

/// A received message that asks for a read receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MdnRequest {
    /// Message-ID of the received message (without brackets).
    pub original_message_id: String,
    /// Its subject.
    pub original_subject: String,
    /// Where the MDN goes (`Disposition-Notification-To`).
    pub notify_to: String,
    /// True when that address differs from `Return-Path`: RFC 8098 §2.1 says to ask the
    /// user rather than answer automatically.
    pub differs_from_return_path: bool,
}

fn bare(addr: &str) -> String {
    let a = addr.trim();
    let a = a.rsplit_once('<').map(|(_, r)| r).unwrap_or(a);
    a.trim_end_matches('>').trim().to_owned()
}

/// The read-receipt request of `raw`, if it has one.
pub fn mdn_request(raw: &[u8]) -> Option<MdnRequest> {
    let m = MessageParser::default().parse(raw)?;
    let notify_to = bare(m.header_raw("Disposition-Notification-To")?);
    if !notify_to.contains('@') {
        return None;
    }
    let return_path = m.header_raw("Return-Path").map(bare);
    Some(MdnRequest {
        original_message_id: m.message_id()?.to_owned(),
        original_subject: m.subject().unwrap_or_default().to_owned(),
        differs_from_return_path: return_path.is_some_and(|r| !r.eq_ignore_ascii_case(&notify_to)),
        notify_to,
    })
}

/// A built MDN.
#[derive(Debug, Clone)]
pub struct BuiltMdn {
    /// Its Message-ID.
    pub message_id: String,
    /// Exact bytes.
    pub raw: Vec<u8>,
    /// The envelope recipient.
    pub recipient: String,
}

/// The MDN answering `req`: `multipart/report; report-type=disposition-notification`, a
/// French human-readable part, and `message/disposition-notification` with `Final-Recipient`,
/// `Original-Message-ID` and `Disposition: manual-action/MDN-sent-manually; displayed`.
pub fn build_mdn(
    req: &MdnRequest,
    from: &str,
    from_name: &str,
    product_reference: &str,
) -> Result<BuiltMdn, std::io::Error> {
    let message_id = new_message_id(from);
    let text = format!(
        "Le message « {} » envoyé à {from} a été affiché par son destinataire.\r\n\
         Cet accusé de lecture ne garantit pas que le contenu a été lu ou compris.\r\n",
        req.original_subject
    );
    let report = format!(
        "Reporting-UA: Pli {}\r\nFinal-Recipient: rfc822;{from}\r\nOriginal-Message-ID: <{}>\r\n\
         Disposition: manual-action/MDN-sent-manually; displayed\r\n",
        crate::VERSION,
        req.original_message_id
    );
    let body = MimePart::new(
        ContentType::new("multipart/report").attribute("report-type", "disposition-notification"),
        vec![
            MimePart::new("text/plain", text),
            MimePart::new("message/disposition-notification", report),
        ],
    );
    let raw = MessageBuilder::new()
        .from(Address::new_address(
            Some(from_name.to_owned()),
            from.to_owned(),
        ))
        .to(Address::new_address(None::<String>, req.notify_to.clone()))
        .subject(format!("Accusé de lecture : {}", req.original_subject))
        .message_id(message_id.clone())
        .in_reply_to(req.original_message_id.clone())
        .references(req.original_message_id.clone())
        .header("X-MSS-NIL", Raw::new(product_reference.to_owned()))
        .body(body)
        .write_to_vec()?;
    Ok(BuiltMdn {
        message_id,
        raw,
        recipient: req.notify_to.clone(),
    })
}

/// What an incoming report says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportKind {
    /// A read receipt, with its `Disposition` value.
    Mdn {
        /// e.g. `manual-action/MDN-sent-manually; displayed`.
        disposition: String,
    },
    /// A delivery report, per recipient: (final recipient, action, status).
    Dsn {
        /// Per-recipient fields.
        recipients: Vec<(String, String, String)>,
    },
}

/// An incoming MDN or DSN, matched to the message it reports on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Message-ID of the reported message (without brackets), when found.
    pub original_message_id: Option<String>,
    /// The report.
    pub kind: ReportKind,
}

fn fields(text: &str) -> Vec<(String, String)> {
    // Unfold continuation lines, then split "Name: value".
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = out.last_mut() {
                last.1.push(' ');
                last.1.push_str(line.trim());
            }
        } else if let Some((k, v)) = line.split_once(':') {
            out.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
    out
}

fn after_semicolon(v: &str) -> String {
    v.split_once(';')
        .map(|(_, a)| a)
        .unwrap_or(v)
        .trim()
        .to_owned()
}

/// Reads an MDN or DSN (`multipart/report`); `None` for any other message.
pub fn parse_report(raw: &[u8]) -> Option<Report> {
    let m = MessageParser::default().parse(raw)?;
    let ct = m.content_type()?;
    if !(ct.ctype().eq_ignore_ascii_case("multipart")
        && ct
            .subtype()
            .is_some_and(|s| s.eq_ignore_ascii_case("report")))
    {
        return None;
    }
    let mut kind = None;
    let mut original = None;
    for part in m.parts.iter() {
        let Some(pct) = part.content_type() else {
            continue;
        };
        let sub = pct.subtype().unwrap_or("").to_ascii_lowercase();
        let text = String::from_utf8_lossy(part.contents()).into_owned();
        match (pct.ctype().to_ascii_lowercase().as_str(), sub.as_str()) {
            ("message", "disposition-notification") => {
                let f = fields(&text);
                let get = |n: &str| f.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
                original = get("original-message-id").map(|v| bare(&v));
                kind = Some(ReportKind::Mdn {
                    disposition: get("disposition").unwrap_or_default(),
                });
            }
            ("message", "delivery-status") => {
                let f = fields(&text);
                let mut recipients = Vec::new();
                let mut cur: Option<(String, String, String)> = None;
                for (k, v) in f {
                    match k.as_str() {
                        "final-recipient" => {
                            if let Some(c) = cur.take() {
                                recipients.push(c);
                            }
                            cur = Some((after_semicolon(&v), String::new(), String::new()));
                        }
                        "action" => {
                            if let Some(c) = cur.as_mut() {
                                c.1 = v;
                            }
                        }
                        "status" => {
                            if let Some(c) = cur.as_mut() {
                                c.2 = v;
                            }
                        }
                        _ => {}
                    }
                }
                recipients.extend(cur);
                kind = Some(ReportKind::Dsn { recipients });
            }
            ("text", "rfc822-headers") | ("message", "rfc822") if original.is_none() => {
                original = fields(&text)
                    .into_iter()
                    .find(|(k, _)| k == "message-id")
                    .map(|(_, v)| bare(&v));
            }
            _ => {}
        }
    }
    Some(Report {
        original_message_id: original,
        kind: kind?,
    })
}

/// What a failed or delayed delivery means for the user, in French, from the DSN status code
/// (RFC 3463) and whether the recipient is a Mon espace santé patient. Mon espace santé returns
/// "Message non distribué" for a closed mailbox, an unknown patient or invalid address, and an
/// oversized message (ENS v1.3 §6, `../shared/spec/mssante.md` §5); which exact codes it uses is
/// not published, so the classes of RFC 3463 are read, the patient wording chosen when the
/// recipient is a patient. `None` for a successful report.
pub fn explain_delivery(state: &str, status: Option<&str>, patient: bool) -> Option<String> {
    let code = status.unwrap_or("").trim();
    let mut parts = code.split('.');
    let (class, subject, detail) = (parts.next(), parts.next(), parts.next());
    let what = match (state, class, subject, detail) {
        ("delayed", ..) | (_, Some("4"), ..) => {
            "remise retardée : le serveur du destinataire réessaie, rien à faire pour l'instant"
                .to_owned()
        }
        ("failed", _, Some("1"), _) if patient => {
            "non distribué : ce patient n'a pas de messagerie Mon espace santé ouverte (compte \
             fermé, INS inconnu ou adresse invalide)"
                .to_owned()
        }
        ("failed", _, Some("1"), _) => {
            "non distribué : adresse inconnue chez l'opérateur du destinataire (vérifiez-la dans \
             l'annuaire)"
                .to_owned()
        }
        ("failed", _, Some("2"), Some("2")) => {
            "non distribué : boîte du destinataire pleine".into()
        }
        ("failed", _, Some("3"), Some("4")) | ("failed", _, Some("2"), Some("3")) if patient => {
            "non distribué : message trop volumineux, 25 Mo au plus vers Mon espace santé".into()
        }
        ("failed", _, Some("3"), Some("4")) | ("failed", _, Some("2"), Some("3")) => {
            "non distribué : message trop volumineux pour le serveur du destinataire".into()
        }
        ("failed", _, Some("7"), _) => {
            "non distribué : refusé par le serveur du destinataire (règle de sécurité)".into()
        }
        ("failed", ..) => "non distribué".into(),
        _ => return None,
    };
    Some(if code.is_empty() {
        what
    } else {
        format!("{what} (code {code})")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eco_3_1_6_mdn_round_trip_matches_the_original() {
        let req = MdnRequest {
            original_message_id: "abc.1@pli-sandbox.mssante.fr".into(),
            original_subject: "Résultats".into(),
            notify_to: "anne.lefevre@pli-sandbox.mssante.fr".into(),
            differs_from_return_path: false,
        };
        let mdn = build_mdn(&req, "bruno@cabinet.mssante.fr", "Dr Bruno GIRARD", "DEV1").unwrap();
        let r = parse_report(&mdn.raw).unwrap();
        assert_eq!(
            r.original_message_id.as_deref(),
            Some("abc.1@pli-sandbox.mssante.fr")
        );
        assert_eq!(
            r.kind,
            ReportKind::Mdn {
                disposition: "manual-action/MDN-sent-manually; displayed".into()
            }
        );
        assert!(parse_report(b"Subject: x\r\n\r\nhello\r\n").is_none());
    }

    #[test]
    fn failures_are_explained_for_patients_and_professionals() {
        let p = explain_delivery("failed", Some("5.1.1"), true).unwrap();
        assert!(p.contains("Mon espace santé") && p.contains("5.1.1"), "{p}");
        let pro = explain_delivery("failed", Some("5.1.1"), false).unwrap();
        assert!(
            pro.contains("adresse inconnue") && !pro.contains("Mon espace"),
            "{pro}"
        );
        assert!(explain_delivery("failed", Some("5.3.4"), true)
            .unwrap()
            .contains("25 Mo"));
        assert!(explain_delivery("failed", Some("5.2.2"), false)
            .unwrap()
            .contains("pleine"));
        assert!(explain_delivery("delayed", Some("4.4.1"), false)
            .unwrap()
            .contains("retardée"));
        assert_eq!(
            explain_delivery("failed", None, false).as_deref(),
            Some("non distribué")
        );
        assert_eq!(explain_delivery("delivered", Some("2.0.0"), false), None);
        assert_eq!(explain_delivery("read", None, true), None);
    }

    #[test]
    fn dsn_fields_per_recipient_and_returned_headers() {
        let raw = "From: MAILER-DAEMON@mx\r\nTo: anne@x.fr\r\nSubject: Undelivered\r\n\
            MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status;\r\n\
            \tboundary=\"B\"\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nNon distribue.\r\n\
            --B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n\
            Final-Recipient: rfc822; p@patient.mssante.fr\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n\
            --B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <m.1@x.fr>\r\nSubject: s\r\n\
            \r\n--B--\r\n";
        let r = parse_report(raw.as_bytes()).unwrap();
        assert_eq!(r.original_message_id.as_deref(), Some("m.1@x.fr"));
        assert_eq!(
            r.kind,
            ReportKind::Dsn {
                recipients: vec![(
                    "p@patient.mssante.fr".into(),
                    "failed".into(),
                    "5.1.1".into()
                )]
            }
        );
    }
}
