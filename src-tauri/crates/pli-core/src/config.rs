//! Pli's configuration file (`pli.toml`).
//!
//! One file describes everything Pli needs to reach an MSSanté environment: the Pro Santé
//! Connect provider, the mail operator's servers and trust anchors, and the directory. The
//! sandbox's `tests/sandbox/up` writes a complete one to `target/sandbox/pli.toml`; an
//! enterprise deployment ships one machine-wide. See `docs/configuration.md` for every key.
//!
//! Secrets never live here, with one exception: the `sandbox` environment may carry the
//! public test credentials of the local sandbox (see `docs/decisions/0004-sandbox-secrets.md`).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Errors while loading a configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read configuration {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid TOML or does not match the schema.
    #[error("invalid configuration {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong, with line and column.
        message: String,
    },
    /// A value is present but not acceptable.
    #[error("invalid configuration {path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// Which MSSanté / PSC environment a configuration targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    /// PSC production and a production operator.
    Production,
    /// PSC "BAS" (bac à sable) test environment and an operator's test platform.
    Bas,
    /// The local sandbox of `tests/sandbox/` on 127.0.0.1.
    Sandbox,
}

/// The whole configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Target environment.
    pub environment: Environment,
    /// Value of the `X-MSS-NIL` header (product reference), ECO.2.4.3.
    #[serde(default = "default_product_reference")]
    pub product_reference: String,
    /// Where Pli keeps its cache and logs; defaults to the OS data directory.
    #[serde(default)]
    pub data_dir: Option<PathBuf>,
    /// Pro Santé Connect.
    pub psc: PscConfig,
    /// The MSSanté operator's servers.
    pub operator: OperatorConfig,
    /// Directory sources.
    #[serde(default)]
    pub directory: Option<DirectoryConfig>,
    /// Mailboxes configured in advance (personal and service mailboxes).
    #[serde(default)]
    pub accounts: Vec<AccountConfig>,
    /// Automatic updates: on by default, an enterprise file may turn them off.
    #[serde(default)]
    pub updates: UpdatesConfig,
    /// DNS SRV discovery of the mail servers (`[discovery]`, RFC 6186 / ECO.1.1.9); absent:
    /// the system resolver.
    #[serde(default)]
    pub discovery: Option<DiscoveryConfig>,
    /// Test identities of the local sandbox; present only for `environment = "sandbox"`.
    #[serde(default)]
    pub sandbox: Option<SandboxInfo>,
}

/// Signed automatic updates (`[updates]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdatesConfig {
    /// Check for an update at start (and install it when Pli closes).
    #[serde(default = "default_updates_enabled")]
    pub enabled: bool,
    /// The update manifest URL (`latest.json`); defaults to the one built into the app.
    /// Must be `https://` outside the sandbox.
    #[serde(default)]
    pub endpoint: Option<String>,
}

/// DNS SRV discovery settings (`[discovery]`). Absent in production: the system resolver is
/// used. The sandbox points it at its own DNS server on loopback.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscoveryConfig {
    /// Ask this DNS server (`ip:port`, UDP then TCP) instead of the system resolver.
    #[serde(default)]
    pub nameserver: Option<std::net::SocketAddr>,
}

fn default_updates_enabled() -> bool {
    true
}

impl Default for UpdatesConfig {
    fn default() -> Self {
        Self {
            enabled: default_updates_enabled(),
            endpoint: None,
        }
    }
}

fn default_product_reference() -> String {
    format!("Pli/{}", env!("CARGO_PKG_VERSION"))
}

/// How Pli authenticates itself (the client, not the user) to PSC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuth {
    /// Public client with PKCE.
    None,
    /// HTTP Basic with a client secret.
    ClientSecretBasic,
    /// Client secret in the form body.
    ClientSecretPost,
    /// Signed JWT assertion with a private key.
    PrivateKeyJwt,
}

/// Where a client secret comes from.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum SecretRef {
    /// An OS keyring entry (service `fr.pli.app`, this account name), installed by the deployment.
    Keyring(String),
    /// A literal value: accepted only in the `sandbox` environment, for its public test clients.
    SandboxLiteral(String),
}

/// A PSC client registration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PscClient {
    /// `client_id` registered at PSC.
    pub client_id: String,
    /// Client authentication method at the token endpoint.
    pub client_auth: ClientAuth,
    /// The secret (or private key) when `client_auth` needs one.
    #[serde(default)]
    pub client_secret: Option<SecretRef>,
}

/// Pro Santé Connect settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PscConfig {
    /// Issuer URL, e.g. `https://auth.esw.esante.gouv.fr/auth/realms/esante-wallet`.
    pub issuer: String,
    /// Discovery path appended to the issuer; PSC uses a non-standard one.
    #[serde(default = "default_discovery_path")]
    pub discovery_path: String,
    /// Scopes requested.
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    /// Minimum authentication level requested and required in the ID token.
    #[serde(default = "default_acr")]
    pub acr_values: String,
    /// The client used for the authorization-code flow in the browser.
    pub browser: PscClient,
    /// The client used for CIBA (push to e-CPS or card), if the deployment has one.
    #[serde(default)]
    pub ciba: Option<PscClient>,
    /// A trust anchor for the provider's HTTPS, when it is not a public web CA.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}

fn default_discovery_path() -> String {
    "/.well-known/wallet-openid-configuration".into()
}
fn default_scopes() -> Vec<String> {
    vec!["openid".into(), "scope_all".into()]
}
fn default_acr() -> String {
    "eidas1".into()
}

/// Transport security of a mail server connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Security {
    /// Plain TCP upgraded with STARTTLS before anything else (MSSanté's rule).
    Starttls,
    /// TLS from the first byte (IMAPS 993 / submissions 465).
    Tls,
}

/// One mail server endpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Host name; it must match the server certificate.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// STARTTLS or implicit TLS.
    pub security: Security,
    /// Connect to this address instead of resolving `host` (the certificate is still checked
    /// against `host`).
    #[serde(default)]
    pub connect_addr: Option<String>,
}

/// The MSSanté operator.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorConfig {
    /// IMAP server.
    pub imap: ServerConfig,
    /// SMTP submission server.
    pub smtp: ServerConfig,
    /// PEM bundle of the only CAs trusted for the operator (IGC Santé in production).
    pub trust_anchors: PathBuf,
    /// Domain of Mon espace santé patient addresses.
    #[serde(default = "default_patient_domain")]
    pub patient_domain: String,
}

fn default_patient_domain() -> String {
    "patient.mssante.fr".into()
}

/// Kind of MSSanté mailbox (TRE_R257-TypeBAL).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MailboxKind {
    /// Personal mailbox of a professional.
    #[serde(rename = "PER")]
    Personal,
    /// Organisational (service) mailbox, shared by listed members.
    #[serde(rename = "ORG")]
    Organisational,
    /// Applicative mailbox (software).
    #[serde(rename = "APP")]
    Applicative,
    /// Practice (cabinet) mailbox.
    #[serde(rename = "CAB")]
    Cabinet,
}

/// A mailbox Pli opens.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountConfig {
    /// The mailbox address (also the XOAUTH2 `user=`).
    pub address: String,
    /// Mailbox type.
    pub kind: MailboxKind,
    /// Display name used as sender name.
    #[serde(default)]
    pub display_name: Option<String>,
}

/// LDAP directory source.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectoryConfig {
    /// `ldap://host:port` or `ldaps://…`.
    pub url: String,
    /// Search base.
    #[serde(default = "default_base_dn")]
    pub base_dn: String,
    /// Use StartTLS on `ldap://`.
    #[serde(default)]
    pub starttls: bool,
    /// Maximum entries asked per query (the national directory caps at 100).
    #[serde(default = "default_size_limit")]
    pub size_limit: i32,
    /// Server-side time limit per query, in seconds (the national directory caps at 60).
    #[serde(default = "default_time_limit")]
    pub time_limit_secs: i32,
    /// LDAP attribute names for each field; defaults documented in `docs/configuration.md`.
    #[serde(default)]
    pub attributes: DirectoryAttributes,
    /// The FHIR Annuaire Santé API (`[directory.fhir]`), when the deployment has a key.
    #[serde(default)]
    pub fhir: Option<FhirDirectoryConfig>,
}

/// The FHIR Annuaire Santé v2 API (`[directory.fhir]`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FhirDirectoryConfig {
    /// Base URL of the API; `https://` outside the sandbox.
    #[serde(default = "default_fhir_base_url")]
    pub base_url: String,
    /// The `ESANTE-API-KEY` value: `{ keyring = "<account>" }`, or a literal in the sandbox
    /// only. Absent: no key is sent (the gateway answers 401).
    #[serde(default)]
    pub api_key: Option<SecretRef>,
    /// How long one HTTP exchange may take, in seconds.
    #[serde(default = "default_fhir_timeout")]
    pub timeout_secs: u64,
}

/// The national FHIR Annuaire Santé API, version 2.
pub const DEFAULT_FHIR_BASE_URL: &str = "https://gateway.api.esante.gouv.fr/fhir/v2";

fn default_fhir_base_url() -> String {
    DEFAULT_FHIR_BASE_URL.into()
}
fn default_fhir_timeout() -> u64 {
    15
}

fn default_base_dn() -> String {
    "ou=bal,o=mssante,c=fr".into()
}
fn default_size_limit() -> i32 {
    100
}
fn default_time_limit() -> i32 {
    60
}

/// Mapping from directory fields to LDAP attribute names. The national directory's exact
/// names are not public; these defaults are assumptions matched by the sandbox's schema.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DirectoryAttributes {
    /// Mailbox address.
    pub mail: String,
    /// Mailbox type PER/ORG/APP/CAB.
    pub mailbox_type: String,
    /// Display name.
    pub display_name: String,
    /// Full name.
    pub common_name: String,
    /// Given name.
    pub given_name: String,
    /// Family name.
    pub family_name: String,
    /// Profession code.
    pub profession: String,
    /// Specialty (savoir-faire) code.
    pub specialty: String,
    /// Organisation name.
    pub organisation: String,
    /// Service within the organisation.
    pub service: String,
    /// Street address.
    pub street: String,
    /// Postal code.
    pub postal_code: String,
    /// City.
    pub city: String,
    /// Department code.
    pub department: String,
    /// Dematerialisation consent.
    pub dematerialisation: String,
}

impl Default for DirectoryAttributes {
    fn default() -> Self {
        Self {
            mail: "mail".into(),
            mailbox_type: "mssTypeBAL".into(),
            display_name: "displayName".into(),
            common_name: "cn".into(),
            given_name: "givenName".into(),
            family_name: "sn".into(),
            profession: "mssProfession".into(),
            specialty: "mssSpecialite".into(),
            organisation: "o".into(),
            service: "ou".into(),
            street: "street".into(),
            postal_code: "postalCode".into(),
            city: "l".into(),
            department: "mssDepartement".into(),
            dematerialisation: "mssDematerialisation".into(),
        }
    }
}

/// Test identities of the sandbox, written by `tests/sandbox/up` for tests and the demo.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SandboxInfo {
    /// People who can log in at the sandbox PSC.
    #[serde(default)]
    pub people: Vec<SandboxPerson>,
    /// Patients (Mon espace santé mailboxes).
    #[serde(default)]
    pub patients: Vec<SandboxPatient>,
    /// A national id the sandbox PSC refuses as CIBA `login_hint`.
    #[serde(default)]
    pub refused_login_hint: Option<String>,
    /// Dovecot master login (`user*master`) for tests that inspect any mailbox.
    #[serde(default)]
    pub master_user: Option<String>,
    /// Its password (sandbox only).
    #[serde(default)]
    pub master_password: Option<String>,
}

/// A professional of the sandbox.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SandboxPerson {
    /// Short key used by tests (`practitioner`, `secretary`, …).
    pub role: String,
    /// PSC national id (`SubjectNameID`).
    pub national_id: String,
    /// Given name.
    pub given_name: String,
    /// Family name.
    pub family_name: String,
    /// Personal mailbox, if any.
    #[serde(default)]
    pub personal_mailbox: Option<String>,
    /// Every mailbox this person may open (personal and service mailboxes).
    #[serde(default)]
    pub mailboxes: Vec<String>,
}

/// A patient of the sandbox.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SandboxPatient {
    /// INS matricule (15 characters, key included).
    pub ins: String,
    /// Birth family name.
    pub family_name: String,
    /// First given name.
    pub given_name: String,
    /// Mailbox address `<INS>@<patient_domain>`.
    pub address: String,
    /// Password for reading this mailbox in tests (PLAIN, sandbox only).
    pub password: String,
}

impl Config {
    /// Reads and validates a configuration file. Relative paths inside it are resolved
    /// against the file's directory.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut cfg = Self::parse(&text).map_err(|message| ConfigError::Parse {
            path: path.to_owned(),
            message,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        cfg.resolve_paths(base);
        cfg.validate().map_err(|message| ConfigError::Invalid {
            path: path.to_owned(),
            message,
        })?;
        Ok(cfg)
    }

    /// Parses TOML text without touching the file system.
    pub fn parse(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    fn resolve_paths(&mut self, base: &Path) {
        let fix = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        fix(&mut self.operator.trust_anchors);
        if let Some(p) = self.psc.ca_file.as_mut() {
            fix(p);
        }
        if let Some(p) = self.data_dir.as_mut() {
            fix(p);
        }
    }

    /// Checks rules that the schema alone cannot express.
    pub fn validate(&self) -> Result<(), String> {
        let clients = std::iter::once(&self.psc.browser).chain(self.psc.ciba.as_ref());
        for c in clients {
            if let Some(SecretRef::SandboxLiteral(_)) = c.client_secret {
                if self.environment != Environment::Sandbox {
                    return Err(format!(
                        "client {}: a literal secret is only allowed in the sandbox; \
                         use client_secret = {{ keyring = \"…\" }}",
                        c.client_id
                    ));
                }
            }
            if c.client_auth != ClientAuth::None && c.client_secret.is_none() {
                return Err(format!(
                    "client {}: client_auth {:?} needs client_secret",
                    c.client_id, c.client_auth
                ));
            }
        }
        if let Some(f) = self.directory.as_ref().and_then(|d| d.fhir.as_ref()) {
            let sandbox = self.environment == Environment::Sandbox;
            if let Some(SecretRef::SandboxLiteral(_)) = f.api_key {
                if !sandbox {
                    return Err(
                        "[directory.fhir] api_key: a literal key is only allowed in the \
                                sandbox; use api_key = { keyring = \"…\" }"
                            .into(),
                    );
                }
            }
            let allowed = f.base_url.starts_with("https://")
                || (sandbox && f.base_url.starts_with("http://"));
            if !allowed {
                return Err(format!(
                    "[directory.fhir] base_url {}: the API must be an https:// URL",
                    f.base_url
                ));
            }
            if f.timeout_secs == 0 {
                return Err("[directory.fhir] timeout_secs must be at least 1".into());
            }
        }
        if self.sandbox.is_some() && self.environment != Environment::Sandbox {
            return Err("[sandbox] is only allowed with environment = \"sandbox\"".into());
        }
        if let Some(url) = &self.updates.endpoint {
            let https = url.starts_with("https://");
            let local_http = self.environment == Environment::Sandbox && url.starts_with("http://");
            if !https && !local_http {
                return Err(format!(
                    "[updates] endpoint {url}: an update endpoint must be an https:// URL"
                ));
            }
        }
        Ok(())
    }

    /// A copy fit for printing: every literal secret the sandbox may hold is replaced by
    /// `<redacted>` (keyring references are names, not secrets, and stay).
    pub fn redacted(&self) -> Self {
        let mut cfg = self.clone();
        let clients = std::iter::once(&mut cfg.psc.browser).chain(cfg.psc.ciba.as_mut());
        for c in clients {
            if let Some(SecretRef::SandboxLiteral(s)) = c.client_secret.as_mut() {
                *s = REDACTED.into();
            }
        }
        if let Some(SecretRef::SandboxLiteral(k)) = cfg
            .directory
            .as_mut()
            .and_then(|d| d.fhir.as_mut())
            .and_then(|f| f.api_key.as_mut())
        {
            *k = REDACTED.into();
        }
        if let Some(sb) = cfg.sandbox.as_mut() {
            for p in &mut sb.patients {
                p.password = REDACTED.into();
            }
            if sb.master_password.is_some() {
                sb.master_password = Some(REDACTED.into());
            }
        }
        cfg
    }

    /// The full discovery URL (issuer + discovery path).
    pub fn discovery_url(&self) -> String {
        format!(
            "{}{}",
            self.psc.issuer.trim_end_matches('/'),
            self.discovery_path()
        )
    }

    fn discovery_path(&self) -> &str {
        &self.psc.discovery_path
    }
}

const REDACTED: &str = "<redacted>";

/// Where the configuration in use was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConfigSource {
    /// `--config FILE` on the command line.
    CommandLine,
    /// The `PLI_CONFIG` environment variable.
    Environment,
    /// The machine-wide file an administrator deployed (`/etc/pli/pli.toml`, …).
    Machine,
    /// The user's own file (`$XDG_CONFIG_HOME/pli/pli.toml`, …).
    User,
}

impl ConfigSource {
    /// A short description for people, French first.
    pub fn describe(self) -> &'static str {
        match self {
            Self::CommandLine => "ligne de commande / command line (--config)",
            Self::Environment => "variable d'environnement / environment (PLI_CONFIG)",
            Self::Machine => "fichier de l'établissement / machine-wide file",
            Self::User => "fichier de l'utilisateur / per-user file",
        }
    }
}

/// A configuration file and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// The file.
    pub path: PathBuf,
    /// How it was chosen.
    pub source: ConfigSource,
}

/// The files Pli looks for when neither `--config` nor `PLI_CONFIG` names one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidates {
    /// The machine-wide file (deployed by IT; wins over the user's file).
    pub machine: Option<PathBuf>,
    /// The per-user file.
    pub user: Option<PathBuf>,
}

impl Candidates {
    /// This platform's locations, with directories taken from `env` (a lookup such as
    /// `std::env::var_os`, replaceable in tests):
    /// - Linux and other Unix: `/etc/pli/pli.toml`, then `$XDG_CONFIG_HOME/pli/pli.toml`
    ///   (default `$HOME/.config/pli/pli.toml`);
    /// - Windows: `%ProgramData%\Pli\pli.toml` (default `C:\ProgramData`), then
    ///   `%APPDATA%\Pli\pli.toml`;
    /// - macOS: `/Library/Application Support/Pli/pli.toml`, then
    ///   `$HOME/Library/Application Support/Pli/pli.toml`.
    pub fn for_platform(env: &dyn Fn(&str) -> Option<OsString>) -> Self {
        Self::for_os(std::env::consts::OS, env)
    }

    /// The locations for `os` (a value of `std::env::consts::OS`).
    pub fn for_os(os: &str, env: &dyn Fn(&str) -> Option<OsString>) -> Self {
        let dir = |k: &str| env(k).filter(|v| !v.is_empty()).map(PathBuf::from);
        match os {
            "windows" => Self {
                machine: Some(
                    dir("ProgramData")
                        .unwrap_or_else(|| PathBuf::from(r"C:\ProgramData"))
                        .join("Pli")
                        .join(FILE_NAME),
                ),
                user: dir("APPDATA").map(|d| d.join("Pli").join(FILE_NAME)),
            },
            "macos" => Self {
                machine: Some(PathBuf::from("/Library/Application Support/Pli").join(FILE_NAME)),
                user: dir("HOME")
                    .map(|h| h.join("Library/Application Support/Pli").join(FILE_NAME)),
            },
            _ => Self {
                machine: Some(PathBuf::from("/etc/pli").join(FILE_NAME)),
                user: dir("XDG_CONFIG_HOME")
                    .or_else(|| dir("HOME").map(|h| h.join(".config")))
                    .map(|d| d.join("pli").join(FILE_NAME)),
            },
        }
    }
}

const FILE_NAME: &str = "pli.toml";

/// Finds the configuration file, in this order (the first that applies wins):
/// 1. `cli`, the `--config FILE` argument;
/// 2. the `PLI_CONFIG` environment variable (ignored when empty);
/// 3. the machine-wide file, if it exists;
/// 4. the per-user file, if it exists.
///
/// `None` when there is none. The file is not read here; `Config::load` reports its errors.
pub fn locate(cli: Option<&Path>) -> Option<Located> {
    let env = |k: &str| std::env::var_os(k);
    locate_with(cli, env("PLI_CONFIG"), &Candidates::for_platform(&env))
}

/// `locate` with its inputs given: the `--config` argument, the value of `PLI_CONFIG` and
/// the candidate files.
pub fn locate_with(
    cli: Option<&Path>,
    env_config: Option<OsString>,
    candidates: &Candidates,
) -> Option<Located> {
    if let Some(p) = cli {
        return Some(Located {
            path: p.to_owned(),
            source: ConfigSource::CommandLine,
        });
    }
    if let Some(v) = env_config.filter(|v| !v.is_empty()) {
        return Some(Located {
            path: PathBuf::from(v),
            source: ConfigSource::Environment,
        });
    }
    let found = |p: &Option<PathBuf>, source| {
        p.as_ref().filter(|p| p.is_file()).map(|p| Located {
            path: p.clone(),
            source,
        })
    };
    found(&candidates.machine, ConfigSource::Machine)
        .or_else(|| found(&candidates.user, ConfigSource::User))
}

#[cfg(test)]
mod tests;
