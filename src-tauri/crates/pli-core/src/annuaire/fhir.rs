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

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue, ACCEPT};
use serde::Deserialize;
use serde_json::Value;

use super::{fold, words, DirectoryEntry, Query, SearchOutcome};
use crate::config::{Environment, FhirDirectoryConfig, MailboxKind, SecretRef};

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

// ---------------------------------------------------------------- the FHIR shapes we read

#[derive(Debug, Deserialize)]
struct Bundle {
    #[serde(rename = "resourceType")]
    resource_type: String,
    #[serde(default)]
    link: Vec<Link>,
    #[serde(default)]
    entry: Vec<Entry>,
}

impl Bundle {
    fn next(&self) -> Option<&str> {
        self.link
            .iter()
            .find(|l| l.relation == "next")
            .map(|l| l.url.as_str())
            .filter(|u| !u.is_empty())
    }
}

#[derive(Debug, Deserialize)]
struct Link {
    relation: String,
    url: String,
}

#[derive(Debug, Deserialize)]
struct Entry {
    #[serde(default)]
    resource: Option<Value>,
    #[serde(default)]
    search: Option<EntrySearch>,
}

#[derive(Debug, Deserialize)]
struct EntrySearch {
    #[serde(default)]
    mode: Option<String>,
}

fn parse_bundle(body: &[u8]) -> Result<Bundle, FhirError> {
    let b: Bundle =
        serde_json::from_slice(body).map_err(|e| FhirError::Malformed(format!("JSON : {e}")))?;
    if b.resource_type != "Bundle" {
        return Err(FhirError::Malformed(format!(
            "{} reçu au lieu d'un Bundle",
            b.resource_type
        )));
    }
    Ok(b)
}

/// Resources gathered from every page, and which of them matched a search (the others were
/// included for their details).
#[derive(Debug)]
struct Found {
    res: HashMap<Kind, HashMap<String, Value>>,
    matched: Vec<(Kind, String)>,
}

impl Default for Found {
    fn default() -> Self {
        Self {
            res: [Kind::Practitioner, Kind::Role, Kind::Organization]
                .into_iter()
                .map(|k| (k, HashMap::new()))
                .collect(),
            matched: Vec::new(),
        }
    }
}

impl Found {
    fn add(&mut self, searched: Kind, bundle: &Bundle) {
        for e in &bundle.entry {
            let Some(r) = &e.resource else { continue };
            let Some(kind) = r["resourceType"].as_str().and_then(Kind::of) else {
                continue;
            };
            let Some(id) = r["id"].as_str() else { continue };
            let mode = e.search.as_ref().and_then(|s| s.mode.as_deref());
            let is_match = match mode {
                Some("match") => true,
                Some(_) => false,
                None => kind == searched,
            };
            if is_match {
                self.matched.push((kind, id.to_owned()));
            }
            self.res
                .get_mut(&kind)
                .expect("every kind")
                .insert(id.to_owned(), r.clone());
        }
    }

    /// One entry per published mailbox of the matched resources of the wanted kinds.
    fn entries(&self, wanted: &[Kind]) -> Vec<DirectoryEntry> {
        let mut out: HashMap<String, DirectoryEntry> = HashMap::new();
        let mut seen = HashSet::new();
        for (kind, id) in &self.matched {
            if !wanted.contains(kind) || !seen.insert((*kind, id.clone())) {
                continue;
            }
            let Some(r) = self.res[kind].get(id) else {
                continue;
            };
            let person = match kind {
                Kind::Practitioner => Some(r),
                Kind::Role => reference_id(r, "practitioner", Kind::Practitioner)
                    .and_then(|p| self.res[&Kind::Practitioner].get(&p)),
                Kind::Organization => None,
            };
            let org = match kind {
                Kind::Organization => Some(r),
                Kind::Role => reference_id(r, "organization", Kind::Organization)
                    .and_then(|o| self.res[&Kind::Organization].get(&o)),
                Kind::Practitioner => None,
            };
            for mb in mailboxes(r) {
                let e = entry(*kind, &mb, person, org);
                let key = e.mail.to_lowercase();
                // A mailbox seen twice keeps the richer description.
                let richer = |old: &DirectoryEntry| old.organisation.is_none();
                if out.get(&key).is_none_or(richer) {
                    out.insert(key, e);
                }
            }
        }
        out.into_values().collect()
    }
}

/// The id in `resource[field].reference` when it points to a `kind` resource.
fn reference_id(resource: &Value, field: &str, kind: Kind) -> Option<String> {
    let r = resource[field]["reference"].as_str()?;
    let mut parts = r.trim_end_matches('/').rsplit('/');
    let id = parts.next()?;
    let ty = parts.next()?;
    (ty == kind.path() && !id.is_empty()).then(|| id.to_owned())
}

/// One MSSanté mailbox as the directory publishes it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Mailbox {
    mail: String,
    kind: Option<String>,
    description: Option<String>,
    service: Option<String>,
}

/// The published MSSanté mailboxes among a resource's `telecom`: e-mail contact points
/// typed `MSSANTE` (or carrying the mailbox metadata), red-listed ones left out.
fn mailboxes(resource: &Value) -> Vec<Mailbox> {
    let Some(telecom) = resource["telecom"].as_array() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for cp in telecom {
        if cp["system"].as_str() != Some("email") {
            continue;
        }
        let Some(mail) = cp["value"]
            .as_str()
            .map(str::trim)
            .filter(|m| m.contains('@'))
        else {
            continue;
        };
        let exts = cp["extension"].as_array().map(Vec::as_slice).unwrap_or(&[]);
        let ext = |url: &str| exts.iter().find(|e| e["url"].as_str() == Some(url));
        let typed_mss = ext(EMAIL_TYPE_URL)
            .is_some_and(|e| e["valueCoding"]["code"].as_str() == Some("MSSANTE"));
        let meta = ext(MAILBOX_METADATA_URL);
        if !typed_mss && meta.is_none() {
            continue; // an ordinary e-mail address, not an MSSanté mailbox
        }
        let sub = |name: &str| -> Option<&Value> {
            meta?["extension"]
                .as_array()?
                .iter()
                .find(|e| e["url"].as_str() == Some(name))
        };
        if sub("listeRouge").is_some_and(|e| e["valueBoolean"].as_bool() == Some(true)) {
            continue; // red list: must never be shown
        }
        let kind = sub("type").and_then(|e| {
            e["valueCodeableConcept"]["coding"]
                .as_array()?
                .iter()
                .filter_map(|c| c["code"].as_str())
                .map(str::to_ascii_uppercase)
                .find(|c| matches!(c.as_str(), "PER" | "ORG" | "APP" | "CAB"))
        });
        let text = |name: &str| {
            sub(name)
                .and_then(|e| e["valueString"].as_str())
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        out.push(Mailbox {
            mail: mail.to_owned(),
            kind,
            description: text("description"),
            service: text("service"),
        });
    }
    out
}

/// Family and given names from the practitioner's official (else first) name.
fn names(p: &Value) -> (Option<String>, Option<String>) {
    let Some(list) = p["name"].as_array() else {
        return (None, None);
    };
    let name = list
        .iter()
        .find(|n| n["use"].as_str() == Some("official"))
        .or_else(|| list.first());
    let Some(n) = name else { return (None, None) };
    let family = n["family"].as_str().map(str::to_owned);
    let given = n["given"].as_array().map(|g| {
        g.iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" ")
    });
    (
        family.filter(|s| !s.is_empty()),
        given.filter(|s| !s.is_empty()),
    )
}

/// The first code of `system` among the practitioner's qualifications.
fn qualification(p: &Value, system: &str) -> Option<String> {
    p["qualification"]
        .as_array()?
        .iter()
        .filter_map(|q| q["code"]["coding"].as_array())
        .flatten()
        .find(|c| c["system"].as_str() == Some(system))
        .and_then(|c| c["code"].as_str())
        .map(str::to_owned)
}

/// Street, postal code and city of the organisation's first address.
fn address(o: &Value) -> (Option<String>, Option<String>, Option<String>) {
    let Some(a) = o["address"].as_array().and_then(|a| a.first()) else {
        return (None, None, None);
    };
    let mut lines: Vec<String> = a["line"]
        .as_array()
        .map(|l| {
            l.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    if lines.is_empty() {
        // FR Core may give the street only as ISO 21090 parts on `_line`.
        if let Some(parts) = a["_line"].as_array() {
            for l in parts {
                let part = |suffix: &str| {
                    l["extension"].as_array().and_then(|x| {
                        x.iter()
                            .find(|e| e["url"].as_str().is_some_and(|u| u.ends_with(suffix)))
                            .and_then(|e| e["valueString"].as_str())
                    })
                };
                let s = [
                    part("ADXP-houseNumber"),
                    part("ADXP-streetNameType"),
                    part("ADXP-streetNameBase"),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
                if !s.is_empty() {
                    lines.push(s);
                }
            }
        }
    }
    let text = |k: &str| {
        a[k].as_str()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    (
        (!lines.is_empty()).then(|| lines.join(", ")),
        text("postalCode"),
        text("city"),
    )
}

/// The department of a French postal code: two digits, three overseas (97x, 98x), and
/// Corsica's 2A (200xx–201xx) or 2B (202xx–206xx).
pub fn department_of_postal_code(cp: &str) -> Option<String> {
    let cp = cp.trim();
    if cp.len() != 5 || !cp.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    Some(match &cp[..2] {
        "97" | "98" => cp[..3].to_owned(),
        "20" => if cp < "20200" { "2A" } else { "2B" }.to_owned(),
        d => d.to_owned(),
    })
}

fn entry(kind: Kind, mb: &Mailbox, person: Option<&Value>, org: Option<&Value>) -> DirectoryEntry {
    let (family, given) = person.map(names).unwrap_or((None, None));
    let person_name = match (&given, &family) {
        (Some(g), Some(f)) => Some(format!("{g} {f}")),
        (None, Some(f)) => Some(f.clone()),
        _ => None,
    };
    let org_name = org
        .and_then(|o| o["name"].as_str())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    let (street, postal_code, city) = org.map(address).unwrap_or((None, None, None));
    let is_cabinet = mb.kind.as_deref() == Some("CAB");
    let display_name = match kind {
        Kind::Organization => match (&mb.description, &org_name) {
            (Some(d), Some(o)) if !fold(o).contains(&fold(d)) => Some(format!("{d} — {o}")),
            (d, o) => o.clone().or_else(|| d.clone()),
        },
        _ if is_cabinet => mb.description.clone().or(person_name),
        _ => person_name.or_else(|| mb.description.clone()),
    };
    DirectoryEntry {
        mail: mb.mail.to_lowercase(),
        kind: mb.kind.clone(),
        display_name,
        given_name: given,
        family_name: family,
        profession: person.and_then(|p| qualification(p, PROFESSION_SYSTEM)),
        specialty: person.and_then(|p| qualification(p, SPECIALTY_SYSTEM)),
        organisation: if is_cabinet {
            mb.description.clone().or(org_name)
        } else {
            org_name
        },
        service: mb.service.clone(),
        street,
        department: postal_code.as_deref().and_then(department_of_postal_code),
        postal_code,
        city,
        dematerialisation: None,
    }
}

#[cfg(test)]
mod tests {
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
}
