//! Fetching whole messages: the bodies a folder's cached messages lack, and new messages past
//! the first screenful (row and body together). Batches bounded by count and by bytes
//! (RFC822.SIZE), newest first, each parsed off the runtime and stored in a task of its own
//! while the next one is fetched.

use std::collections::{BTreeSet, HashMap};

use futures::TryStreamExt;

use super::{
    new_message, off_runtime, uid_set, AccountSync, ImapError, ImapSession, SyncError, SyncEvent,
    SyncReport,
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
        let todo = self.store.sizes_without_body(folder_id).await?;
        let total = todo.len();
        let mut done = 0;
        let store = self.store.clone();
        pipeline(
            session,
            &todo,
            (self.options.body_batch, self.options.body_batch_bytes),
            "(UID BODY.PEEK[])",
            move |fetched, uids| {
                let store = store.clone();
                async move {
                    let bodies = parse_bodies(fetched, uids).await?;
                    store.store_bodies(folder_id, &bodies).await?;
                    Ok(Stored {
                        rows: 0,
                        bodies: bodies.len(),
                    })
                }
            },
            |asked, stored| {
                report.bodies += stored.bodies;
                done += asked;
                progress(SyncEvent::Bodies {
                    account: self.address.clone(),
                    folder: name.to_owned(),
                    done: done.min(total),
                    total,
                });
            },
        )
        .await
    }

    /// Fetches `missing` (UIDs, newest first) as whole messages, the first `shown` of which
    /// are already cached by their headers (the first screenful: their bodies come with the
    /// first batch instead of in a pass of their own). Each batch's rows and bodies are stored
    /// in one transaction, in a task of its own while the next batch is fetched. Sizes come
    /// first (one round trip), so that batches are bounded in bytes as well as in count; a UID
    /// the server no longer has is left out.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn fetch_whole(
        &self,
        session: &mut ImapSession,
        folder_id: i64,
        name: &str,
        missing: &[u32],
        shown: usize,
        condstore: bool,
        report: &mut SyncReport,
        progress: &(dyn Fn(SyncEvent) + Send + Sync),
    ) -> Result<(), SyncError> {
        let total = missing.len();
        if total == 0 {
            return Ok(());
        }
        // Newest first: the shown ones are the highest UIDs.
        let new_below = missing[..shown.min(total)]
            .last()
            .copied()
            .unwrap_or(u32::MAX);
        let mut ascending = missing.to_vec();
        ascending.sort_unstable();
        let sizes: HashMap<u32, u64> = session
            .uid_fetch(uid_set(&ascending), "(UID RFC822.SIZE)")
            .await?
            .try_collect::<Vec<_>>()
            .await?
            .iter()
            .filter_map(|f| Some((f.uid?, u64::from(f.size?))))
            .collect();
        let todo: Vec<(u32, u64)> = missing
            .iter()
            .filter_map(|u| Some((*u, *sizes.get(u)?)))
            .collect();
        let items = if condstore {
            "(UID FLAGS RFC822.SIZE INTERNALDATE MODSEQ BODY.PEEK[])"
        } else {
            "(UID FLAGS RFC822.SIZE INTERNALDATE BODY.PEEK[])"
        };
        let mut asked = 0;
        let store = self.store.clone();
        pipeline(
            session,
            &todo,
            (self.options.body_batch, self.options.body_batch_bytes),
            items,
            move |fetched, uids| {
                let store = store.clone();
                async move {
                    let lowest = uids.first().copied();
                    let batch = parse_whole(fetched, uids).await?;
                    // The shown ones keep their rows (flags refreshed) and get their bodies.
                    store.insert_batch(folder_id, &batch, lowest).await?;
                    let rows = batch.iter().filter(|m| m.uid < new_below).count();
                    Ok(Stored {
                        rows,
                        bodies: batch.len(),
                    })
                }
            },
            |n, stored| {
                report.new += stored.rows;
                report.bodies += stored.bodies;
                asked += n;
                progress(SyncEvent::Headers {
                    account: self.address.clone(),
                    folder: name.to_owned(),
                    done: asked.max(shown).min(total),
                    total,
                });
            },
        )
        .await
    }
}

/// What a batch's task stored.
#[derive(Debug, Clone, Copy)]
struct Stored {
    /// New rows.
    rows: usize,
    /// Bodies.
    bodies: usize,
}

/// Fetches `todo` ((UID, size), newest first) with `items` in batches bounded by
/// `(count, bytes)`. Two stages overlap: while one batch is parsed and stored by `store` (a
/// task of its own), the next is fetched over the network; at most one batch waits to be
/// stored, so memory stays bounded by two batches. `stored(asked, stored)` is told of each
/// batch once its task has ended.
async fn pipeline<S, F>(
    session: &mut ImapSession,
    todo: &[(u32, u64)],
    (max_count, max_bytes): (usize, u64),
    items: &str,
    store: S,
    mut stored: impl FnMut(usize, Stored),
) -> Result<(), SyncError>
where
    S: Fn(Vec<async_imap::types::Fetch>, Vec<u32>) -> F,
    F: std::future::Future<Output = Result<Stored, SyncError>> + Send + 'static,
{
    let mut storing: Option<(usize, tokio::task::JoinHandle<Result<Stored, SyncError>>)> = None;
    for chunk in body_batches(todo, max_count, max_bytes) {
        let mut uids: Vec<u32> = chunk.iter().map(|(u, _)| *u).collect();
        uids.sort_unstable();
        let fetched: Vec<_> = session
            .uid_fetch(uid_set(&uids), items)
            .await?
            .try_collect()
            .await?;
        if let Some((n, task)) = storing.take() {
            stored(n, outcome(task).await?);
        }
        storing = Some((chunk.len(), tokio::spawn(store(fetched, uids))));
    }
    if let Some((n, task)) = storing.take() {
        stored(n, outcome(task).await?);
    }
    Ok(())
}

/// The outcome of a batch's parse-and-store task: the messages stored. If the sync is
/// dropped (cancelled) meanwhile, the task still finishes its one transaction: messages or
/// bodies stored whole, nothing lost or doubled.
async fn outcome(
    task: tokio::task::JoinHandle<Result<Stored, SyncError>>,
) -> Result<Stored, SyncError> {
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

/// Parses one fetched batch of whole messages into cache rows with their bodies (only the
/// UIDs asked), in one blocking task, in the server's order.
async fn parse_whole(
    fetched: Vec<async_imap::types::Fetch>,
    uids: Vec<u32>,
) -> Result<Vec<crate::store::NewMessage>, SyncError> {
    let wanted: BTreeSet<u32> = uids.into_iter().collect();
    off_runtime(move || {
        fetched
            .iter()
            .filter_map(|f| {
                let raw = f.body()?;
                let mut m = new_message(f, raw, &wanted)?;
                m.body = Some(parse::body(raw));
                Some(m)
            })
            .collect()
    })
    .await
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
