//! The FHIR Annuaire Santé source against the sandbox's FHIR stand-in (`tests/sandbox/fhir`,
//! started by `tests/sandbox/up` on 127.0.0.1:18090, `[directory.fhir]` in the sandbox's
//! pli.toml).
//!
//! Oracles, never the code under test: the LDIF the sandbox loaded (the same entries slapd
//! serves), the identities of `tests/sandbox/identities.json`, and the server's raw JSON read
//! here by a few lines of `serde_json` (which mailboxes are red-listed).

use std::collections::BTreeSet;
use std::process::Command;
use std::time::{Duration, Instant};

use pli_core::annuaire::fhir::{FhirDirectory, FhirError, API_KEY_HEADER, MAILBOX_METADATA_URL};
use pli_core::annuaire::{fold, DirectoryEntry, Query};
use pli_core::config::{FhirDirectoryConfig, MailboxKind, SecretRef};
use pli_e2e::ldif::{self, first, Record};
use pli_e2e::{repo_root, sandbox_config, sandbox_config_path, sandbox_state};
use serde_json::Value;

/// The sandbox's public test keys (see tests/sandbox/fhir/server.mjs).
const QUOTA_KEY: &str = "pli-fhir-sandbox-quota-key";
const HANG_KEY: &str = "pli-fhir-sandbox-hang-key";
const GARBLED_KEY: &str = "pli-fhir-sandbox-garbled-key";

fn fhir_config() -> FhirDirectoryConfig {
    sandbox_config()
        .directory
        .and_then(|d| d.fhir)
        .expect("the sandbox's pli.toml has no [directory.fhir]: rerun tests/sandbox/up")
}

fn sandbox_key() -> String {
    match fhir_config().api_key {
        Some(SecretRef::SandboxLiteral(k)) => k,
        other => panic!("the sandbox key is a literal, got {other:?}"),
    }
}

fn directory() -> FhirDirectory {
    FhirDirectory::new(&fhir_config(), sandbox_config().environment).expect("FHIR client")
}

fn with_key(key: Option<&str>, timeout_secs: u64) -> FhirDirectory {
    let cfg = FhirDirectoryConfig {
        timeout_secs,
        ..fhir_config()
    };
    FhirDirectory::with_key(&cfg, key).unwrap()
}

fn q() -> Query {
    Query::default()
}

fn mails(entries: &[DirectoryEntry]) -> BTreeSet<String> {
    entries.iter().map(|e| e.mail.clone()).collect()
}

/// The raw resources of one search, every page followed: the server as it is, read here
/// without the client under test.
async fn raw_search(path_and_query: &str) -> Vec<Value> {
    let http = reqwest::Client::new();
    let base = fhir_config().base_url;
    let mut url = format!("{base}/{path_and_query}");
    let mut out = Vec::new();
    for _ in 0..100 {
        let b: Value = http
            .get(&url)
            .header(API_KEY_HEADER, sandbox_key())
            .send()
            .await
            .unwrap()
            .error_for_status()
            .unwrap()
            .json()
            .await
            .unwrap();
        for e in b["entry"].as_array().into_iter().flatten() {
            out.push(e["resource"].clone());
        }
        match b["link"]
            .as_array()
            .and_then(|l| l.iter().find(|l| l["relation"] == "next"))
        {
            Some(next) => url = next["url"].as_str().unwrap().to_owned(),
            None => return out,
        }
    }
    panic!("more than 100 pages for {path_and_query}");
}

/// Every MSSanté address among raw resources, with its red-list flag.
fn raw_mailboxes(resources: &[Value]) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    for r in resources {
        for t in r["telecom"].as_array().into_iter().flatten() {
            let meta = t["extension"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|e| e["url"] == MAILBOX_METADATA_URL);
            let Some(meta) = meta else { continue };
            let red = meta["extension"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|x| x["url"] == "listeRouge" && x["valueBoolean"] == true);
            out.push((t["value"].as_str().unwrap().to_owned(), red));
        }
    }
    out
}

fn records() -> Vec<Record> {
    let recs = ldif::load(&sandbox_state().join("ldap/data.ldif"));
    assert!(recs.len() >= 20_000, "{} entries", recs.len());
    recs
}

/// PER entries of the LDIF whose family or given name starts with every word (accents and
/// case folded): what a practitioner name search means.
fn per_named(recs: &[Record], words: &[&str]) -> BTreeSet<String> {
    recs.iter()
        .filter(|r| first(r, "msstypebal") == Some("PER"))
        .filter(|r| {
            words.iter().all(|w| {
                let w = fold(w);
                ["sn", "givenname"]
                    .iter()
                    .any(|k| first(r, k).is_some_and(|v| fold(v).starts_with(&w)))
            })
        })
        .map(|r| first(r, "mail").unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn fhir_mailbox_fragment_finds_the_identities_with_person_and_structure() {
    let cfg = sandbox_config();
    let people = &cfg.sandbox.as_ref().unwrap().people;
    let want: BTreeSet<String> = people
        .iter()
        .flat_map(|p| p.mailboxes.iter().cloned())
        .filter(|m| m.ends_with("@pli-sandbox.mssante.fr"))
        .collect();
    assert_eq!(want.len(), 4, "{want:?}");
    let got = directory()
        .search(&Query {
            mail: Some("@PLI-sandbox.mssante.fr".into()),
            ..q()
        })
        .await
        .unwrap();
    assert!(!got.truncated);
    assert_eq!(mails(&got.entries), want);

    let anne = got
        .entries
        .iter()
        .find(|e| e.mail == "anne.lefevre@pli-sandbox.mssante.fr")
        .unwrap();
    assert_eq!(anne.kind.as_deref(), Some("PER"));
    assert_eq!(anne.family_name.as_deref(), Some("LEFÈVRE"));
    assert_eq!(anne.given_name.as_deref(), Some("Anne"));
    assert_eq!(anne.profession.as_deref(), Some("10"));
    assert_eq!(anne.specialty.as_deref(), Some("SM04"));
    assert_eq!(
        anne.organisation.as_deref(),
        Some("Centre hospitalier Pli-Sandbox")
    );
    assert_eq!(anne.service.as_deref(), Some("Service de cardiologie"));
    assert_eq!(
        anne.street.as_deref(),
        Some("3 boulevard Alexandre Fleming")
    );
    assert_eq!(anne.postal_code.as_deref(), Some("25000"));
    assert_eq!(anne.city.as_deref(), Some("Besançon"));
    assert_eq!(anne.department.as_deref(), Some("25"));
    let secretariat = got
        .entries
        .iter()
        .find(|e| e.mail == "cardiologie.secretariat@pli-sandbox.mssante.fr")
        .unwrap();
    assert_eq!(secretariat.kind.as_deref(), Some("ORG"));
    assert_eq!(
        secretariat.display_name.as_deref(),
        Some("Secrétariat de cardiologie — Centre hospitalier Pli-Sandbox")
    );
    assert_eq!(secretariat.city.as_deref(), Some("Besançon"));
}

#[tokio::test]
async fn fhir_name_search_follows_pages_and_matches_the_directory_minus_the_red_list() {
    let recs = records();
    // About 100 practitioners are called Guérin: several pages of 20, fewer than 10.
    let expected = per_named(&recs, &["guérin"]);
    let raw = raw_mailboxes(
        &raw_search("Practitioner?name=guerin&_revinclude=PractitionerRole:practitioner").await,
    );
    let red: BTreeSet<String> = raw
        .iter()
        .filter(|(_, r)| *r)
        .map(|(m, _)| m.clone())
        .collect();
    assert!(!red.is_empty(), "the server red-lists some of these");
    assert!(
        red.iter().any(|m| expected.contains(m)),
        "a red-listed PER mailbox is among the expected names"
    );
    let want: BTreeSet<String> = expected.difference(&red).cloned().collect();

    let got = directory()
        .search(&Query {
            name: Some("GUERIN".into()),
            ..q()
        })
        .await
        .unwrap();
    assert!(!got.truncated);
    let per: BTreeSet<String> = got
        .entries
        .iter()
        .filter(|e| e.kind.as_deref() == Some("PER"))
        .map(|e| e.mail.clone())
        .collect();
    // The sandbox pages by 20 practitioners: more than one page was read.
    assert!(per.len() > 20, "{} entries", per.len());
    assert_eq!(per, want);
    for e in &got.entries {
        assert!(!red.contains(&e.mail), "red-listed {} returned", e.mail);
        assert!(e.mail.ends_with(".mssante.fr"), "not a mailbox: {}", e.mail);
        assert!(
            fold(e.family_name.as_deref().unwrap_or("")).starts_with("guerin"),
            "{e:?}"
        );
    }
}

#[tokio::test]
async fn fhir_type_filter_keeps_one_kind_and_asks_only_its_resources() {
    let recs = records();
    let dir = directory();
    let all = dir
        .search(&Query {
            name: Some("guérin".into()),
            ..q()
        })
        .await
        .unwrap();
    let per = dir
        .search(&Query {
            name: Some("guérin".into()),
            kind: Some(MailboxKind::Personal),
            ..q()
        })
        .await
        .unwrap();
    assert!(!per.entries.is_empty());
    assert!(per.entries.iter().all(|e| e.kind.as_deref() == Some("PER")));
    let want: BTreeSet<String> = all
        .entries
        .iter()
        .filter(|e| e.kind.as_deref() == Some("PER"))
        .map(|e| e.mail.clone())
        .collect();
    assert_eq!(mails(&per.entries), want);

    // Practice mailboxes (CAB) by address fragment: exactly the LDIF's, named after the practice.
    let fragment = "cabinet-infirmier-des-lilas";
    let red: BTreeSet<String> =
        raw_mailboxes(&raw_search(&format!("Practitioner?mailbox-mss:contains={fragment}")).await)
            .into_iter()
            .filter(|(_, r)| *r)
            .map(|(m, _)| m)
            .collect();
    let cab: Vec<&Record> = recs
        .iter()
        .filter(|r| first(r, "msstypebal") == Some("CAB"))
        .filter(|r| first(r, "mail").unwrap().contains(fragment))
        .filter(|r| !red.contains(first(r, "mail").unwrap()))
        .collect();
    assert!(cab.len() >= 3, "{}", cab.len());
    let got = dir
        .search(&Query {
            mail: Some(fragment.into()),
            kind: Some(MailboxKind::Cabinet),
            ..q()
        })
        .await
        .unwrap();
    assert!(got.entries.iter().all(|e| e.kind.as_deref() == Some("CAB")));
    assert_eq!(
        mails(&got.entries),
        cab.iter()
            .map(|r| first(r, "mail").unwrap().to_owned())
            .collect::<BTreeSet<_>>()
    );
    for r in cab {
        let e = got
            .entries
            .iter()
            .find(|e| e.mail == first(r, "mail").unwrap())
            .unwrap();
        assert_eq!(e.display_name.as_deref(), first(r, "cn"), "{e:?}");
        assert!(
            e.family_name.is_some(),
            "a practice belongs to a person: {e:?}"
        );
    }

    // Organisations by name: every ORG mailbox of the LDIF whose structure is a CHU.
    let red: BTreeSet<String> = raw_mailboxes(&raw_search("Organization?name:contains=CHU").await)
        .into_iter()
        .filter(|(_, r)| *r)
        .map(|(m, _)| m)
        .collect();
    let want: BTreeSet<String> = recs
        .iter()
        .filter(|r| first(r, "msstypebal") == Some("ORG"))
        .filter(|r| first(r, "o").is_some_and(|o| fold(o).contains("chu")))
        .map(|r| first(r, "mail").unwrap().to_owned())
        .filter(|m| !red.contains(m))
        .collect();
    assert!(want.len() > 50, "{}", want.len());
    let got = dir
        .search(&Query {
            name: Some("chu".into()),
            kind: Some(MailboxKind::Organisational),
            ..q()
        })
        .await
        .unwrap();
    assert!(!got.truncated);
    assert!(got.entries.iter().all(|e| e.kind.as_deref() == Some("ORG")));
    assert_eq!(mails(&got.entries), want);
    // Other criteria refine locally: a department among those.
    let doubs = dir
        .search(&Query {
            name: Some("chu".into()),
            kind: Some(MailboxKind::Organisational),
            department: Some("25".into()),
            ..q()
        })
        .await
        .unwrap();
    assert!(!doubs.entries.is_empty());
    assert!(doubs.entries.len() < got.entries.len());
    assert!(doubs.entries.iter().all(|e| e
        .postal_code
        .as_deref()
        .is_some_and(|c| c.starts_with("25"))));
}

#[tokio::test]
async fn fhir_red_listed_mailboxes_are_never_returned_even_by_their_exact_address() {
    let raw = raw_mailboxes(&raw_search("Organization?name:contains=CHU").await);
    let red: Vec<String> = raw
        .iter()
        .filter(|(_, r)| *r)
        .map(|(m, _)| m.clone())
        .take(3)
        .collect();
    let published: Vec<String> = raw
        .iter()
        .filter(|(_, r)| !*r)
        .map(|(m, _)| m.clone())
        .take(1)
        .collect();
    assert_eq!(red.len(), 3, "the server has red-listed mailboxes");
    let dir = directory();
    for m in red.iter().chain(&published) {
        let got = dir
            .search(&Query {
                mail: Some(m.clone()),
                ..q()
            })
            .await
            .unwrap();
        let found = got.entries.iter().any(|e| &e.mail == m);
        assert_eq!(found, published.contains(m), "{m}");
    }
}

#[tokio::test]
async fn fhir_search_beyond_the_page_bound_is_reported_as_truncated() {
    // About 280 practitioners start with "martin": more than 10 pages of 20.
    let got = directory()
        .search(&Query {
            name: Some("martin".into()),
            kind: Some(MailboxKind::Personal),
            ..q()
        })
        .await
        .unwrap();
    assert!(got.truncated);
    assert!(!got.entries.is_empty());
}

#[tokio::test]
async fn fhir_without_a_key_or_with_a_wrong_key_is_refused_clearly() {
    let query = Query {
        name: Some("lefèvre".into()),
        ..q()
    };
    let err = with_key(None, 10).search(&query).await.unwrap_err();
    assert!(
        matches!(
            err,
            FhirError::Unauthorized {
                status: 401,
                key_sent: false
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("aucune clé ESANTE-API-KEY"),
        "{err}"
    );
    let err = with_key(Some("not-a-sandbox-key"), 10)
        .search(&query)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("clé d'API refusée (HTTP 401)"),
        "{err}"
    );
    // The same searches with the sandbox key work: the refusal was the key's.
    assert!(!directory().search(&query).await.unwrap().entries.is_empty());
}

#[tokio::test]
async fn fhir_quota_exceeded_says_when_to_retry() {
    let dir = with_key(Some(QUOTA_KEY), 10);
    // One request per search (an organisation mailbox fragment); the quota is 3 per 30 s.
    let query = Query {
        mail: Some("@pli-sandbox.mssante.fr".into()),
        kind: Some(MailboxKind::Organisational),
        ..q()
    };
    let mut refused = None;
    for _ in 0..4 {
        match dir.search(&query).await {
            Ok(r) => assert!(!r.entries.is_empty()),
            Err(e) => {
                refused = Some(e);
                break;
            }
        }
    }
    let err = refused.expect("the 4th request within 30 s is over quota");
    let FhirError::RateLimited(Some(n)) = err else {
        panic!("{err:?}")
    };
    assert!((1..=30).contains(&n), "{n}");
    assert_eq!(
        err.to_string(),
        format!("annuaire FHIR : trop de requêtes, réessayez dans {n} s")
    );
}

#[tokio::test]
async fn fhir_server_that_stops_answering_times_out_with_a_clear_error() {
    let started = Instant::now();
    let err = with_key(Some(HANG_KEY), 2)
        .search(&Query {
            name: Some("lefèvre".into()),
            ..q()
        })
        .await
        .unwrap_err();
    assert!(matches!(err, FhirError::Timeout(2)), "{err:?}");
    assert!(err.to_string().contains("ne répond pas"), "{err}");
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(10),
        "{took:?}"
    );
}

#[tokio::test]
async fn fhir_malformed_json_is_a_clear_error_and_nothing_else_breaks() {
    let query = Query {
        name: Some("lefèvre".into()),
        ..q()
    };
    let err = with_key(Some(GARBLED_KEY), 10)
        .search(&query)
        .await
        .unwrap_err();
    assert!(matches!(err, FhirError::Malformed(_)), "{err:?}");
    assert!(err.to_string().contains("réponse illisible"), "{err}");
    assert!(!directory().search(&query).await.unwrap().entries.is_empty());
}

#[tokio::test]
async fn fhir_key_comes_from_the_os_keyring() {
    let account = format!("test-esante-api-key:{}", std::process::id());
    pli_core::secrets::set(&account, &sandbox_key()).expect("Secret Service reachable");
    let cfg = FhirDirectoryConfig {
        api_key: Some(SecretRef::Keyring(account.clone())),
        ..fhir_config()
    };
    // The keyring path is the one production uses, whatever the environment.
    let dir = FhirDirectory::new(&cfg, pli_core::config::Environment::Production).unwrap();
    let got = dir
        .search(&Query {
            mail: Some("anne.lefevre@pli-sandbox".into()),
            ..q()
        })
        .await;
    pli_core::secrets::delete(&account).unwrap();
    assert_eq!(
        mails(&got.unwrap().entries),
        BTreeSet::from(["anne.lefevre@pli-sandbox.mssante.fr".to_owned()])
    );
    // A missing entry is a clear error, before any request.
    let err = FhirDirectory::new(&cfg, pli_core::config::Environment::Production).unwrap_err();
    assert!(err.to_string().contains("clé d'API indisponible"), "{err}");
}

fn pli(args: &[&str]) -> std::process::Output {
    let bin = pli_e2e::pli_binary();
    Command::new(bin)
        .arg("--config")
        .arg(sandbox_config_path())
        .args(args)
        .current_dir(repo_root())
        .output()
        .unwrap()
}

#[test]
fn cli_searches_the_fhir_source_and_explains_what_it_needs() {
    let out = pli(&[
        "annuaire",
        "search",
        "--source",
        "fhir",
        "--mail",
        "lefevre@pli",
        "--json",
    ]);
    assert!(out.status.success(), "{out:?}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["truncated"], false);
    let entries = v["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{v}");
    assert_eq!(entries[0]["mail"], "anne.lefevre@pli-sandbox.mssante.fr");
    assert_eq!(entries[0]["city"], "Besançon");

    let out = pli(&["annuaire", "search", "--source", "fhir", "--city", "Lyon"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("précisez un nom"), "{err}");

    // `pli config` shows the section, never the key.
    let out = pli(&["config"]);
    assert!(out.status.success(), "{out:?}");
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(shown.contains("[directory.fhir]"), "{shown}");
    assert!(!shown.contains(&sandbox_key()), "{shown}");
}

/// The compose window's recipient search falls back to FHIR when LDAP cannot be reached, and
/// says so; without FHIR (and without an offline copy) it reports LDAP's error.
#[tokio::test]
async fn compose_search_uses_fhir_when_ldap_is_unreachable() {
    let mut cfg = sandbox_config();
    let dir = tempfile::tempdir().unwrap();
    cfg.data_dir = Some(dir.path().join("data"));
    if let Some(d) = cfg.directory.as_mut() {
        d.url = "ldap://127.0.0.1:1".into();
    }
    let engine = pli_core::engine::Engine::open(cfg.clone(), std::sync::Arc::new(|_| {}))
        .await
        .unwrap();
    let answer = engine
        .directory_search(pli_core::api::DirectoryQueryInput {
            text: Some("girard".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(answer.source, "fhir");
    assert!(
        answer
            .entries
            .iter()
            .any(|e| e.mail == "bruno.girard@cabinet-sandbox.mssante.fr"),
        "{answer:?}"
    );
    engine.shutdown().await;
    drop(engine);

    cfg.directory.as_mut().unwrap().fhir = None;
    let engine = pli_core::engine::Engine::open(cfg, std::sync::Arc::new(|_| {}))
        .await
        .unwrap();
    let err = engine
        .directory_search(pli_core::api::DirectoryQueryInput {
            text: Some("girard".into()),
            ..Default::default()
        })
        .await
        .unwrap_err()
        .to_string();
    assert!(!err.is_empty());
    engine.shutdown().await;
}
