//! Full-text search: FTS5 over subject, addresses, body text, attachment names and the text
//! of attached health documents (CDA narrative, XDM contents, PDF text; see `imap::parse`)
//! (`unicode61 remove_diacritics 2`, so "lefevre" finds "LEFÈVRE"; prefix indexes for `card*`),
//! with filters, newest first, paged.

use sqlx::Row;

use super::{Store, StoreError};

/// A search: words (all required; `word*` for a prefix) and filters.
#[derive(Debug, Clone, Default)]
pub struct SearchFilter {
    /// Free text; empty lists by filters only.
    pub query: String,
    /// Account address.
    pub account: Option<String>,
    /// Folder name.
    pub folder: Option<String>,
    /// Sender address contains.
    pub from: Option<String>,
    /// Received at or after (Unix seconds).
    pub since: Option<i64>,
    /// Received before (Unix seconds).
    pub until: Option<i64>,
    /// Only unread messages.
    pub unread: bool,
    /// Only messages with a health document (PDF, CDA, XDM).
    pub has_documents: bool,
    /// Page size (default 50).
    pub limit: Option<i64>,
    /// Rows to skip.
    pub offset: i64,
}

/// One result.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SearchHit {
    /// Message row id.
    pub id: i64,
    /// Account address.
    pub account: String,
    /// Folder.
    pub folder: String,
    /// Server UID.
    pub uid: u32,
    /// Message-ID.
    pub message_id: Option<String>,
    /// Sender.
    pub from: Option<String>,
    /// Subject.
    pub subject: Option<String>,
    /// INTERNALDATE, Unix seconds.
    pub received_at: Option<i64>,
    /// Not \Seen.
    pub unread: bool,
    /// Has a health document.
    pub has_documents: bool,
    /// Start of the text.
    pub snippet: Option<String>,
}

/// Turns user words into an FTS5 query: every word quoted (no operator injection), a trailing
/// `*` kept as a prefix search.
pub fn fts_query(input: &str) -> String {
    input
        .split_whitespace()
        .filter_map(|w| {
            let prefix = w.ends_with('*');
            let core: String = w
                .trim_end_matches('*')
                .chars()
                .filter(|c| *c != '"')
                .collect();
            if core.is_empty() {
                return None;
            }
            Some(if prefix {
                format!("\"{core}\"*")
            } else {
                format!("\"{core}\"")
            })
        })
        .collect::<Vec<_>>()
        .join(" ")
}

impl Store {
    /// Runs a search, newest first.
    pub async fn search(&self, f: &SearchFilter) -> Result<Vec<SearchHit>, StoreError> {
        let q = fts_query(&f.query);
        let rows = sqlx::query(
            "SELECT m.id, a.address, fo.name, m.uid, m.message_id, m.from_addr, m.subject,
                    m.received_at, m.seen, m.has_documents, m.snippet
             FROM messages m
             JOIN folders fo ON fo.id = m.folder_id
             JOIN accounts a ON a.id = fo.account_id
             WHERE (?1 = '' OR m.id IN (SELECT rowid FROM search_fts WHERE search_fts MATCH ?1))
               AND (?2 IS NULL OR a.address = ?2)
               AND (?3 IS NULL OR fo.name = ?3)
               AND (?4 IS NULL OR instr(m.from_addr, lower(?4)) > 0)
               AND (?5 IS NULL OR m.received_at >= ?5)
               AND (?6 IS NULL OR m.received_at < ?6)
               AND (NOT ?7 OR m.seen = 0)
               AND (NOT ?8 OR m.has_documents = 1)
             ORDER BY m.received_at DESC, m.id DESC
             LIMIT ?9 OFFSET ?10",
        )
        .bind(&q)
        .bind(&f.account)
        .bind(&f.folder)
        .bind(&f.from)
        .bind(f.since)
        .bind(f.until)
        .bind(f.unread)
        .bind(f.has_documents)
        .bind(f.limit.unwrap_or(50))
        .bind(f.offset)
        .fetch_all(self.reader())
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| SearchHit {
                id: r.get(0),
                account: r.get(1),
                folder: r.get(2),
                uid: r.get::<i64, _>(3) as u32,
                message_id: r.get(4),
                from: r.get(5),
                subject: r.get(6),
                received_at: r.get(7),
                unread: !r.get::<bool, _>(8),
                has_documents: r.get(9),
                snippet: r.get(10),
            })
            .collect())
    }
}
