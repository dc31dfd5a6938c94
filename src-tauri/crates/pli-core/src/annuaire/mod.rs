//! The MSSanté directory over LDAP (`ou=bal,o=mssante,c=fr`, ≤ 100 entries and 60 s per
//! query, Ref#2 ECO.3.1.4).
//!
//! One persistent connection per source (no bind per query, TCP_NODELAY), typed queries
//! turned into escaped filters ([`Query`]), entries mapped through the configured attribute
//! names into one [`DirectoryEntry`] type, truncation reported as "refine your search", and
//! results refined locally with accent folding ([`refine`]) so narrowing a query never needs
//! the server again when the previous answer was complete ([`Narrowing`]).

pub mod extraction;
pub mod fhir;
mod filter;
mod fold;
pub mod local;

pub use filter::{escape, kind_code, words, Query};
pub use fold::fold;

use std::collections::HashMap;
use std::time::Duration;

use ldap3::{LdapConnAsync, LdapConnSettings, Scope, SearchEntry, SearchOptions, StdStream};
use serde::Serialize;

use crate::config::{DirectoryAttributes, DirectoryConfig, MailboxKind};

/// Directory errors, with what the user can do about them.
#[derive(Debug, thiserror::Error)]
pub enum AnnuaireError {
    /// The server could not be reached.
    #[error("annuaire injoignable ({url}) : {detail}")]
    Unreachable {
        /// The source.
        url: String,
        /// Why.
        detail: String,
    },
    /// The server did not answer in time.
    #[error("l'annuaire ne répond pas (plus de {0} s) : réessayez plus tard")]
    Timeout(u64),
    /// A query with no criterion.
    #[error("précisez au moins un critère de recherche")]
    EmptyQuery,
    /// Protocol or server error.
    #[error("annuaire : {0}")]
    Ldap(#[from] ldap3::LdapError),
    /// The FHIR Annuaire Santé API.
    #[error(transparent)]
    Fhir(#[from] fhir::FhirError),
}

/// A live directory source (LDAP, FHIR) answering typed queries with the merged entry type.
pub trait DirectorySource {
    /// Runs `query`; a truncated answer is flagged, never shown as complete.
    fn search(
        &mut self,
        query: &Query,
    ) -> impl std::future::Future<Output = Result<SearchOutcome, AnnuaireError>> + Send;
}

impl DirectorySource for Directory {
    fn search(
        &mut self,
        query: &Query,
    ) -> impl std::future::Future<Output = Result<SearchOutcome, AnnuaireError>> + Send {
        Directory::search(self, query)
    }
}

/// One mailbox from the directory, whatever the source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export, export_to = "ipc.ts")]
pub struct DirectoryEntry {
    /// Mailbox address.
    pub mail: String,
    /// `PER`, `ORG`, `APP` or `CAB`, when known.
    pub kind: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
    /// Given name.
    pub given_name: Option<String>,
    /// Family name.
    pub family_name: Option<String>,
    /// Profession code.
    pub profession: Option<String>,
    /// Specialty code.
    pub specialty: Option<String>,
    /// Organisation.
    pub organisation: Option<String>,
    /// Service.
    pub service: Option<String>,
    /// Street address.
    pub street: Option<String>,
    /// Postal code.
    pub postal_code: Option<String>,
    /// City.
    pub city: Option<String>,
    /// Department code.
    pub department: Option<String>,
    /// Consent to dematerialised exchanges, when the source says.
    pub dematerialisation: Option<bool>,
}

/// The answer to one query.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[ts(export, export_to = "ipc.ts")]
pub struct SearchOutcome {
    /// Matching entries, sorted by family name, given name, address.
    pub entries: Vec<DirectoryEntry>,
    /// The server stopped at its size or time limit: the list is incomplete and the user
    /// must refine the search; never shown as the full list.
    pub truncated: bool,
}

/// Raw attributes of one entry.
#[derive(Debug, Clone)]
pub struct RawEntry {
    /// Distinguished name.
    pub dn: String,
    /// Attributes and their values.
    pub attrs: HashMap<String, Vec<String>>,
}

/// The raw answer to one filter.
#[derive(Debug, Clone)]
pub struct SearchResult {
    /// Entries returned.
    pub entries: Vec<RawEntry>,
    /// Size or time limit reached.
    pub truncated: bool,
}

/// How long the client waits for an answer beyond the server-side time limit.
const CLIENT_GRACE: Duration = Duration::from_secs(5);

/// An open connection to one LDAP source, reused across queries and reopened when it drops.
///
/// LDAP multiplexes operations by message id, so concurrent queries share the one connection:
/// each takes a clone of the handle and waits for its own answer with its own timeout. A query
/// typed while an earlier one hangs on a stalled server is therefore never queued behind it
/// (the compose window asks again at each pause in typing).
#[derive(Debug)]
pub struct Directory {
    ldap: tokio::sync::Mutex<Option<ldap3::Ldap>>,
    config: DirectoryConfig,
    timeout: Duration,
}

impl Directory {
    /// Connects (anonymously) to the configured source.
    pub async fn connect(config: &DirectoryConfig) -> Result<Self, AnnuaireError> {
        let timeout = Duration::from_secs(config.time_limit_secs.max(1) as u64) + CLIENT_GRACE;
        let d = Self {
            ldap: tokio::sync::Mutex::new(None),
            config: config.clone(),
            timeout,
        };
        d.handle().await?;
        Ok(d)
    }

    /// Overrides how long to wait for each answer (the default is the server's time limit
    /// plus a grace period).
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// A handle on the open connection, reopened first if it was closed or dropped.
    async fn handle(&self) -> Result<ldap3::Ldap, AnnuaireError> {
        let mut guard = self.ldap.lock().await;
        let closed = match guard.as_mut() {
            None => true,
            Some(l) => l.is_closed(),
        };
        if closed {
            *guard = Some(open(&self.config, self.timeout).await?);
        }
        Ok(guard.as_ref().expect("just opened").clone())
    }

    /// Forgets the connection after a failed query: its state is unknown, the next query
    /// opens a new one.
    async fn drop_connection(&self) {
        *self.ldap.lock().await = None;
    }

    /// Runs a typed query and maps the entries; see [`Query::to_filter`] and [`refine`].
    pub async fn search(&self, query: &Query) -> Result<SearchOutcome, AnnuaireError> {
        if query.is_empty() {
            return Err(AnnuaireError::EmptyQuery);
        }
        let a = self.config.attributes.clone();
        let filter = query.to_filter(&a);
        let attrs = requested_attributes(&a);
        let raw = self.search_raw(&filter, &attrs).await?;
        let entries = raw.entries.iter().map(|e| map_entry(e, &a)).collect();
        Ok(SearchOutcome {
            entries: refine(entries, query),
            truncated: raw.truncated,
        })
    }

    /// Runs a raw filter (the caller escapes user text) and reports truncation.
    pub async fn search_raw(
        &self,
        filter: &str,
        attrs: &[&str],
    ) -> Result<SearchResult, AnnuaireError> {
        let opts = SearchOptions::new()
            .sizelimit(self.config.size_limit)
            .timelimit(self.config.time_limit_secs);
        let base = self.config.base_dn.clone();
        let timeout = self.timeout;
        let mut ldap = self.handle().await?;
        let res = ldap
            .with_search_options(opts)
            .with_timeout(timeout)
            .search(&base, Scope::Subtree, filter, attrs.to_vec())
            .await;
        let res = match res {
            Ok(r) => r,
            Err(ldap3::LdapError::Timeout { .. }) => {
                // The connection is in an unknown state: drop it, reopen on the next query.
                self.drop_connection().await;
                return Err(AnnuaireError::Timeout(timeout.as_secs()));
            }
            Err(e) => {
                self.drop_connection().await;
                return Err(e.into());
            }
        };
        let (entries, result) = (res.0, res.1);
        // rc 4 = sizeLimitExceeded, rc 3 = timeLimitExceeded: partial answers.
        let truncated = matches!(result.rc, 3 | 4);
        if !truncated {
            result.success()?;
        }
        let entries = entries
            .into_iter()
            .map(|e| {
                let e = SearchEntry::construct(e);
                RawEntry {
                    dn: e.dn,
                    attrs: e.attrs.into_iter().collect(),
                }
            })
            .collect();
        Ok(SearchResult { entries, truncated })
    }
}

async fn open(config: &DirectoryConfig, timeout: Duration) -> Result<ldap3::Ldap, AnnuaireError> {
    let unreachable = |detail: String| AnnuaireError::Unreachable {
        url: config.url.clone(),
        detail,
    };
    let url = url::Url::parse(&config.url).map_err(|e| unreachable(e.to_string()))?;
    let host = url.host_str().unwrap_or("localhost").to_owned();
    let port = url
        .port()
        .unwrap_or(if url.scheme() == "ldaps" { 636 } else { 389 });
    // Our own TCP connection, to set TCP_NODELAY (many small request/response pairs).
    let tcp = tokio::time::timeout(
        timeout,
        tokio::net::TcpStream::connect((host.as_str(), port)),
    )
    .await
    .map_err(|_| AnnuaireError::Timeout(timeout.as_secs()))?
    .map_err(|e| unreachable(e.to_string()))?;
    tcp.set_nodelay(true)
        .map_err(|e| unreachable(e.to_string()))?;
    let std = tcp.into_std().map_err(|e| unreachable(e.to_string()))?;
    let settings = LdapConnSettings::new()
        .set_starttls(config.starttls)
        .set_conn_timeout(timeout)
        .set_std_stream(StdStream::Tcp(std));
    let (conn, ldap) = LdapConnAsync::with_settings(settings, &config.url).await?;
    ldap3::drive!(conn);
    Ok(ldap)
}

fn requested_attributes(a: &DirectoryAttributes) -> Vec<&str> {
    vec![
        &a.mail,
        &a.mailbox_type,
        &a.display_name,
        &a.common_name,
        &a.given_name,
        &a.family_name,
        &a.profession,
        &a.specialty,
        &a.organisation,
        &a.service,
        &a.street,
        &a.postal_code,
        &a.city,
        &a.department,
        &a.dematerialisation,
    ]
}

fn map_entry(e: &RawEntry, a: &DirectoryAttributes) -> DirectoryEntry {
    let get = |name: &str| {
        e.attrs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| v.first().cloned())
    };
    DirectoryEntry {
        mail: get(&a.mail).unwrap_or_default(),
        kind: get(&a.mailbox_type),
        display_name: get(&a.display_name).or_else(|| get(&a.common_name)),
        given_name: get(&a.given_name),
        family_name: get(&a.family_name),
        profession: get(&a.profession),
        specialty: get(&a.specialty),
        organisation: get(&a.organisation),
        service: get(&a.service),
        street: get(&a.street),
        postal_code: get(&a.postal_code),
        city: get(&a.city),
        department: get(&a.department),
        dematerialisation: get(&a.dematerialisation).map(|v| {
            matches!(
                v.to_ascii_uppercase().as_str(),
                "TRUE" | "OUI" | "1" | "Y" | "YES"
            )
        }),
    }
}

fn matches_word(e: &DirectoryEntry, word: &str) -> bool {
    let w = fold(word);
    let prefix = |v: &Option<String>| {
        v.as_deref().is_some_and(|v| {
            let v = fold(v);
            v.starts_with(&w) || v.split([' ', '-']).any(|part| part.starts_with(&w))
        })
    };
    let contains = |v: &Option<String>| v.as_deref().is_some_and(|v| fold(v).contains(&w));
    prefix(&e.family_name)
        || prefix(&e.given_name)
        || contains(&e.display_name)
        || fold(&e.mail).starts_with(&w)
}

/// Keeps the entries that match `query` once accents and case are folded, and sorts them.
///
/// The server's answer may hold approximate (`~=`) matches; this is where they are checked.
/// Non-name criteria are rechecked too, so the same function narrows a previous answer
/// locally (see [`Narrowing`]).
pub fn refine(entries: Vec<DirectoryEntry>, query: &Query) -> Vec<DirectoryEntry> {
    let ws = query.name.as_deref().map(words).unwrap_or_default();
    let eq = |v: &Option<String>, want: &Option<String>| match want.as_deref().map(str::trim) {
        None | Some("") => true,
        Some(w) => v.as_deref().is_some_and(|v| fold(v) == fold(w)),
    };
    let starts = |v: &Option<String>, want: &Option<String>| match want.as_deref().map(str::trim) {
        None | Some("") => true,
        Some(w) => v.as_deref().is_some_and(|v| fold(v).starts_with(&fold(w))),
    };
    let contains = |v: &Option<String>, want: &Option<String>| match want.as_deref().map(str::trim)
    {
        None | Some("") => true,
        Some(w) => v.as_deref().is_some_and(|v| fold(v).contains(&fold(w))),
    };
    let mut out: Vec<DirectoryEntry> = entries
        .into_iter()
        .filter(|e| ws.iter().all(|w| matches_word(e, w)))
        .filter(|e| eq(&e.profession, &query.profession))
        .filter(|e| eq(&e.specialty, &query.specialty))
        .filter(|e| eq(&e.department, &query.department))
        .filter(|e| starts(&e.city, &query.city))
        .filter(|e| starts(&e.postal_code, &query.postal_code))
        .filter(|e| contains(&e.organisation, &query.organisation))
        .filter(|e| contains(&Some(e.mail.clone()), &query.mail))
        .filter(|e| {
            query
                .kind
                .is_none_or(|k| e.kind.as_deref() == Some(kind_code(k)))
        })
        .collect();
    out.sort_by_cached_key(|e| {
        (
            e.family_name.as_deref().map(fold),
            e.given_name.as_deref().map(fold),
            e.mail.clone(),
        )
    });
    out.dedup_by(|a, b| a.mail == b.mail);
    out
}

/// Remembers the last complete answer so that a narrower query (more letters, one more
/// criterion) is answered locally instead of asking the server again.
#[derive(Debug, Default)]
pub struct Narrowing {
    last: Option<(Query, Vec<DirectoryEntry>)>,
}

impl Narrowing {
    /// The local answer to `query`, if a previous complete answer covers it.
    pub fn answer(&self, query: &Query) -> Option<Vec<DirectoryEntry>> {
        let (prev, entries) = self.last.as_ref()?;
        covers(prev, query).then(|| refine(entries.clone(), query))
    }

    /// Records a server answer; truncated answers are never reused.
    pub fn record(&mut self, query: &Query, outcome: &SearchOutcome) {
        self.last = (!outcome.truncated).then(|| (query.clone(), outcome.entries.clone()));
    }
}

/// True when every entry matching `narrow` also matches `wide`.
fn covers(wide: &Query, narrow: &Query) -> bool {
    let text = |q: &Query| q.name.as_deref().map(words).unwrap_or_default();
    let (wide_words, narrow_words) = (text(wide), text(narrow));
    // Each word of the wide query must be a prefix of some word of the narrow one.
    let words_ok = wide_words
        .iter()
        .all(|w| narrow_words.iter().any(|n| fold(n).starts_with(&fold(w))));
    let same_or_narrower = |w: &Option<String>, n: &Option<String>| match (w, n) {
        (None, _) => true,
        (Some(w), Some(n)) => fold(n).starts_with(&fold(w)),
        (Some(_), None) => false,
    };
    let exact = |w: &Option<String>, n: &Option<String>| w.is_none() || w == n;
    // Substring criteria: any text containing the wide fragment covers it.
    let substring_or_narrower = |w: &Option<String>, n: &Option<String>| match (w, n) {
        (None, _) => true,
        (Some(w), Some(n)) => fold(n).contains(&fold(w)),
        (Some(_), None) => false,
    };
    words_ok
        && exact(&wide.profession, &narrow.profession)
        && exact(&wide.specialty, &narrow.specialty)
        && exact(&wide.department, &narrow.department)
        && same_or_narrower(&wide.city, &narrow.city)
        && same_or_narrower(&wide.postal_code, &narrow.postal_code)
        && same_or_narrower(&wide.organisation, &narrow.organisation)
        && substring_or_narrower(&wide.mail, &narrow.mail)
        && (wide.kind.is_none() || wide.kind == narrow.kind)
}

/// Parses `PER`, `ORG`, `APP`, `CAB`.
pub fn parse_kind(s: &str) -> Option<MailboxKind> {
    match s.to_ascii_uppercase().as_str() {
        "PER" => Some(MailboxKind::Personal),
        "ORG" => Some(MailboxKind::Organisational),
        "APP" => Some(MailboxKind::Applicative),
        "CAB" => Some(MailboxKind::Cabinet),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(mail: &str, family: &str, given: &str, city: &str) -> DirectoryEntry {
        DirectoryEntry {
            mail: mail.into(),
            kind: Some("PER".into()),
            display_name: Some(format!("Dr {given} {family}")),
            given_name: Some(given.into()),
            family_name: Some(family.into()),
            profession: Some("10".into()),
            specialty: None,
            organisation: None,
            service: None,
            street: None,
            postal_code: Some("25000".into()),
            city: Some(city.into()),
            department: Some("25".into()),
            dematerialisation: None,
        }
    }

    #[test]
    fn refine_folds_accents_and_drops_approximate_noise() {
        let entries = vec![
            entry("a@x", "LEFÈVRE", "Anne", "Besançon"),
            entry("b@x", "LEFEBVRE", "Paul", "Besançon"), // what `~=` may also return
            entry("c@x", "Lefèvre", "Hélène", "Dole"),
        ];
        let q = Query {
            name: Some("lefevre".into()),
            city: Some("besancon".into()),
            ..Query::default()
        };
        let got: Vec<_> = refine(entries, &q).into_iter().map(|e| e.mail).collect();
        assert_eq!(got, ["a@x"]);
    }

    #[test]
    fn narrowing_answers_locally_only_when_covered_and_complete() {
        let entries = vec![
            entry("a@x", "MARTIN", "Anne", "Lyon"),
            entry("b@x", "MARTINEZ", "Luc", "Lyon"),
        ];
        let wide = Query {
            name: Some("mart".into()),
            ..Query::default()
        };
        let mut n = Narrowing::default();
        n.record(
            &wide,
            &SearchOutcome {
                entries: entries.clone(),
                truncated: false,
            },
        );
        let narrow = Query {
            name: Some("martine".into()),
            ..Query::default()
        };
        let got = n.answer(&narrow).expect("covered");
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].mail, "b@x");
        // A different word is not covered: ask the server.
        let other = Query {
            name: Some("dupont".into()),
            ..Query::default()
        };
        assert!(n.answer(&other).is_none());
        // An address fragment is covered by any fragment it contains.
        let by_mail = |m: &str| Query {
            name: Some("mart".into()),
            mail: Some(m.into()),
            ..Query::default()
        };
        assert!(covers(&by_mail("@x"), &by_mail("b@x")));
        assert!(!covers(&by_mail("b@x"), &by_mail("@x")));
        assert!(!covers(&by_mail("@x"), &wide));
        assert_eq!(n.answer(&by_mail("b@")).unwrap().len(), 1);
        // A truncated answer is never reused.
        n.record(
            &wide,
            &SearchOutcome {
                entries,
                truncated: true,
            },
        );
        assert!(n.answer(&narrow).is_none());
    }
}
