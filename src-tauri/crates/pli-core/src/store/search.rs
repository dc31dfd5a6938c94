//! Full-text search: FTS5 over subject, addresses, body text, attachment names and the text
//! of attached health documents (CDA narrative, XDM contents, PDF text; see `imap::parse`)
//! (`unicode61 remove_diacritics 2`, so "lefevre" finds "LEFÈVRE"; prefix indexes for `card*`),
//! with filters, newest first, paged.

use sqlx::{Row, SqliteConnection};

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

/// At most this many full-text matches, the matches drive the search: each one's row is read
/// by id and the few are sorted by date. With more, the newest-first date index drives it and
/// stops at the page's end, which comes quickly because matches are dense. (Measured on 100,000
/// messages, `tests/bench/search`: walking the date index for a rare word visits every row,
/// about 25 ms; reading 2,000 rows by id and sorting them costs a few ms.)
const FEW_MATCHES: usize = 2000;

/// Which side of the join leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchDriver {
    /// No words: the date index, filters checked on the way.
    Filters,
    /// Few matches: their ids (a JSON array in `?1`) lead, then a sort.
    Matches,
    /// Many matches: the date index leads, each row checked against the set of matches
    /// (built once from the index).
    ///
    /// A third plan, asking the index about each row the date walk visits (`EXISTS … MATCH ?
    /// AND rowid = m.id`), was tried in session 4 and removed: on the bench's 100,000 real
    /// messages each such question cost about 6 ms (not the 25 µs measured on a small Python
    /// index), 370–510 ms a page for frequent words (tests/bench/search, decision 0026).
    DateIndex,
}

/// The search SQL for a driver. `?1` is the FTS5 query (or, for `Matches`, the JSON array of
/// matching ids); `?2`..`?8` the filters; `?9`, `?10` limit and offset.
fn search_sql(driver: SearchDriver) -> String {
    let (from, matches) = match driver {
        // CROSS JOIN keeps the ids as the outer loop: SQLite does not reorder it.
        SearchDriver::Matches => (
            "json_each(?1) j CROSS JOIN messages m ON m.id = j.value",
            "1",
        ),
        SearchDriver::Filters | SearchDriver::DateIndex => (
            "messages m",
            "(?1 = '' OR m.id IN (SELECT rowid FROM search_fts WHERE search_fts MATCH ?1))",
        ),
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
         ORDER BY m.received_at DESC, m.id DESC
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
    /// Chooses the driver: the full-text index is asked for at most `FEW_MATCHES + 1` ids
    /// (cheap: no message row is read); `None` when the words match nothing.
    async fn prepare_search(
        conn: &mut SqliteConnection,
        f: &SearchFilter,
    ) -> Result<Option<Prepared>, StoreError> {
        let q = fts_query(&f.query);
        if q.is_empty() {
            return Ok(Some(Prepared {
                driver: SearchDriver::Filters,
                sql: search_sql(SearchDriver::Filters),
                first: q,
            }));
        }
        // Ascending rowids: the first FEW_MATCHES + 1 matches.
        let ids: Vec<i64> =
            sqlx::query_scalar("SELECT rowid FROM search_fts WHERE search_fts MATCH ?1 LIMIT ?2")
                .bind(&q)
                .bind(FEW_MATCHES as i64 + 1)
                .fetch_all(&mut *conn)
                .await?;
        Ok(match ids.len() {
            0 => None,
            n if n <= FEW_MATCHES => Some(Prepared {
                driver: SearchDriver::Matches,
                sql: search_sql(SearchDriver::Matches),
                first: serde_json::to_string(&ids).unwrap_or_else(|_| "[]".into()),
            }),
            _ => Some(Prepared {
                driver: SearchDriver::DateIndex,
                sql: search_sql(SearchDriver::DateIndex),
                first: q,
            }),
        })
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

    /// Runs a search, newest first. One connection for the whole search: the pool returns a
    /// connection asynchronously, so a second acquire right after the first would often open
    /// another one (measured: a second SQLCipher connection set up in a `pli search`).
    pub async fn search(&self, f: &SearchFilter) -> Result<Vec<SearchHit>, StoreError> {
        let mut conn = self.reader().acquire().await?;
        let Some(p) = Self::prepare_search(&mut conn, f).await? else {
            return Ok(Vec::new());
        };
        let rows = Self::bind_search(&p.sql, &p.first, f)
            .fetch_all(&mut *conn)
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

    /// What `search` would do for `f` (for measurements): the driver and SQLite's query plan
    /// (`None` when the words match nothing and no SQL runs).
    pub async fn search_plan(
        &self,
        f: &SearchFilter,
    ) -> Result<Option<(SearchDriver, Vec<String>)>, StoreError> {
        let mut conn = self.reader().acquire().await?;
        let Some(p) = Self::prepare_search(&mut conn, f).await? else {
            return Ok(None);
        };
        let explain = format!("EXPLAIN QUERY PLAN {}", p.sql);
        let plan = Self::bind_search(&explain, &p.first, f)
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .map(|r| r.get::<String, _>(3))
            .collect();
        Ok(Some((p.driver, plan)))
    }
}
