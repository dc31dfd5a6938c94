//! Compose drafts, saved continuously in the encrypted cache (migration 0006).
//!
//! The engine stores what the compose window sends it as opaque JSON: the typed fields on every
//! save, the attached files only when they change (they may weigh megabytes; the window sends
//! them again only when the list changed).

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
}

/// key, account, content, files, updated_at.
type Row = (String, Option<String>, String, Option<String>, i64);

impl Store {
    /// Saves a draft; `files: None` keeps the files saved before.
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
               updated_at = excluded.updated_at",
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
        let row: Option<Row> = sqlx::query_as(
            "SELECT key, account, content, files, updated_at FROM drafts WHERE key = ?",
        )
        .bind(key)
        .fetch_optional(&self.reader)
        .await?;
        Ok(
            row.map(|(key, account, content, files, updated_at)| DraftRow {
                key,
                account,
                content,
                files,
                updated_at,
            }),
        )
    }

    /// Forgets a draft (sent, or discarded by the user). Deleting a missing draft is not an error.
    pub async fn delete_draft(&self, key: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM drafts WHERE key = ?")
            .bind(key)
            .execute(&self.writer)
            .await?;
        Ok(())
    }
}
