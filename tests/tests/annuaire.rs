//! The directory against the sandbox's real slapd (20,000 generated entries shaped like the
//! national directory). Expected answers come from an independent oracle: the LDIF file the
//! sandbox loaded, parsed here, not from the server or the code under test.

use std::collections::BTreeSet;
use std::time::Duration;

use base64::Engine as _;
use pli_core::annuaire::{fold, Directory, Query};
use pli_core::config::MailboxKind;
use pli_e2e::{sandbox_config, sandbox_state};

/// One LDIF record: attribute (lower-case) → values.
type Record = std::collections::HashMap<String, Vec<String>>;

fn load_ldif() -> Vec<Record> {
    let path = sandbox_state().join("ldap/data.ldif");
    let text = std::fs::read_to_string(&path).expect("the sandbox's LDIF");
    let mut out = Vec::new();
    for block in text.split("\n\n") {
        // Unfold continuation lines (RFC 2849: a line starting with one space continues).
        let unfolded = block.replace("\n ", "");
        let mut rec = Record::new();
        for line in unfolded.lines() {
            let (k, v) = if let Some((k, v)) = line.split_once(":: ") {
                let bytes = base64::engine::general_purpose::STANDARD.decode(v).unwrap();
                (k, String::from_utf8(bytes).unwrap())
            } else if let Some((k, v)) = line.split_once(": ") {
                (k, v.to_owned())
            } else {
                continue;
            };
            rec.entry(k.to_ascii_lowercase()).or_default().push(v);
        }
        if rec.contains_key("mail") {
            out.push(rec);
        }
    }
    out
}

fn first<'a>(r: &'a Record, k: &str) -> Option<&'a str> {
    r.get(k).and_then(|v| v.first()).map(String::as_str)
}

/// The oracle: what a query must return, by its documented meaning.
fn expected(records: &[Record], q: &Query) -> BTreeSet<String> {
    let word_ok = |r: &Record, w: &str| {
        let w = fold(w);
        let name_prefix = |k: &str| {
            first(r, k).is_some_and(|v| {
                let v = fold(v);
                v.starts_with(&w) || v.split([' ', '-']).any(|p| p.starts_with(&w))
            })
        };
        name_prefix("sn")
            || name_prefix("givenname")
            || first(r, "displayname")
                .or(first(r, "cn"))
                .is_some_and(|v| fold(v).contains(&w))
            || fold(first(r, "mail").unwrap()).starts_with(&w)
    };
    let eq = |r: &Record, k: &str, want: &Option<String>| {
        want.as_ref()
            .is_none_or(|w| first(r, k).is_some_and(|v| fold(v) == fold(w)))
    };
    let starts = |r: &Record, k: &str, want: &Option<String>| {
        want.as_ref()
            .is_none_or(|w| first(r, k).is_some_and(|v| fold(v).starts_with(&fold(w))))
    };
    records
        .iter()
        .filter(|r| {
            q.name
                .as_deref()
                .is_none_or(|n| n.split_whitespace().all(|w| word_ok(r, w)))
        })
        .filter(|r| eq(r, "mssprofession", &q.profession))
        .filter(|r| eq(r, "mssspecialite", &q.specialty))
        .filter(|r| eq(r, "mssdepartement", &q.department))
        .filter(|r| starts(r, "l", &q.city))
        .filter(|r| starts(r, "postalcode", &q.postal_code))
        .filter(|r| {
            q.organisation
                .as_ref()
                .is_none_or(|o| first(r, "o").is_some_and(|v| fold(v).contains(&fold(o))))
        })
        .filter(|r| {
            q.kind
                .is_none_or(|k| first(r, "msstypebal") == Some(pli_core::annuaire::kind_code(k)))
        })
        .filter(|r| {
            q.mail
                .as_ref()
                .is_none_or(|m| fold(first(r, "mail").unwrap()).contains(&fold(m)))
        })
        .map(|r| first(r, "mail").unwrap().to_owned())
        .collect()
}

async fn directory() -> Directory {
    let cfg = sandbox_config();
    Directory::connect(cfg.directory.as_ref().expect("[directory]"))
        .await
        .expect("slapd reachable")
}

fn q() -> Query {
    Query::default()
}

#[tokio::test]
async fn eco_3_1_4_each_filter_alone_and_combined_matches_the_directory() {
    let records = load_ldif();
    assert!(records.len() >= 20_000, "{} entries", records.len());
    let dir = directory().await;
    let queries = vec![
        Query {
            name: Some("lefèvre anne".into()),
            ..q()
        },
        Query {
            name: Some("LEFEVRE".into()),
            profession: Some("10".into()),
            department: Some("25".into()),
            ..q()
        },
        Query {
            profession: Some("60".into()),
            department: Some("2A".into()),
            ..q()
        },
        Query {
            specialty: Some("SM04".into()),
            kind: Some(MailboxKind::Personal),
            postal_code: Some("69".into()),
            ..q()
        },
        Query {
            city: Some("saint-étienne".into()),
            profession: Some("21".into()),
            ..q()
        },
        Query {
            kind: Some(MailboxKind::Cabinet),
            department: Some("35".into()),
            ..q()
        },
        Query {
            kind: Some(MailboxKind::Applicative),
            ..q()
        },
        Query {
            organisation: Some("laboratoire".into()),
            department: Some("76".into()),
            ..q()
        },
        Query {
            name: Some("hélène".into()),
            city: Some("Besançon".into()),
            ..q()
        },
        Query {
            name: Some("Jean-François".into()),
            department: Some("75".into()),
            ..q()
        },
        Query {
            mail: Some("SECRETARIAT@ch-".into()),
            department: Some("69".into()),
            ..q()
        },
    ];
    let mut compared = 0;
    for query in queries {
        let want = expected(&records, &query);
        let got = dir.search(&query).await.unwrap();
        let got_set: BTreeSet<String> = got.entries.iter().map(|e| e.mail.clone()).collect();
        if got.truncated {
            // Incomplete answers must be flagged, and still only hold true matches.
            assert!(got_set.is_subset(&want), "{query:?}: extra entries");
            assert!(want.len() >= got_set.len());
        } else {
            assert_eq!(got_set, want, "{query:?}");
            compared += 1;
        }
    }
    assert!(
        compared >= 8,
        "too few complete answers to compare ({compared})"
    );
}

#[tokio::test]
async fn eco_3_1_4_accents_and_case_are_folded() {
    let dir = directory().await;
    let plain = dir
        .search(&Query {
            name: Some("lefevre".into()),
            department: Some("25".into()),
            ..q()
        })
        .await
        .unwrap();
    let accented = dir
        .search(&Query {
            name: Some("LEFÈVRE".into()),
            department: Some("25".into()),
            ..q()
        })
        .await
        .unwrap();
    assert!(!plain.entries.is_empty());
    assert_eq!(plain.entries, accented.entries);
    assert!(plain
        .entries
        .iter()
        .all(|e| fold(e.family_name.as_deref().unwrap_or("")).contains("lefevre")));
}

#[tokio::test]
async fn eco_3_1_4_injection_attempts_return_nothing_unexpected() {
    let dir = directory().await;
    for evil in [
        "*)(mail=*",
        "*",
        "\\",
        "zq\0*",
        ")(|(mssTypeBAL=*",
        "*)(objectClass=*))(|(mail=*",
    ] {
        let r = dir
            .search(&Query {
                name: Some(evil.into()),
                ..q()
            })
            .await
            .unwrap_or_else(|e| panic!("{evil:?}: {e}"));
        assert!(
            r.entries.is_empty(),
            "{evil:?} returned {} entries",
            r.entries.len()
        );
        assert!(
            !r.truncated,
            "{evil:?} hit the size limit: the filter was widened"
        );
    }
    // A NUL never reaches the server (OpenLDAP ends the value there: `lef\0èvre` would
    // become `lef*`): it is dropped, so the search is exactly the one for `lefèvre`.
    let name = |n: &str| Query {
        name: Some(n.into()),
        department: Some("25".into()),
        ..q()
    };
    let with_nul = dir.search(&name("lef\0èvre")).await.unwrap();
    let plain = dir.search(&name("lefèvre")).await.unwrap();
    assert!(!plain.entries.is_empty());
    assert_eq!(with_nul.entries, plain.entries);
}

#[tokio::test]
async fn eco_3_1_4_truncation_at_100_is_reported_not_shown_as_complete() {
    let dir = directory().await;
    let r = dir
        .search(&Query {
            profession: Some("10".into()),
            ..q()
        })
        .await
        .unwrap();
    assert!(r.truncated);
    assert!(r.entries.len() <= 100);
    // The same connection serves the next query (persistent, no rebind).
    let r2 = dir
        .search(&Query {
            name: Some("lefèvre".into()),
            department: Some("25".into()),
            ..q()
        })
        .await
        .unwrap();
    assert!(!r2.truncated);
}

#[tokio::test]
async fn a_directory_that_stops_answering_times_out_with_a_clear_error() {
    // A real TCP server that accepts and then never answers (a hung directory).
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        loop {
            let (s, _) = listener.accept().await.unwrap();
            held.push(s);
        }
    });
    let mut cfg = sandbox_config().directory.unwrap();
    cfg.url = format!("ldap://127.0.0.1:{port}");
    cfg.time_limit_secs = 1;
    let started = std::time::Instant::now();
    let mut dir = Directory::connect(&cfg).await.expect("TCP connects");
    dir.set_timeout(Duration::from_secs(2));
    let err = dir
        .search(&Query {
            name: Some("martin".into()),
            ..q()
        })
        .await
        .unwrap_err();
    assert!(
        matches!(err, pli_core::annuaire::AnnuaireError::Timeout(_)),
        "{err:?}"
    );
    assert!(err.to_string().contains("ne répond pas"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(15));
    hold.abort();
}

/// The compose window never waits on a silent directory: while two live queries hang on the
/// same stalled connection, suggestions from this computer (the offline extraction) come back,
/// and each live query then fails on its own with a clear error — the second is not queued
/// behind the first.
#[tokio::test]
async fn compose_suggestions_do_not_wait_for_a_directory_that_stops_answering() {
    use pli_core::api::DirectoryQueryInput;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    // A real TCP server that accepts, reads, and never answers; it counts the connections
    // and the LDAP messages (BER SEQUENCEs) it receives.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let requests = Arc::new(AtomicUsize::new(0));
    let hold = tokio::spawn({
        let (accepted, requests) = (accepted.clone(), requests.clone());
        async move {
            loop {
                let (mut s, _) = listener.accept().await.unwrap();
                accepted.fetch_add(1, Ordering::SeqCst);
                let requests = requests.clone();
                tokio::spawn(async move {
                    use tokio::io::AsyncReadExt;
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    while let Ok(n) = s.read(&mut chunk).await {
                        if n == 0 {
                            break;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                        while let Some(len) = ber_message_len(&buf) {
                            buf.drain(..len);
                            requests.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                    // Held open until the peer goes: the server stays silent.
                    std::future::pending::<()>().await;
                });
            }
        }
    });

    let mut cfg = sandbox_config();
    let data = tempfile::tempdir().unwrap();
    cfg.data_dir = Some(data.path().join("data"));
    let d = cfg.directory.as_mut().unwrap();
    d.url = format!("ldap://127.0.0.1:{port}");
    d.starttls = false;
    d.time_limit_secs = 1;
    d.fhir = None;
    // The offline copy: two lines in the published layout.
    let local = pli_core::annuaire::local::LocalDirectory::open(&pli_core::store::data_dir(&cfg))
        .await
        .unwrap();
    let report = local
        .import(
            "Type de BAL|Adresse BAL|Nom d'exercice|Prénom d'exercice|Libellé profession|Libellé savoir-faire|Raison Sociale structure BAL|Code postal structure BAL|Département structure BAL|L4NUMEROVOIE structure BAL|NL4TYPEVOIE structure BAL|L4LIBELLEVOIE structure BAL|L6LIGNEACHEMINEMENT structure BAL\n\
             PER|helene.marechal@medecin.mssante.fr|MARÉCHAL|Hélène|Médecin|Pédiatrie|Cabinet Maréchal|35000|35|2|rue|de Brest|35000 RENNES\n\
             PER|paul.roux@medecin.mssante.fr|ROUX|Paul|Médecin|Cardiologie|Cabinet Roux|69003|69|1|rue|Garibaldi|69003 LYON\n",
        )
        .await
        .unwrap();
    assert_eq!(report.imported, 2, "{report:?}");
    drop(local);

    let engine = Arc::new(
        pli_core::engine::Engine::open(cfg, Arc::new(|_| {}))
            .await
            .unwrap(),
    );
    let ask = |text: &str| DirectoryQueryInput {
        text: Some(text.into()),
        ..Default::default()
    };
    let first = tokio::spawn({
        let engine = engine.clone();
        let q = ask("marec");
        async move { engine.directory_search(q).await }
    });
    // The first query is on the wire before the second is asked.
    while requests.load(Ordering::SeqCst) < 1 {
        assert!(
            !first.is_finished(),
            "the first query ended before reaching the server"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let second = tokio::spawn({
        let engine = engine.clone();
        let q = ask("marecha");
        async move { engine.directory_search(q).await }
    });

    // From this computer, while both hang.
    let local = engine.directory_suggest(ask("maréchal")).await.unwrap();
    assert_eq!(local.source, "local");
    assert_eq!(
        local
            .entries
            .iter()
            .map(|e| e.mail.as_str())
            .collect::<Vec<_>>(),
        ["helene.marechal@medecin.mssante.fr"]
    );
    assert!(local.notice.is_none());
    // The second query goes out on the same connection while the first still waits (queued
    // behind it, it would only be sent after the first's timeout, on a new connection).
    while requests.load(Ordering::SeqCst) < 2 {
        assert!(
            !first.is_finished(),
            "the second query was not sent while the first waited: queued behind it"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 1);

    // Each live query gives up on its own timer and answers from the offline copy, saying why.
    let first = first.await.unwrap().unwrap();
    let second = second.await.unwrap().unwrap();
    for a in [&first, &second] {
        assert_eq!(a.source, "local", "{a:?}");
        assert_eq!(a.entries.len(), 1, "{a:?}");
        let notice = a.notice.as_deref().unwrap_or_default();
        assert!(notice.contains("ne répond pas"), "{notice}");
        assert!(notice.contains("copie hors ligne"), "{notice}");
    }
    hold.abort();
}

/// The length of the first complete BER element in `buf` (an LDAP message), if all there.
fn ber_message_len(buf: &[u8]) -> Option<usize> {
    let first = *buf.get(1)?;
    let (len, header) = if first < 0x80 {
        (first as usize, 2)
    } else {
        let n = (first & 0x7f) as usize;
        let bytes = buf.get(2..2 + n)?;
        (
            bytes.iter().fold(0usize, |a, b| (a << 8) | *b as usize),
            2 + n,
        )
    };
    (buf.len() >= header + len).then_some(header + len)
}
