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

impl SearchFilter {
    /// No filter besides the words.
    fn is_words_only(&self) -> bool {
        self.account.is_none()
            && self.folder.is_none()
            && self.from.is_none()
            && self.since.is_none()
            && self.until.is_none()
            && !self.unread
            && !self.has_documents
    }
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
    DateIndex,
    /// Matches so dense that the page fills after a few rows: the date index leads and each
    /// row asks the full-text index about itself (no set of every match is built).
    Dense,
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
        SearchDriver::Dense => (
            "messages m",
            "EXISTS (SELECT 1 FROM search_fts WHERE search_fts MATCH ?1 AND rowid = m.id)",
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
        let prepared = |driver| Prepared {
            driver,
            sql: search_sql(driver),
            first: q.clone(),
        };
        Ok(match ids.len() {
            0 => None,
            n if n <= FEW_MATCHES => Some(Prepared {
                driver: SearchDriver::Matches,
                sql: search_sql(SearchDriver::Matches),
                first: serde_json::to_string(&ids).unwrap_or_else(|_| "[]".into()),
            }),
            _ if f.is_words_only() && Self::dense(conn, &ids, f, &q).await? => {
                Some(prepared(SearchDriver::Dense))
            }
            _ => Some(prepared(SearchDriver::DateIndex)),
        })
    }

    /// Whether the matches are dense enough for [`SearchDriver::Dense`]. Their number is
    /// estimated for free from where the (FEW_MATCHES + 1)-th smallest matching id falls among
    /// all ids (ids spread evenly over the cache). Building the set of matches costs about
    /// 0.6 µs a match; asking the index about one row about 25 µs a word, for the
    /// (page end) × (messages / matches) rows the date walk visits (measured with Python's
    /// SQLite on 100,000 rows; tests/bench/search measures the real build).
    async fn dense(
        conn: &mut SqliteConnection,
        ids: &[i64],
        f: &SearchFilter,
        q: &str,
    ) -> Result<bool, StoreError> {
        let (Some(&nth), Some(max_id)) = (
            ids.last(),
            sqlx::query_scalar::<_, Option<i64>>("SELECT MAX(id) FROM messages")
                .fetch_one(&mut *conn)
                .await?,
        ) else {
            return Ok(false);
        };
        let estimated = ids.len() as f64 * max_id as f64 / nth.max(1) as f64;
        let page_end = (f.limit.unwrap_or(50) + f.offset.max(0)) as f64;
        let words = q.split_whitespace().count().max(1) as f64;
        // set cost ≈ 0.6 µs × matches; walk cost ≈ 25 µs × words × page_end × max_id / matches
        Ok(0.6 * estimated * estimated > 25.0 * words * page_end * max_id as f64)
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
