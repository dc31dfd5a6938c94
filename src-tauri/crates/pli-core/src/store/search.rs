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

/// Which side of the join leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchDriver {
    /// No words: the date index, filters checked on the way.
    Filters,
    /// Words: the full-text index leads, newest first by its rowids (the messages' search
    /// keys, ordered by date: migration 0010), each match checked against the filters, and it
    /// stops at the page's end whatever the word's frequency.
    ///
    /// Before (decision 0026): with message ids as rowids, a frequent word's newest matches
    /// needed the set of all its matches (p95 35 ms at 100,000 messages, `tests/bench/search`);
    /// and asking the index about each row of a date walk cost ~6 ms a row.
    Words,
}

/// How many seconds' worth of key bits (`key = received_at << KEY_SHIFT | slot`, migration
/// 0010): a date bound on the key is a bound on the row's date.
const KEY_SHIFT: u32 = 20;

/// The search SQL for a driver. `?1` is the FTS5 query; `?2`..`?8` the filters; `?9`, `?10`
/// limit and offset.
fn search_sql(driver: SearchDriver) -> String {
    let (from, matches, order) = match driver {
        // CROSS JOIN keeps the index as the outer loop (SQLite does not reorder it), so its
        // rowid order is the output order: no sorter, and LIMIT stops the walk. A message's
        // key is at least its second's first key, so `since` also bounds the walk.
        SearchDriver::Words => (
            "search_fts
             CROSS JOIN search_keys k ON k.key = search_fts.rowid
             CROSS JOIN messages m ON m.id = k.message_pk",
            format!(
                "search_fts MATCH ?1 AND search_fts.rowid >= (max(coalesce(?5, 0), 0) << {KEY_SHIFT})"
            ),
            "search_fts.rowid DESC",
        ),
        SearchDriver::Filters => ("messages m", "1".to_owned(), "m.received_at DESC, m.id DESC"),
    };
    format!(
        "SELECT m.id, a.address, fo.name, m.uid, m.message_id, m.from_addr, m.subject,
                m.received_at, m.seen, m.has_documents, m.snippet
         FROM {from}
         JOIN folders fo ON fo.id = m.folder_id
         JOIN accounts a ON a.id = fo.account_id
         WHERE {matches}
           AND (?2 IS NULL OR a.address = ?2)
           AND (?3 IS NULL OR fo.name = ?3)
           AND (?4 IS NULL OR instr(m.from_addr, lower(?4)) > 0)
           AND (?5 IS NULL OR m.received_at >= ?5)
           AND (?6 IS NULL OR m.received_at < ?6)
           AND (NOT ?7 OR m.seen = 0)
           AND (NOT ?8 OR m.has_documents = 1)
         ORDER BY {order}
         LIMIT ?9 OFFSET ?10"
    )
}

/// A search ready to run: its driver, SQL and first parameter.
struct Prepared {
    driver: SearchDriver,
    sql: String,
    first: String,
}

impl Store {
    /// Chooses the driver: words or filters only.
    fn prepare_search(f: &SearchFilter) -> Prepared {
        let q = fts_query(&f.query);
        let driver = if q.is_empty() {
            SearchDriver::Filters
        } else {
            SearchDriver::Words
        };
        Prepared {
            driver,
            sql: search_sql(driver),
            first: q,
        }
    }

    fn bind_search<'q>(
        sql: &'q str,
        first: &'q str,
        f: &'q SearchFilter,
    ) -> sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>> {
        sqlx::query(sql)
            .bind(first)
            .bind(&f.account)
            .bind(&f.folder)
            .bind(&f.from)
            .bind(f.since)
            .bind(f.until)
            .bind(f.unread)
            .bind(f.has_documents)
            .bind(f.limit.unwrap_or(50))
            .bind(f.offset)
    }

    /// Runs a search, newest first, in one query.
    pub async fn search(&self, f: &SearchFilter) -> Result<Vec<SearchHit>, StoreError> {
        let p = Self::prepare_search(f);
        let rows = Self::bind_search(&p.sql, &p.first, f)
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

    /// What `search` would do for `f` (for measurements): the driver and SQLite's query plan.
    pub async fn search_plan(
        &self,
        f: &SearchFilter,
    ) -> Result<(SearchDriver, Vec<String>), StoreError> {
        let p = Self::prepare_search(f);
        let explain = format!("EXPLAIN QUERY PLAN {}", p.sql);
        let plan = Self::bind_search(&explain, &p.first, f)
            .fetch_all(self.reader())
            .await?
            .into_iter()
            .map(|r| r.get::<String, _>(3))
            .collect();
        Ok((p.driver, plan))
    }
}
