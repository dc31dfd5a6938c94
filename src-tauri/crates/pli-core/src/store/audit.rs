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

/// Parses `YYYY-MM-DD` (UTC midnight) or an RFC 3339 date-time into Unix seconds.
pub fn parse_date(s: &str) -> Option<i64> {
    use time::format_description::well_known::Rfc3339;
    if let Ok(t) = time::OffsetDateTime::parse(s, &Rfc3339) {
        return Some(t.unix_timestamp());
    }
    let d = time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).ok()?;
    Some(d.midnight().assume_utc().unix_timestamp())
}

/// Formats Unix seconds as RFC 3339 (UTC).
pub fn format_time(t: i64) -> String {
    use time::format_description::well_known::Rfc3339;
    time::OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|d| d.format(&Rfc3339).ok())
        .unwrap_or_else(|| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip() {
        assert_eq!(parse_date("1970-01-02"), Some(86_400));
        assert_eq!(parse_date("2026-11-22T12:00:00Z"), Some(1_795_348_800));
        assert_eq!(parse_date("22/11/2026"), None);
        assert_eq!(format_time(86_400), "1970-01-02T00:00:00Z");
    }
}
