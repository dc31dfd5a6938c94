//! The outbox: a message the user sends is written here in the same transaction as the user's
//! action (and, for an end of exchange, together with the `ended_exchanges` row); the SMTP drain
//! (`crate::smtp::outbox`) submits it, appends it to Sent and deletes the row.
//!
//! States: `pending` (due at `next_attempt_at`), `sending` (an attempt started, leased until
//! `next_attempt_at`: after that it counts as interrupted and the server may or may not have the
//! message), `submitted` (the server accepted DATA; only the copy to Sent is
//! left), `failed` (permanent refusal, shown to the user).

use super::{now, Store, StoreError};

/// A queued message.
#[derive(Debug, Clone)]
pub struct OutboxRow {
    /// Row id.
    pub id: i64,
    /// Sending mailbox.
    pub account: String,
    /// Message-ID (without brackets).
    pub message_id: String,
    /// Envelope sender.
    pub envelope_from: String,
    /// Envelope recipients.
    pub recipients: Vec<String>,
    /// Ask the server for a DSN.
    pub dsn: bool,
    /// The exact bytes.
    pub raw: Vec<u8>,
    /// `pending`, `sending`, `submitted` or `failed`.
    pub state: String,
    /// Attempts so far.
    pub attempts: i64,
    /// Last error, if any.
    pub last_error: Option<String>,
    /// Per-recipient refusals (JSON).
    pub refused: Option<String>,
    /// When the next attempt is due (`pending`) or the lease ends (`sending`), Unix time.
    pub next_attempt_at: i64,
}

/// What to queue.
#[derive(Debug, Clone)]
pub struct NewOutgoing<'a> {
    /// Sending mailbox (must be an account of the cache; added if missing).
    pub account: &'a str,
    /// Mailbox kind for a new account row (`PER`, `ORG`, `APP`).
    pub account_kind: &'a str,
    /// Message-ID.
    pub message_id: &'a str,
    /// Envelope recipients.
    pub recipients: &'a [String],
    /// Ask for a DSN.
    pub dsn: bool,
    /// Exact bytes.
    pub raw: &'a [u8],
    /// Patients whose exchange this message ends (X-MSS-MES: FIN).
    pub ends_exchange_with: &'a [String],
}

type Row = (
    i64,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    i64,
    Vec<u8>,
    String,
    i64,
    Option<String>,
    Option<String>,
    i64,
);

const SELECT: &str = "SELECT o.id, a.address, o.message_id, o.envelope_from, o.recipients, o.dsn,
        o.raw, o.state, o.attempts, o.last_error, o.refused, o.next_attempt_at
     FROM outbox o JOIN accounts a ON a.id = o.account_id";

fn row(r: Row) -> OutboxRow {
    OutboxRow {
        id: r.0,
        account: r.1,
        message_id: r.2.unwrap_or_default(),
        envelope_from: r.3.unwrap_or_default(),
        recipients: r
            .4
            .and_then(|j| serde_json::from_str(&j).ok())
            .unwrap_or_default(),
        dsn: r.5 != 0,
        raw: r.6,
        state: r.7,
        attempts: r.8,
        last_error: r.9,
        refused: r.10,
        next_attempt_at: r.11,
    }
}

impl Store {
    /// Queues a message (and records the ended exchanges) in one transaction; returns the row id.
    pub async fn outbox_enqueue(&self, m: &NewOutgoing<'_>) -> Result<i64, StoreError> {
        let mut tx = self.writer().begin().await?;
        let account_id: i64 = sqlx::query_scalar(
            "INSERT INTO accounts (address, kind, created_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(address) DO UPDATE SET address = excluded.address RETURNING id",
        )
        .bind(m.account)
        .bind(m.account_kind)
        .bind(now())
        .fetch_one(&mut *tx)
        .await?;
        let recipients = serde_json::to_string(m.recipients).unwrap_or_else(|_| "[]".into());
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO outbox (account_id, raw, created_at, state, attempts, message_id,
                 envelope_from, recipients, dsn, next_attempt_at)
             VALUES (?1, ?2, ?3, 'pending', 0, ?4, ?5, ?6, ?7, 0) RETURNING id",
        )
        .bind(account_id)
        .bind(m.raw)
        .bind(now())
        .bind(m.message_id)
        .bind(m.account)
        .bind(recipients)
        .bind(i64::from(m.dsn))
        .fetch_one(&mut *tx)
        .await?;
        for ins in m.ends_exchange_with {
            sqlx::query(
                "INSERT OR IGNORE INTO ended_exchanges (account_id, patient_ins, ended_at, message_id)
                 VALUES (?1, ?2, ?3, ?4)",
            )
            .bind(account_id)
            .bind(ins)
            .bind(now())
            .bind(m.message_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    /// Rows of `account` due now (`pending` whose time has come, or interrupted `sending` and
    /// `submitted` rows), oldest first. `ignore_schedule` also takes pending rows not yet due.
    pub async fn outbox_due(
        &self,
        account: &str,
        ignore_schedule: bool,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        let rows: Vec<Row> = sqlx::query_as(&format!(
            "{SELECT} WHERE a.address = ?1 AND (o.state = 'submitted'
                OR (o.state = 'sending' AND o.next_attempt_at <= ?3)
                OR (o.state = 'pending' AND (?2 OR o.next_attempt_at <= ?3)))
             ORDER BY o.id"
        ))
        .bind(account)
        .bind(ignore_schedule)
        .bind(now())
        .fetch_all(self.reader())
        .await?;
        Ok(rows.into_iter().map(row).collect())
    }

    /// When the next pending row of `account` is due (Unix time), if any.
    pub async fn outbox_next_due(&self, account: &str) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT MIN(o.next_attempt_at) FROM outbox o JOIN accounts a ON a.id = o.account_id
             WHERE a.address = ?1 AND o.state IN ('pending', 'sending', 'submitted')",
        )
        .bind(account)
        .fetch_one(self.reader())
        .await?)
    }

    /// Every row of `account` (any state), oldest first.
    pub async fn outbox_rows(&self, account: &str) -> Result<Vec<OutboxRow>, StoreError> {
        let rows: Vec<Row> =
            sqlx::query_as(&format!("{SELECT} WHERE a.address = ?1 ORDER BY o.id"))
                .bind(account)
                .fetch_all(self.reader())
                .await?;
        Ok(rows.into_iter().map(row).collect())
    }

    /// Claims a row for an attempt (counted before any byte is sent): only if it is still in
    /// `state` with `attempts` (so two drains never both claim it). A `sending` row is leased
    /// for `lease_secs`: only after that is it treated as an interrupted attempt. Returns
    /// false when another drain claimed it first.
    pub async fn outbox_mark_sending(
        &self,
        id: i64,
        state: &str,
        attempts: i64,
        lease_secs: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE outbox SET state = 'sending', attempts = attempts + 1, next_attempt_at = ?4
             WHERE id = ?1 AND state = ?2 AND attempts = ?3",
        )
        .bind(id)
        .bind(state)
        .bind(attempts)
        .bind(now() + lease_secs)
        .execute(self.writer())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The server accepted the message; `refused` lists per-recipient refusals (JSON) if any.
    pub async fn outbox_mark_submitted(
        &self,
        id: i64,
        refused: Option<&str>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE outbox SET state = 'submitted', submitted_at = ?2, refused = ?3 WHERE id = ?1",
        )
        .bind(id)
        .bind(now())
        .bind(refused)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// A transient failure: back to `pending`, due again in `retry_in_secs`.
    pub async fn outbox_retry_later(
        &self,
        id: i64,
        error: &str,
        retry_in_secs: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE outbox SET state = 'pending', last_error = ?2, next_attempt_at = ?3 WHERE id = ?1",
        )
        .bind(id)
        .bind(error)
        .bind(now() + retry_in_secs)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// A permanent failure, kept for the user with the per-recipient refusals.
    pub async fn outbox_fail(
        &self,
        id: i64,
        error: &str,
        refused: Option<&str>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE outbox SET state = 'failed', last_error = ?2, refused = ?3 WHERE id = ?1",
        )
        .bind(id)
        .bind(error)
        .bind(refused)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// Sent and copied to Sent: the row goes.
    pub async fn outbox_remove(&self, id: i64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM outbox WHERE id = ?1")
            .bind(id)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    /// When the exchange with this patient was last ended from `account` (Unix time).
    pub async fn exchange_ended_at(
        &self,
        account: &str,
        patient_ins: &str,
    ) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT MAX(e.ended_at) FROM ended_exchanges e JOIN accounts a ON a.id = e.account_id
             WHERE a.address = ?1 AND e.patient_ins = ?2",
        )
        .bind(account)
        .bind(patient_ins)
        .fetch_one(self.reader())
        .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{CacheKey, DB_FILE};

    async fn store() -> (Store, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join(DB_FILE), &CacheKey::generate())
            .await
            .unwrap();
        (s, dir)
    }

    fn msg<'a>(raw: &'a [u8], to: &'a [String], ended: &'a [String]) -> NewOutgoing<'a> {
        NewOutgoing {
            account: "anne@x.mssante.fr",
            account_kind: "PER",
            message_id: "m1@x.mssante.fr",
            recipients: to,
            dsn: true,
            raw,
            ends_exchange_with: ended,
        }
    }

    #[tokio::test]
    async fn enqueue_records_the_row_and_the_ended_exchange_together() {
        let (s, _d) = store().await;
        let to = vec!["279035121518989@patient.mssante.fr".to_owned()];
        let ended = vec!["279035121518989".to_owned()];
        s.outbox_enqueue(&msg(b"raw bytes", &to, &ended))
            .await
            .unwrap();
        let rows = s.outbox_rows("anne@x.mssante.fr").await.unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].raw, b"raw bytes");
        assert_eq!(rows[0].recipients, to);
        assert!(rows[0].dsn);
        assert_eq!(rows[0].state, "pending");
        assert!(s
            .exchange_ended_at("anne@x.mssante.fr", "279035121518989")
            .await
            .unwrap()
            .is_some());
        assert!(s
            .exchange_ended_at("anne@x.mssante.fr", "292017505604894")
            .await
            .unwrap()
            .is_none());
    }

    #[tokio::test]
    async fn a_row_is_claimed_once_and_a_leased_attempt_is_left_alone() {
        let (s, _d) = store().await;
        let to = vec!["b@y.mssante.fr".to_owned()];
        let id = s.outbox_enqueue(&msg(b"x", &to, &[])).await.unwrap();
        let acct = "anne@x.mssante.fr";
        assert_eq!(s.outbox_due(acct, false).await.unwrap().len(), 1);
        // Two drains read the row; only the first claim wins.
        assert!(s.outbox_mark_sending(id, "pending", 0, 600).await.unwrap());
        assert!(!s.outbox_mark_sending(id, "pending", 0, 600).await.unwrap());
        // Leased: not due, not even for "send now".
        assert!(s.outbox_due(acct, true).await.unwrap().is_empty());
        // Back to pending with a back-off: due only when forced or when the time comes.
        s.outbox_retry_later(id, "coupure", 60).await.unwrap();
        assert!(s.outbox_due(acct, false).await.unwrap().is_empty());
        assert_eq!(s.outbox_due(acct, true).await.unwrap().len(), 1);
        // An expired lease (crash) makes the `sending` row due for recovery.
        assert!(s.outbox_mark_sending(id, "pending", 1, 0).await.unwrap());
        let due = s.outbox_due(acct, false).await.unwrap();
        assert_eq!((due[0].state.as_str(), due[0].attempts), ("sending", 2));
        // Permanent failure: kept, never due again.
        s.outbox_fail(id, "550", None).await.unwrap();
        assert!(s.outbox_due(acct, true).await.unwrap().is_empty());
        assert_eq!(s.outbox_rows(acct).await.unwrap()[0].state, "failed");
    }
}
