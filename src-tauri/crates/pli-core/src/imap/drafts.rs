//! Appending composed drafts to the mailbox's Drafts folder (decision 0031), at the start of
//! a sync pass: `APPEND Drafts (\Seen \Draft)`, then the new copy's UID (`UID SEARCH HEADER
//! Message-ID`: async-imap does not hand back UIDPLUS's APPENDUID), recorded in the cache,
//! which journals the deletion of the copy it replaces; the journal replay that follows in
//! the same pass deletes it, and the sync brings the new copy into the cache.

use super::sync::SyncError;
use super::ImapSession;
use crate::store::{ServerCopy, Store};

/// Appends every composed draft of `account`; returns how many were appended (more than zero
/// means the Drafts folder is selected now). A draft the server refuses (`NO`: over quota,
/// too large) stays waiting and is audited; a connection-level error ends the pass.
pub async fn upload(
    session: &mut ImapSession,
    store: &Store,
    account: &str,
    actor: &str,
) -> Result<usize, SyncError> {
    let uploads = store.draft_uploads(account).await?;
    if uploads.is_empty() {
        return Ok(0);
    }
    let Some(folder) = store.drafts_folder(account).await? else {
        tracing::debug!(
            account,
            "no Drafts folder known yet: drafts stay in the cache for now"
        );
        return Ok(0);
    };
    let mut appended = 0;
    for u in uploads {
        let message_id = super::parse::headers(0, &u.raw)
            .message_id
            .unwrap_or_default();
        let request = format!("APPEND {folder} (\\Seen \\Draft) <{message_id}>");
        match session
            .append(&folder, Some("(\\Seen \\Draft)"), None, &u.raw)
            .await
        {
            Ok(()) => {}
            Err(async_imap::error::Error::No(why)) => {
                tracing::warn!(account, %why, "the server refused a draft");
                store
                    .audit(
                        actor,
                        Some(account),
                        "draft-save",
                        &request,
                        &format!("refused: {why}"),
                    )
                    .await?;
                continue;
            }
            Err(e) => return Err(e.into()),
        }
        appended += 1;
        let mbox = session.select(&folder).await?;
        let quoted = message_id.replace(['\\', '"'], "");
        let uid = session
            .uid_search(format!("HEADER Message-ID \"{quoted}\""))
            .await?
            .into_iter()
            .max();
        let (Some(uidvalidity), Some(uid)) = (mbox.uid_validity, uid) else {
            // Appended but not found again (a server rewriting Message-IDs): the copy stays on
            // the server as a draft the user can resume; it is not appended again, and the
            // next save's copy will not replace it.
            tracing::warn!(account, "a draft appended could not be found again");
            store.clear_draft_upload(&u).await?;
            continue;
        };
        let copy = ServerCopy {
            account: account.to_owned(),
            folder: folder.clone(),
            uidvalidity,
            uid,
            message_id,
        };
        store.draft_uploaded(&u, &copy).await?;
        store
            .audit(actor, Some(account), "draft-save", &request, "ok")
            .await?;
    }
    Ok(appended)
}
