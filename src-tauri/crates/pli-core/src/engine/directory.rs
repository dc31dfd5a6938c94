//! Recipient search for the compose window, in two steps so that typing never waits on the
//! network:
//!
//! 1. [`Engine::directory_suggest`] answers from this computer alone: recent correspondents
//!    (ranked by use), then either the previous complete LDAP answer narrowed locally or the
//!    offline extraction. The UI shows it at once.
//! 2. [`Engine::directory_search`] asks the live directory: LDAP over one kept connection
//!    (concurrent queries share it, so a query typed while an earlier one hangs is not queued
//!    behind it); when LDAP cannot be reached, the FHIR Annuaire Santé API (if the deployment
//!    has a key), then the offline extraction, with a notice saying why.

use super::{Engine, EngineError, Result};
use crate::annuaire::local::LocalDirectory;
use crate::annuaire::{self, DirectoryEntry, Query};
use crate::api::{DirectoryAnswer, DirectoryQueryInput};

/// Recent correspondents shown above the directory's answer.
const RECENTS: i64 = 5;

fn query_of(q: &DirectoryQueryInput) -> Result<Query> {
    let clean = |s: &Option<String>| {
        s.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let kind = match clean(&q.kind) {
        Some(k) => Some(annuaire::parse_kind(&k).ok_or_else(|| {
            EngineError::Invalid(format!("type de boîte inconnu : {k} (PER, ORG, APP, CAB)"))
        })?),
        None => None,
    };
    Ok(Query {
        name: clean(&q.text),
        profession: clean(&q.profession),
        specialty: clean(&q.specialty),
        city: clean(&q.city),
        postal_code: clean(&q.postal_code),
        kind,
        ..Default::default()
    })
}

/// Whether a query is a plain name (recent correspondents are only offered for those).
fn plain(query: &Query) -> bool {
    query.profession.is_none()
        && query.specialty.is_none()
        && query.city.is_none()
        && query.postal_code.is_none()
        && query.kind.is_none()
}

/// Appends `found` after the recent correspondents, a known correspondent keeping its rank
/// and taking the directory's details.
fn merge(mut entries: Vec<DirectoryEntry>, found: Vec<DirectoryEntry>) -> Vec<DirectoryEntry> {
    let recents = entries.len();
    for e in found {
        if let Some(r) = entries[..recents]
            .iter_mut()
            .find(|r| r.mail.eq_ignore_ascii_case(&e.mail))
        {
            *r = e;
        } else {
            entries.push(e);
        }
    }
    entries
}

/// The typed query, refused when it has no criterion.
fn checked(input: &DirectoryQueryInput) -> Result<Query> {
    let query = query_of(input)?;
    if query.is_empty() {
        return Err(EngineError::Invalid(
            "précisez au moins un critère de recherche".into(),
        ));
    }
    Ok(query)
}

impl Engine {
    /// Answers from this computer alone, without the network: recent correspondents, then the
    /// previous complete LDAP answer narrowed (`source` `ldap`: the live directory has nothing
    /// more to add) or else the offline extraction (`source` `local`; empty without a copy).
    pub async fn directory_suggest(&self, input: DirectoryQueryInput) -> Result<DirectoryAnswer> {
        self.readable().await?;
        let query = checked(&input)?;
        let entries = self.recents(&query).await?;
        if let Some(found) = self.narrowed(&query) {
            return Ok(DirectoryAnswer {
                entries: merge(entries, found),
                truncated: false,
                source: "ldap".into(),
                notice: None,
            });
        }
        let (found, truncated) = self.local_search(&query).await?.unwrap_or_default();
        Ok(DirectoryAnswer {
            entries: merge(entries, found),
            truncated,
            source: "local".into(),
            notice: None,
        })
    }

    /// Searches recipients: recent correspondents, then the live directory (see the module
    /// docs for the fall-backs; `notice` says when the answer did not come from LDAP).
    pub async fn directory_search(&self, input: DirectoryQueryInput) -> Result<DirectoryAnswer> {
        self.readable().await?;
        let query = checked(&input)?;
        let entries = self.recents(&query).await?;
        let (found, truncated, source, notice) = match self.narrowed(&query) {
            Some(e) => (e, false, "ldap", None),
            None => match self.ldap_search(&query).await {
                Ok(outcome) => {
                    self.inner
                        .narrowing
                        .lock()
                        .expect("narrowing")
                        .record(&query, &outcome);
                    (outcome.entries, outcome.truncated, "ldap", None)
                }
                Err(ldap_err) => self.fallback(&query, ldap_err).await?,
            },
        };
        Ok(DirectoryAnswer {
            entries: merge(entries, found),
            truncated,
            source: source.to_owned(),
            notice,
        })
    }

    /// When LDAP failed: the FHIR API (if configured and answering), else the offline copy,
    /// with a notice saying why; LDAP's error when there is neither.
    async fn fallback(
        &self,
        query: &Query,
        ldap_err: EngineError,
    ) -> Result<(Vec<DirectoryEntry>, bool, &'static str, Option<String>)> {
        match self.fhir_search(query).await {
            Some(Ok(o)) => {
                let notice = format!("{ldap_err} — réponse de l'API Annuaire Santé");
                return Ok((o.entries, o.truncated, "fhir", Some(notice)));
            }
            Some(Err(e)) => tracing::warn!(error = %e, "FHIR directory after LDAP failed"),
            None => {}
        }
        let Some((found, truncated)) = self.local_search(query).await? else {
            return Err(ldap_err);
        };
        let notice = format!("{ldap_err} — réponse de la copie hors ligne de l'annuaire");
        Ok((found, truncated, "local", Some(notice)))
    }

    /// Recent correspondents matching a plain name query (patients excluded: they are
    /// written to from their INS, never picked here).
    async fn recents(&self, query: &Query) -> Result<Vec<DirectoryEntry>> {
        let mut entries = Vec::new();
        let Some(text) = query.name.as_deref().filter(|_| plain(query)) else {
            return Ok(entries);
        };
        let patient_domain = self.inner.cfg.operator.patient_domain.to_ascii_lowercase();
        for (mail, name, _uses) in self
            .inner
            .store
            .recent_correspondents(text, RECENTS)
            .await?
        {
            if mail.ends_with(&format!("@{patient_domain}")) {
                continue;
            }
            entries.push(DirectoryEntry {
                mail,
                kind: None,
                display_name: name,
                given_name: None,
                family_name: None,
                profession: None,
                specialty: None,
                organisation: None,
                service: None,
                street: None,
                postal_code: None,
                city: None,
                department: None,
                dematerialisation: None,
            });
        }
        Ok(entries)
    }

    /// The previous complete LDAP answer narrowed to `query`, when it covers it.
    fn narrowed(&self, query: &Query) -> Option<Vec<DirectoryEntry>> {
        self.inner
            .narrowing
            .lock()
            .expect("narrowing")
            .answer(query)
    }

    /// The FHIR Annuaire Santé answer, when `[directory.fhir]` is configured (`None` if not).
    async fn fhir_search(
        &self,
        query: &Query,
    ) -> Option<std::result::Result<annuaire::SearchOutcome, String>> {
        let cfg = self.inner.cfg.directory.as_ref()?.fhir.as_ref()?;
        // One client per engine: its connection pool and the key read once, not per keystroke.
        let dir = self
            .inner
            .fhir
            .get_or_try_init(|| async {
                annuaire::fhir::FhirDirectory::new(cfg, self.inner.cfg.environment)
            })
            .await;
        match dir {
            Ok(d) => Some(d.search(query).await.map_err(|e| e.to_string())),
            Err(e) => Some(Err(e.to_string())),
        }
    }

    /// The offline extraction's answer (at most 100 entries, `true` when there were more);
    /// `None` when there is no offline copy.
    async fn local_search(&self, query: &Query) -> Result<Option<(Vec<DirectoryEntry>, bool)>> {
        let dir = crate::store::data_dir(&self.inner.cfg);
        let local = self
            .inner
            .local_directory
            .get_or_try_init(|| LocalDirectory::open(&dir))
            .await
            .map_err(|e| EngineError::Other(e.to_string()))?;
        if local
            .is_empty()
            .await
            .map_err(|e| EngineError::Other(e.to_string()))?
        {
            return Ok(None);
        }
        let found = local
            .search(query, 101)
            .await
            .map_err(|e| EngineError::Other(e.to_string()))?;
        let truncated = found.len() > 100;
        Ok(Some((found.into_iter().take(100).collect(), truncated)))
    }

    async fn ldap_search(&self, query: &Query) -> Result<annuaire::SearchOutcome> {
        let cfg = self
            .inner
            .cfg
            .directory
            .as_ref()
            .ok_or_else(|| EngineError::Other("aucun annuaire configuré".into()))?;
        // Connected once (a failed connection is retried by the next query); the lock is
        // not held during the query itself.
        let dir = self
            .inner
            .directory
            .get_or_try_init(|| annuaire::Directory::connect(cfg))
            .await?;
        Ok(dir.search(query).await?)
    }
}
