//! The MSSanté directory over LDAP (`ou=bal,o=mssante,c=fr`, ≤ 100 entries and 60 s per query).
//!
//! This is the connection layer; typed filters, merging and local refinement build on it.

use ldap3::{LdapConnAsync, LdapConnSettings, Scope, SearchEntry, SearchOptions};

use crate::config::DirectoryConfig;

/// Directory errors.
#[derive(Debug, thiserror::Error)]
pub enum AnnuaireError {
    /// Connection or protocol failure.
    #[error("annuaire : {0}")]
    Ldap(#[from] ldap3::LdapError),
}

/// One directory entry as raw attributes (UTF-8 decoded).
#[derive(Debug, Clone)]
pub struct RawEntry {
    /// Distinguished name.
    pub dn: String,
    /// Attributes and their values.
    pub attrs: std::collections::HashMap<String, Vec<String>>,
}

/// The answer to one query.
#[derive(Debug, Clone)]
pub struct SearchResult {
    /// Entries returned.
    pub entries: Vec<RawEntry>,
    /// True when the server stopped at its size or time limit: the list is incomplete and
    /// the user must refine the search.
    pub truncated: bool,
}

/// An open connection to one LDAP source (one per source, reused across queries).
#[derive(Debug)]
pub struct Directory {
    ldap: ldap3::Ldap,
    config: DirectoryConfig,
}

impl Directory {
    /// Connects (anonymously) to the configured source.
    pub async fn connect(config: &DirectoryConfig) -> Result<Self, AnnuaireError> {
        let settings = LdapConnSettings::new()
            .set_starttls(config.starttls)
            .set_conn_timeout(std::time::Duration::from_secs(10));
        let (conn, ldap) = LdapConnAsync::with_settings(settings, &config.url).await?;
        ldap3::drive!(conn);
        Ok(Self {
            ldap,
            config: config.clone(),
        })
    }

    /// Runs a raw filter (already escaped by the caller) and reports truncation.
    pub async fn search_raw(
        &mut self,
        filter: &str,
        attrs: &[&str],
    ) -> Result<SearchResult, AnnuaireError> {
        let opts = SearchOptions::new()
            .sizelimit(self.config.size_limit)
            .timelimit(self.config.time_limit_secs);
        let res = self
            .ldap
            .with_search_options(opts)
            .search(&self.config.base_dn, Scope::Subtree, filter, attrs.to_vec())
            .await?;
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
