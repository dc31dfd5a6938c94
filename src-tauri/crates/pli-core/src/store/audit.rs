//! Reading the audit log (`pli audit`).

use sqlx::Row;

use super::{Store, StoreError};

/// One audit entry: who, when, what, with which server request, and the outcome.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditEntry {
    /// Row id.
    pub id: i64,
    /// Unix seconds.
    pub at: i64,
    /// Who (the mailbox acting, or `pli` for the engine).
    pub actor: String,
    /// Account concerned.
    pub account: Option<String>,
    /// Action (`sync`, `replay`, …).
    pub action: String,
    /// The server request, without secrets.
    pub request: String,
    /// Outcome.
    pub outcome: String,
}

impl Store {
    /// Audit entries at or after `since` (Unix seconds), oldest first.
    pub async fn audit_entries(&self, since: Option<i64>) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, at, actor, account, action, request, outcome FROM audit_log
             WHERE ?1 IS NULL OR at >= ?1 ORDER BY id",
        )
        .bind(since)
        .fetch_all(self.reader())
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| AuditEntry {
                id: r.get(0),
                at: r.get(1),
                actor: r.get(2),
                account: r.get(3),
                action: r.get(4),
                request: r.get(5),
                outcome: r.get(6),
            })
            .collect())
    }
}
