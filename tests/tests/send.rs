//! Sending with the MSSanté rules, end to end through the sandbox's submission server: IHE XDM
//! documents read back by `pli_cda::xdm::read` and checked against the CDA by this file's own
//! code, the `X-MSS-*` and RFC 5322 headers, the copy in Sent, patients and the end of an
//! exchange, per-recipient refusals. Outbox faults are in `send_outbox.rs`.

mod send_support;

use mail_parser::{MessageParser, MimeHeaders};
use pli_core::mssante::xdm::CdaFile;
use pli_core::mssante::{self, Draft};
use pli_core::smtp::outbox::Outcome;
use pli_e2e::{person, sandbox_config};
use send_support::*;

#[tokio::test]
async fn eco_2_1_1_cda_documents_travel_as_ihe_xdm_with_mssante_headers_and_sent_copy() {
    let s = sender("practitioner").await;
    let gp = person(&s.cfg, "gp").personal_mailbox.unwrap();
    let n1 = fixture("DOC_NON_STRUCTURE_CDA-R2-N1.xml");
    let n3 = fixture("BIO-TROD_2024.01_COVID-19.xml");
    let mut d = s.draft(&gp, "ignored: replaced by the XDM subject");
    d.documents = vec![
        CdaFile::parse("n1.xml", n1.clone()).unwrap(),
        CdaFile::parse("n3.xml", n3.clone()).unwrap(),
    ];
    d.reply_to = Some("cardiologie.secretariat@pli-sandbox.mssante.fr".into());
    let parent = format!("parent-{}@pli-sandbox.mssante.fr", stamp());
    d.in_reply_to = Some(parent.clone());
    d.receipt = true;
    let c = mssante::compose(&d, &s.cfg.product_reference, &s.cfg.operator.patient_domain).unwrap();
    s.enqueue(&c, true, &[]).await;
    let out = s
        .drain(s.cfg.operator.clone())
        .drain_account(&s.from, false)
        .await
        .unwrap();
    assert_eq!(
        out,
        vec![Outcome::Delivered {
            message_id: c.message_id.clone(),
            refused: vec![],
            sent_copy: true
        }]
    );
    assert!(
        s.store.outbox_rows(&s.from).await.unwrap().is_empty(),
        "row cleared"
    );
    // ECO.4.1.1: the attempt is in the audit log, with the envelope and no content.
    let audit = s.store.audit_entries(None).await.unwrap();
    let entry = audit
        .iter()
        .find(|e| e.action == "send")
        .expect("audit entry");
    assert!(entry.request.contains(&c.message_id) && entry.request.contains(&gp));
    assert_eq!(entry.outcome, "envoyé");
    assert!(!entry.request.contains(&s.token));

    // The recipient's INBOX.
    let mut inbox = master(&s.cfg, &gp).await;
    let got = wait_for(&mut inbox, "INBOX", &c.message_id).await;
    assert_eq!(got.len(), 1);
    let m = MessageParser::default().parse(&got[0]).unwrap();
    let doc1 = pli_cda::parse(&n1).unwrap();
    let doc3 = pli_cda::parse(&n3).unwrap();
    let code = |d: &pli_cda::Document| d.type_code.clone().unwrap().code.unwrap();
    // ECO.2.2.1, 2.2.2, 2.2.5, 2.2.7, 2.4.x, receipts.
    assert_eq!(m.message_id(), Some(c.message_id.as_str()));
    assert_eq!(m.in_reply_to().as_text(), Some(parent.as_str()));
    assert_eq!(m.references().as_text(), Some(parent.as_str()));
    let from = m.from().unwrap().first().unwrap();
    assert_eq!(
        from.name(),
        Some("Dr Anne LEFÈVRE - Cardiologie - Hôpital Pli")
    );
    assert_eq!(from.address(), Some(s.from.as_str()));
    assert_eq!(
        m.reply_to().unwrap().first().unwrap().address(),
        Some("cardiologie.secretariat@pli-sandbox.mssante.fr")
    );
    assert_eq!(
        header(&m, "X-MSS-NIL"),
        Some(s.cfg.product_reference.clone())
    );
    assert_eq!(
        header(&m, "X-MSS-CODECDA"),
        Some(format!("{},{}", code(&doc1), code(&doc3)))
    );
    // The fixtures carry INS, OID, birth name, given name, birth date and sex.
    assert_eq!(header(&m, "X-MSS-INS").as_deref(), Some("O"));
    assert_eq!(
        header(&m, "Disposition-Notification-To"),
        Some(format!("<{}>", s.from))
    );
    // ECO.2.1.3: subject.
    let p = doc1.patient.clone().unwrap();
    let name = &p.names[0];
    let birth = &p.birth_time.clone().unwrap().raw;
    let expected_subject = format!(
        "XDM/1.0/DDM+{} {} {} {}/{}/{}",
        doc1.type_code.clone().unwrap().display.unwrap(),
        name.birth_family().unwrap().to_uppercase(),
        name.given_names()[0],
        &birth[6..8],
        &birth[4..6],
        &birth[..4]
    );
    assert_eq!(m.subject(), Some(expected_subject.as_str()));
    // ECO.2.2.3/2.2.4: the body is UTF-8 text/plain.
    let body = m.part(m.text_body[0]).unwrap();
    let ct = body.content_type().unwrap();
    assert_eq!((ct.ctype(), ct.subtype()), ("text", Some("plain")));
    assert_eq!(
        ct.attribute("charset")
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("utf-8")
    );
    assert!(m.body_text(0).unwrap().contains("Lefèvre"));

    // ECO.2.1.1/2.1.2: the archive, read by pli-cda's reader and checked here against the CDA.
    let zip = m
        .attachments()
        .find(|a| {
            a.attachment_name()
                .is_some_and(|n| n.eq_ignore_ascii_case("IHE_XDM.zip"))
        })
        .expect("IHE_XDM.ZIP attached");
    let pkg = pli_cda::xdm::read(zip.contents()).unwrap();
    assert!(pkg.has_index_htm);
    assert!(pkg
        .readme
        .as_deref()
        .unwrap_or("")
        .contains(&s.cfg.product_reference));
    let ins = p.ins.clone().unwrap();
    let cx = format!("{}^^^&{}&ISO^NH", ins.value, ins.oid);
    assert_eq!(pkg.submission_set.patient_id.as_deref(), Some(cx.as_str()));
    assert_eq!(pkg.documents.len(), 2);
    for (x, (bytes, doc)) in pkg.documents.iter().zip([(&n1, &doc1), (&n3, &doc3)]) {
        assert_eq!(&x.bytes, bytes, "document packaged unchanged");
        assert_eq!(x.entry.hash.as_deref(), Some(sha1_hex(bytes).as_str()));
        assert_eq!(x.entry.size, Some(bytes.len() as u64));
        assert_eq!(x.entry.patient_id.as_deref(), Some(cx.as_str()));
        assert_eq!(
            x.entry.type_code.as_ref().and_then(|t| t.code.clone()),
            Some(code(doc))
        );
        let id = doc.id.clone().unwrap();
        let uid = match (&id.root, &id.extension) {
            (Some(r), Some(e)) => format!("{r}^{e}"),
            (Some(r), None) => r.clone(),
            _ => panic!("CDA without id/@root"),
        };
        assert_eq!(x.entry.unique_id.as_deref(), Some(uid.as_str()));
        let created: String = doc
            .effective_time
            .clone()
            .unwrap()
            .raw
            .chars()
            .take(14)
            .collect();
        assert_eq!(x.entry.creation_time.as_deref(), Some(created.as_str()));
        assert!(x.entry.format_code.is_some() && x.entry.class_code.is_some());
        assert!(!x.entry.author_person.is_empty(), "author");
        assert!(x.verified());
    }
    // ECO.2.1.5/2.1.6: a PDF copy of each document, named by the rule: the N1's embedded PDF,
    // byte for byte; for the N3, a rendition whose text (read by poppler) is the document's.
    let pdfs: Vec<_> = m
        .attachments()
        .filter(|a| a.attachment_name().is_some_and(|n| n.ends_with(".pdf")))
        .collect();
    assert_eq!(pdfs.len(), 2, "one PDF per document");
    assert_eq!(pdfs[0].contents(), doc1.pdf().unwrap().bytes.as_slice());
    let rendition = pdfs[1].contents();
    assert!(rendition.starts_with(b"%PDF-1."), "N3 rendition is a PDF");
    let text = pdftotext(rendition);
    let family = name.birth_family().unwrap().to_uppercase();
    assert!(text.contains(&family), "patient in the rendition: {text}");
    assert!(text.contains(&doc3.title), "title in the rendition: {text}");
    let pdf_name = pdfs[0].attachment_name().unwrap();
    // File names keep letters, digits and `-`; other runs of characters become `_`.
    let family = family.replace(' ', "_");
    let given = name.given_names()[0]
        .split([' ', '-'])
        .next()
        .unwrap()
        .to_owned();
    for pdf_name in [pdf_name, pdfs[1].attachment_name().unwrap()] {
        assert!(
            pdf_name.as_bytes()[..8].iter().all(u8::is_ascii_digit),
            "{pdf_name}"
        );
        assert!(
            pdf_name.contains(&format!("_{family}_{given}")) && pdf_name.ends_with(".pdf"),
            "{pdf_name}"
        );
    }
    eprintln!("PDF names: {pdf_name}, {:?}", pdfs[1].attachment_name());

    // The copy in Sent is byte-identical to what was submitted.
    let mut sent = master(&s.cfg, &s.from).await;
    let copies = find(&mut sent, "Sent", &c.message_id).await;
    assert_eq!(copies.len(), 1);
    assert_eq!(copies[0], c.raw, "Sent copy byte-identical");
}

#[test]
fn eco_2_1_1_two_patients_in_one_message_are_refused() {
    let cfg = sandbox_config();
    let a = fixture("VAC_2023.01.xml");
    // The same document for another patient (another valid INS).
    let b = String::from_utf8(fixture("LDL-SES_2022.01.xml"))
        .unwrap()
        .replace("279035121518989", "292017505604894")
        .into_bytes();
    let d = Draft {
        from: "anne.lefevre@pli-sandbox.mssante.fr".into(),
        from_name: "Dr Anne LEFÈVRE".into(),
        to: vec!["bruno.girard@cabinet-sandbox.mssante.fr".into()],
        subject: "x".into(),
        documents: vec![
            CdaFile::parse("a.xml", a).unwrap(),
            CdaFile::parse("b.xml", b).unwrap(),
        ],
        ..Default::default()
    };
    let err = mssante::compose(&d, &cfg.product_reference, &cfg.operator.patient_domain)
        .unwrap_err()
        .to_string();
    assert!(err.contains("deux patients différents"), "{err}");
    assert!(
        err.contains("279035121518989") && err.contains("292017505604894"),
        "{err}"
    );
    // A hand-typed patient address with a wrong key is refused too (ECO.2.2.6).
    let mut d2 = d.clone();
    d2.documents.clear();
    d2.to = vec!["279035121518988@patient.mssante.fr".into()];
    assert!(matches!(
        mssante::compose(&d2, &cfg.product_reference, &cfg.operator.patient_domain),
        Err(mssante::ComposeError::BadPatientAddress(_))
    ));
}

#[tokio::test]
async fn eco_2_2_8_end_of_exchange_reaches_the_patient_with_x_mss_mes_fin() {
    let s = sender("practitioner").await;
    let sb = s.cfg.sandbox.clone().unwrap();
    let patient = sb
        .patients
        .iter()
        .find(|p| p.ins == "279035121518989")
        .unwrap()
        .clone();
    let ins = mssante::InsNumber::parse(&patient.ins).unwrap();
    let mut d = s.draft(
        &ins.patient_address(&s.cfg.operator.patient_domain),
        &format!("Fin de l'échange {}", stamp()),
    );
    d.end_exchange = true;
    let c = mssante::compose(&d, &s.cfg.product_reference, &s.cfg.operator.patient_domain).unwrap();
    assert_eq!(c.patients, vec![ins.clone()]);
    s.enqueue(&c, false, &[ins.to_string()]).await;
    // Recorded as ended in the same transaction as the outbox row, before any sending.
    assert!(s
        .store
        .exchange_ended_at(&s.from, ins.as_str())
        .await
        .unwrap()
        .is_some());
    let out = s
        .drain(s.cfg.operator.clone())
        .drain_account(&s.from, false)
        .await
        .unwrap();
    assert!(
        matches!(
            out.as_slice(),
            [Outcome::Delivered {
                sent_copy: true,
                ..
            }]
        ),
        "{out:?}"
    );
    // The patient reads it with PLAIN.
    let mut inbox = imap_login(&s.cfg, &patient.address, &patient.password).await;
    let got = wait_for(&mut inbox, "INBOX", &c.message_id).await;
    let m = MessageParser::default().parse(&got[0]).unwrap();
    assert_eq!(header(&m, "X-MSS-MES").as_deref(), Some("FIN"));
    assert_eq!(
        header(&m, "X-MSS-NIL"),
        Some(s.cfg.product_reference.clone())
    );
    // No CDA: no X-MSS-CODECDA / X-MSS-INS (ECO.2.4.1/2.4.2).
    assert_eq!(header(&m, "X-MSS-CODECDA"), None);
    assert_eq!(header(&m, "X-MSS-INS"), None);
    // A message to a professional cannot end an exchange.
    let mut d2 = s.draft("bruno.girard@cabinet-sandbox.mssante.fr", "x");
    d2.end_exchange = true;
    assert!(matches!(
        mssante::compose(
            &d2,
            &s.cfg.product_reference,
            &s.cfg.operator.patient_domain
        ),
        Err(mssante::ComposeError::EndWithoutPatient)
    ));
}

#[tokio::test]
async fn eco_2_4_3_refused_recipient_is_reported_per_recipient_and_others_get_it() {
    let s = sender("practitioner").await;
    let gp = person(&s.cfg, "gp").personal_mailbox.unwrap();
    let mut d = s.draft(&gp, &format!("per-recipient {}", stamp()));
    d.cc = vec!["nobody-here@pli-sandbox.mssante.fr".into()];
    let c = mssante::compose(&d, &s.cfg.product_reference, &s.cfg.operator.patient_domain).unwrap();
    s.enqueue(&c, false, &[]).await;
    let out = s
        .drain(s.cfg.operator.clone())
        .drain_account(&s.from, false)
        .await
        .unwrap();
    match out.as_slice() {
        [Outcome::Delivered {
            refused,
            sent_copy: true,
            ..
        }] => {
            assert_eq!(refused.len(), 1, "{refused:?}");
            assert_eq!(refused[0].0, "nobody-here@pli-sandbox.mssante.fr");
            assert!(
                refused[0].1.starts_with('5') || refused[0].1.contains("55"),
                "{refused:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    let mut inbox = master(&s.cfg, &gp).await;
    let got = wait_for(&mut inbox, "INBOX", &c.message_id).await;
    let m = MessageParser::default().parse(&got[0]).unwrap();
    assert_eq!(
        header(&m, "X-MSS-NIL"),
        Some(s.cfg.product_reference.clone())
    );
}

#[tokio::test]
async fn eco_3_1_6_read_receipt_requested_answered_with_an_mdn_and_matched_by_the_sender() {
    use pli_core::mssante::receipts::{build_mdn, mdn_request, parse_report, ReportKind};
    let anne = sender("practitioner").await;
    let bruno = sender("gp").await;
    let mut d = anne.draft(&bruno.from, &format!("merci d'accuser lecture {}", stamp()));
    d.receipt = true;
    let c = mssante::compose(
        &d,
        &anne.cfg.product_reference,
        &anne.cfg.operator.patient_domain,
    )
    .unwrap();
    anne.enqueue(&c, true, &[]).await;
    let out = anne
        .drain(anne.cfg.operator.clone())
        .drain_account(&anne.from, false)
        .await
        .unwrap();
    assert!(
        matches!(out.as_slice(), [Outcome::Delivered { .. }]),
        "{out:?}"
    );

    // Bruno's client sees the request and, with his agreement, answers with an MDN.
    let mut inbox = master(&bruno.cfg, &bruno.from).await;
    let received = wait_for(&mut inbox, "INBOX", &c.message_id).await;
    let req = mdn_request(&received[0]).expect("read receipt requested");
    assert_eq!(req.notify_to, anne.from);
    assert_eq!(req.original_message_id, c.message_id);
    let mdn = build_mdn(
        &req,
        &bruno.from,
        "Dr Bruno GIRARD",
        &bruno.cfg.product_reference,
    )
    .unwrap();
    bruno
        .store
        .outbox_enqueue(&pli_core::store::NewOutgoing {
            account: &bruno.from,
            account_kind: "PER",
            message_id: &mdn.message_id,
            recipients: std::slice::from_ref(&mdn.recipient),
            dsn: false,
            raw: &mdn.raw,
            ends_exchange_with: &[],
        })
        .await
        .unwrap();
    let out = bruno
        .drain(bruno.cfg.operator.clone())
        .drain_account(&bruno.from, false)
        .await
        .unwrap();
    assert!(
        matches!(out.as_slice(), [Outcome::Delivered { .. }]),
        "{out:?}"
    );

    // Anne's client matches the MDN to her message.
    let mut anne_inbox = master(&anne.cfg, &anne.from).await;
    let got = wait_for(&mut anne_inbox, "INBOX", &mdn.message_id).await;
    let report = parse_report(&got[0]).expect("a multipart/report");
    assert_eq!(
        report.original_message_id.as_deref(),
        Some(c.message_id.as_str())
    );
    assert!(
        matches!(&report.kind, ReportKind::Mdn { disposition } if disposition.ends_with("displayed")),
        "{report:?}"
    );
}

/// The text of a PDF by poppler's `pdftotext` (installed by `scripts/install-deps`).
fn pdftotext(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) must be installed: scripts/install-deps");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}
