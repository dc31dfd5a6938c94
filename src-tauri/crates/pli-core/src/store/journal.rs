//! Local changes: applied to the cache at once and journaled, replayed on the server when
//! online (`imap::journal`), the server winning any conflict.

use sqlx::Row;

use super::{Store, StoreError};

/// A change made by the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocalOp {
    /// Mark read.
    Seen,
    /// Mark unread.
    Unseen,
    /// Flag.
    Flag,
    /// Remove the flag.
    Unflag,
    /// Move to another folder.
    Move(String),
    /// Delete (expunge on the server).
    Delete,
}

impl LocalOp {
    fn kind(&self) -> &'static str {
        match self {
            LocalOp::Seen => "seen",
            LocalOp::Unseen => "unseen",
            LocalOp::Flag => "flag",
            LocalOp::Unflag => "unflag",
            LocalOp::Move(_) => "move",
            LocalOp::Delete => "delete",
        }
    }

    fn from_row(kind: &str, arg: Option<String>) -> Option<Self> {
        Some(match kind {
            "seen" => LocalOp::Seen,
            "unseen" => LocalOp::Unseen,
            "flag" => LocalOp::Flag,
            "unflag" => LocalOp::Unflag,
            "move" => LocalOp::Move(arg?),
            "delete" => LocalOp::Delete,
            _ => return None,
        })
    }
}

/// A journaled operation waiting for the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// Row id (replay order).
    pub id: i64,
    /// Folder name.
    pub folder: String,
    /// UIDVALIDITY the UID belongs to.
    pub uidvalidity: u32,
    /// Server UID.
    pub uid: u32,
    /// Message-ID, to find the message again after a UIDVALIDITY change.
    pub message_id: Option<String>,
    /// The change.
    pub op: LocalOp,
}

fn edit_flags(flags: &str, flag: &str, add: bool) -> String {
    let mut v: Vec<&str> = flags.split_whitespace().filter(|f| *f != flag).collect();
    if add {
        v.push(flag);
    }
    v.sort_unstable();
    v.join(" ")
}

impl Store {
    /// Applies `op` to the cached message (account, folder, uid) and journals it, in one
    /// transaction. Returns false when the message is not in the cache.
    pub async fn apply_local(
        &self,
        account: &str,
        folder: &str,
        uid: u32,
        op: LocalOp,
    ) -> Result<bool, StoreError> {
        let mut tx = self.writer().begin().await?;
        let row = sqlx::query(
            "SELECT m.id, m.flags, m.message_id, f.uidvalidity, a.id
             FROM messages m JOIN folders f ON f.id = m.folder_id
             JOIN accounts a ON a.id = f.account_id
             WHERE a.address = ?1 AND f.name = ?2 AND m.uid = ?3",
        )
        .bind(account)
        .bind(folder)
        .bind(uid)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else { return Ok(false) };
        let (id, flags, message_id): (i64, String, Option<String>) =
            (row.get(0), row.get(1), row.get(2));
        let uidvalidity: i64 = row.get::<Option<i64>, _>(3).unwrap_or(0);
        let account_id: i64 = row.get(4);
        let new_flags = match &op {
            LocalOp::Seen => Some(edit_flags(&flags, "\\Seen", true)),
            LocalOp::Unseen => Some(edit_flags(&flags, "\\Seen", false)),
            LocalOp::Flag => Some(edit_flags(&flags, "\\Flagged", true)),
            LocalOp::Unflag => Some(edit_flags(&flags, "\\Flagged", false)),
            LocalOp::Move(_) | LocalOp::Delete => None,
        };
        match new_flags {
            Some(f) => {
                let seen = f.split_whitespace().any(|x| x == "\\Seen");
                let flagged = f.split_whitespace().any(|x| x == "\\Flagged");
                sqlx::query(
                    "UPDATE messages SET flags = ?2, seen = ?3, flagged = ?4 WHERE id = ?1",
                )
                .bind(id)
                .bind(f)
                .bind(seen)
                .bind(flagged)
                .execute(&mut *tx)
                .await?;
            }
            // The message leaves this folder now; the target folder's sync brings it back
            // under its new UID.
            None => {
                sqlx::query("DELETE FROM messages WHERE id = ?1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        let arg = match &op {
            LocalOp::Move(t) => Some(t.clone()),
            _ => None,
        };
        sqlx::query(
            "INSERT INTO operations (account_id, folder, uidvalidity, uid, message_id, kind,
                 argument, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )
        .bind(account_id)
        .bind(folder)
        .bind(uidvalidity)
        .bind(uid)
        .bind(message_id)
        .bind(op.kind())
        .bind(arg)
        .bind(super::now())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The account's pending operations, oldest first.
    pub async fn pending_operations(&self, account: &str) -> Result<Vec<Operation>, StoreError> {
        let rows = sqlx::query(
            "SELECT o.id, o.folder, o.uidvalidity, o.uid, o.message_id, o.kind, o.argument
             FROM operations o JOIN accounts a ON a.id = o.account_id
             WHERE a.address = ?1 ORDER BY o.id",
        )
        .bind(account)
        .fetch_all(self.writer())
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                Some(Operation {
                    id: r.get(0),
                    folder: r.get(1),
                    uidvalidity: r.get::<i64, _>(2) as u32,
                    uid: r.get::<i64, _>(3) as u32,
                    message_id: r.get(4),
                    op: LocalOp::from_row(&r.get::<String, _>(5), r.get(6))?,
                })
            })
            .collect())
    }

    /// Removes a replayed (or obsolete) operation.
    pub async fn finish_operation(&self, id: i64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM operations WHERE id = ?1")
            .bind(id)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    /// Records a failed attempt.
    pub async fn fail_operation(&self, id: i64, error: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE operations SET attempts = attempts + 1, last_error = ?2 WHERE id = ?1")
            .bind(id)
            .bind(error)
            .execute(self.writer())
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::edit_flags;

    #[test]
    fn flags_are_edited_sorted() {
        assert_eq!(
            edit_flags("\\Answered", "\\Seen", true),
            "\\Answered \\Seen"
        );
        assert_eq!(edit_flags("\\Seen \\Flagged", "\\Seen", false), "\\Flagged");
        assert_eq!(edit_flags("\\Seen", "\\Seen", true), "\\Seen");
    }
}
