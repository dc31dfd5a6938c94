//! Unit tests of the FHIR directory source (the end-to-end ones are in tests/tests/annuaire_fhir.rs).

use super::shapes::*;
use super::*;
use serde_json::json;

fn mss(mail: &str, kind: &str, red: Option<bool>) -> Value {
    let mut meta = vec![json!({"url": "type", "valueCodeableConcept": {"coding": [{
        "system": "https://mos.esante.gouv.fr/NOS/TRE_R257-TypeBAL/FHIR/TRE-R257-TypeBAL",
        "code": kind}]}})];
    if let Some(r) = red {
        meta.push(json!({"url": "listeRouge", "valueBoolean": r}));
    }
    json!({"system": "email", "value": mail, "extension": [
        {"url": EMAIL_TYPE_URL, "valueCoding": {"code": "MSSANTE"}},
        {"url": MAILBOX_METADATA_URL, "extension": meta}]})
}

#[test]
fn red_listed_and_ordinary_addresses_are_never_mailboxes() {
    let p = json!({"resourceType": "Practitioner", "id": "1", "telecom": [
        {"system": "phone", "value": "0102030405"},
        {"system": "email", "value": "perso@example.org"},
        mss("visible@medecin.mssante.fr", "PER", Some(false)),
        mss("cache@medecin.mssante.fr", "PER", Some(true)),
        mss("cabinet@cabinet.mssante.fr", "CAB", None),
    ]});
    let got: Vec<_> = mailboxes(&p)
        .into_iter()
        .map(|m| (m.mail, m.kind))
        .collect();
    assert_eq!(
        got,
        [
            ("visible@medecin.mssante.fr".into(), Some("PER".into())),
            ("cabinet@cabinet.mssante.fr".into(), Some("CAB".into())),
        ]
    );
}

#[test]
fn a_role_takes_its_person_and_structure() {
    let person = json!({"resourceType": "Practitioner", "id": "p1",
        "name": [{"use": "official", "family": "LEFÈVRE", "given": ["Anne"]}],
        "qualification": [{"code": {"coding": [
            {"system": PROFESSION_SYSTEM, "code": "10"},
            {"system": SPECIALTY_SYSTEM, "code": "SM04"}]}}]});
    let org = json!({"resourceType": "Organization", "id": "o1", "name": "CH de Bastia",
        "address": [{"_line": [{"extension": [
            {"url": "http://hl7.org/fhir/StructureDefinition/iso21090-ADXP-houseNumber", "valueString": "3"},
            {"url": "http://hl7.org/fhir/StructureDefinition/iso21090-ADXP-streetNameBase", "valueString": "rue Pasteur"}]}],
            "postalCode": "20200", "city": "Bastia"}]});
    let mut m = mss("anne@ch-bastia.mssante.fr", "PER", Some(false));
    m["extension"][1]["extension"]
        .as_array_mut()
        .unwrap()
        .push(json!({"url": "service", "valueString": "Cardiologie"}));
    let role = json!({"resourceType": "PractitionerRole", "id": "r1",
        "practitioner": {"reference": "Practitioner/p1"},
        "organization": {"reference": "https://x/fhir/v2/Organization/o1"},
        "telecom": [m]});
    let bundle = parse_bundle(
        json!({"resourceType": "Bundle", "entry": [
            {"resource": role, "search": {"mode": "match"}},
            {"resource": person, "search": {"mode": "include"}},
            {"resource": org, "search": {"mode": "include"}}]})
        .to_string()
        .as_bytes(),
    )
    .unwrap();
    let mut f = Found::default();
    f.add(Kind::Role, &bundle);
    let e = f.entries(&[Kind::Practitioner, Kind::Role, Kind::Organization]);
    assert_eq!(e.len(), 1, "included resources are not results: {e:?}");
    let e = &e[0];
    assert_eq!(e.display_name.as_deref(), Some("Anne LEFÈVRE"));
    assert_eq!(e.profession.as_deref(), Some("10"));
    assert_eq!(e.specialty.as_deref(), Some("SM04"));
    assert_eq!(e.organisation.as_deref(), Some("CH de Bastia"));
    assert_eq!(e.street.as_deref(), Some("3 rue Pasteur"));
    assert_eq!(e.department.as_deref(), Some("2B"));
    assert_eq!(e.service.as_deref(), Some("Cardiologie"));
}

#[test]
fn departments_from_postal_codes() {
    for (cp, d) in [
        ("25000", "25"),
        ("20000", "2A"),
        ("20137", "2A"),
        ("20200", "2B"),
        ("97110", "971"),
        ("06000", "06"),
    ] {
        assert_eq!(department_of_postal_code(cp).as_deref(), Some(d), "{cp}");
    }
    assert_eq!(department_of_postal_code("2500"), None);
}

#[test]
fn malformed_bodies_are_clear_errors() {
    for body in [
        &b"{\"resourceType\": \"Bundle\", \"entry\": [{"[..],
        b"<html>",
        b"",
    ] {
        let e = parse_bundle(body).unwrap_err();
        assert!(matches!(e, FhirError::Malformed(_)), "{e:?}");
        assert!(e.to_string().contains("réponse illisible"), "{e}");
    }
    let e = parse_bundle(br#"{"resourceType": "OperationOutcome"}"#).unwrap_err();
    assert!(e.to_string().contains("OperationOutcome"), "{e}");
}

#[test]
fn user_text_stays_one_search_value() {
    assert_eq!(escape(r"a,b|c$d\e"), r"a\,b\|c\$d\\e");
}

#[test]
fn retry_after_in_seconds_date_or_gateway_reset() {
    let mut h = HeaderMap::new();
    h.insert("retry-after", HeaderValue::from_static("7"));
    assert_eq!(retry_after(&h), Some(7));
    let later = time::OffsetDateTime::now_utc() + time::Duration::seconds(30);
    let date = later
        .format(&time::format_description::well_known::Rfc2822)
        .unwrap();
    h.insert("retry-after", HeaderValue::from_str(&date).unwrap());
    let n = retry_after(&h).unwrap();
    assert!((28..=30).contains(&n), "{n}");
    let mut h = HeaderMap::new();
    let reset = (later.unix_timestamp_nanos() / 1_000_000).to_string();
    h.insert("x-rate-limit-reset", HeaderValue::from_str(&reset).unwrap());
    let n = retry_after(&h).unwrap();
    assert!((29..=31).contains(&n), "{n}");
    assert_eq!(retry_after(&HeaderMap::new()), None);
    assert!(FhirError::RateLimited(Some(7))
        .to_string()
        .contains("trop de requêtes, réessayez dans 7 s"));
}

#[test]
fn paging_links_must_stay_on_the_api() {
    let cfg = FhirDirectoryConfig {
        base_url: "https://api.example/fhir/v2".into(),
        api_key: None,
        timeout_secs: 5,
    };
    let d = FhirDirectory::with_key(&cfg, Some("k")).unwrap();
    let ok = d
        .same_origin("https://api.example/fhir/v2?_getpages=x&_getpagesoffset=50")
        .unwrap();
    assert_eq!(ok.host_str(), Some("api.example"));
    assert!(d.same_origin("?_getpages=x").is_ok(), "relative links");
    for bad in [
        "https://evil.example/fhir/v2?_getpages=x",
        "http://api.example/fhir/v2?_getpages=x",
        "https://api.example:8443/fhir/v2?_getpages=x",
    ] {
        let e = d.same_origin(bad).unwrap_err();
        assert!(matches!(e, FhirError::ForeignLink(_)), "{bad}: {e:?}");
    }
    assert!(!format!("{d:?}").contains("\"k\""), "{d:?}");
}
