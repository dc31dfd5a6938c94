//! Fetching the bodies of a folder's new messages: batches bounded by count and by bytes
//! (RFC822.SIZE), newest first, each parsed off the runtime and stored in a task of its own
//! while the next one is fetched.

use std::collections::BTreeSet;

use futures::TryStreamExt;

use super::{
    off_runtime, uid_set, AccountSync, ImapError, ImapSession, SyncError, SyncEvent, SyncReport,
};
use crate::imap::parse;
use crate::store::BodyData;

/// Splits (uid, size) pairs, in order, into batches of at most `max_count` messages and at
/// most `max_bytes` (a batch closes before the message that would take it over the budget; a
/// message larger than the budget goes alone).
fn body_batches(todo: &[(u32, u64)], max_count: usize, max_bytes: u64) -> Vec<&[(u32, u64)]> {
    let max_count = max_count.max(1);
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0u64);
    for (i, (_, size)) in todo.iter().enumerate() {
        if i > start && (i - start >= max_count || bytes + size > max_bytes) {
            out.push(&todo[start..i]);
            start = i;
            bytes = 0;
        }
        bytes += size;
    }
    if start < todo.len() {
        out.push(&todo[start..]);
    }
    out
}

impl AccountSync<'_> {
    /// Fetches and stores the bodies the folder's cached messages lack.
    pub(super) async fn fetch_all_bodies(
        &self,
        session: &mut ImapSession,
        folder_id: i64,
        name: &str,
        report: &mut SyncReport,
        progress: &(dyn Fn(SyncEvent) + Send + Sync),
    ) -> Result<(), SyncError> {
        // Bodies, newest first. Two stages overlap: while one batch is parsed and stored (a
        // task of its own), the next one is fetched over the network; at most one batch waits
        // to be stored, so memory stays bounded by two batches.
        let todo = self.store.sizes_without_body(folder_id).await?;
        let total = todo.len();
        let mut done = 0;
        let mut storing: Option<(usize, tokio::task::JoinHandle<Result<usize, SyncError>>)> = None;
        for chunk in body_batches(
            &todo,
            self.options.body_batch,
            self.options.body_batch_bytes,
        ) {
            let mut uids: Vec<u32> = chunk.iter().map(|(u, _)| *u).collect();
            uids.sort_unstable();
            let fetched = Self::fetch_bodies(session, &uids).await?;
            if let Some((n, task)) = storing.take() {
                report.bodies += Self::stored(task).await?;
                done += n;
                self.bodies_progress(progress, name, done, total);
            }
            let store = self.store.clone();
            storing = Some((
                chunk.len(),
                tokio::spawn(async move {
                    let bodies = parse_bodies(fetched, uids).await?;
                    store.store_bodies(folder_id, &bodies).await?;
                    Ok(bodies.len())
                }),
            ));
        }
        if let Some((n, task)) = storing.take() {
            report.bodies += Self::stored(task).await?;
            done += n;
            self.bodies_progress(progress, name, done, total);
        }
        Ok(())
    }

    /// The raw messages of one batch (parsed by [`parse_bodies`], off this task).
    async fn fetch_bodies(
        session: &mut ImapSession,
        uids: &[u32],
    ) -> Result<Vec<async_imap::types::Fetch>, SyncError> {
        Ok(session
            .uid_fetch(uid_set(uids), "(UID BODY.PEEK[])")
            .await?
            .try_collect()
            .await?)
    }

    /// The outcome of a batch's parse-and-store task: the bodies stored. If this sync is
    /// dropped (cancelled) meanwhile, the task still finishes its one transaction: bodies of
    /// messages already in the cache, nothing lost or doubled.
    async fn stored(
        task: tokio::task::JoinHandle<Result<usize, SyncError>>,
    ) -> Result<usize, SyncError> {
        match task.await {
            Ok(r) => r,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => Err(SyncError::Imap(ImapError::Protocol(
                async_imap::error::Error::Io(std::io::Error::other(format!(
                    "enregistrement des messages interrompu : {e}"
                ))),
            ))),
        }
    }

    fn bodies_progress(
        &self,
        progress: &(dyn Fn(SyncEvent) + Send + Sync),
        folder: &str,
        done: usize,
        total: usize,
    ) {
        progress(SyncEvent::Bodies {
            account: self.address.clone(),
            folder: folder.to_owned(),
            done: done.min(total),
            total,
        });
    }
}

/// Parses one fetched batch of whole messages (only the UIDs asked: unsolicited FETCH
/// responses are skipped), in one blocking task, in the server's order.
async fn parse_bodies(
    fetched: Vec<async_imap::types::Fetch>,
    uids: Vec<u32>,
) -> Result<Vec<(u32, BodyData)>, SyncError> {
    let wanted: BTreeSet<u32> = uids.into_iter().collect();
    off_runtime(move || {
        fetched
            .iter()
            .filter_map(|f| {
                let uid = f.uid.filter(|u| wanted.contains(u))?;
                Some((uid, parse::body(f.body()?)))
            })
            .collect()
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::body_batches;

    #[test]
    fn body_batches_bound_count_and_bytes() {
        let sizes = |v: &[u64]| {
            v.iter()
                .enumerate()
                .map(|(i, s)| (i as u32, *s))
                .collect::<Vec<_>>()
        };
        let lens = |b: Vec<&[(u32, u64)]>| b.iter().map(|c| c.len()).collect::<Vec<_>>();
        // Small messages: the count bounds.
        assert_eq!(lens(body_batches(&sizes(&[1; 7]), 3, 100)), vec![3, 3, 1]);
        // The byte budget closes a batch before it would exceed it.
        assert_eq!(
            lens(body_batches(&sizes(&[40, 40, 40, 10]), 10, 100)),
            vec![2, 2]
        );
        // A message over the budget goes alone, nothing is dropped.
        assert_eq!(
            lens(body_batches(&sizes(&[10, 500, 10]), 10, 100)),
            vec![1, 1, 1]
        );
        assert!(body_batches(&[], 10, 100).is_empty());
        let all: usize = lens(body_batches(&sizes(&[30; 1000]), 250, 4 << 20))
            .iter()
            .sum();
        assert_eq!(all, 1000);
    }
}
