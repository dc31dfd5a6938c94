//! Compose drafts, saved continuously in the encrypted cache (migration 0006) and followed by
//! a copy in the sending mailbox's Drafts folder on the server (migration 0012, decision 0031).
//!
//! The engine stores what the compose window sends it as opaque JSON: the typed fields on every
//! save, the attached files only when they change (they may weigh megabytes; the window sends
//! them again only when the list changed).
//!
//! The server copy is bookkept by revision: each save counts one; the engine composes the MIME
//! of a dirty draft ([`Store::drafts_to_compose`], [`Store::set_draft_upload`]); the account's
//! sync pass appends it ([`Store::draft_uploads`]) and records where it went
//! ([`Store::draft_uploaded`]), which journals the deletion of the copy it replaces. A draft
//! deleted (sent or discarded) journals the deletion of its server copy. Deletions go through
//! the offline journal (`imap::journal`), so they survive a lost connection or a restart.

use sqlx::Row;

use super::{now, Store, StoreError};

/// A saved draft.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DraftRow {
    /// The compose key.
    pub key: String,
    /// The sending mailbox, if chosen.
    pub account: Option<String>,
    /// The typed fields (JSON).
    pub content: String,
    /// The attached files (JSON), if any were saved.
    pub files: Option<String>,
    /// Last save (Unix seconds).
    pub updated_at: i64,
    /// Saves counted so far.
    pub revision: i64,
}

/// Where a draft's copy is on the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerCopy {
    /// The mailbox.
    pub account: String,
    /// Its Drafts folder.
    pub folder: String,
    /// The folder's UIDVALIDITY when the copy was appended.
    pub uidvalidity: u32,
    /// The copy's UID.
    pub uid: u32,
    /// The copy's Message-ID (found again by it after a UIDVALIDITY change).
    pub message_id: String,
}

/// A composed draft waiting to be appended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DraftUpload {
    /// The compose key.
    pub key: String,
    /// The revision the MIME was composed from.
    pub revision: i64,
    /// The MIME.
    pub raw: Vec<u8>,
}

/// key, account, content, files, updated_at, revision.
type Row6 = (String, Option<String>, String, Option<String>, i64, i64);

fn draft_row((key, account, content, files, updated_at, revision): Row6) -> DraftRow {
    DraftRow {
        key,
        account,
        content,
        files,
        updated_at,
        revision,
    }
}

fn server_copy(r: &sqlx::sqlite::SqliteRow, first: usize) -> Option<ServerCopy> {
    Some(ServerCopy {
        account: r.get::<Option<String>, _>(first)?,
        folder: r.get::<Option<String>, _>(first + 1)?,
        uidvalidity: r.get::<Option<i64>, _>(first + 2)? as u32,
        uid: r.get::<Option<i64>, _>(first + 3)? as u32,
        message_id: r.get::<Option<String>, _>(first + 4).unwrap_or_default(),
    })
}

const SERVER_COLUMNS: &str =
    "server_account, server_folder, server_uidvalidity, server_uid, server_message_id";

impl Store {
    /// Saves a draft; `files: None` keeps the files saved before. Counts one revision.
    pub async fn save_draft(
        &self,
        key: &str,
        account: Option<&str>,
        content: &str,
        files: Option<&str>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO drafts (key, account, content, files, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(key) DO UPDATE SET account = excluded.account, content = excluded.content,
               files = CASE WHEN ?6 THEN excluded.files ELSE drafts.files END,
               updated_at = excluded.updated_at, revision = drafts.revision + 1",
        )
        .bind(key)
        .bind(account)
        .bind(content)
        .bind(files)
        .bind(now())
        .bind(files.is_some())
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// The draft saved under `key`.
    pub async fn draft(&self, key: &str) -> Result<Option<DraftRow>, StoreError> {
        let row: Option<Row6> = sqlx::query_as(
            "SELECT key, account, content, files, updated_at, revision FROM drafts WHERE key = ?",
        )
        .bind(key)
        .fetch_optional(&self.reader)
        .await?;
        Ok(row.map(draft_row))
    }

    /// Where the draft `key`'s server copy is, if it has one.
    pub async fn draft_server_copy(&self, key: &str) -> Result<Option<ServerCopy>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {SERVER_COLUMNS} FROM drafts WHERE key = ?"
        ))
        .bind(key)
        .fetch_optional(&self.writer)
        .await?;
        Ok(row.and_then(|r| server_copy(&r, 0)))
    }

    /// The key of the draft whose server copy is message `uid` of `folder` in `account`.
    pub async fn draft_key_of_copy(
        &self,
        account: &str,
        folder: &str,
        uid: u32,
    ) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT key FROM drafts WHERE server_account = ?1 AND server_folder = ?2
               AND server_uid = ?3",
        )
        .bind(account)
        .bind(folder)
        .bind(uid)
        .fetch_optional(&self.writer)
        .await?)
    }

    /// Records a draft taken over from a message of the server's Drafts folder: the fields,
    /// the files, and that copy as its server copy (saved under the same revision, so it is
    /// not uploaded again until edited; the next upload replaces that message).
    pub async fn adopt_server_draft(
        &self,
        key: &str,
        content: &str,
        files: &str,
        copy: &ServerCopy,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO drafts (key, account, content, files, updated_at, revision,
                 server_revision, server_account, server_folder, server_uidvalidity, server_uid,
                 server_message_id)
             VALUES (?1, ?2, ?3, ?4, ?5, 1, 1, ?2, ?6, ?7, ?8, ?9)",
        )
        .bind(key)
        .bind(&copy.account)
        .bind(content)
        .bind(files)
        .bind(now())
        .bind(&copy.folder)
        .bind(copy.uidvalidity)
        .bind(copy.uid)
        .bind(&copy.message_id)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Drafts saved since their server copy (or the MIME waiting for it) was composed.
    pub async fn drafts_to_compose(&self) -> Result<Vec<DraftRow>, StoreError> {
        let rows: Vec<Row6> = sqlx::query_as(
            "SELECT key, account, content, files, updated_at, revision FROM drafts
             WHERE revision > server_revision AND revision > coalesce(upload_revision, 0)
             ORDER BY updated_at",
        )
        .fetch_all(&self.writer)
        .await?;
        Ok(rows.into_iter().map(draft_row).collect())
    }

    /// Keeps the MIME composed from `revision` of draft `key` for `account`'s next sync pass.
    /// Returns false (and keeps nothing) when the draft changed or went in the meantime.
    pub async fn set_draft_upload(
        &self,
        key: &str,
        revision: i64,
        account: &str,
        raw: &[u8],
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE drafts SET upload_account = ?3, upload_raw = ?4, upload_revision = ?2
             WHERE key = ?1 AND revision = ?2",
        )
        .bind(key)
        .bind(revision)
        .bind(account)
        .bind(raw)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The composed drafts waiting to be appended to `account`'s Drafts folder.
    pub async fn draft_uploads(&self, account: &str) -> Result<Vec<DraftUpload>, StoreError> {
        let rows = sqlx::query(
            "SELECT key, upload_revision, upload_raw FROM drafts
             WHERE upload_account = ?1 AND upload_raw IS NOT NULL ORDER BY updated_at",
        )
        .bind(account)
        .fetch_all(&self.writer)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| DraftUpload {
                key: r.get(0),
                revision: r.get(1),
                raw: r.get(2),
            })
            .collect())
    }

    /// Records that `upload` is now on the server as `copy`. The copy it replaces is deleted
    /// through the journal; if the draft went while it was being appended (sent, discarded),
    /// the new copy is. Returns the mailboxes whose journal received a deletion.
    pub async fn draft_uploaded(
        &self,
        upload: &DraftUpload,
        copy: &ServerCopy,
    ) -> Result<Vec<String>, StoreError> {
        let mut tx = self.writer.begin().await?;
        let row = sqlx::query(&format!(
            "SELECT {SERVER_COLUMNS} FROM drafts WHERE key = ?"
        ))
        .bind(&upload.key)
        .fetch_optional(&mut *tx)
        .await?;
        let mut journaled = Vec::new();
        match row {
            None => {
                journal_server_delete(&mut tx, copy).await?;
                journaled.push(copy.account.clone());
            }
            Some(r) => {
                if let Some(old) = server_copy(&r, 0).filter(|old| old != copy) {
                    journal_server_delete(&mut tx, &old).await?;
                    journaled.push(old.account);
                }
                sqlx::query(
                    "UPDATE drafts SET server_revision = ?2, server_account = ?3,
                       server_folder = ?4, server_uidvalidity = ?5, server_uid = ?6,
                       server_message_id = ?7,
                       upload_raw = CASE WHEN upload_revision = ?2 THEN NULL ELSE upload_raw END,
                       upload_account = CASE WHEN upload_revision = ?2 THEN NULL
                                        ELSE upload_account END
                     WHERE key = ?1",
                )
                .bind(&upload.key)
                .bind(upload.revision)
                .bind(&copy.account)
                .bind(&copy.folder)
                .bind(copy.uidvalidity)
                .bind(copy.uid)
                .bind(&copy.message_id)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(journaled)
    }

    /// The Drafts folder of `account` as the last sync listed it: the folder marked `\Drafts`
    /// (RFC 6154), else one named `Drafts` or `Brouillons`. `None` before the first sync or
    /// on a server without one (drafts then stay in the cache only).
    pub async fn drafts_folder(&self, account: &str) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT f.name FROM folders f JOIN accounts a ON a.id = f.account_id
             WHERE a.address = ?1 AND f.selectable = 1
               AND (f.special_use = '\\Drafts' OR lower(f.name) IN ('drafts', 'brouillons'))
             ORDER BY f.special_use IS NULL, f.name LIMIT 1",
        )
        .bind(account)
        .fetch_optional(&self.writer)
        .await?)
    }

    /// The UIDVALIDITY the last sync recorded for `folder` of `account`.
    pub async fn folder_uidvalidity(
        &self,
        account: &str,
        folder: &str,
    ) -> Result<Option<u32>, StoreError> {
        let v: Option<Option<i64>> = sqlx::query_scalar(
            "SELECT f.uidvalidity FROM folders f JOIN accounts a ON a.id = f.account_id
             WHERE a.address = ?1 AND f.name = ?2",
        )
        .bind(account)
        .bind(folder)
        .fetch_optional(&self.reader)
        .await?;
        Ok(v.flatten().map(|v| v as u32))
    }

    /// The cached message with this Message-ID (the most recent arrival), outside Drafts
    /// folders: what a resumed answer answers.
    pub async fn message_by_message_id(&self, message_id: &str) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT m.id FROM messages m JOIN folders f ON f.id = m.folder_id
             WHERE m.message_id = ?1 AND f.special_use IS NOT '\\Drafts'
             ORDER BY m.received_at DESC LIMIT 1",
        )
        .bind(message_id)
        .fetch_optional(&self.reader)
        .await?)
    }

    /// Gives up the server copy of `upload` (appended, but the server does not show it back).
    pub async fn clear_draft_upload(&self, upload: &DraftUpload) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE drafts SET upload_raw = NULL, upload_account = NULL
             WHERE key = ?1 AND upload_revision = ?2",
        )
        .bind(&upload.key)
        .bind(upload.revision)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Forgets a draft (sent, or discarded by the user); its server copy, if any, is deleted
    /// through the journal. Deleting a missing draft is not an error. Returns the mailbox whose
    /// journal received the deletion.
    pub async fn delete_draft(&self, key: &str) -> Result<Option<String>, StoreError> {
        let mut tx = self.writer.begin().await?;
        let row = sqlx::query(&format!(
            "SELECT {SERVER_COLUMNS} FROM drafts WHERE key = ?"
        ))
        .bind(key)
        .fetch_optional(&mut *tx)
        .await?;
        let copy = row.and_then(|r| server_copy(&r, 0));
        if let Some(copy) = &copy {
            journal_server_delete(&mut tx, copy).await?;
        }
        sqlx::query("DELETE FROM drafts WHERE key = ?")
            .bind(key)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(copy.map(|c| c.account))
    }
}

/// Journals the deletion of a server copy, and takes it out of the cache at once when the
/// sync already brought it there (the Drafts list then stops showing it).
async fn journal_server_delete(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    copy: &ServerCopy,
) -> Result<(), StoreError> {
    let Some(account_id): Option<i64> =
        sqlx::query_scalar("SELECT id FROM accounts WHERE address = ?")
            .bind(&copy.account)
            .fetch_optional(&mut **tx)
            .await?
    else {
        // The mailbox left the cache: nothing to replay on it.
        return Ok(());
    };
    sqlx::query(
        "DELETE FROM messages WHERE uid = ?3 AND folder_id =
           (SELECT id FROM folders WHERE account_id = ?1 AND name = ?2 AND uidvalidity = ?4)",
    )
    .bind(account_id)
    .bind(&copy.folder)
    .bind(copy.uid)
    .bind(copy.uidvalidity)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "INSERT INTO operations (account_id, folder, uidvalidity, uid, message_id, kind,
             argument, created_at) VALUES (?1, ?2, ?3, ?4, ?5, 'delete', NULL, ?6)",
    )
    .bind(account_id)
    .bind(&copy.folder)
    .bind(copy.uidvalidity)
    .bind(copy.uid)
    .bind((!copy.message_id.is_empty()).then_some(&copy.message_id))
    .bind(now())
    .execute(&mut **tx)
    .await?;
    Ok(())
}
