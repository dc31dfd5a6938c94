//! Folders and messages: what the sync engine writes, one transaction per batch.

use sqlx::Row;

use super::{Store, StoreError};

/// A folder's sync state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderState {
    /// Row id.
    pub id: i64,
    /// Server name.
    pub name: String,
    /// UIDVALIDITY of the cached UIDs.
    pub uidvalidity: Option<u32>,
    /// UIDNEXT at the end of the last sync.
    pub uidnext: Option<u32>,
    /// HIGHESTMODSEQ at the end of the last sync.
    pub highestmodseq: Option<u64>,
    /// Every UID at or above this one has been fetched (newest-first walk); `None` before the
    /// first batch, `Some(1)` once the walk is complete.
    pub fetched_below: Option<u32>,
}

/// What a sync pass knows of a folder before talking to it: its LIST attributes, its sync
/// state and the cache's side of the no-change check ([`Store::folder_overview`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderOverview {
    /// Sync state (row id, name, UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ…).
    pub state: FolderState,
    /// Hierarchy delimiter from LIST.
    pub delimiter: Option<String>,
    /// Special use from LIST (`\Sent`, `\Drafts`…).
    pub special_use: Option<String>,
    /// Whether the folder can be selected (no `\Noselect`).
    pub selectable: bool,
    /// Cached messages.
    pub count: u32,
    /// Whether a cached message still waits for its body.
    pub missing_bodies: bool,
}

/// A message's header data as parsed by the sync engine.
#[derive(Debug, Clone, Default)]
pub struct NewMessage {
    /// Server UID.
    pub uid: u32,
    /// Message-ID without angle brackets.
    pub message_id: Option<String>,
    /// In-Reply-To.
    pub in_reply_to: Option<String>,
    /// References.
    pub references: Vec<String>,
    /// From address (lower case) and name.
    pub from: Option<(String, Option<String>)>,
    /// To addresses.
    pub to: Vec<String>,
    /// Cc addresses.
    pub cc: Vec<String>,
    /// Decoded subject.
    pub subject: Option<String>,
    /// Date header, Unix seconds.
    pub sent_at: Option<i64>,
    /// INTERNALDATE, Unix seconds.
    pub received_at: Option<i64>,
    /// Server flags.
    pub flags: Vec<String>,
    /// RFC822.SIZE.
    pub size: Option<u32>,
    /// MODSEQ (CONDSTORE).
    pub modseq: Option<u64>,
    /// X-MSS-INS.
    pub patient_ins: Option<String>,
    /// A read receipt is asked: (Disposition-Notification-To address, it differs from
    /// Return-Path).
    pub mdn: Option<(String, bool)>,
    /// Body data when the full message was fetched.
    pub body: Option<BodyData>,
}

/// A message's body data.
#[derive(Debug, Clone, Default)]
pub struct BodyData {
    /// Plain text (or text converted from HTML).
    pub text: String,
    /// HTML alternative, untrusted (rendered only in the isolated viewer).
    pub html: Option<String>,
    /// The first characters of the text.
    pub snippet: String,
    /// Attachments: (part, name, MIME type, size, is a health document).
    pub attachments: Vec<(u32, Option<String>, String, u64, bool)>,
    /// Searchable text of the health documents (CDA narrative, documents inside an XDM
    /// archive, PDF text), capped; stored once (`bodies.document_text`) and indexed with the
    /// attachment names.
    pub attachment_text: String,
    /// Delivery or read reports this message carries (it is a DSN or an MDN).
    pub reports: Vec<ReportRow>,
}

/// A report found in a message: (original Message-ID, kind, recipient, detail).
/// Kinds: `read`, `delivered`, `failed`, `delayed`, `other`.
pub type ReportRow = (String, String, Option<String>, String);

impl BodyData {
    /// A PDF, CDA or IHE XDM attachment is present.
    pub fn has_documents(&self) -> bool {
        self.attachments.iter().any(|a| a.4)
    }
}

/// A message as listed from the cache.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StoredMessage {
    /// Row id.
    pub id: i64,
    /// Folder name.
    pub folder: String,
    /// Server UID.
    pub uid: u32,
    /// Message-ID.
    pub message_id: Option<String>,
    /// From address.
    pub from: Option<String>,
    /// Subject.
    pub subject: Option<String>,
    /// Flags.
    pub flags: String,
}

/// A [`FolderState`] from a row whose first six columns are `id, name, uidvalidity, uidnext,
/// highestmodseq, fetched_below`.
fn folder_state_of(r: &sqlx::sqlite::SqliteRow) -> FolderState {
    FolderState {
        id: r.get(0),
        name: r.get(1),
        uidvalidity: r.get::<Option<i64>, _>(2).map(|v| v as u32),
        uidnext: r.get::<Option<i64>, _>(3).map(|v| v as u32),
        highestmodseq: r.get::<Option<i64>, _>(4).map(|v| v as u64),
        fetched_below: r.get::<Option<i64>, _>(5).map(|v| v as u32),
    }
}

fn flags_text(flags: &[String]) -> String {
    let mut f: Vec<&str> = flags
        .iter()
        .map(String::as_str)
        .filter(|f| !f.eq_ignore_ascii_case("\\Recent"))
        .collect();
    f.sort_unstable();
    f.dedup();
    f.join(" ")
}

fn has_flag(flags: &[String], name: &str) -> bool {
    flags.iter().any(|f| f.eq_ignore_ascii_case(name))
}

impl Store {
    /// Records a folder from LIST (creating it on first sight); returns its id.
    pub async fn upsert_folder(
        &self,
        account_id: i64,
        name: &str,
        delimiter: Option<&str>,
        special_use: Option<&str>,
        selectable: bool,
    ) -> Result<i64, StoreError> {
        // Every sync lists every folder: an unchanged one is a read, no write transaction.
        let same: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM folders WHERE account_id = ?1 AND name = ?2 AND delimiter IS ?3
               AND special_use IS ?4 AND selectable = ?5",
        )
        .bind(account_id)
        .bind(name)
        .bind(delimiter)
        .bind(special_use)
        .bind(selectable)
        .fetch_optional(self.writer())
        .await?;
        if let Some(id) = same {
            return Ok(id);
        }
        Ok(sqlx::query_scalar(
            "INSERT INTO folders (account_id, name, delimiter, special_use, selectable)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(account_id, name) DO UPDATE SET delimiter = excluded.delimiter,
                 special_use = excluded.special_use, selectable = excluded.selectable
             RETURNING id",
        )
        .bind(account_id)
        .bind(name)
        .bind(delimiter)
        .bind(special_use)
        .bind(selectable)
        .fetch_one(self.writer())
        .await?)
    }

    /// Every folder of an account with its state, its cached count and whether a body is
    /// missing, INBOX first then by name: one read for the whole no-change check of a sync
    /// pass (before, four queries per folder).
    pub async fn folder_overview(
        &self,
        account_id: i64,
    ) -> Result<Vec<FolderOverview>, StoreError> {
        let rows = sqlx::query(
            "SELECT f.id, f.name, f.uidvalidity, f.uidnext, f.highestmodseq, f.fetched_below,
                    f.delimiter, f.special_use, f.selectable,
                    (SELECT count(*) FROM messages m WHERE m.folder_id = f.id),
                    EXISTS (SELECT 1 FROM messages m WHERE m.folder_id = f.id AND m.body_state = 0)
             FROM folders f WHERE f.account_id = ?1
             ORDER BY f.name != 'INBOX', f.name",
        )
        .bind(account_id)
        .fetch_all(self.writer())
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| FolderOverview {
                state: folder_state_of(&r),
                delimiter: r.get(6),
                special_use: r.get(7),
                selectable: r.get(8),
                count: r.get::<i64, _>(9) as u32,
                missing_bodies: r.get(10),
            })
            .collect())
    }

    /// Drops folders of `account_id` that are no longer on the server.
    pub async fn retain_folders(
        &self,
        account_id: i64,
        names: &[String],
    ) -> Result<(), StoreError> {
        let json = serde_json::to_string(names).unwrap_or_else(|_| "[]".into());
        let gone: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM folders WHERE account_id = ?1
             AND name NOT IN (SELECT value FROM json_each(?2)))",
        )
        .bind(account_id)
        .bind(&json)
        .fetch_one(self.writer())
        .await?;
        if !gone {
            return Ok(());
        }
        sqlx::query(
            "DELETE FROM folders WHERE account_id = ?1
             AND name NOT IN (SELECT value FROM json_each(?2))",
        )
        .bind(account_id)
        .bind(json)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// The sync state of a folder.
    pub async fn folder_state(&self, folder_id: i64) -> Result<FolderState, StoreError> {
        let r = sqlx::query(
            "SELECT id, name, uidvalidity, uidnext, highestmodseq, fetched_below
             FROM folders WHERE id = ?1",
        )
        .bind(folder_id)
        .fetch_one(self.writer())
        .await?;
        Ok(folder_state_of(&r))
    }

    /// The server changed UIDVALIDITY: the cached UIDs mean nothing any more. Messages are
    /// dropped and fetched again; the operations journal keeps Message-IDs to remap pending
    /// changes, so no local change is lost.
    pub async fn reset_folder(&self, folder_id: i64, uidvalidity: u32) -> Result<(), StoreError> {
        let mut tx = self.writer().begin().await?;
        sqlx::query("DELETE FROM messages WHERE folder_id = ?1")
            .bind(folder_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE folders SET uidvalidity = ?2, uidnext = NULL, highestmodseq = NULL,
                 fetched_below = NULL, last_full_scan = NULL WHERE id = ?1",
        )
        .bind(folder_id)
        .bind(uidvalidity)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Stores one batch of new messages and advances the newest-first walk, in one transaction:
    /// an interrupted sync resumes after the last committed batch.
    pub async fn insert_batch(
        &self,
        folder_id: i64,
        batch: &[NewMessage],
        fetched_below: Option<u32>,
    ) -> Result<(), StoreError> {
        // One statement for the whole batch (the rows travel as JSON, in the batch's order:
        // within a second, search keys follow insertion order); the triggers key and index
        // each row. A UID already cached keeps its row and takes the server's flags.
        let rows: Vec<_> = batch
            .iter()
            .map(|m| {
                let thread_key = m
                    .references
                    .first()
                    .or(m.in_reply_to.as_ref())
                    .or(m.message_id.as_ref());
                serde_json::json!([
                    m.uid,
                    m.message_id,
                    m.in_reply_to,
                    m.references.join(" "),
                    thread_key,
                    m.from.as_ref().map(|f| &f.0),
                    m.from.as_ref().and_then(|f| f.1.as_ref()),
                    m.to.join(", "),
                    m.cc.join(", "),
                    m.subject,
                    m.sent_at,
                    m.received_at,
                    flags_text(&m.flags),
                    has_flag(&m.flags, "\\Seen"),
                    has_flag(&m.flags, "\\Flagged"),
                    m.size,
                    m.modseq.map(|v| v as i64),
                    m.body.as_ref().map(|b| &b.snippet),
                    m.body.as_ref().is_some_and(BodyData::has_documents),
                    m.patient_ins,
                    m.body.is_some(),
                    m.mdn.as_ref().map(|(to, _)| to),
                    m.mdn.as_ref().is_some_and(|(_, differs)| *differs),
                ])
            })
            .collect();
        let rows = serde_json::to_string(&rows).map_err(std::io::Error::other)?;
        let mut tx = self.writer().begin().await?;
        sqlx::query(
            "INSERT INTO messages (folder_id, uid, message_id, in_reply_to, refs, thread_key,
                 from_addr, from_name, to_addrs, cc_addrs, subject, sent_at, received_at,
                 flags, seen, flagged, size, modseq, snippet, has_documents, patient_ins,
                 body_state, mdn_to, mdn_differs)
             SELECT ?1, v ->> '$[0]', v ->> '$[1]', v ->> '$[2]', v ->> '$[3]', v ->> '$[4]',
                 v ->> '$[5]', v ->> '$[6]', v ->> '$[7]', v ->> '$[8]', v ->> '$[9]',
                 v ->> '$[10]', v ->> '$[11]', v ->> '$[12]', v ->> '$[13]', v ->> '$[14]',
                 v ->> '$[15]', v ->> '$[16]', v ->> '$[17]', v ->> '$[18]', v ->> '$[19]',
                 v ->> '$[20]', v ->> '$[21]', v ->> '$[22]'
             FROM (SELECT j.value AS v FROM json_each(?2) j ORDER BY j.key)
             WHERE true
             ON CONFLICT(folder_id, uid) DO UPDATE SET flags = excluded.flags,
                 seen = excluded.seen, flagged = excluded.flagged, modseq = excluded.modseq",
        )
        .bind(folder_id)
        .bind(rows)
        .execute(&mut *tx)
        .await?;
        let bodies: Vec<(u32, &BodyData)> = batch
            .iter()
            .filter_map(|m| Some((m.uid, m.body.as_ref()?)))
            .collect();
        write_bodies(&mut tx, folder_id, &bodies).await?;
        if let Some(below) = fetched_below {
            sqlx::query("UPDATE folders SET fetched_below = ?2 WHERE id = ?1")
                .bind(folder_id)
                .bind(below)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Stores fetched bodies (uid, body) of a folder, in one transaction.
    pub async fn store_bodies(
        &self,
        folder_id: i64,
        bodies: &[(u32, BodyData)],
    ) -> Result<(), StoreError> {
        let mut tx = self.writer().begin().await?;
        let bodies: Vec<(u32, &BodyData)> = bodies.iter().map(|(u, b)| (*u, b)).collect();
        write_bodies(&mut tx, folder_id, &bodies).await?;
        tx.commit().await?;
        Ok(())
    }

    /// UIDs of a folder whose body is not stored yet, newest first.
    pub async fn uids_without_body(
        &self,
        folder_id: i64,
        limit: i64,
    ) -> Result<Vec<u32>, StoreError> {
        let v: Vec<i64> = sqlx::query_scalar(
            "SELECT uid FROM messages WHERE folder_id = ?1 AND body_state = 0
             ORDER BY uid DESC LIMIT ?2",
        )
        .bind(folder_id)
        .bind(limit)
        .fetch_all(self.writer())
        .await?;
        Ok(v.into_iter().map(|u| u as u32).collect())
    }

    /// (UID, RFC822.SIZE) of the messages without a body, newest first (the body fetch
    /// batches them by size).
    pub async fn sizes_without_body(&self, folder_id: i64) -> Result<Vec<(u32, u64)>, StoreError> {
        let v: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT uid, COALESCE(size, 0) FROM messages WHERE folder_id = ?1 AND body_state = 0
             ORDER BY uid DESC",
        )
        .bind(folder_id)
        .fetch_all(self.writer())
        .await?;
        Ok(v.into_iter()
            .map(|(u, s)| (u as u32, s.max(0) as u64))
            .collect())
    }

    /// Applies server flags (uid, flags, modseq), in one transaction.
    pub async fn update_flags(
        &self,
        folder_id: i64,
        changes: &[(u32, Vec<String>, Option<u64>)],
    ) -> Result<u64, StoreError> {
        let mut tx = self.writer().begin().await?;
        let mut n = 0;
        for (uid, flags, modseq) in changes {
            n += sqlx::query(
                "UPDATE messages SET flags = ?3, seen = ?4, flagged = ?5,
                     modseq = COALESCE(?6, modseq)
                 WHERE folder_id = ?1 AND uid = ?2 AND flags != ?3",
            )
            .bind(folder_id)
            .bind(uid)
            .bind(flags_text(flags))
            .bind(has_flag(flags, "\\Seen"))
            .bind(has_flag(flags, "\\Flagged"))
            .bind(modseq.map(|v| v as i64))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        tx.commit().await?;
        Ok(n)
    }

    /// The highest message row id (0 in an empty cache): rows inserted later have higher ids.
    pub async fn last_message_row(&self) -> Result<i64, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM messages")
                .fetch_one(self.reader())
                .await?,
        )
    }

    /// How many of the account's messages inserted after row `after` are incoming mail: in a
    /// folder without special use (not Sent, Drafts, Trash, Junk, Archive…) and not folded
    /// into another message (migration 0011). Walks the rows after `after` only.
    pub async fn incoming_since(&self, account_id: i64, after: i64) -> Result<usize, StoreError> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM messages m NOT INDEXED JOIN folders f ON f.id = m.folder_id
             WHERE m.id > ?2 AND f.account_id = ?1 AND m.folded = 0 AND f.special_use IS NULL",
        )
        .bind(account_id)
        .bind(after)
        .fetch_one(self.reader())
        .await?;
        Ok(n as usize)
    }

    /// Removes expunged UIDs.
    pub async fn remove_uids(&self, folder_id: i64, uids: &[u32]) -> Result<u64, StoreError> {
        let json = serde_json::to_string(uids).unwrap_or_else(|_| "[]".into());
        Ok(sqlx::query(
            "DELETE FROM messages WHERE folder_id = ?1
             AND uid IN (SELECT value FROM json_each(?2))",
        )
        .bind(folder_id)
        .bind(json)
        .execute(self.writer())
        .await?
        .rows_affected())
    }

    /// How many messages of a folder are cached.
    pub async fn local_count(&self, folder_id: i64) -> Result<u32, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM messages WHERE folder_id = ?1")
            .bind(folder_id)
            .fetch_one(self.writer())
            .await?;
        Ok(n as u32)
    }

    /// Every cached UID of a folder, ascending.
    pub async fn local_uids(&self, folder_id: i64) -> Result<Vec<u32>, StoreError> {
        let v: Vec<i64> =
            sqlx::query_scalar("SELECT uid FROM messages WHERE folder_id = ?1 ORDER BY uid")
                .bind(folder_id)
                .fetch_all(self.writer())
                .await?;
        Ok(v.into_iter().map(|u| u as u32).collect())
    }

    /// Records where a folder's sync ended.
    pub async fn set_folder_sync(
        &self,
        folder_id: i64,
        uidnext: Option<u32>,
        highestmodseq: Option<u64>,
        exists: u32,
        full_scan: bool,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE folders SET uidnext = ?2, highestmodseq = ?3, exists_count = ?4,
                 last_full_scan = CASE WHEN ?5 THEN ?6 ELSE last_full_scan END
             WHERE id = ?1",
        )
        .bind(folder_id)
        .bind(uidnext)
        .bind(highestmodseq.map(|v| v as i64))
        .bind(exists)
        .bind(full_scan)
        .bind(super::now())
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// The folders of an account as (id, name), INBOX first.
    pub async fn folders(&self, account_id: i64) -> Result<Vec<(i64, String)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, name FROM folders WHERE account_id = ?1 AND selectable
             ORDER BY name != 'INBOX', name",
        )
        .bind(account_id)
        .fetch_all(self.reader())
        .await?)
    }

    /// Messages of a folder, newest first.
    pub async fn list_messages(
        &self,
        folder_id: i64,
        limit: i64,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        let rows = sqlx::query(
            "SELECT m.id, f.name, m.uid, m.message_id, m.from_addr, m.subject, m.flags
             FROM messages m JOIN folders f ON f.id = m.folder_id
             WHERE m.folder_id = ?1 ORDER BY m.received_at DESC, m.uid DESC LIMIT ?2",
        )
        .bind(folder_id)
        .bind(limit)
        .fetch_all(self.reader())
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| StoredMessage {
                id: r.get(0),
                folder: r.get(1),
                uid: r.get::<i64, _>(2) as u32,
                message_id: r.get(3),
                from: r.get(4),
                subject: r.get(5),
                flags: r.get(6),
            })
            .collect())
    }

    /// (uid, Message-ID) of every cached message of a folder, ascending by UID.
    pub async fn uid_message_ids(
        &self,
        folder_id: i64,
    ) -> Result<Vec<(u32, Option<String>)>, StoreError> {
        let v: Vec<(i64, Option<String>)> = sqlx::query_as(
            "SELECT uid, message_id FROM messages WHERE folder_id = ?1 ORDER BY uid",
        )
        .bind(folder_id)
        .fetch_all(self.writer())
        .await?;
        Ok(v.into_iter().map(|(u, m)| (u as u32, m)).collect())
    }
}

/// Writes a batch of bodies of a folder's messages, given by UID, with the same eight
/// statements whatever the batch's size: the batch travels as JSON (`json_each`), so a batch
/// of 250 messages costs eight trips to SQLite's worker thread instead of 2,000 (each a
/// channel send, a wake-up and a reply: that overhead, not SQLite's work, was most of the
/// initial sync's CPU). The large texts are in their own JSON, read by one statement; the
/// others read the small one. A UID not in the cache is skipped; a UID given twice keeps its
/// last body.
///
/// The index's content is the view search_text over bodies and attachments (migrations 0008,
/// 0010; the index's rowid is the message's search key): the messages leave the index while
/// their words are still the indexed ones, and come back once the new ones are written.
async fn write_bodies(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    folder_id: i64,
    bodies: &[(u32, &BodyData)],
) -> Result<(), StoreError> {
    if bodies.is_empty() {
        return Ok(());
    }
    let mut last: std::collections::HashMap<u32, &BodyData> = std::collections::HashMap::new();
    let mut order = Vec::with_capacity(bodies.len());
    for (uid, b) in bodies {
        if last.insert(*uid, b).is_none() {
            order.push(*uid);
        }
    }
    let texts: Vec<_> = order
        .iter()
        .map(|uid| {
            let b = last[uid];
            (
                uid,
                &b.text,
                &b.html,
                (!b.attachment_text.is_empty()).then_some(&b.attachment_text),
            )
        })
        .collect();
    let meta: Vec<_> = order
        .iter()
        .map(|uid| {
            let b = last[uid];
            let reports: Vec<_> = b
                .reports
                .iter()
                .map(|(original, kind, recipient, detail)| {
                    // An MDN names no recipient in our parse: the reporter is the report's
                    // sender (filled in below).
                    (
                        original,
                        kind,
                        recipient.as_deref().map(str::to_lowercase),
                        detail,
                    )
                })
                .collect();
            serde_json::json!({
                "uid": uid,
                "snippet": b.snippet,
                "docs": b.has_documents(),
                "atts": b.attachments,
                "reports": reports,
            })
        })
        .collect();
    let texts = serde_json::to_string(&texts).map_err(std::io::Error::other)?;
    let meta = serde_json::to_string(&meta).map_err(std::io::Error::other)?;
    for (sql, which) in body_statements() {
        let json = match which {
            BodyJson::Texts => &texts,
            BodyJson::Meta => &meta,
        };
        sqlx::query(&sql)
            .bind(folder_id)
            .bind(json.as_str())
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Which JSON a statement of [`body_statements`] reads as `?2` (`?1` is the folder's id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BodyJson {
    /// `[[uid, text, html, document text], …]`.
    Texts,
    /// `[{uid, snippet, docs, atts, reports}, …]`.
    Meta,
}

/// The statements of [`write_bodies`], in order.
pub(super) fn body_statements() -> [(String, BodyJson); 8] {
    // CROSS JOIN keeps the batch outside: SQLite cannot tell json_each's size and would
    // otherwise walk the folder's messages once per message of the batch.
    const IDS: &str = "SELECT m.id FROM json_each(?2) j
         CROSS JOIN messages m ON m.folder_id = ?1 AND m.uid = j.value ->> 'uid'";
    [
        (
            format!(
                "INSERT INTO search_fts (search_fts, rowid, subject, addresses, body, attachments)
                 SELECT 'delete', key, subject, addresses, body, attachments FROM search_text
                 WHERE id IN ({IDS})"
            ),
            BodyJson::Meta,
        ),
        (
            "INSERT INTO bodies (message_pk, text_body, html_body, document_text)
             SELECT m.id, j.value ->> '$[1]', j.value ->> '$[2]', j.value ->> '$[3]'
             FROM json_each(?2) j
             CROSS JOIN messages m ON m.folder_id = ?1 AND m.uid = j.value ->> '$[0]'
             WHERE true
             ON CONFLICT(message_pk) DO UPDATE SET text_body = excluded.text_body,
                 html_body = excluded.html_body, document_text = excluded.document_text"
                .to_owned(),
            BodyJson::Texts,
        ),
        (
            format!("DELETE FROM attachments WHERE message_pk IN ({IDS})"),
            BodyJson::Meta,
        ),
        (
            "INSERT INTO attachments (message_pk, part, name, mime_type, size, is_document)
             SELECT m.id, a.value ->> '$[0]', a.value ->> '$[1]', a.value ->> '$[2]',
                    a.value ->> '$[3]', a.value ->> '$[4]'
             FROM json_each(?2) j
             CROSS JOIN messages m ON m.folder_id = ?1 AND m.uid = j.value ->> 'uid'
             JOIN json_each(j.value, '$.atts') a
             ORDER BY m.id, a.key"
                .to_owned(),
            BodyJson::Meta,
        ),
        (
            format!(
                "INSERT INTO search_fts (rowid, subject, addresses, body, attachments)
                 SELECT key, subject, addresses, body, attachments FROM search_text
                 WHERE id IN ({IDS})"
            ),
            BodyJson::Meta,
        ),
        (
            format!("DELETE FROM reports WHERE message_pk IN ({IDS})"),
            BodyJson::Meta,
        ),
        (
            "INSERT INTO reports (message_pk, original_message_id, kind, recipient, detail, at)
             SELECT m.id, r.value ->> '$[0]', r.value ->> '$[1]',
                    COALESCE(r.value ->> '$[2]', m.from_addr), r.value ->> '$[3]',
                    COALESCE(m.received_at, m.sent_at)
             FROM json_each(?2) j
             CROSS JOIN messages m ON m.folder_id = ?1 AND m.uid = j.value ->> 'uid'
             JOIN json_each(j.value, '$.reports') r
             ORDER BY m.id, r.key"
                .to_owned(),
            BodyJson::Meta,
        ),
        (
            // Materialized: the batch's messages are found first, then updated by id (as a
            // plain join, SQLite walks the whole table).
            "WITH s AS MATERIALIZED (
                 SELECT m.id, j.value ->> 'snippet' AS snippet, j.value ->> 'docs' AS docs
                 FROM json_each(?2) j
                 CROSS JOIN messages m ON m.folder_id = ?1 AND m.uid = j.value ->> 'uid')
             UPDATE messages SET body_state = 1, snippet = s.snippet, has_documents = s.docs
             FROM s WHERE messages.id = s.id"
                .to_owned(),
            BodyJson::Meta,
        ),
    ]
}
