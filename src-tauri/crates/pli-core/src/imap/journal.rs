//! Replaying the offline journal on the server. The server wins: an operation on a message
//! the server no longer has is dropped; flags are re-read by the sync that follows.

use futures::TryStreamExt;

use super::sync::{uid_set, SyncError};
use super::ImapSession;
use crate::store::{LocalOp, Operation, Store};

/// Replays every pending operation of `account`, oldest first; returns how many it handled,
/// applied or dropped (each selected its folder: more than zero means a mailbox is selected
/// now). Stops at the first connection-level error (the rest stays journaled).
pub async fn replay(
    session: &mut ImapSession,
    store: &Store,
    account: &str,
) -> Result<usize, SyncError> {
    let ops = store.pending_operations(account).await?;
    if ops.is_empty() {
        return Ok(0);
    }
    let caps = session.capabilities().await?;
    let has_move = caps.has_str("MOVE");
    let mut handled = 0;
    for op in ops {
        let request = match apply(session, &op, has_move).await {
            Ok(Some(request)) => request,
            Ok(None) => {
                store
                    .audit(
                        account,
                        Some(account),
                        "replay",
                        &format!("{:?} {} uid {}", op.op, op.folder, op.uid),
                        "dropped: message no longer on the server",
                    )
                    .await?;
                store.finish_operation(op.id).await?;
                handled += 1;
                continue;
            }
            Err(e) => {
                store.fail_operation(op.id, &e.to_string()).await?;
                return Err(e);
            }
        };
        store
            .audit(account, Some(account), "replay", &request, "ok")
            .await?;
        store.finish_operation(op.id).await?;
        handled += 1;
    }
    Ok(handled)
}

/// The message's current UID, or `None` when the server no longer has it.
async fn locate(session: &mut ImapSession, op: &Operation) -> Result<Option<u32>, SyncError> {
    let mbox = match session.select(&op.folder).await {
        Ok(m) => m,
        // The folder itself is gone: nothing to apply.
        Err(async_imap::error::Error::No(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    if mbox.uid_validity == Some(op.uidvalidity) {
        let found = session.uid_search(format!("UID {}", op.uid)).await?;
        return Ok(found.contains(&op.uid).then_some(op.uid));
    }
    let Some(id) = op.message_id.as_deref().filter(|id| !id.contains('"')) else {
        return Ok(None);
    };
    let found = session
        .uid_search(format!("HEADER Message-ID \"{id}\""))
        .await?;
    Ok(found.into_iter().max())
}

async fn apply(
    session: &mut ImapSession,
    op: &Operation,
    has_move: bool,
) -> Result<Option<String>, SyncError> {
    let Some(uid) = locate(session, op).await? else {
        return Ok(None);
    };
    let set = uid_set(&[uid]);
    let store = |change: &'static str| format!("UID STORE {set} {change}");
    let request = match &op.op {
        LocalOp::Seen => store("+FLAGS.SILENT (\\Seen)"),
        LocalOp::Unseen => store("-FLAGS.SILENT (\\Seen)"),
        LocalOp::Flag => store("+FLAGS.SILENT (\\Flagged)"),
        LocalOp::Unflag => store("-FLAGS.SILENT (\\Flagged)"),
        LocalOp::Move(target) => {
            if has_move {
                session.uid_mv(&set, target).await?;
            } else {
                session.uid_copy(&set, target).await?;
                mark_deleted_and_expunge(session, &set).await?;
            }
            return Ok(Some(format!(
                "{} {}: UID MOVE {set} {target}",
                op.folder, uid
            )));
        }
        LocalOp::Delete => {
            mark_deleted_and_expunge(session, &set).await?;
            return Ok(Some(format!(
                "{}: UID STORE {set} +FLAGS (\\Deleted); UID EXPUNGE {set}",
                op.folder
            )));
        }
    };
    let change = request.trim_start_matches(&format!("UID STORE {set} "));
    let _: Vec<_> = session.uid_store(&set, change).await?.try_collect().await?;
    Ok(Some(format!("{}: {request}", op.folder)))
}

async fn mark_deleted_and_expunge(session: &mut ImapSession, set: &str) -> Result<(), SyncError> {
    let _: Vec<_> = session
        .uid_store(set, "+FLAGS.SILENT (\\Deleted)")
        .await?
        .try_collect()
        .await?;
    let _: Vec<_> = session.uid_expunge(set).await?.try_collect().await?;
    Ok(())
}
