//! Sending with the MSSanté rules, end to end through the sandbox's submission server: the
//! outbox, XOAUTH2 SMTP, the copy in Sent, IHE XDM documents read back by `pli_cda::xdm::read`
//! and checked against the CDA by this file's own code, the `X-MSS-*` headers, patients and the
//! end of an exchange, and a connection cut mid-DATA.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::TryStreamExt;
use mail_parser::{MessageParser, MimeHeaders};
use pli_core::auth::{AccessToken, StaticToken};
use pli_core::config::Config;
use pli_core::mssante::xdm::CdaFile;
use pli_core::mssante::{self, Draft};
use pli_core::smtp::outbox::{Backoff, Drain, Outcome};
use pli_core::store::{CacheKey, NewOutgoing, Store, DB_FILE};
use pli_e2e::{person, psc, sandbox_config, tls};
use sha1::{Digest, Sha1};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

type Session = async_imap::Session<tokio_rustls::client::TlsStream<TcpStream>>;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(pli_e2e::repo_root().join("tests/fixtures/cda").join(name)).unwrap()
}

fn stamp() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

async fn imap_login(cfg: &Config, user: &str, password: &str) -> Session {
    let tcp = TcpStream::connect(("127.0.0.1", 10993)).await.unwrap();
    let name = pli_core::tls::server_name(&cfg.operator.imap.host).unwrap();
    let stream = tokio_rustls::TlsConnector::from(tls(cfg))
        .connect(name, tcp)
        .await
        .unwrap();
    let mut client = async_imap::Client::new(stream);
    client.read_response().await.unwrap();
    client
        .login(user, password)
        .await
        .map_err(|(e, _)| e)
        .unwrap()
}

async fn master(cfg: &Config, mailbox: &str) -> Session {
    let sb = cfg.sandbox.as_ref().unwrap();
    let login = format!("{mailbox}*{}", sb.master_user.as_deref().unwrap());
    imap_login(cfg, &login, sb.master_password.as_deref().unwrap()).await
}

/// Every message of `folder` whose Message-ID is `mid`, as raw bytes.
async fn find(s: &mut Session, folder: &str, mid: &str) -> Vec<Vec<u8>> {
    s.select(folder).await.unwrap();
    let uids = s
        .uid_search(format!("HEADER Message-ID \"{mid}\""))
        .await
        .unwrap();
    let mut out = Vec::new();
    for uid in uids {
        let fetched: Vec<_> = s
            .uid_fetch(uid.to_string(), "BODY.PEEK[]")
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        for f in fetched {
            out.push(f.body().unwrap().to_vec());
        }
    }
    out
}

/// Waits (up to 30 s) until `mid` is in `folder`; returns all copies.
async fn wait_for(s: &mut Session, folder: &str, mid: &str) -> Vec<Vec<u8>> {
    for _ in 0..60 {
        let found = find(s, folder, mid).await;
        if !found.is_empty() {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("{mid} never reached {folder}");
}

struct Sender {
    cfg: Config,
    from: String,
    token: String,
    store: Store,
    _dir: tempfile::TempDir,
}

async fn sender(role: &str) -> Sender {
    let cfg = sandbox_config();
    let p = person(&cfg, role);
    let from = p.personal_mailbox.clone().unwrap();
    let token = psc::code_pkce(&cfg, &p.national_id)
        .await
        .unwrap()
        .access_token;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join(DB_FILE), &CacheKey::generate())
        .await
        .unwrap();
    Sender {
        cfg,
        from,
        token,
        store,
        _dir: dir,
    }
}

impl Sender {
    fn drain(&self, operator: pli_core::config::OperatorConfig) -> Drain {
        Drain {
            operator,
            imap_tls: tls(&self.cfg),
            credentials: Arc::new(StaticToken(AccessToken::new(self.token.clone()))),
            store: self.store.clone(),
            backoff: Backoff::default(),
            timeout: Duration::from_secs(30),
        }
    }

    fn draft(&self, to: &str, subject: &str) -> Draft {
        Draft {
            from: self.from.clone(),
            from_name: "Dr Anne LEFÈVRE - Cardiologie - Hôpital Pli".into(),
            to: vec![to.to_owned()],
            subject: subject.to_owned(),
            body:
                "Bonjour,\nVeuillez trouver ci-joint le compte rendu.\nCordialement — A. Lefèvre\n"
                    .into(),
            ..Default::default()
        }
    }

    async fn enqueue(&self, c: &mssante::Composed, dsn: bool, ended: &[String]) {
        self.store
            .outbox_enqueue(&NewOutgoing {
                account: &self.from,
                account_kind: "PER",
                message_id: &c.message_id,
                recipients: &c.recipients,
                dsn,
                raw: &c.raw,
                ends_exchange_with: ended,
            })
            .await
            .unwrap();
    }
}

fn header<'a>(m: &'a mail_parser::Message<'a>, name: &str) -> Option<String> {
    m.header_raw(name).map(|v| v.trim().to_owned())
}

fn sha1_hex(b: &[u8]) -> String {
    Sha1::digest(b).iter().map(|x| format!("{x:02x}")).collect()
}

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
    // ECO.2.1.5/2.1.6: the N1's embedded PDF, identical, with the rule's file name.
    let pdfs: Vec<_> = m
        .attachments()
        .filter(|a| a.attachment_name().is_some_and(|n| n.ends_with(".pdf")))
        .collect();
    assert_eq!(pdfs.len(), 1, "one PDF (N1); no N3 rendition yet");
    assert_eq!(pdfs[0].contents(), doc1.pdf().unwrap().bytes.as_slice());
    let pdf_name = pdfs[0].attachment_name().unwrap();
    // Non-alphanumerics become `_` in file names.
    let family = name
        .birth_family()
        .unwrap()
        .to_uppercase()
        .replace(['-', ' '], "_");
    let given = name.given_names()[0].replace(['-', ' '], "_");
    assert!(
        pdf_name.as_bytes()[..8].iter().all(u8::is_ascii_digit),
        "{pdf_name}"
    );
    assert!(
        pdf_name.contains(&format!("_{family}_{given}")) && pdf_name.ends_with(".pdf"),
        "{pdf_name}"
    );
    eprintln!("PDF name: {pdf_name}");

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

/// A relay to `upstream` that closes the connection once `limit` bytes came from the client.
async fn cutting_relay(upstream: (&'static str, u16), limit: Arc<AtomicU64>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((client, _)) = listener.accept().await else {
                return;
            };
            let budget = limit.load(Ordering::SeqCst);
            tokio::spawn(async move {
                let Ok(server) = TcpStream::connect(upstream).await else {
                    return;
                };
                let (mut cr, mut cw) = client.into_split();
                let (mut sr, mut sw) = server.into_split();
                let down = tokio::spawn(async move {
                    let _ = tokio::io::copy(&mut sr, &mut cw).await;
                });
                let mut sent = 0u64;
                let mut buf = vec![0u8; 16 * 1024];
                loop {
                    let n = match cr.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    let allowed = (budget - sent).min(n as u64) as usize;
                    if sw.write_all(&buf[..allowed]).await.is_err() || allowed < n {
                        break;
                    }
                    sent += n as u64;
                }
                down.abort();
            });
        }
    });
    port
}

#[tokio::test]
async fn eco_1_0_1_connection_cut_mid_data_keeps_the_message_and_the_retry_delivers_it_once() {
    let s = sender("practitioner").await;
    let gp = person(&s.cfg, "gp").personal_mailbox.unwrap();
    let mut d = s.draft(&gp, &format!("cut mid-DATA {}", stamp()));
    // ~400 KB so the cut lands inside DATA.
    d.attachments = vec![mssante::Attachment {
        name: "scan.bin".into(),
        content_type: "application/octet-stream".into(),
        bytes: (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect(),
    }];
    let c = mssante::compose(&d, &s.cfg.product_reference, &s.cfg.operator.patient_domain).unwrap();
    assert!(c.raw.len() > 350_000);
    s.enqueue(&c, false, &[]).await;

    let limit = Arc::new(AtomicU64::new(200_000));
    let port = cutting_relay(("127.0.0.1", s.cfg.operator.smtp.port), limit).await;
    let mut cut = s.cfg.operator.clone();
    cut.smtp.port = port;
    cut.smtp.connect_addr = Some("127.0.0.1".into());
    let out = s.drain(cut).drain_account(&s.from, false).await.unwrap();
    assert!(matches!(out.as_slice(), [Outcome::Retry { .. }]), "{out:?}");
    let rows = s.store.outbox_rows(&s.from).await.unwrap();
    assert_eq!(rows.len(), 1, "still in the outbox");
    assert_eq!((rows[0].state.as_str(), rows[0].attempts), ("pending", 1));
    assert_eq!(rows[0].raw, c.raw);
    // Not due yet: a plain drain does nothing; the retry happens once the back-off allows it.
    let drain = s.drain(s.cfg.operator.clone());
    assert!(drain
        .drain_account(&s.from, false)
        .await
        .unwrap()
        .is_empty());
    let out = drain.drain_account(&s.from, true).await.unwrap();
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
    assert!(s.store.outbox_rows(&s.from).await.unwrap().is_empty());

    let mut inbox = master(&s.cfg, &gp).await;
    wait_for(&mut inbox, "INBOX", &c.message_id).await;
    // Give a duplicate time to arrive, then count.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        find(&mut inbox, "INBOX", &c.message_id).await.len(),
        1,
        "delivered once"
    );
    let mut sent = master(&s.cfg, &s.from).await;
    let copies = find(&mut sent, "Sent", &c.message_id).await;
    assert_eq!(copies, vec![c.raw.clone()]);
}

#[tokio::test]
async fn eco_1_0_1_interrupted_attempt_already_in_sent_is_not_sent_again() {
    // A crash after the copy to Sent but before the row was cleared: the row is `sending`.
    let s = sender("practitioner").await;
    let gp = person(&s.cfg, "gp").personal_mailbox.unwrap();
    let d = s.draft(&gp, &format!("crash after Sent {}", stamp()));
    let c = mssante::compose(&d, &s.cfg.product_reference, &s.cfg.operator.patient_domain).unwrap();
    s.enqueue(&c, false, &[]).await;
    let id = s.store.outbox_rows(&s.from).await.unwrap()[0].id;
    s.store.outbox_mark_sending(id).await.unwrap();
    let mut sent = master(&s.cfg, &s.from).await;
    sent.append("Sent", Some("(\\Seen)"), None, &c.raw)
        .await
        .unwrap();
    let out = s
        .drain(s.cfg.operator.clone())
        .drain_account(&s.from, false)
        .await
        .unwrap();
    assert_eq!(
        out,
        vec![Outcome::AlreadySent {
            message_id: c.message_id.clone()
        }]
    );
    assert!(s.store.outbox_rows(&s.from).await.unwrap().is_empty());
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut inbox = master(&s.cfg, &gp).await;
    assert!(
        find(&mut inbox, "INBOX", &c.message_id).await.is_empty(),
        "not sent again"
    );
}

#[tokio::test]
async fn eco_1_0_1_larger_than_the_server_size_is_a_permanent_failure_kept_in_the_outbox() {
    // The sandbox's submission server announces SIZE 26214400 (26213376 after AUTH); 20 MB of
    // binary is ~27 MB once encoded in base64.
    let s = sender("practitioner").await;
    let gp = person(&s.cfg, "gp").personal_mailbox.unwrap();
    let mut d = s.draft(&gp, &format!("too large {}", stamp()));
    d.attachments = vec![mssante::Attachment {
        name: "big.bin".into(),
        content_type: "application/octet-stream".into(),
        bytes: vec![0x5a; 20 * 1024 * 1024],
    }];
    let c = mssante::compose(&d, &s.cfg.product_reference, &s.cfg.operator.patient_domain).unwrap();
    assert!(c.raw.len() > 26_214_400);
    s.enqueue(&c, false, &[]).await;
    let out = s
        .drain(s.cfg.operator.clone())
        .drain_account(&s.from, false)
        .await
        .unwrap();
    match out.as_slice() {
        [Outcome::Failed { error, .. }] => {
            assert!(
                error.contains("trop volumineux")
                    && error.contains("le serveur accepte au plus 262"),
                "{error}"
            )
        }
        other => panic!("{other:?}"),
    }
    let rows = s.store.outbox_rows(&s.from).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].state, "failed");
    // Failed rows are not retried by later drains.
    assert!(s
        .drain(s.cfg.operator.clone())
        .drain_account(&s.from, true)
        .await
        .unwrap()
        .is_empty());

    // Towards a patient, the 25 MB limit is checked before anything is queued.
    let mut p = s.draft("279035121518989@patient.mssante.fr", "trop gros");
    p.attachments = d.attachments.clone();
    assert!(matches!(
        mssante::compose(&p, &s.cfg.product_reference, &s.cfg.operator.patient_domain),
        Err(mssante::ComposeError::TooLargeForPatient { .. })
    ));
}

#[tokio::test]
async fn eco_1_0_1_submitted_row_after_a_crash_only_gets_its_copy_to_sent() {
    // A crash after the server accepted DATA but before the copy to Sent: the row is
    // `submitted`; the next drain must append it to Sent and must not submit it again.
    let s = sender("practitioner").await;
    let gp = person(&s.cfg, "gp").personal_mailbox.unwrap();
    let d = s.draft(&gp, &format!("crash before Sent {}", stamp()));
    let c = mssante::compose(&d, &s.cfg.product_reference, &s.cfg.operator.patient_domain).unwrap();
    s.enqueue(&c, false, &[]).await;
    let id = s.store.outbox_rows(&s.from).await.unwrap()[0].id;
    s.store.outbox_mark_sending(id).await.unwrap();
    s.store.outbox_mark_submitted(id, None).await.unwrap();
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
    assert!(s.store.outbox_rows(&s.from).await.unwrap().is_empty());
    let mut sent = master(&s.cfg, &s.from).await;
    assert_eq!(
        find(&mut sent, "Sent", &c.message_id).await,
        vec![c.raw.clone()]
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut inbox = master(&s.cfg, &gp).await;
    assert!(
        find(&mut inbox, "INBOX", &c.message_id).await.is_empty(),
        "not submitted by the drain"
    );
}

#[tokio::test]
async fn eco_1_0_1_drain_task_retries_after_back_off_and_delivers_once() {
    // The drain task (not a manual retry): the first attempt is cut mid-DATA, the task waits
    // for the back-off and tries again on its own through the same relay, which no longer cuts.
    let s = sender("practitioner").await;
    let gp = person(&s.cfg, "gp").personal_mailbox.unwrap();
    let mut d = s.draft(&gp, &format!("drain task retry {}", stamp()));
    d.attachments = vec![mssante::Attachment {
        name: "scan.bin".into(),
        content_type: "application/octet-stream".into(),
        bytes: (0..300_000u32).map(|i| (i * 13 % 251) as u8).collect(),
    }];
    let c = mssante::compose(&d, &s.cfg.product_reference, &s.cfg.operator.patient_domain).unwrap();
    let limit = Arc::new(AtomicU64::new(150_000));
    let port = cutting_relay(("127.0.0.1", s.cfg.operator.smtp.port), limit.clone()).await;
    let mut relayed = s.cfg.operator.clone();
    relayed.smtp.port = port;
    relayed.smtp.connect_addr = Some("127.0.0.1".into());
    let mut drain = s.drain(relayed);
    drain.backoff = Backoff {
        base_secs: 2,
        max_secs: 2,
    };
    let wake = Arc::new(tokio::sync::Notify::new());
    let cancel = pli_core::auth::psc::CancellationToken::new();
    let outcomes = Arc::new(std::sync::Mutex::new(Vec::new()));
    let task = {
        let (drain, from, wake, cancel, outcomes) = (
            drain.clone(),
            s.from.clone(),
            wake.clone(),
            cancel.clone(),
            outcomes.clone(),
        );
        tokio::spawn(async move {
            drain
                .run(&from, wake, cancel, Duration::from_secs(30), |o| {
                    outcomes.lock().unwrap().push(o.clone())
                })
                .await
        })
    };
    // Queue, then wake the task (what the app does after the user's action).
    s.enqueue(&c, false, &[]).await;
    wake.notify_one();
    // First attempt cut: the row goes back to pending with one attempt.
    for _ in 0..100 {
        if outcomes.lock().unwrap().len() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        matches!(outcomes.lock().unwrap().as_slice(), [Outcome::Retry { .. }]),
        "{:?}",
        outcomes.lock().unwrap()
    );
    limit.store(u64::MAX, Ordering::SeqCst);
    for _ in 0..100 {
        if outcomes.lock().unwrap().len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    cancel.cancel();
    task.await.unwrap().unwrap();
    let got = outcomes.lock().unwrap().clone();
    assert!(
        matches!(
            got.as_slice(),
            [
                Outcome::Retry {
                    retry_in_secs: 2,
                    ..
                },
                Outcome::Delivered {
                    sent_copy: true,
                    ..
                }
            ]
        ),
        "{got:?}"
    );
    assert!(s.store.outbox_rows(&s.from).await.unwrap().is_empty());
    let mut inbox = master(&s.cfg, &gp).await;
    wait_for(&mut inbox, "INBOX", &c.message_id).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(find(&mut inbox, "INBOX", &c.message_id).await.len(), 1);
}
