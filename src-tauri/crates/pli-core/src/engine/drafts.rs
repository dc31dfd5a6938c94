//! Compose drafts, saved continuously into the encrypted cache.
//!
//! The compose window saves its fields (debounced) under a key of its own: `new` for a new
//! message, `reply:<id>` / `all:<id>` / `forward:<id>` for an answer. Files are saved only
//! when the window says they changed. A sent message's draft is deleted by the window once the
//! outbox holds it (the outbox is then the copy that must not be lost).

use super::{Engine, EngineError, Result};
use crate::api::{DraftInput, FileInput, SavedDraft};

/// A key the window may use: short, printable, no control characters.
fn check_key(key: &str) -> Result<()> {
    let ok = !key.is_empty()
        && key.len() <= 200
        && key.chars().all(|c| c.is_ascii_graphic() || c == ' ');
    if ok {
        Ok(())
    } else {
        Err(EngineError::Invalid(format!(
            "clé de brouillon invalide : {key:?}"
        )))
    }
}

impl Engine {
    /// Saves the draft of the compose window `key`. `with_files`: the attachments changed and
    /// are saved too; otherwise those saved before are kept.
    pub async fn save_draft(&self, key: &str, draft: &DraftInput, with_files: bool) -> Result<()> {
        self.readable().await?;
        check_key(key)?;
        let mut fields = draft.clone();
        let files = std::mem::take(&mut fields.attachments);
        let content =
            serde_json::to_string(&fields).map_err(|e| EngineError::Invalid(e.to_string()))?;
        let files = if with_files {
            Some(serde_json::to_string(&files).map_err(|e| EngineError::Invalid(e.to_string()))?)
        } else {
            None
        };
        self.inner
            .store
            .save_draft(key, draft.from.as_deref(), &content, files.as_deref())
            .await?;
        Ok(())
    }

    /// The draft saved for the compose window `key`, if any. A draft that no longer parses (a
    /// format from another version) is reported, not silently dropped.
    pub async fn draft(&self, key: &str) -> Result<Option<SavedDraft>> {
        self.readable().await?;
        check_key(key)?;
        let Some(row) = self.inner.store.draft(key).await? else {
            return Ok(None);
        };
        let mut draft: DraftInput = serde_json::from_str(&row.content)
            .map_err(|e| EngineError::Invalid(format!("brouillon {key} illisible : {e}")))?;
        if let Some(files) = row.files.as_deref() {
            let files: Vec<FileInput> = serde_json::from_str(files)
                .map_err(|e| EngineError::Invalid(format!("brouillon {key} illisible : {e}")))?;
            draft.attachments = files;
        }
        Ok(Some(SavedDraft {
            draft,
            updated_at: row.updated_at,
        }))
    }

    /// Forgets the draft of `key` (sent or discarded).
    pub async fn delete_draft(&self, key: &str) -> Result<()> {
        self.readable().await?;
        check_key(key)?;
        self.inner.store.delete_draft(key).await?;
        Ok(())
    }
}
