//! Compose drafts, saved continuously into the encrypted cache, and kept on the server in the
//! sending mailbox's Drafts folder (decision 0031).
//!
//! The compose window saves its fields (debounced) under a key of its own: `new` for a new
//! message, `reply:<id>` / `all:<id>` / `forward:<id>` for an answer, `draft-<mailbox>-<uidvalidity>-<uid>`
//! for a draft resumed from the server. Files are saved only when the window says they changed. A sent
//! message's draft is deleted by the window once the outbox holds it (the outbox is then the
//! copy that must not be lost).
//!
//! The server copy follows at a slower pace: the first save after an upload starts a timer
//! ([`draft_upload_delay`], 60 s by default); when it fires, every draft saved since is
//! composed as MIME and the watch loop of its mailbox is woken to append it (and to delete
//! the copy it replaces). A draft still unsent at quit is composed at the next session.

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::time::Duration;

use base64::Engine as _;

use super::{Engine, EngineError, Result};
use crate::api::{DraftInput, FileInput, SavedDraft};
use crate::mssante::draft::{draft_mime, parse_draft, DraftMessage};
use crate::mssante::InsNumber;
use crate::store::ServerCopy;

/// How long after a save the server copy is brought up to date: `PLI_DRAFT_UPLOAD_SECS` when
/// set (tests), else 60 s. The compose window saves into the cache within a second; the server
/// copy (one APPEND carrying every attachment) need not follow each keystroke.
fn draft_upload_delay() -> Duration {
    std::env::var("PLI_DRAFT_UPLOAD_SECS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .map(Duration::from_secs)
        .unwrap_or(Duration::from_secs(60))
}

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
        self.schedule_draft_upload();
        Ok(())
    }

    /// Starts the timer that brings the server copies of the drafts up to date, unless one is
    /// running already (its run takes every draft saved until then).
    pub(super) fn schedule_draft_upload(&self) {
        if self.inner.draft_timer.swap(true, Ordering::SeqCst) {
            return;
        }
        let engine = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(draft_upload_delay()).await;
            engine.inner.draft_timer.store(false, Ordering::SeqCst);
            if let Err(e) = engine.compose_drafts_for_server().await {
                tracing::warn!(error = %e, "drafts not composed for the server");
            }
        });
    }

    /// Composes every draft saved since its server copy and wakes the watch loops that will
    /// append them; returns how many were composed. A draft whose sending mailbox is not
    /// usable (no display name) stays in the cache only.
    pub async fn compose_drafts_for_server(&self) -> Result<usize> {
        let store = &self.inner.store;
        let mut accounts: BTreeSet<String> = BTreeSet::new();
        for row in store.drafts_to_compose().await? {
            let Ok(draft) = self.draft_of_row(&row.key, &row.content, row.files.as_deref()) else {
                continue;
            };
            let (from, from_name, _) = match self.sender(draft.from.as_deref()).await {
                Ok(s) => s,
                Err(e) => {
                    tracing::debug!(key = row.key, error = %e, "draft kept in the cache only");
                    continue;
                }
            };
            let mut to = draft.to.clone();
            if let Some(Ok(ins)) = draft.patient_ins.as_deref().map(InsNumber::parse) {
                to.push(ins.patient_address(self.patient_domain()));
            }
            let (in_reply_to, references) = match draft.reply_to_message {
                Some(id) => self.reply_headers(id).await.unwrap_or_default(),
                None => (None, Vec::new()),
            };
            let mut files = Vec::new();
            for f in &draft.attachments {
                if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(&f.base64) {
                    files.push((f.name.clone(), bytes));
                }
            }
            let message = DraftMessage {
                from: from.clone(),
                from_name,
                to,
                cc: draft.cc.clone(),
                subject: draft.subject.clone(),
                body: draft.body.clone(),
                receipt: draft.receipt,
                delivery_receipt: draft.delivery_receipt,
                in_reply_to,
                references,
                files,
            };
            let (_, raw) = draft_mime(&message, super::outgoing::content_type)
                .map_err(|e| EngineError::Other(e.to_string()))?;
            if store
                .set_draft_upload(&row.key, row.revision, &from, &raw)
                .await?
            {
                accounts.insert(from);
            }
        }
        let n = accounts.len();
        for a in accounts {
            store.nudge(&a).notify_one();
        }
        Ok(n)
    }

    /// Takes up a message of a Drafts folder in the compose window: returns the compose key
    /// whose draft holds it. A copy Pli appended itself returns the draft it came from; a
    /// draft written elsewhere (the webmail, another workstation) is read from the server and
    /// becomes a draft whose next server copy replaces it, and which sending deletes.
    pub async fn resume_draft(&self, id: i64) -> Result<String> {
        self.readable().await?;
        let store = &self.inner.store;
        let r = store
            .row(id)
            .await?
            .ok_or_else(|| EngineError::NotFound("ce brouillon".into()))?;
        if store.drafts_folder(&r.account).await?.as_deref() != Some(r.folder.as_str()) {
            return Err(EngineError::Invalid(
                "ce message n'est pas un brouillon (il n'est pas dans le dossier Brouillons)"
                    .into(),
            ));
        }
        if let Some(key) = store
            .draft_key_of_copy(&r.account, &r.folder, r.uid)
            .await?
        {
            return Ok(key);
        }
        let uidvalidity = store
            .folder_uidvalidity(&r.account, &r.folder)
            .await?
            .ok_or_else(|| EngineError::NotFound("le dossier Brouillons".into()))?;
        let raw = self.raw_message(id).await?;
        let parsed = parse_draft(&raw, self.patient_domain()).ok_or_else(|| {
            EngineError::Invalid("ce brouillon n'est pas un message lisible".into())
        })?;
        let m = parsed.message;
        let reply_to_message = match m.in_reply_to.as_deref() {
            Some(parent) => store.message_by_message_id(parent).await?,
            None => None,
        };
        let input = DraftInput {
            from: Some(r.account.clone()),
            to: m.to,
            cc: m.cc,
            patient_ins: parsed.patient_ins,
            subject: m.subject,
            body: m.body,
            receipt: m.receipt,
            delivery_receipt: m.delivery_receipt,
            reply_to_message,
            attachments: Vec::new(),
        };
        let files: Vec<FileInput> = m
            .files
            .into_iter()
            .map(|(name, bytes)| FileInput {
                name,
                base64: base64::engine::general_purpose::STANDARD.encode(bytes),
            })
            .collect();
        // One key per server copy (UIDs are not reused within a UIDVALIDITY).
        let key = format!("draft-{}-{uidvalidity}-{}", r.account, r.uid);
        let content =
            serde_json::to_string(&input).map_err(|e| EngineError::Invalid(e.to_string()))?;
        let files =
            serde_json::to_string(&files).map_err(|e| EngineError::Invalid(e.to_string()))?;
        let copy = ServerCopy {
            account: r.account.clone(),
            folder: r.folder.clone(),
            uidvalidity,
            uid: r.uid,
            message_id: r.message_id.clone().unwrap_or_default(),
        };
        store
            .adopt_server_draft(&key, &content, &files, &copy)
            .await?;
        Ok(key)
    }

    /// The draft stored under `key`, fields and files.
    fn draft_of_row(&self, key: &str, content: &str, files: Option<&str>) -> Result<DraftInput> {
        let mut draft: DraftInput = serde_json::from_str(content)
            .map_err(|e| EngineError::Invalid(format!("brouillon {key} illisible : {e}")))?;
        if let Some(files) = files {
            let files: Vec<FileInput> = serde_json::from_str(files)
                .map_err(|e| EngineError::Invalid(format!("brouillon {key} illisible : {e}")))?;
            draft.attachments = files;
        }
        Ok(draft)
    }

    /// The draft saved for the compose window `key`, if any. A draft that no longer parses (a
    /// format from another version) is reported, not silently dropped.
    pub async fn draft(&self, key: &str) -> Result<Option<SavedDraft>> {
        self.readable().await?;
        check_key(key)?;
        let Some(row) = self.inner.store.draft(key).await? else {
            return Ok(None);
        };
        let draft = self.draft_of_row(key, &row.content, row.files.as_deref())?;
        Ok(Some(SavedDraft {
            draft,
            updated_at: row.updated_at,
        }))
    }

    /// Forgets the draft of `key` (sent or discarded), and its server copy (through the
    /// journal, replayed at once when the mailbox is being watched).
    pub async fn delete_draft(&self, key: &str) -> Result<()> {
        self.readable().await?;
        check_key(key)?;
        if let Some(account) = self.inner.store.delete_draft(key).await? {
            self.inner.store.nudge(&account).notify_one();
        }
        Ok(())
    }
}
