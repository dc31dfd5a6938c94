//! First run: writing the user's own `pli.toml` when IT deployed none.
//!
//! In a hospital, IT installs a machine-wide file and Pli opens straight on the login screen
//! (`docs/deployment.md`). A practitioner who installs Pli on their own workstation has no file:
//! the desktop app then shows a first-run screen that asks for
//!
//! 1. the **environment** (production, the PSC/operator test platforms "BAS", or the local
//!    sandbox of `tests/sandbox/`), which fixes everything that is the same for every user of
//!    that environment: the Pro Santé Connect issuer, the national directory, the DNS used for
//!    discovery ([`preset`]);
//! 2. the **mailbox address**; the IMAP and submission servers are then looked up in DNS SRV
//!    (RFC 6186, [`discover`]) and shown, editable, because an operator may not publish them;
//! 3. the **trust anchors** of the operator (a PEM file; the IGC Santé roots in production);
//! 4. the **PSC client identifier**, only when this build of Pli carries none for that
//!    environment.
//!
//! [`build`] checks all of it (the address, each server, that the PEM file holds at least one
//! certificate, the PSC client) and [`write`] saves the file at the per-user location that
//! [`crate::config::locate`] reads, without ever replacing an existing file.
//!
//! # Choices where the specification is silent (`../shared/spec/mssante.md` §2.2, §7.1)
//! - **PSC client.** Whether PSC accepts a *public* client (PKCE, no secret) is not confirmed;
//!   a desktop app cannot keep a secret anyway. The browser client written here is public with
//!   PKCE, its identifier taken from the build (`PLI_PSC_CLIENT_ID_PRODUCTION` /
//!   `PLI_PSC_CLIENT_ID_BAS` at compile time) or typed by the user. A deployment whose
//!   registration needs a secret or CIBA uses an enterprise file instead, with the secret in the
//!   keyring. The sandbox preset uses the sandbox's public test clients (decision 0004).
//! - **Directory.** Production: `ldap://ldap.annuaire.mssante.fr:389`; BAS: the partners'
//!   directory `ldap://partenaires.annuaire.sante.fr:389`; both anonymous, base
//!   `ou=bal,o=mssante,c=fr`, attribute names as in [`crate::config::DirectoryAttributes`].
//! - **Mailbox kind.** The first mailbox is the user's own (`PER`) unless they say it is a
//!   practice (`CAB`) or a service (`ORG`) mailbox; more service mailboxes are added later from
//!   the side bar.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::api::{SetupDefaults, SetupDiscovery, SetupEndpoint, SetupEnvironment, SetupRequest};
use crate::config::{
    AccountConfig, ClientAuth, Config, DirectoryConfig, DiscoveryConfig, Environment, MailboxKind,
    OperatorConfig, PscClient, PscConfig, SecretRef, Security, ServerConfig, UpdatesConfig,
};
use crate::discovery::{self, DiscoveryOptions};

/// What an environment fixes for every user of it.
#[derive(Debug, Clone)]
pub struct Preset {
    /// The environment.
    pub environment: Environment,
    /// Pro Santé Connect issuer.
    pub issuer: String,
    /// The PSC browser client identifier built into Pli, if any.
    pub built_in_client_id: Option<String>,
    /// A CIBA client (the sandbox's public test client only).
    pub ciba: Option<PscClient>,
    /// The national directory.
    pub directory: DirectoryConfig,
    /// DNS used for discovery (the system resolver when `None`).
    pub nameserver: Option<std::net::SocketAddr>,
    /// Automatic updates.
    pub updates: UpdatesConfig,
}

/// The sandbox's fixed loopback ports (`tests/sandbox/README.md`).
const SANDBOX_PSC: &str = "http://127.0.0.1:18080/auth/realms/esante-wallet";
const SANDBOX_LDAP: &str = "ldap://127.0.0.1:10389";
const SANDBOX_DNS: &str = "127.0.0.1:10053";

fn directory(url: &str) -> DirectoryConfig {
    DirectoryConfig {
        url: url.to_owned(),
        base_dn: "ou=bal,o=mssante,c=fr".into(),
        starttls: false,
        size_limit: 100,
        time_limit_secs: 60,
        attributes: Default::default(),
        fhir: None,
    }
}

/// The preset of `environment`.
pub fn preset(environment: Environment) -> Preset {
    let built_in = |v: Option<&str>| v.filter(|s| !s.is_empty()).map(str::to_owned);
    match environment {
        Environment::Production => Preset {
            environment,
            issuer: "https://auth.esw.esante.gouv.fr/auth/realms/esante-wallet".into(),
            built_in_client_id: built_in(option_env!("PLI_PSC_CLIENT_ID_PRODUCTION")),
            ciba: None,
            directory: directory("ldap://ldap.annuaire.mssante.fr:389"),
            nameserver: None,
            updates: UpdatesConfig::default(),
        },
        Environment::Bas => Preset {
            environment,
            issuer: "https://auth.bas.psc.esante.gouv.fr/auth/realms/esante-wallet".into(),
            built_in_client_id: built_in(option_env!("PLI_PSC_CLIENT_ID_BAS")),
            ciba: None,
            directory: directory("ldap://partenaires.annuaire.sante.fr:389"),
            nameserver: None,
            updates: UpdatesConfig::default(),
        },
        Environment::Sandbox => Preset {
            environment,
            issuer: SANDBOX_PSC.into(),
            built_in_client_id: Some("pli-desktop".into()),
            ciba: Some(PscClient {
                client_id: "pli-ciba".into(),
                client_auth: ClientAuth::ClientSecretBasic,
                client_secret: Some(SecretRef::SandboxLiteral("pli-ciba-sandbox-secret".into())),
            }),
            directory: directory(SANDBOX_LDAP),
            nameserver: SANDBOX_DNS.parse().ok(),
            updates: UpdatesConfig {
                enabled: false,
                endpoint: None,
            },
        },
    }
}

/// The environment named `id` (`production`, `bas`, `sandbox`).
pub fn parse_environment(id: &str) -> Result<Environment, String> {
    match id {
        "production" => Ok(Environment::Production),
        "bas" => Ok(Environment::Bas),
        "sandbox" => Ok(Environment::Sandbox),
        other => Err(format!("environnement inconnu « {other} »")),
    }
}

/// Where the first-run file goes: the per-user location [`crate::config::locate`] reads.
pub fn user_config_path() -> Option<PathBuf> {
    crate::config::Candidates::for_platform(&|k| std::env::var_os(k)).user
}

/// What the first-run screen starts from.
pub fn defaults() -> SetupDefaults {
    SetupDefaults {
        environments: [
            Environment::Production,
            Environment::Bas,
            Environment::Sandbox,
        ]
        .into_iter()
        .map(|e| {
            let p = preset(e);
            SetupEnvironment {
                id: crate::auth::psc::env_name(e).into(),
                psc_issuer: p.issuer,
                directory: p.directory.url,
                psc_client_id: p.built_in_client_id,
            }
        })
        .collect(),
        user_config_path: user_config_path().map(|p| p.display().to_string()),
    }
}

fn endpoint_view(e: &discovery::Endpoint) -> SetupEndpoint {
    SetupEndpoint {
        host: e.host.clone(),
        port: e.port,
        security: match e.security {
            Security::Starttls => "starttls",
            Security::Tls => "tls",
        }
        .into(),
    }
}

/// Looks up the servers of `address` in DNS SRV, with the environment's resolver. Never fails:
/// what DNS did not give is `None` and `error` says why, in French, so the user types it.
pub async fn discover(environment: &str, address: &str) -> SetupDiscovery {
    let env = match parse_environment(environment) {
        Ok(e) => e,
        Err(error) => return SetupDiscovery::failed(error),
    };
    let opts = DiscoveryOptions {
        nameserver: preset(env).nameserver,
        timeout: Some(std::time::Duration::from_secs(5)),
    };
    match discovery::discover(address.trim(), &opts).await {
        Ok(d) => SetupDiscovery {
            imap: d.imap.as_ref().map(endpoint_view),
            smtp: d.smtp.as_ref().map(endpoint_view),
            error: match (&d.imap, &d.smtp) {
                (None, _) => Some("le DNS ne publie pas de serveur IMAP : saisissez-le".into()),
                (_, None) => Some("le DNS ne publie pas de serveur SMTP : saisissez-le".into()),
                _ => None,
            },
        },
        Err(e) => SetupDiscovery::failed(e.to_string()),
    }
}

impl SetupDiscovery {
    fn failed(error: String) -> Self {
        Self {
            imap: None,
            smtp: None,
            error: Some(error),
        }
    }
}

fn server(what: &str, e: &SetupEndpoint) -> Result<ServerConfig, String> {
    let host = e.host.trim().trim_end_matches('.').to_ascii_lowercase();
    let valid_host = !host.is_empty()
        && host.len() <= 253
        && host
            .split('.')
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    if !valid_host {
        return Err(format!(
            "serveur {what} : nom d'hôte « {} » invalide",
            e.host
        ));
    }
    if e.port == 0 {
        return Err(format!("serveur {what} : port manquant"));
    }
    let security = match e.security.as_str() {
        "starttls" => Security::Starttls,
        "tls" => Security::Tls,
        other => return Err(format!("serveur {what} : sécurité « {other} » inconnue")),
    };
    Ok(ServerConfig {
        host,
        port: e.port,
        security,
        connect_addr: None,
    })
}

/// Checks a first-run request and makes the configuration it describes.
pub fn build(req: &SetupRequest) -> Result<Config, String> {
    let environment = parse_environment(&req.environment)?;
    let p = preset(environment);
    let address = req.address.trim().to_lowercase();
    discovery::domain_of(&address).map_err(|e| e.to_string())?;
    let kind = match req.kind.as_str() {
        "PER" => MailboxKind::Personal,
        "CAB" => MailboxKind::Cabinet,
        "ORG" => MailboxKind::Organisational,
        other => return Err(format!("type de boîte « {other} » non proposé ici")),
    };
    let imap = server("IMAP", &req.imap)?;
    let smtp = server("SMTP", &req.smtp)?;
    let anchors = PathBuf::from(req.trust_anchors.trim());
    if !anchors.is_absolute() {
        return Err("autorités de confiance : indiquez le chemin complet du fichier PEM".into());
    }
    // Refuses a missing file and a file without any usable certificate.
    crate::tls::load_anchors(&anchors).map_err(|e| format!("autorités de confiance : {e}"))?;
    let client_id = req
        .psc_client_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .or(p.built_in_client_id.clone())
        .ok_or_else(|| {
            "identifiant client Pro Santé Connect manquant : il est fourni par votre \
             établissement ou par l'éditeur de Pli"
                .to_owned()
        })?;
    if client_id
        .chars()
        .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err("identifiant client Pro Santé Connect invalide".into());
    }
    let display_name = req
        .display_name
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    let cfg = Config {
        environment,
        product_reference: format!("Pli/{}", crate::VERSION),
        data_dir: None,
        psc: PscConfig {
            issuer: p.issuer,
            discovery_path: "/.well-known/wallet-openid-configuration".into(),
            scopes: vec!["openid".into(), "scope_all".into()],
            acr_values: "eidas1".into(),
            browser: PscClient {
                client_id,
                client_auth: ClientAuth::None,
                client_secret: None,
            },
            ciba: p.ciba,
            ca_file: None,
        },
        operator: OperatorConfig {
            imap,
            smtp,
            trust_anchors: anchors,
            patient_domain: "patient.mssante.fr".into(),
        },
        directory: Some(p.directory),
        accounts: vec![AccountConfig {
            address,
            kind,
            display_name,
        }],
        updates: p.updates,
        discovery: p.nameserver.map(|n| DiscoveryConfig {
            nameserver: Some(n),
        }),
        sandbox: None,
    };
    cfg.validate()?;
    Ok(cfg)
}

/// Saves `cfg` at `path` (creating its directory), never over an existing file: the file is
/// written beside it and linked into place, so a crash leaves either no file or a whole one.
pub fn write(cfg: &Config, path: &Path) -> Result<(), String> {
    let text = toml::to_string_pretty(cfg).map_err(|e| e.to_string())?;
    let text = format!(
        "# Written by Pli's first-run screen ({}). Every key: docs/configuration.md.\n\
         # An enterprise file (/etc/pli/pli.toml or its equivalent) takes precedence.\n\n{text}",
        crate::VERSION
    );
    let dir = path
        .parent()
        .ok_or_else(|| format!("{} : pas de dossier parent", path.display()))?;
    std::fs::create_dir_all(dir).map_err(|e| format!("{} : {e}", dir.display()))?;
    let tmp = dir.join(format!(".pli.toml.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        // hard_link fails if `path` exists: an existing file is never replaced.
        std::fs::hard_link(&tmp, path)
    })();
    std::fs::remove_file(&tmp).ok();
    result.map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            format!("{} existe déjà : il n'est pas remplacé", path.display())
        } else {
            format!("{} : {e}", path.display())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A self-signed test CA ("Pli setup test CA"), made once with openssl for these tests.
    const TEST_CA: &str = "\
-----BEGIN CERTIFICATE-----
MIIBjzCCATWgAwIBAgIUaOctxWeVMkoIHt2Q8Dqblhc3EzwwCgYIKoZIzj0EAwIw
HDEaMBgGA1UEAwwRUGxpIHNldHVwIHRlc3QgQ0EwIBcNMjYxMTIyMTY1OTU5WhgP
MjEyNjEwMjkxNjU5NTlaMBwxGjAYBgNVBAMMEVBsaSBzZXR1cCB0ZXN0IENBMFkw
EwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE2hHQhs0W0ITSUYxCZb+1eGP+LCVnCaxk
Zigtc5RZStV2XLBs2y6NYBV6Qj0BNOaeiTtr3hPgKRzKyy31D+0AOqNTMFEwHQYD
VR0OBBYEFOpp8+bpjwKmKw1x+mxb0knOKKceMB8GA1UdIwQYMBaAFOpp8+bpjwKm
Kw1x+mxb0knOKKceMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSAAwRQIg
HLRSAT+RIHwE9ybB//l4uhNMS1IiVVN76QiLXEBXPzECIQDMSBnFKTjn6u9cu7ov
lzfnuoPiRfyc//3Zg4qPIaePsw==
-----END CERTIFICATE-----
";

    fn ca_file(dir: &Path) -> PathBuf {
        let p = dir.join("ca.pem");
        std::fs::write(&p, TEST_CA).unwrap();
        p
    }

    fn request(anchors: &Path) -> SetupRequest {
        SetupRequest {
            environment: "bas".into(),
            address: " Anne.Lefevre@Hopital.MSSante.fr ".into(),
            display_name: Some("Dr Anne LEFÈVRE".into()),
            kind: "PER".into(),
            imap: SetupEndpoint {
                host: "imap.hopital.mssante.fr.".into(),
                port: 993,
                security: "tls".into(),
            },
            smtp: SetupEndpoint {
                host: "smtp.hopital.mssante.fr".into(),
                port: 587,
                security: "starttls".into(),
            },
            trust_anchors: anchors.display().to_string(),
            psc_client_id: Some("pli-bas".into()),
        }
    }

    #[test]
    fn a_request_becomes_a_file_that_loads_back_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let req = request(&ca_file(dir.path()));
        let cfg = build(&req).unwrap();
        let path = dir.path().join("conf/pli/pli.toml");
        write(&cfg, &path).unwrap();
        let back = Config::load(&path).unwrap();
        assert_eq!(back.environment, Environment::Bas);
        assert_eq!(
            back.psc.issuer,
            "https://auth.bas.psc.esante.gouv.fr/auth/realms/esante-wallet"
        );
        assert_eq!(back.psc.browser.client_id, "pli-bas");
        assert_eq!(back.psc.browser.client_auth, ClientAuth::None);
        assert_eq!(back.accounts[0].address, "anne.lefevre@hopital.mssante.fr");
        assert_eq!(back.operator.imap.host, "imap.hopital.mssante.fr");
        assert_eq!(back.operator.imap.security, Security::Tls);
        assert_eq!(back.operator.smtp.port, 587);
        assert_eq!(
            back.directory.unwrap().url,
            "ldap://partenaires.annuaire.sante.fr:389"
        );
        // Never replaced.
        let err = write(&cfg, &path).unwrap_err();
        assert!(err.contains("existe déjà"), "{err}");
        let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers, ["pli.toml"]);
    }

    #[test]
    fn bad_requests_are_refused_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let ca = ca_file(dir.path());
        let refuse = |f: &dyn Fn(&mut SetupRequest), needle: &str| {
            let mut r = request(&ca);
            f(&mut r);
            let e = build(&r).unwrap_err();
            assert!(e.contains(needle), "{needle}: {e}");
        };
        refuse(&|r| r.address = "pas-une-adresse".into(), "invalide");
        refuse(&|r| r.imap.host = "imap host".into(), "IMAP");
        refuse(&|r| r.smtp.host = "smtp.évil.fr".into(), "SMTP");
        refuse(&|r| r.smtp.port = 0, "port");
        refuse(&|r| r.imap.security = "plain".into(), "sécurité");
        refuse(&|r| r.trust_anchors = "ca.pem".into(), "chemin complet");
        refuse(&|r| r.kind = "APP".into(), "type de boîte");
        refuse(&|r| r.environment = "prod".into(), "environnement");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "pas un certificat\n").unwrap();
        refuse(
            &|r| r.trust_anchors = empty.display().to_string(),
            "aucun certificat",
        );
        // No client id built in for BAS in this build: one must be given.
        if preset(Environment::Bas).built_in_client_id.is_none() {
            refuse(
                &|r| r.psc_client_id = Some("  ".into()),
                "identifiant client",
            );
        }
    }

    #[test]
    fn the_sandbox_preset_uses_its_own_dns_and_test_clients() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = request(&ca_file(dir.path()));
        r.environment = "sandbox".into();
        r.psc_client_id = None;
        let cfg = build(&r).unwrap();
        assert_eq!(cfg.psc.browser.client_id, "pli-desktop");
        assert_eq!(cfg.psc.ciba.as_ref().unwrap().client_id, "pli-ciba");
        assert_eq!(
            cfg.discovery.unwrap().nameserver.unwrap().to_string(),
            "127.0.0.1:10053"
        );
        assert!(!cfg.updates.enabled);
        // The sandbox's literal test secret never leaves the sandbox environment.
        let mut r = request(&ca_file(dir.path()));
        r.environment = "production".into();
        let cfg = build(&r).unwrap();
        assert!(cfg.psc.ciba.is_none());
        assert!(cfg.discovery.is_none());
    }
}
