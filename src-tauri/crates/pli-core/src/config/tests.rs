//! Unit tests of the configuration: parsing, validation, defaults and locations.

use super::*;

const MINIMAL: &str = r#"
environment = "production"
[psc]
issuer = "https://auth.esw.esante.gouv.fr/auth/realms/esante-wallet"
[psc.browser]
client_id = "pli"
client_auth = "client_secret_basic"
client_secret = { keyring = "psc-client-secret" }
[operator]
imap = { host = "imap.example.mssante.fr", port = 143, security = "starttls" }
smtp = { host = "smtp.example.mssante.fr", port = 587, security = "starttls" }
trust_anchors = "/etc/pli/igc-sante.pem"
"#;

#[test]
fn defaults_follow_psc_and_the_directory() {
    let c = Config::parse(MINIMAL).unwrap();
    c.validate().unwrap();
    assert_eq!(
        c.discovery_url(),
        "https://auth.esw.esante.gouv.fr/auth/realms/esante-wallet/.well-known/wallet-openid-configuration"
    );
    assert_eq!(c.psc.scopes, ["openid", "scope_all"]);
    assert_eq!(c.psc.acr_values, "eidas1");
    assert_eq!(c.operator.patient_domain, "patient.mssante.fr");
    assert!(c.product_reference.starts_with("Pli/"));
}

#[test]
fn literal_secret_outside_sandbox_is_refused() {
    let text = MINIMAL.replace(
        "{ keyring = \"psc-client-secret\" }",
        "{ sandbox_literal = \"s3cret\" }",
    );
    let c = Config::parse(&text).unwrap();
    let err = c.validate().unwrap_err();
    assert!(err.contains("only allowed in the sandbox"), "{err}");
}

#[test]
fn confidential_client_without_secret_is_refused() {
    let text = MINIMAL.replace("client_secret = { keyring = \"psc-client-secret\" }\n", "");
    let err = Config::parse(&text).unwrap().validate().unwrap_err();
    assert!(err.contains("needs client_secret"), "{err}");
}

#[test]
fn unknown_keys_are_errors_not_silently_ignored() {
    let text = format!("{MINIMAL}\nimap_pasword = 1\n");
    assert!(Config::parse(&text).is_err());
}

#[test]
fn updates_default_on_and_can_be_turned_off() {
    let c = Config::parse(MINIMAL).unwrap();
    assert_eq!(c.updates, UpdatesConfig::default());
    assert!(c.updates.enabled);
    let off = Config::parse(&format!("{MINIMAL}\n[updates]\nenabled = false\n")).unwrap();
    assert!(!off.updates.enabled);
    let typo = format!("{MINIMAL}\n[updates]\nenable = false\n");
    assert!(
        Config::parse(&typo).is_err(),
        "unknown keys in [updates] are errors"
    );
    let http = format!("{MINIMAL}\n[updates]\nendpoint = \"http://updates.example/latest.json\"\n");
    let err = Config::parse(&http).unwrap().validate().unwrap_err();
    assert!(err.contains("https://"), "{err}");
}

#[test]
fn discovery_section_is_optional_and_strict() {
    let c = Config::parse(MINIMAL).unwrap();
    assert_eq!(c.discovery, None, "absent: the system resolver");
    let c = Config::parse(&format!(
        "{MINIMAL}\n[discovery]\nnameserver = \"127.0.0.1:10053\"\n"
    ))
    .unwrap();
    assert_eq!(
        c.discovery.unwrap().nameserver,
        Some("127.0.0.1:10053".parse().unwrap())
    );
    let bad = format!("{MINIMAL}\n[discovery]\nnameserver = \"localhost\"\n");
    assert!(Config::parse(&bad).is_err(), "an ip:port is required");
    let typo = format!("{MINIMAL}\n[discovery]\nname_server = \"127.0.0.1:53\"\n");
    assert!(Config::parse(&typo).is_err(), "unknown keys are errors");
}

#[test]
fn redacted_hides_literal_secrets() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../tests/sandbox/pli.toml.example"
    ))
    .unwrap();
    let c = Config::parse(&text).unwrap();
    let shown = toml::to_string(&c.redacted()).unwrap();
    assert!(!shown.contains("pli-ciba-sandbox-secret"), "{shown}");
    assert!(!shown.contains("sandbox-master-pass"), "{shown}");
    assert!(!shown.contains("patient-pass"), "{shown}");
    assert!(!shown.contains("pli-fhir-sandbox-key"), "{shown}");
    assert!(shown.contains(REDACTED));
}

const LDAP: &str = "\n[directory]\nurl = \"ldap://ldap.annuaire.mssante.fr:389\"\n";

#[test]
fn fhir_directory_defaults_to_the_national_api_with_a_keyring_key() {
    let text =
        format!("{MINIMAL}{LDAP}[directory.fhir]\napi_key = {{ keyring = \"esante-api-key\" }}\n");
    let c = Config::parse(&text).unwrap();
    c.validate().unwrap();
    let f = c.directory.unwrap().fhir.unwrap();
    assert_eq!(f.base_url, DEFAULT_FHIR_BASE_URL);
    assert_eq!(f.timeout_secs, 15);
    assert!(matches!(f.api_key, Some(SecretRef::Keyring(ref a)) if a == "esante-api-key"));
    assert!(Config::parse(&format!("{MINIMAL}{LDAP}"))
        .unwrap()
        .directory
        .unwrap()
        .fhir
        .is_none());
}

#[test]
fn fhir_literal_key_and_plain_http_are_sandbox_only() {
    let literal =
        format!("{MINIMAL}{LDAP}[directory.fhir]\napi_key = {{ sandbox_literal = \"k\" }}\n");
    let err = Config::parse(&literal).unwrap().validate().unwrap_err();
    assert!(err.contains("only allowed in the"), "{err}");
    let http =
        format!("{MINIMAL}{LDAP}[directory.fhir]\nbase_url = \"http://gateway.example/fhir/v2\"\n");
    let err = Config::parse(&http).unwrap().validate().unwrap_err();
    assert!(err.contains("https://"), "{err}");
    let typo = format!("{MINIMAL}{LDAP}[directory.fhir]\napikey = \"k\"\n");
    assert!(Config::parse(&typo).is_err(), "unknown keys are errors");
    // Both are fine in the sandbox.
    let sandbox = literal
        .replace("environment = \"production\"", "environment = \"sandbox\"")
        .replace(
            "[directory.fhir]\n",
            "[directory.fhir]\nbase_url = \"http://127.0.0.1:18090/fhir/v2\"\n",
        );
    Config::parse(&sandbox).unwrap().validate().unwrap();
}

fn candidates(dir: &Path) -> Candidates {
    Candidates {
        machine: Some(dir.join("etc/pli/pli.toml")),
        user: Some(dir.join("home/.config/pli/pli.toml")),
    }
}

fn touch(p: &Path) {
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, "").unwrap();
}

#[test]
fn locate_prefers_command_line_then_environment() {
    let tmp = tempfile::tempdir().unwrap();
    let c = candidates(tmp.path());
    touch(c.machine.as_ref().unwrap());
    touch(c.user.as_ref().unwrap());
    let cli = tmp.path().join("cli.toml");
    let got = locate_with(Some(&cli), Some("env.toml".into()), &c).unwrap();
    assert_eq!(got.path, cli);
    assert_eq!(got.source, ConfigSource::CommandLine);
    // Neither needs to exist: a wrong path is reported when loading, not skipped.
    let got = locate_with(None, Some("env.toml".into()), &c).unwrap();
    assert_eq!(got.path, PathBuf::from("env.toml"));
    assert_eq!(got.source, ConfigSource::Environment);
    // An empty PLI_CONFIG is as good as none.
    let got = locate_with(None, Some("".into()), &c).unwrap();
    assert_eq!(got.source, ConfigSource::Machine);
}

#[test]
fn locate_machine_file_wins_over_user_file() {
    let tmp = tempfile::tempdir().unwrap();
    let c = candidates(tmp.path());
    assert_eq!(locate_with(None, None, &c), None, "nothing exists yet");
    touch(c.user.as_ref().unwrap());
    let got = locate_with(None, None, &c).unwrap();
    assert_eq!(got.source, ConfigSource::User);
    assert_eq!(&got.path, c.user.as_ref().unwrap());
    touch(c.machine.as_ref().unwrap());
    let got = locate_with(None, None, &c).unwrap();
    assert_eq!(got.source, ConfigSource::Machine);
    assert_eq!(&got.path, c.machine.as_ref().unwrap());
    // A directory in place of the file is not a configuration.
    let tmp2 = tempfile::tempdir().unwrap();
    let c2 = candidates(tmp2.path());
    std::fs::create_dir_all(c2.machine.as_ref().unwrap()).unwrap();
    assert_eq!(locate_with(None, None, &c2), None);
}

#[test]
fn platform_locations_follow_the_environment() {
    let env = |pairs: &'static [(&'static str, &'static str)]| {
        move |k: &str| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| OsString::from(*v))
        }
    };
    let linux = Candidates::for_os("linux", &env(&[("XDG_CONFIG_HOME", "/x"), ("HOME", "/h")]));
    assert_eq!(linux.machine, Some(PathBuf::from("/etc/pli/pli.toml")));
    assert_eq!(linux.user, Some(PathBuf::from("/x/pli/pli.toml")));
    let linux = Candidates::for_os("linux", &env(&[("XDG_CONFIG_HOME", ""), ("HOME", "/h")]));
    assert_eq!(linux.user, Some(PathBuf::from("/h/.config/pli/pli.toml")));
    assert_eq!(Candidates::for_os("linux", &env(&[])).user, None);
    let mac = Candidates::for_os("macos", &env(&[("HOME", "/Users/a")]));
    assert_eq!(
        mac.machine,
        Some(PathBuf::from("/Library/Application Support/Pli/pli.toml"))
    );
    assert_eq!(
        mac.user,
        Some(PathBuf::from(
            "/Users/a/Library/Application Support/Pli/pli.toml"
        ))
    );
    let win = Candidates::for_os(
        "windows",
        &env(&[("ProgramData", "D:\\PD"), ("APPDATA", "E:\\AD")]),
    );
    assert_eq!(
        win.machine,
        Some(PathBuf::from("D:\\PD").join("Pli").join("pli.toml"))
    );
    assert_eq!(
        win.user,
        Some(PathBuf::from("E:\\AD").join("Pli").join("pli.toml"))
    );
    let win = Candidates::for_os("windows", &env(&[]));
    assert_eq!(
        win.machine,
        Some(
            PathBuf::from(r"C:\ProgramData")
                .join("Pli")
                .join("pli.toml")
        )
    );
}
