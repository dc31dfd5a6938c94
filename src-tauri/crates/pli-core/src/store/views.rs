//! Read-only queries for front-ends: folder counts, pages of a message list, one message,
//! patient conversations, recent correspondents. All on the reader pool.
//!
//! Patient mail (from `…@<patient domain>`) is kept out of the professional lists and
//! counts: it has its own pane (Ref#2 ECO.3.1.1).

use sqlx::sqlite::SqliteRow;
use sqlx::Row;

use super::{Store, StoreError};

/// A folder with its counts, from the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderCounts {
    /// Row id.
    pub id: i64,
    /// Server name.
    pub name: String,
    /// RFC 6154 special use.
    pub special_use: Option<String>,
    /// Unread professional messages.
    pub unread: i64,
    /// Professional messages.
    pub total: i64,
}

/// Which rows a page is cut from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageScope {
    /// One folder's professional mail.
    Folder(i64),
    /// Every INBOX's professional mail.
    Unified,
    /// Mail from or to one patient address (every folder).
    Patient(String),
    /// These message ids, in this order (search hits).
    Ids(Vec<i64>),
}

/// One cached message as a front-end lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowData {
    /// Row id.
    pub id: i64,
    /// Mailbox address.
    pub account: String,
    /// Folder name.
    pub folder: String,
    /// Server UID.
    pub uid: u32,
    /// Sender.
    pub from_addr: Option<String>,
    /// Sender display name.
    pub from_name: Option<String>,
    /// To addresses (comma separated).
    pub to_addrs: Option<String>,
    /// Cc addresses (comma separated).
    pub cc_addrs: Option<String>,
    /// Subject as received.
    pub subject: Option<String>,
    /// Date header.
    pub sent_at: Option<i64>,
    /// Arrival.
    pub received_at: Option<i64>,
    /// Flags, space separated.
    pub flags: String,
    /// \Seen.
    pub seen: bool,
    /// \Flagged.
    pub flagged: bool,
    /// Health document attached.
    pub has_documents: bool,
    /// X-MSS-INS.
    pub patient_ins: Option<String>,
    /// Start of the text.
    pub snippet: Option<String>,
    /// Message-ID.
    pub message_id: Option<String>,
    /// Body stored.
    pub body_state: i64,
    /// Where the sender asks the read receipt to go.
    pub mdn_to: Option<String>,
    /// That address differs from Return-Path.
    pub mdn_differs: bool,
    /// 0 not answered, 1 sent, 2 declined.
    pub mdn_state: i64,
    /// What the reports received about this message say, most pressing first: `failed`,
    /// `read`, `delivered`, `delayed`; `None` without reports.
    pub report: Option<String>,
}

/// Body and attachments of one message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BodyParts {
    /// Plain text.
    pub text: Option<String>,
    /// Untrusted HTML.
    pub html: Option<String>,
    /// (index, name, MIME type, size, is a document).
    pub attachments: Vec<(u32, Option<String>, String, i64, bool)>,
}

/// One patient conversation from the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatientThread {
    /// Patient address (lower case).
    pub address: String,
    /// Display name of the patient's latest message, if any came from the patient.
    pub name: Option<String>,
    /// The mailbox of the conversation.
    pub account: String,
    /// Messages both ways.
    pub messages: i64,
    /// Unread messages from the patient.
    pub unread: i64,
    /// Latest message.
    pub last_at: Option<i64>,
}

/// (mailbox, from, from name, to, seen, date) of a message from or to a patient.
type PatientRow = (
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    bool,
    Option<i64>,
);

/// (kind, recipient, detail, time) of one report line.
pub type ReportLine = (String, Option<String>, Option<String>, Option<i64>);

/// (part, name, MIME type, size, is a document) as read from `attachments`.
type AttachmentRow = (i64, Option<String>, Option<String>, Option<i64>, bool);

const ROW_COLUMNS: &str = "m.id, a.address, f.name, m.uid, m.from_addr, m.from_name, m.to_addrs,
    m.cc_addrs, m.subject, m.sent_at, m.received_at, m.flags, m.seen, m.flagged,
    m.has_documents, m.patient_ins, m.snippet, m.message_id, m.body_state, m.mdn_to,
    m.mdn_differs, m.mdn_state,
    (SELECT CASE WHEN SUM(r.kind = 'failed') > 0 THEN 'failed'
                 WHEN SUM(r.kind = 'read') > 0 THEN 'read'
                 WHEN SUM(r.kind = 'delivered') > 0 THEN 'delivered'
                 WHEN SUM(r.kind = 'delayed') > 0 THEN 'delayed' END
     FROM reports r WHERE r.original_message_id = m.message_id)";

fn row_data(r: &SqliteRow) -> RowData {
    RowData {
        id: r.get(0),
        account: r.get(1),
        folder: r.get(2),
        uid: r.get::<i64, _>(3) as u32,
        from_addr: r.get(4),
        from_name: r.get(5),
        to_addrs: r.get(6),
        cc_addrs: r.get(7),
        subject: r.get(8),
        sent_at: r.get(9),
        received_at: r.get(10),
        flags: r.get(11),
        seen: r.get(12),
        flagged: r.get(13),
        has_documents: r.get(14),
        patient_ins: r.get(15),
        snippet: r.get(16),
        message_id: r.get(17),
        body_state: r.get(18),
        mdn_to: r.get(19),
        mdn_differs: r.get(20),
        mdn_state: r.get(21),
        report: r.get(22),
    }
}

/// `LIKE` pattern of the patient domain's addresses (the domain holds no `%` or `_` that
/// matter: it comes from the configuration).
fn patient_like(patient_domain: &str) -> String {
    format!("%@{}", patient_domain.to_ascii_lowercase())
}

/// The count and rows SQL of a list read by SQL (`None` for `Ids`). Parameters: `?1` the
/// patient-address pattern (or, for `Patient`, the patient's address), `?2` the folder id,
/// `?3` the limit, `?4` the offset.
fn page_sql(scope: &PageScope) -> Option<(String, String)> {
    let from = "FROM messages m JOIN folders f ON f.id = m.folder_id
                JOIN accounts a ON a.id = f.account_id";
    // Counts read the small covering index of (folder, sender, seen) (migration 0007); left to
    // itself the planner may pick the date index and read every row.
    let count_from = "FROM messages m INDEXED BY messages_folder_from_seen
                      JOIN folders f ON f.id = m.folder_id JOIN accounts a ON a.id = f.account_id";
    // Arrival order straight from an ascending index read backwards (migration 0009); messages
    // without INTERNALDATE, which IMAP always gives, would come last.
    let order = "ORDER BY m.received_at DESC, m.id DESC LIMIT ?3 OFFSET ?4";
    // Read and delivery reports folded into their message (migration 0011) are not listed.
    let professional = "m.folded = 0 AND (m.from_addr IS NULL OR m.from_addr NOT LIKE ?1)";
    let (count_from, cond) = match scope {
        PageScope::Folder(_) => (count_from, format!("m.folder_id = ?2 AND {professional}")),
        PageScope::Unified => (count_from, format!("f.name = 'INBOX' AND {professional}")),
        // to_addrs is a comma-separated list of lower-case addresses.
        PageScope::Patient(_) => (
            from,
            "m.folded = 0
             AND (m.from_addr = ?1 OR ',' || REPLACE(COALESCE(m.to_addrs, ''), ' ', '') || ','
                      LIKE '%,' || ?1 || ',%')"
                .to_owned(),
        ),
        PageScope::Ids(_) => return None,
    };
    // Both take the same four arguments; sqlx leaves out those a statement does not name.
    Some((
        format!("SELECT COUNT(*) {count_from} WHERE {cond}"),
        format!("SELECT {ROW_COLUMNS} {from} WHERE {cond} {order}"),
    ))
}

/// `?1` and `?2` of [`page_sql`].
fn page_params(scope: &PageScope, patient_domain: &str) -> (String, Option<i64>) {
    match scope {
        PageScope::Folder(id) => (patient_like(patient_domain), Some(*id)),
        PageScope::Patient(address) => (address.to_ascii_lowercase(), None),
        _ => (patient_like(patient_domain), None),
    }
}

impl Store {
    /// Folders of an account with unread and total counts of professional mail.
    pub async fn folder_counts(
        &self,
        account_id: i64,
        patient_domain: &str,
    ) -> Result<Vec<FolderCounts>, StoreError> {
        let rows = sqlx::query(
            "SELECT f.id, f.name, f.special_use,
                    COUNT(m.id) FILTER (WHERE m.seen = 0),
                    COUNT(m.id)
             FROM folders f
             LEFT JOIN messages m INDEXED BY messages_folder_from_seen ON m.folder_id = f.id
                  AND m.folded = 0 AND (m.from_addr IS NULL OR m.from_addr NOT LIKE ?2)
             WHERE f.account_id = ?1 AND f.selectable
             GROUP BY f.id ORDER BY f.name != 'INBOX', f.special_use IS NULL, f.name",
        )
        .bind(account_id)
        .bind(patient_like(patient_domain))
        .fetch_all(self.reader())
        .await?;
        Ok(rows
            .iter()
            .map(|r| FolderCounts {
                id: r.get(0),
                name: r.get(1),
                special_use: r.get(2),
                unread: r.get(3),
                total: r.get(4),
            })
            .collect())
    }

    /// One page of a list, newest first, and the size of the whole list.
    pub async fn page(
        &self,
        scope: &PageScope,
        patient_domain: &str,
        offset: i64,
        limit: i64,
    ) -> Result<(i64, Vec<RowData>), StoreError> {
        if let Some((count, rows)) = page_sql(scope) {
            let (first, folder) = page_params(scope, patient_domain);
            let total: i64 = sqlx::query_scalar(&count)
                .bind(&first)
                .bind(folder)
                .bind(limit)
                .bind(offset)
                .fetch_one(self.reader())
                .await?;
            let rows = sqlx::query(&rows)
                .bind(&first)
                .bind(folder)
                .bind(limit)
                .bind(offset)
                .fetch_all(self.reader())
                .await?;
            return Ok((total, rows.iter().map(row_data).collect()));
        }
        match scope {
            PageScope::Ids(ids) => {
                let total = ids.len() as i64;
                let window: Vec<i64> = ids
                    .iter()
                    .copied()
                    .skip(offset.max(0) as usize)
                    .take(limit.max(0) as usize)
                    .collect();
                let mut out = Vec::with_capacity(window.len());
                for id in window {
                    if let Some(r) = self.row(id).await? {
                        out.push(r);
                    }
                }
                Ok((total, out))
            }
            PageScope::Folder(_) | PageScope::Unified | PageScope::Patient(_) => {
                unreachable!("page_sql covers the scopes read by SQL")
            }
        }
    }

    /// SQLite's plans for a page of `scope` (count, then rows), for tests and measurements.
    pub async fn page_plans(
        &self,
        scope: &PageScope,
        patient_domain: &str,
    ) -> Result<(Vec<String>, Vec<String>), StoreError> {
        let Some((count, rows)) = page_sql(scope) else {
            return Ok((Vec::new(), Vec::new()));
        };
        let (first, folder) = page_params(scope, patient_domain);
        let mut plans = Vec::new();
        for sql in [count, rows] {
            plans.push(
                sqlx::query(&format!("EXPLAIN QUERY PLAN {sql}"))
                    .bind(&first)
                    .bind(folder)
                    .bind(100i64)
                    .bind(0i64)
                    .fetch_all(self.reader())
                    .await?
                    .iter()
                    .map(|r| r.get::<String, _>(3))
                    .collect(),
            );
        }
        let rows = plans.pop().unwrap_or_default();
        Ok((plans.pop().unwrap_or_default(), rows))
    }

    /// One message's row.
    pub async fn row(&self, id: i64) -> Result<Option<RowData>, StoreError> {
        let r = sqlx::query(&format!(
            "SELECT {ROW_COLUMNS} FROM messages m JOIN folders f ON f.id = m.folder_id
             JOIN accounts a ON a.id = f.account_id WHERE m.id = ?1"
        ))
        .bind(id)
        .fetch_optional(self.reader())
        .await?;
        Ok(r.as_ref().map(row_data))
    }

    /// Text, HTML and attachments of one message.
    pub async fn body_parts(&self, id: i64) -> Result<BodyParts, StoreError> {
        let body: Option<(Option<String>, Option<String>)> =
            sqlx::query_as("SELECT text_body, html_body FROM bodies WHERE message_pk = ?1")
                .bind(id)
                .fetch_optional(self.reader())
                .await?;
        let atts: Vec<AttachmentRow> = sqlx::query_as(
            "SELECT part, name, mime_type, size, is_document FROM attachments
             WHERE message_pk = ?1 ORDER BY part",
        )
        .bind(id)
        .fetch_all(self.reader())
        .await?;
        let (text, html) = body.unwrap_or_default();
        Ok(BodyParts {
            text,
            html,
            attachments: atts
                .into_iter()
                .map(|(p, n, m, s, d)| {
                    (
                        p as u32,
                        n,
                        m.unwrap_or_else(|| "application/octet-stream".into()),
                        s.unwrap_or(0),
                        d,
                    )
                })
                .collect(),
        })
    }

    /// Conversations with patients: one per (mailbox, patient address), latest first.
    /// One scan picks the messages from or to a patient address; grouping is done here.
    pub async fn patient_threads(
        &self,
        patient_domain: &str,
    ) -> Result<Vec<PatientThread>, StoreError> {
        let domain = format!("@{}", patient_domain.to_ascii_lowercase());
        let rows: Vec<PatientRow> = sqlx::query_as(
            "SELECT a.address, m.from_addr, m.from_name, m.to_addrs, m.seen,
                        COALESCE(m.received_at, m.sent_at)
                 FROM messages m JOIN folders f ON f.id = m.folder_id
                 JOIN accounts a ON a.id = f.account_id
                 WHERE m.folded = 0
                   AND (m.from_addr LIKE '%' || ?1 OR m.to_addrs LIKE '%' || ?1 || '%')",
        )
        .bind(&domain)
        .fetch_all(self.reader())
        .await?;
        let mut threads: std::collections::HashMap<(String, String), PatientThread> =
            std::collections::HashMap::new();
        let mut add = |account: &str, addr: &str, from_patient: bool, r: &PatientRow| {
            let t = threads
                .entry((addr.to_owned(), account.to_owned()))
                .or_insert_with(|| PatientThread {
                    address: addr.to_owned(),
                    name: None,
                    account: account.to_owned(),
                    messages: 0,
                    unread: 0,
                    last_at: None,
                });
            t.messages += 1;
            if from_patient && !r.4 {
                t.unread += 1;
            }
            if r.5 > t.last_at {
                t.last_at = r.5;
            }
            if from_patient && r.2.is_some() && (t.name.is_none() || r.5 >= t.last_at) {
                t.name = r.2.clone();
            }
        };
        for r in &rows {
            let from = r.1.as_deref().unwrap_or("");
            if from.ends_with(&domain) {
                add(&r.0, from, true, r);
            } else {
                let mut seen = std::collections::HashSet::new();
                for a in r.3.as_deref().unwrap_or("").split(',') {
                    let a = a.trim().to_ascii_lowercase();
                    if a.ends_with(&domain) && seen.insert(a.clone()) {
                        add(&r.0, &a, false, r);
                    }
                }
            }
        }
        let mut out: Vec<PatientThread> = threads.into_values().collect();
        out.sort_by(|a, b| b.last_at.cmp(&a.last_at).then(a.address.cmp(&b.address)));
        Ok(out)
    }

    /// Addresses the user wrote to or received from, most used first, whose address or name
    /// contains `needle` (lower case); for the compose window's autocomplete.
    pub async fn recent_correspondents(
        &self,
        needle: &str,
        limit: i64,
    ) -> Result<Vec<(String, Option<String>, i64)>, StoreError> {
        let pattern = format!("%{}%", needle.to_lowercase().replace(['%', '_'], ""));
        let rows: Vec<(String, Option<String>, i64)> = sqlx::query_as(
            "SELECT from_addr, MAX(from_name), COUNT(*) AS uses FROM messages
             WHERE from_addr IS NOT NULL AND (from_addr LIKE ?1 OR LOWER(from_name) LIKE ?1)
             GROUP BY from_addr ORDER BY uses DESC, from_addr LIMIT ?2",
        )
        .bind(pattern)
        .bind(limit)
        .fetch_all(self.reader())
        .await?;
        Ok(rows)
    }

    /// Where a message lives on the server: (account, folder, UID).
    pub async fn location(&self, id: i64) -> Result<Option<(String, String, u32)>, StoreError> {
        let r: Option<(String, String, i64)> = sqlx::query_as(
            "SELECT a.address, f.name, m.uid FROM messages m JOIN folders f ON f.id = m.folder_id
             JOIN accounts a ON a.id = f.account_id WHERE m.id = ?1",
        )
        .bind(id)
        .fetch_optional(self.reader())
        .await?;
        Ok(r.map(|(a, f, u)| (a, f, u as u32)))
    }
}

impl Store {
    /// The display name of the latest message this address sent (a patient's name as Mon
    /// espace santé gives it), if any.
    pub async fn latest_sender_name(&self, address: &str) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar::<_, Option<String>>(
            "SELECT from_name FROM messages WHERE from_addr = ?1 AND from_name IS NOT NULL
             ORDER BY received_at DESC LIMIT 1",
        )
        .bind(address.to_lowercase())
        .fetch_optional(self.reader())
        .await?
        .flatten())
    }

    /// Withdraws a queued message that is not being submitted: only `pending` or `failed`
    /// rows go (a drain may claim the row at any moment). Returns whether it was removed.
    pub async fn outbox_discard(&self, id: i64) -> Result<bool, StoreError> {
        let n = sqlx::query("DELETE FROM outbox WHERE id = ?1 AND state IN ('pending', 'failed')")
            .bind(id)
            .execute(self.writer())
            .await?
            .rows_affected();
        Ok(n == 1)
    }

    /// The display name recorded for an account (added in the app or from the configuration).
    pub async fn account_display_name(&self, address: &str) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar::<_, Option<String>>(
            "SELECT display_name FROM accounts WHERE address = ?1",
        )
        .bind(address.to_lowercase())
        .fetch_optional(self.reader())
        .await?
        .flatten())
    }

    /// Reports received about the message with this Message-ID: (kind, recipient, detail,
    /// time), latest first.
    pub async fn reports_for(&self, message_id: &str) -> Result<Vec<ReportLine>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT kind, recipient, detail, at FROM reports WHERE original_message_id = ?1
             ORDER BY at DESC, id DESC",
        )
        .bind(message_id)
        .fetch_all(self.reader())
        .await?)
    }

    /// Records the user's answer to a read-receipt request (1 sent, 2 declined).
    pub async fn set_mdn_state(&self, id: i64, state: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE messages SET mdn_state = ?2 WHERE id = ?1")
            .bind(id)
            .bind(state)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    /// The References of a cached message (ids without brackets).
    pub async fn references_of(&self, id: i64) -> Result<Vec<String>, StoreError> {
        let refs: Option<Option<String>> =
            sqlx::query_scalar("SELECT refs FROM messages WHERE id = ?1")
                .bind(id)
                .fetch_optional(self.reader())
                .await?;
        Ok(refs
            .flatten()
            .map(|r| r.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default())
    }
}
