//! The FHIR Annuaire Santé v2 API as a directory source (`[directory.fhir]`).
//!
//! MSSanté mailboxes are `telecom` entries of three resources: `Practitioner` (personal PER
//! and practice CAB mailboxes), `PractitionerRole` (PER mailboxes tied to a structure) and
//! `Organization` (ORG and APP). A mailbox is a `ContactPoint` with `system = email`, the FR
//! Core e-mail type extension set to `MSSANTE`, and the Annuaire's metadata extension (type
//! PER/ORG/APP/CAB, `listeRouge`, description, service). Entries whose `listeRouge` is true
//! are dropped here, before anything else sees them.
//!
//! What the gateway supports decides the queries (decision 0022):
//! - each resource is searched on its own (`_type=` multi-search is refused by the gateway);
//! - a mailbox fragment uses `mailbox-mss:contains` on the three resources;
//! - a name uses `Practitioner?name=` (every word, AND; with the practitioners' roles through
//!   `_revinclude`) and `Organization?name:contains=`; `PractitionerRole` has no name search;
//! - the mailbox type (`mailbox-mss-type`) is not exposed: it is filtered here, and it also
//!   decides which resources are asked at all;
//! - every other criterion (profession, city, …) is checked locally by [`super::refine`].
//!
//! Paging follows `Bundle.link[next]` as given (same origin as the base URL only: the API key
//! is never sent elsewhere), at most [`MAX_PAGES`] pages per search; beyond that the answer
//! is flagged as truncated. The key (`ESANTE-API-KEY`) comes from the OS keyring; a literal is
//! accepted in the sandbox only.

use std::collections::HashMap;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue, ACCEPT};
use serde_json::Value;

use super::{words, Query, SearchOutcome};
use crate::config::{Environment, FhirDirectoryConfig, MailboxKind, SecretRef};

mod shapes;

pub use shapes::department_of_postal_code;
use shapes::{parse_bundle, reference_id, Bundle, Found};

/// Resources asked per page (the gateway may return fewer).
pub const PAGE_SIZE: u32 = 50;
/// Pages followed per resource search before the answer is declared truncated.
pub const MAX_PAGES: usize = 10;
/// Largest response body accepted (one page of one search).
const MAX_BODY: usize = 16 * 1024 * 1024;
/// Identifiers per `_id=` look-up of referenced resources.
const ID_CHUNK: usize = 50;

/// The API key header of the Annuaire Santé gateway.
pub const API_KEY_HEADER: &str = "ESANTE-API-KEY";
/// FR Core extension giving the kind of e-mail address.
pub const EMAIL_TYPE_URL: &str =
    "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-contact-point-email-type";
/// Annuaire Santé extension with the MSSanté mailbox metadata.
pub const MAILBOX_METADATA_URL: &str =
    "https://interop.esante.gouv.fr/ig/fhir/annuaire/StructureDefinition/as-ext-mailbox-mss-metadata";
/// Profession codes (TRE_G15).
const PROFESSION_SYSTEM: &str =
    "https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante";
/// Specialty (savoir-faire) codes (TRE_R38).
const SPECIALTY_SYSTEM: &str =
    "https://mos.esante.gouv.fr/NOS/TRE_R38-SpecialiteOrdinale/FHIR/TRE-R38-SpecialiteOrdinale";

/// Errors of the FHIR source, with what the user can do about them.
#[derive(Debug, thiserror::Error)]
pub enum FhirError {
    /// 401/403 from the gateway.
    #[error("{}", unauthorized_message(*.status, *.key_sent))]
    Unauthorized {
        /// HTTP status.
        status: u16,
        /// Whether a key was sent at all.
        key_sent: bool,
    },
    /// 429: the key's quota is spent for now.
    #[error("{}", rate_limited_message(*.0))]
    RateLimited(Option<u64>),
    /// No answer in time.
    #[error("annuaire FHIR : le serveur ne répond pas (plus de {0} s) ; réessayez plus tard")]
    Timeout(u64),
    /// Connection refused, DNS, TLS…
    #[error("annuaire FHIR injoignable ({url}) : {detail}")]
    Unreachable {
        /// The base URL.
        url: String,
        /// Why.
        detail: String,
    },
    /// A body that is not the JSON Bundle expected.
    #[error("annuaire FHIR : réponse illisible du serveur ({0}) ; réessayez plus tard")]
    Malformed(String),
    /// Any other HTTP error.
    #[error("annuaire FHIR : le serveur a refusé la recherche (HTTP {status}) : {detail}")]
    Http {
        /// HTTP status.
        status: u16,
        /// The server's diagnostics, when it gave some.
        detail: String,
    },
    /// Only criteria the API cannot search were given.
    #[error(
        "annuaire FHIR : précisez un nom (2 lettres au moins) ou une partie de l'adresse de \
         messagerie"
    )]
    NeedsNameOrMail,
    /// The API key could not be read.
    #[error("annuaire FHIR : clé d'API indisponible ({0})")]
    Key(String),
    /// The configuration cannot be used.
    #[error("annuaire FHIR : configuration invalide : {0}")]
    Config(String),
    /// A paging link pointing outside the configured API.
    #[error("annuaire FHIR : lien de page refusé, il sort de {0}")]
    ForeignLink(String),
}

fn unauthorized_message(status: u16, key_sent: bool) -> String {
    if key_sent {
        format!(
            "annuaire FHIR : clé d'API refusée (HTTP {status}) ; vérifiez la clé \
             ESANTE-API-KEY de [directory.fhir]"
        )
    } else {
        format!(
            "annuaire FHIR : accès refusé (HTTP {status}) : aucune clé ESANTE-API-KEY n'est \
             configurée ([directory.fhir] api_key)"
        )
    }
}

fn rate_limited_message(after: Option<u64>) -> String {
    match after {
        Some(n) => format!("annuaire FHIR : trop de requêtes, réessayez dans {n} s"),
        None => "annuaire FHIR : trop de requêtes, réessayez dans quelques secondes".into(),
    }
}

/// The resources that carry mailboxes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Practitioner,
    Role,
    Organization,
}

impl Kind {
    fn path(self) -> &'static str {
        match self {
            Kind::Practitioner => "Practitioner",
            Kind::Role => "PractitionerRole",
            Kind::Organization => "Organization",
        }
    }

    fn of(resource_type: &str) -> Option<Self> {
        match resource_type {
            "Practitioner" => Some(Kind::Practitioner),
            "PractitionerRole" => Some(Kind::Role),
            "Organization" => Some(Kind::Organization),
            _ => None,
        }
    }
}

/// A client of the FHIR Annuaire Santé API. Cheap to keep: one HTTP client (connection
/// pool), the key read once.
pub struct FhirDirectory {
    http: reqwest::Client,
    base: url::Url,
    key_sent: bool,
    timeout: Duration,
}

impl std::fmt::Debug for FhirDirectory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FhirDirectory")
            .field("base", &self.base.as_str())
            .field("key", &if self.key_sent { "<redacted>" } else { "none" })
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl FhirDirectory {
    /// A client for `config` in `environment`: the key is read from the keyring now (a
    /// literal only in the sandbox).
    pub fn new(config: &FhirDirectoryConfig, environment: Environment) -> Result<Self, FhirError> {
        let key = match &config.api_key {
            None => None,
            Some(SecretRef::Keyring(account)) => {
                Some(crate::secrets::get(account).map_err(|e| FhirError::Key(e.to_string()))?)
            }
            Some(SecretRef::SandboxLiteral(k)) if environment == Environment::Sandbox => {
                Some(k.clone())
            }
            Some(SecretRef::SandboxLiteral(_)) => {
                return Err(FhirError::Config(
                    "clé littérale refusée hors du bac à sable".into(),
                ))
            }
        };
        Self::with_key(config, key.as_deref())
    }

    /// A client with the key given directly (or none).
    pub fn with_key(config: &FhirDirectoryConfig, key: Option<&str>) -> Result<Self, FhirError> {
        let mut base = url::Url::parse(config.base_url.trim())
            .map_err(|e| FhirError::Config(format!("base_url {} : {e}", config.base_url)))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(FhirError::Config(format!(
                "base_url {} : http(s) attendu",
                config.base_url
            )));
        }
        // `join` keeps the last path segment only when the path ends with a slash.
        if !base.path().ends_with('/') {
            let p = format!("{}/", base.path());
            base.set_path(&p);
        }
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/fhir+json"));
        if let Some(k) = key {
            let mut v = HeaderValue::from_str(k.trim())
                .map_err(|_| FhirError::Key("caractères invalides dans la clé".into()))?;
            v.set_sensitive(true);
            headers.insert(API_KEY_HEADER, v);
        }
        let timeout = Duration::from_secs(config.timeout_secs.max(1));
        let http = reqwest::Client::builder()
            // A redirect could carry the key to another host: none is followed.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .timeout(timeout)
            .user_agent(concat!("Pli/", env!("CARGO_PKG_VERSION")))
            .default_headers(headers)
            .build()
            .map_err(|e| FhirError::Config(e.to_string()))?;
        Ok(Self {
            http,
            base,
            key_sent: key.is_some(),
            timeout,
        })
    }

    /// Searches the API: see the module documentation for what is asked and what is checked
    /// locally. Red-listed mailboxes never come out.
    pub async fn search(&self, query: &Query) -> Result<SearchOutcome, FhirError> {
        let mail = query
            .mail
            .as_deref()
            .map(|m| m.chars().filter(|c| !c.is_control()).collect::<String>())
            .map(|m| m.trim().to_lowercase())
            .filter(|m| !m.is_empty());
        let name_words: Vec<String> = query
            .name
            .as_deref()
            .map(words)
            .unwrap_or_default()
            .into_iter()
            .filter(|w| w.chars().count() >= 2)
            .collect();
        if mail.is_none() && name_words.is_empty() {
            return Err(FhirError::NeedsNameOrMail);
        }
        let wanted = wanted_kinds(query.kind);
        let mut found = Found::default();
        let mut truncated = false;
        if let Some(m) = &mail {
            let m = escape(m);
            if wanted.contains(&Kind::Practitioner) {
                truncated |= self
                    .run(
                        Kind::Practitioner,
                        &[("mailbox-mss:contains", m.clone())],
                        &mut found,
                    )
                    .await?;
            }
            if wanted.contains(&Kind::Role) {
                let params = [
                    ("mailbox-mss:contains", m.clone()),
                    ("_include", "PractitionerRole:organization".into()),
                    ("_include", "PractitionerRole:practitioner".into()),
                ];
                truncated |= self.run(Kind::Role, &params, &mut found).await?;
            }
            if wanted.contains(&Kind::Organization) {
                truncated |= self
                    .run(
                        Kind::Organization,
                        &[("mailbox-mss:contains", m)],
                        &mut found,
                    )
                    .await?;
            }
        } else {
            if wanted.contains(&Kind::Practitioner) || wanted.contains(&Kind::Role) {
                let mut params: Vec<(&str, String)> =
                    name_words.iter().map(|w| ("name", escape(w))).collect();
                if wanted.contains(&Kind::Role) {
                    params.push(("_revinclude", "PractitionerRole:practitioner".into()));
                }
                truncated |= self.run(Kind::Practitioner, &params, &mut found).await?;
                // Roles come in as includes of the practitioners that matched.
                if wanted.contains(&Kind::Role) {
                    let roles: Vec<String> = found.res[&Kind::Role].keys().cloned().collect();
                    found
                        .matched
                        .extend(roles.into_iter().map(|id| (Kind::Role, id)));
                }
            }
            if wanted.contains(&Kind::Organization) {
                let params: Vec<(&str, String)> = name_words
                    .iter()
                    .map(|w| ("name:contains", escape(w)))
                    .collect();
                truncated |= self.run(Kind::Organization, &params, &mut found).await?;
            }
        }
        self.resolve_references(&mut found).await?;
        let entries = found.entries(&wanted);
        Ok(SearchOutcome {
            entries: super::refine(entries, query),
            truncated,
        })
    }

    /// Runs one search and follows its pages; true when pages were left unread.
    async fn run(
        &self,
        kind: Kind,
        params: &[(&str, String)],
        found: &mut Found,
    ) -> Result<bool, FhirError> {
        let mut url = self
            .base
            .join(kind.path())
            .map_err(|e| FhirError::Config(e.to_string()))?;
        {
            let mut q = url.query_pairs_mut();
            for (k, v) in params {
                q.append_pair(k, v);
            }
            q.append_pair("_count", &PAGE_SIZE.to_string());
        }
        for _ in 0..MAX_PAGES {
            let bundle = self.get_bundle(url.clone()).await?;
            found.add(kind, &bundle);
            match bundle.next() {
                None => return Ok(false),
                Some(next) => url = self.same_origin(next)?,
            }
        }
        Ok(true)
    }

    /// Fetches the practitioners and organisations that roles point to and that no search
    /// brought back (with `_id=a,b,…`).
    async fn resolve_references(&self, found: &mut Found) -> Result<(), FhirError> {
        let mut missing: HashMap<Kind, Vec<String>> = HashMap::new();
        for r in found.res[&Kind::Role].values() {
            for (kind, field) in [
                (Kind::Practitioner, "practitioner"),
                (Kind::Organization, "organization"),
            ] {
                if let Some(id) = reference_id(r, field, kind) {
                    if !found.res[&kind].contains_key(&id) {
                        missing.entry(kind).or_default().push(id);
                    }
                }
            }
        }
        for (kind, mut ids) in missing {
            ids.sort();
            ids.dedup();
            for chunk in ids.chunks(ID_CHUNK) {
                let ids = chunk
                    .iter()
                    .map(|i| escape(i))
                    .collect::<Vec<_>>()
                    .join(",");
                let mut extra = Found::default();
                self.run(kind, &[("_id", ids)], &mut extra).await?;
                // Looked up for their details only: never results themselves.
                for (k, map) in extra.res {
                    found.res.get_mut(&k).expect("every kind").extend(map);
                }
            }
        }
        Ok(())
    }

    fn same_origin(&self, next: &str) -> Result<url::Url, FhirError> {
        let url = self
            .base
            .join(next)
            .map_err(|e| FhirError::Malformed(format!("lien de page : {e}")))?;
        if url.origin() != self.base.origin() {
            return Err(FhirError::ForeignLink(
                self.base.origin().ascii_serialization(),
            ));
        }
        Ok(url)
    }

    async fn get_bundle(&self, url: url::Url) -> Result<Bundle, FhirError> {
        let resp = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| self.transport(e))?;
        let status = resp.status();
        if status.is_success() {
            let body = self.read_body(resp).await?;
            return parse_bundle(&body);
        }
        let code = status.as_u16();
        match code {
            401 | 403 => Err(FhirError::Unauthorized {
                status: code,
                key_sent: self.key_sent,
            }),
            429 => Err(FhirError::RateLimited(retry_after(resp.headers()))),
            _ => {
                let body = self.read_body(resp).await.unwrap_or_default();
                Err(FhirError::Http {
                    status: code,
                    detail: diagnostics(&body),
                })
            }
        }
    }

    async fn read_body(&self, mut resp: reqwest::Response) -> Result<Vec<u8>, FhirError> {
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.transport(e))? {
            if body.len() + chunk.len() > MAX_BODY {
                return Err(FhirError::Malformed(format!(
                    "réponse de plus de {} Mo",
                    MAX_BODY / (1024 * 1024)
                )));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    fn transport(&self, e: reqwest::Error) -> FhirError {
        if e.is_timeout() {
            FhirError::Timeout(self.timeout.as_secs())
        } else if e.is_decode() || e.is_body() {
            FhirError::Malformed(e.to_string())
        } else {
            // The error's chain says why (refused, DNS, TLS); the URL has no secret in it.
            let mut detail = e.to_string();
            let mut src = std::error::Error::source(&e);
            while let Some(s) = src {
                detail = format!("{detail} : {s}");
                src = s.source();
            }
            FhirError::Unreachable {
                url: self.base.as_str().to_owned(),
                detail,
            }
        }
    }
}

impl super::DirectorySource for FhirDirectory {
    async fn search(&mut self, query: &Query) -> Result<SearchOutcome, super::AnnuaireError> {
        Ok(FhirDirectory::search(self, query).await?)
    }
}

/// The resource kinds worth asking for a mailbox type.
fn wanted_kinds(kind: Option<MailboxKind>) -> Vec<Kind> {
    match kind {
        None => vec![Kind::Practitioner, Kind::Role, Kind::Organization],
        Some(MailboxKind::Personal) => vec![Kind::Practitioner, Kind::Role],
        Some(MailboxKind::Cabinet) => vec![Kind::Practitioner],
        Some(MailboxKind::Organisational | MailboxKind::Applicative) => {
            vec![Kind::Organization]
        }
    }
}

/// FHIR search escaping (`\`, `,`, `$`, `|`): user text stays one value.
fn escape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        if matches!(c, '\\' | ',' | '$' | '|') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `Retry-After` in seconds (delta or HTTP date), else the Gravitee gateway's
/// `X-Rate-Limit-Reset` (epoch milliseconds).
fn retry_after(h: &HeaderMap) -> Option<u64> {
    let text = |name: &str| h.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    let now = time::OffsetDateTime::now_utc();
    if let Some(v) = text("retry-after") {
        if let Ok(n) = v.parse::<u64>() {
            return Some(n);
        }
        if let Ok(at) =
            time::OffsetDateTime::parse(v, &time::format_description::well_known::Rfc2822)
        {
            return Some((at - now).whole_seconds().max(1) as u64);
        }
    }
    let reset_ms = text("x-rate-limit-reset")?.parse::<i128>().ok()?;
    let now_ms = now.unix_timestamp_nanos() / 1_000_000;
    Some(((reset_ms - now_ms + 999) / 1000).max(1) as u64)
}

/// The server's explanation from an OperationOutcome or a gateway JSON body, shortened.
fn diagnostics(body: &[u8]) -> String {
    let v: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(_) => return String::from_utf8_lossy(body).chars().take(200).collect(),
    };
    let issues = v["issue"].as_array().map(|issues| {
        issues
            .iter()
            .filter_map(|i| i["diagnostics"].as_str())
            .collect::<Vec<_>>()
            .join(" ; ")
    });
    issues
        .filter(|s| !s.is_empty())
        .or_else(|| v["message"].as_str().map(str::to_owned))
        .unwrap_or_else(|| "sans détail".into())
        .chars()
        .take(300)
        .collect()
}

#[cfg(test)]
mod tests;
