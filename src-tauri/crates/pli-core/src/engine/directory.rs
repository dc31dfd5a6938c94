//! Recipient search for the compose window: recent correspondents first (ranked by use),
//! then the directory: LDAP over one kept connection, a narrower query answered locally from
//! the previous complete answer; when LDAP cannot be reached, the FHIR Annuaire Santé API (if
//! the deployment has a key), then the offline extraction.

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

impl Engine {
    /// Searches recipients.
    pub async fn directory_search(&self, input: DirectoryQueryInput) -> Result<DirectoryAnswer> {
        let query = query_of(&input)?;
        if query.is_empty() {
            return Err(EngineError::Invalid(
                "précisez au moins un critère de recherche".into(),
            ));
        }
        // Recent correspondents, only for a plain name query.
        let mut entries: Vec<DirectoryEntry> = Vec::new();
        let plain = query.profession.is_none()
            && query.specialty.is_none()
            && query.city.is_none()
            && query.postal_code.is_none()
            && query.kind.is_none();
        if let (true, Some(text)) = (plain, query.name.as_deref()) {
            let patient_domain = self.inner.cfg.operator.patient_domain.to_ascii_lowercase();
            for (mail, name, _uses) in self
                .inner
                .store
                .recent_correspondents(text, RECENTS)
                .await?
            {
                if mail.ends_with(&format!("@{patient_domain}")) {
                    continue; // patients are written to from their INS, never picked here
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
        }
        let narrowed = self
            .inner
            .narrowing
            .lock()
            .expect("narrowing")
            .answer(&query);
        let (found, truncated, source) = match narrowed {
            Some(e) => (e, false, "ldap"),
            None => match self.ldap_search(&query).await {
                Ok(outcome) => {
                    self.inner
                        .narrowing
                        .lock()
                        .expect("narrowing")
                        .record(&query, &outcome);
                    (outcome.entries, outcome.truncated, "ldap")
                }
                Err(ldap_err) => match self.fhir_search(&query).await {
                    Some(Ok(outcome)) => (outcome.entries, outcome.truncated, "fhir"),
                    Some(Err(e)) => {
                        tracing::warn!(error = %e, "FHIR directory after LDAP failed");
                        self.local_search(&query, ldap_err).await?
                    }
                    None => self.local_search(&query, ldap_err).await?,
                },
            },
        };
        let recents = entries.len();
        for e in found {
            if let Some(r) = entries[..recents]
                .iter_mut()
                .find(|r| r.mail.eq_ignore_ascii_case(&e.mail))
            {
                // Known correspondent: keep its rank, take the directory's details.
                *r = e;
            } else {
                entries.push(e);
            }
        }
        Ok(DirectoryAnswer {
            entries,
            truncated,
            source: source.to_owned(),
        })
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

    /// The offline extraction's answer; `unreachable` is returned when there is no copy.
    async fn local_search(
        &self,
        query: &Query,
        unreachable: EngineError,
    ) -> Result<(Vec<DirectoryEntry>, bool, &'static str)> {
        let local = LocalDirectory::open(&crate::store::data_dir(&self.inner.cfg))
            .await
            .map_err(|e| EngineError::Other(e.to_string()))?;
        if local
            .is_empty()
            .await
            .map_err(|e| EngineError::Other(e.to_string()))?
        {
            return Err(unreachable);
        }
        let found = local
            .search(query, 101)
            .await
            .map_err(|e| EngineError::Other(e.to_string()))?;
        let truncated = found.len() > 100;
        Ok((found.into_iter().take(100).collect(), truncated, "local"))
    }

    async fn ldap_search(&self, query: &Query) -> Result<annuaire::SearchOutcome> {
        let cfg = self
            .inner
            .cfg
            .directory
            .as_ref()
            .ok_or_else(|| EngineError::Other("aucun annuaire configuré".into()))?;
        let mut guard = self.inner.directory.lock().await;
        if guard.is_none() {
            *guard = Some(annuaire::Directory::connect(cfg).await?);
        }
        let dir = guard.as_mut().expect("just connected");
        Ok(dir.search(query).await?)
    }
}
