//! The sync engine: server → local cache for one account (decision 0013-sync-strategy).
//!
//! Per folder (from `LIST`, special-use attributes kept):
//! 1. `SELECT` (with `(CONDSTORE)` when advertised). A new UIDVALIDITY drops the folder's
//!    cached UIDs (the operations journal keeps Message-IDs, so pending local changes survive).
//! 2. With CONDSTORE, nothing changed (same UIDNEXT, HIGHESTMODSEQ and count) ends the folder
//!    after that one round trip; with LIST-STATUS too, the LIST has already told (RETURN
//!    (STATUS …)) and an unchanged folder is not even selected.
//! 3. `UID SEARCH ALL` gives the server's UID set: UIDs missing locally are fetched newest
//!    first: the first screenful's headers (`UID FLAGS RFC822.SIZE INTERNALDATE
//!    BODY.PEEK[HEADER]`), stored at once so the list shows, then whole messages (`…
//!    BODY.PEEK[]`, their sizes asked first so batches are bounded in bytes; the first
//!    screenful's bodies in the first batch), row and body in one transaction (one pass over
//!    the messages, not a header pass and a body pass; headers only throughout when bodies are
//!    off). Each batch is committed in one transaction, so a sync cut at any point resumes
//!    where it stopped; local UIDs the server no longer has are expunged.
//! 4. Flags: `UID FETCH … (FLAGS) (CHANGEDSINCE m)` with CONDSTORE; otherwise a full flag
//!    scan over the cached UIDs, in bounded chunks.
//! 5. Bodies of messages still without one (a folder's only screenful, messages cached by a
//!    headers-only sync), newest first (`BODY.PEEK[]`, parsed by mail-parser).
//!
//! Parsing (mail-parser, health documents' text) runs on tokio's blocking pool, one task per
//! fetched batch, never on a runtime worker.

mod bodies;
mod pushed;
mod types;
mod unsolicited;

pub use pushed::Pushed;
pub use types::{ServerCaps, SyncError, SyncEvent, SyncOptions, SyncReport};
pub(crate) use unsolicited::drain_unsolicited;
use unsolicited::{take_statuses, take_vanished, FolderStatus};

use std::collections::BTreeSet;

use futures::TryStreamExt;

use super::{parse, ImapError, ImapSession};
use crate::store::{FolderOverview, FolderState, NewMessage, Store};

/// Whether a LIST entry can be selected: not `\\NoSelect`, nor `\\NonExistent` (RFC 5258
/// §3: a name listed only because a child exists, e.g. `a` of `a/b` created alone; it implies
/// `\\NoSelect`). Selecting such a name only gets a NO.
pub fn selectable(attributes: &[async_imap::types::NameAttribute<'_>]) -> bool {
    use async_imap::types::NameAttribute as A;
    !attributes.iter().any(|a| match a {
        A::NoSelect => true,
        A::Extension(x) => x.eq_ignore_ascii_case("\\NonExistent"),
        _ => false,
    })
}

/// Compresses ascending UIDs into an IMAP sequence set (`1:5,8,10:12`).
pub fn uid_set(uids: &[u32]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < uids.len() {
        let start = uids[i];
        let mut end = start;
        while i + 1 < uids.len() && uids[i + 1] == end + 1 {
            i += 1;
            end = uids[i];
        }
        if !out.is_empty() {
            out.push(',');
        }
        if start == end {
            out.push_str(&start.to_string());
        } else {
            out.push_str(&format!("{start}:{end}"));
        }
        i += 1;
    }
    out
}

fn special_use(attrs: &[async_imap::types::NameAttribute<'_>]) -> Option<&'static str> {
    use async_imap::types::NameAttribute as A;
    attrs.iter().find_map(|a| match a {
        A::All => Some("\\All"),
        A::Archive => Some("\\Archive"),
        A::Drafts => Some("\\Drafts"),
        A::Flagged => Some("\\Flagged"),
        A::Junk => Some("\\Junk"),
        A::Sent => Some("\\Sent"),
        A::Trash => Some("\\Trash"),
        _ => None,
    })
}

fn flag_strings(f: &async_imap::types::Fetch) -> Vec<String> {
    use async_imap::types::Flag;
    f.flags()
        .filter_map(|fl| match fl {
            Flag::Seen => Some("\\Seen".to_owned()),
            Flag::Answered => Some("\\Answered".to_owned()),
            Flag::Flagged => Some("\\Flagged".to_owned()),
            Flag::Deleted => Some("\\Deleted".to_owned()),
            Flag::Draft => Some("\\Draft".to_owned()),
            Flag::Recent => None,
            Flag::MayCreate => None,
            Flag::Custom(c) => Some(c.into_owned()),
        })
        .collect()
}

/// One account's sync over an authenticated session.
#[derive(Debug)]
pub struct AccountSync<'a> {
    store: &'a Store,
    account_id: i64,
    address: String,
    options: SyncOptions,
    /// A mailbox may be selected on the session given to [`AccountSync::run`].
    selected: bool,
}

impl<'a> AccountSync<'a> {
    /// Prepares the sync of `address` (added to the cache if new).
    pub async fn new(
        store: &'a Store,
        address: &str,
        kind: &str,
        options: SyncOptions,
    ) -> Result<Self, SyncError> {
        let account_id = store.add_account(address, kind, None).await?;
        Ok(Self {
            store,
            account_id,
            address: address.to_owned(),
            options,
            selected: false,
        })
    }

    /// Says that the session given to [`AccountSync::run`] may have a mailbox selected (the
    /// watch loop idles on INBOX; replaying the journal selects folders). STATUS of the
    /// selected mailbox may be stale (RFC 3501 §6.3.10), so LIST-STATUS is then used only
    /// after an UNSELECT, or not at all.
    pub fn mailbox_may_be_selected(mut self, yes: bool) -> Self {
        self.selected = yes;
        self
    }

    /// Lists the folders and syncs every selectable one, INBOX first.
    pub async fn run(
        &self,
        session: &mut ImapSession,
        progress: &(dyn Fn(SyncEvent) + Send + Sync),
    ) -> Result<SyncReport, SyncError> {
        let start = session.get_ref().round_trips();
        let caps = session.capabilities().await?;
        let mut server = ServerCaps {
            condstore: caps.has_str("CONDSTORE"),
            qresync: false,
        };
        if caps.has_str("QRESYNC") {
            session.run_command_and_check_ok("ENABLE QRESYNC").await?;
            server.qresync = true;
        }
        drain_unsolicited(session);
        let mut report = SyncReport {
            condstore: server.condstore,
            qresync: server.qresync,
            ..Default::default()
        };
        // With LIST-STATUS (RFC 5819) and CONDSTORE, the LIST also gives every folder's
        // UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ and count: an unchanged folder is then known
        // without selecting it (no round trip of its own).
        let mut list_status = server.condstore && caps.has_str("LIST-STATUS");
        if list_status && self.selected {
            if caps.has_str("UNSELECT") {
                match session.run_command_and_check_ok("UNSELECT").await {
                    // BAD: nothing was selected (RFC 3691 allows UNSELECT only in the selected
                    // state). Either way, nothing is selected now.
                    Ok(())
                    | Err(async_imap::error::Error::Bad(_) | async_imap::error::Error::No(_)) => {}
                    Err(e) => return Err(e.into()),
                }
                drain_unsolicited(session);
            } else {
                list_status = false;
            }
        }
        // With a RETURN option, servers give the special-use attributes (\\Sent, \\Trash…)
        // only when asked for them (RFC 6154 §2): Dovecot leaves them out otherwise.
        let pattern = match (list_status, caps.has_str("SPECIAL-USE")) {
            (true, true) => {
                "* RETURN (SPECIAL-USE STATUS (MESSAGES UIDNEXT UIDVALIDITY HIGHESTMODSEQ))"
            }
            (true, false) => "* RETURN (STATUS (MESSAGES UIDNEXT UIDVALIDITY HIGHESTMODSEQ))",
            (false, _) => "*",
        };
        let names: Vec<_> = session
            .list(Some(""), Some(pattern))
            .await?
            .try_collect()
            .await?;
        let statuses = take_statuses(session);
        // Rows created from here on are this pass's new messages (the rowid only grows). They
        // are counted once every folder is synced: a report that arrived in INBOX is folded
        // only once the Sent copy it is about is cached, and Sent comes after INBOX.
        let last_row = self.store.last_message_row().await?;
        // One read for what the cache knows of every folder; writes only for what LIST changed.
        let mut known = self.store.folder_overview(self.account_id).await?;
        let mut changed = false;
        let mut seen = Vec::new();
        for n in &names {
            let (delimiter, use_, selectable) = (
                n.delimiter(),
                special_use(n.attributes()),
                selectable(n.attributes()),
            );
            let same = known.iter().any(|k| {
                k.state.name == n.name()
                    && k.delimiter.as_deref() == delimiter
                    && k.special_use.as_deref() == use_
                    && k.selectable == selectable
            });
            if !same {
                self.store
                    .upsert_folder(self.account_id, n.name(), delimiter, use_, selectable)
                    .await?;
                changed = true;
            }
            seen.push(n.name().to_owned());
        }
        if known.iter().any(|k| !seen.contains(&k.state.name)) {
            self.store.retain_folders(self.account_id, &seen).await?;
            changed = true;
        }
        if changed {
            known = self.store.folder_overview(self.account_id).await?;
        }
        for folder in known.into_iter().filter(|k| k.selectable) {
            let before = session.get_ref().round_trips();
            let name = folder.state.name.clone();
            match self
                .sync_folder(
                    session,
                    &folder,
                    server,
                    statuses.get(&name),
                    &mut report,
                    progress,
                )
                .await
            {
                Ok(()) => {
                    report.folders += 1;
                    let trips = session.get_ref().round_trips() - before;
                    report.folder_round_trips.insert(name, trips);
                }
                // The server refused a command on this folder (typically: deleted by another
                // client since LIST). What is cached stays; the next LIST drops the folder.
                Err(SyncError::Imap(ImapError::Protocol(async_imap::error::Error::No(why)))) => {
                    tracing::warn!(folder = %name, %why, "folder skipped");
                    report.skipped_folders.push(name);
                }
                Err(e) => return Err(e),
            }
        }
        if report.new > 0 {
            report.new_incoming = self.store.incoming_since(self.account_id, last_row).await?;
        }
        report.round_trips = session.get_ref().round_trips() - start;
        self.store
            .audit(
                self.options.actor.as_deref().unwrap_or("pli"),
                Some(&self.address),
                "sync",
                &format!("SELECT/UID FETCH on {} folders", report.folders),
                &format!(
                    "ok: {} new, {} flag changes, {} expunged",
                    report.new, report.flag_changes, report.expunged
                ),
            )
            .await?;
        Ok(report)
    }

    /// Syncs one folder (see the module documentation for the steps). `status`: the folder's
    /// state from LIST-STATUS, when the server gave it.
    #[allow(clippy::too_many_arguments)]
    async fn sync_folder(
        &self,
        session: &mut ImapSession,
        folder: &FolderOverview,
        server_caps: ServerCaps,
        status: Option<&FolderStatus>,
        report: &mut SyncReport,
        progress: &(dyn Fn(SyncEvent) + Send + Sync),
    ) -> Result<(), SyncError> {
        let (folder_id, name) = (folder.state.id, folder.state.name.as_str());
        let condstore = server_caps.condstore;
        if let Some(st) = status.filter(|_| condstore) {
            if unchanged(
                &folder.state,
                st,
                Some(folder.count),
                self.options.bodies && folder.missing_bodies,
            ) {
                return Ok(());
            }
        }
        let mbox = if condstore {
            session.select_condstore(name).await?
        } else {
            session.select(name).await?
        };
        drain_unsolicited(session);
        let mut state = self.store.folder_state(folder_id).await?;
        let validity = mbox.uid_validity.unwrap_or(0);
        if state.uidvalidity != Some(validity) {
            if state.uidvalidity.is_some() {
                tracing::warn!(folder = name, old = ?state.uidvalidity, new = validity, "UIDVALIDITY changed");
                report.uidvalidity_resets.push(name.to_owned());
            }
            self.store.reset_folder(folder_id, validity).await?;
            state = self.store.folder_state(folder_id).await?;
        }
        let modseq = if condstore { mbox.highest_modseq } else { None };
        let seen = FolderStatus {
            uidvalidity: Some(validity),
            uidnext: mbox.uid_next,
            highestmodseq: modseq,
            messages: Some(mbox.exists),
        };
        if condstore && self.unchanged(folder_id, &state, &seen).await? {
            return Ok(());
        }

        // QRESYNC: VANISHED (EARLIER) and flags since the cached HIGHESTMODSEQ, new UIDs from the
        // cached UIDNEXT; checked against EXISTS, else the full reconciliation below runs.
        let mut quick = false;
        if let (true, Some(_), Some(since), Some(next)) = (
            server_caps.qresync,
            modseq,
            state.highestmodseq,
            state.uidnext,
        ) {
            drain_unsolicited(session);
            let items = format!("(UID FLAGS) (CHANGEDSINCE {since} VANISHED)");
            let changes = self.fetch_flags(session, "1:*", &items).await?;
            let vanished = take_vanished(session);
            let local: BTreeSet<u32> = self
                .store
                .local_uids(folder_id)
                .await?
                .into_iter()
                .collect();
            let gone: Vec<u32> = local
                .iter()
                .copied()
                .filter(|u| vanished.iter().any(|r| r.contains(u)))
                .collect();
            if !gone.is_empty() {
                let n = self.store.remove_uids(folder_id, &gone).await?;
                report.expunged += n;
                report.vanished += n;
            }
            let changes: Vec<_> = changes
                .into_iter()
                .filter(|c| local.contains(&c.0))
                .collect();
            report.flag_changes += self.store.update_flags(folder_id, &changes).await?;
            let mut missing: Vec<u32> = if mbox.exists == 0 {
                Vec::new()
            } else {
                session
                    .uid_search(format!("UID {next}:*"))
                    .await?
                    .into_iter()
                    .filter(|u| *u >= next && !local.contains(u))
                    .collect()
            };
            missing.sort_unstable_by(|a, b| b.cmp(a));
            self.fetch_new(
                session, folder_id, name, &missing, condstore, report, progress,
            )
            .await?;
            let count = self.store.local_uids(folder_id).await?.len() as u32;
            quick = count == mbox.exists;
            if quick {
                report.qresync_folders += 1;
            } else {
                tracing::warn!(
                    folder = name,
                    count,
                    exists = mbox.exists,
                    "QRESYNC delta inconsistent; full reconciliation"
                );
            }
        }
        if !quick {
            self.reconcile(
                session,
                folder_id,
                name,
                condstore,
                modseq,
                state.highestmodseq,
                report,
                progress,
            )
            .await?;
        }
        self.finish_folder(
            session, folder_id, name, &mbox, modseq, !condstore, report, progress,
        )
        .await
    }

    /// Nothing changed in the folder since its last complete sync (CONDSTORE: same
    /// UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ and count) and no body is missing.
    async fn unchanged(
        &self,
        folder_id: i64,
        state: &FolderState,
        server: &FolderStatus,
    ) -> Result<bool, SyncError> {
        if !unchanged(state, server, None, false) {
            return Ok(false);
        }
        let count = self.store.local_count(folder_id).await?;
        let missing =
            self.options.bodies && !self.store.uids_without_body(folder_id, 1).await?.is_empty();
        Ok(unchanged(state, server, Some(count), missing))
    }

    /// Full reconciliation from the server's UID set (new and expunged), then flags.
    #[allow(clippy::too_many_arguments)]
    async fn reconcile(
        &self,
        session: &mut ImapSession,
        folder_id: i64,
        name: &str,
        condstore: bool,
        modseq: Option<u64>,
        cached_modseq: Option<u64>,
        report: &mut SyncReport,
        progress: &(dyn Fn(SyncEvent) + Send + Sync),
    ) -> Result<(), SyncError> {
        // New and expunged messages, from the server's UID set.
        let server: BTreeSet<u32> = session.uid_search("ALL").await?.into_iter().collect();
        let local: BTreeSet<u32> = self
            .store
            .local_uids(folder_id)
            .await?
            .into_iter()
            .collect();
        let gone: Vec<u32> = local.difference(&server).copied().collect();
        if !gone.is_empty() {
            report.expunged += self.store.remove_uids(folder_id, &gone).await?;
        }
        let mut missing: Vec<u32> = server.difference(&local).copied().collect();
        missing.reverse(); // newest first
        self.fetch_new(
            session, folder_id, name, &missing, condstore, report, progress,
        )
        .await?;

        // Flags.
        let known: Vec<u32> = local.intersection(&server).copied().collect();
        match (modseq, cached_modseq) {
            (Some(_), Some(since)) => {
                if !known.is_empty() {
                    let cmd_items = format!("(UID FLAGS) (CHANGEDSINCE {since})");
                    let changes = self.fetch_flags(session, "1:*", &cmd_items).await?;
                    let changes: Vec<_> = changes
                        .into_iter()
                        .filter(|c| local.contains(&c.0))
                        .collect();
                    report.flag_changes += self.store.update_flags(folder_id, &changes).await?;
                }
            }
            _ => {
                for chunk in known.chunks(self.options.flag_scan_chunk.max(1)) {
                    let changes = self
                        .fetch_flags(session, &uid_set(chunk), "(UID FLAGS)")
                        .await?;
                    report.flag_changes += self.store.update_flags(folder_id, &changes).await?;
                }
            }
        }

        Ok(())
    }

    /// Fetches `missing` (newest first): the first screenful's headers alone, stored at once
    /// (the list shows within a second), then, when bodies are wanted, whole messages, the
    /// first screenful's bodies with the first batch (headers and body in one fetch and one
    /// transaction: one pass over the messages instead of two); headers-only syncs fetch the
    /// rest by headers in batches. One transaction per batch, so a cut sync resumes after the
    /// last stored batch.
    #[allow(clippy::too_many_arguments)]
    async fn fetch_new(
        &self,
        session: &mut ImapSession,
        folder_id: i64,
        name: &str,
        missing: &[u32],
        condstore: bool,
        report: &mut SyncReport,
        progress: &(dyn Fn(SyncEvent) + Send + Sync),
    ) -> Result<(), SyncError> {
        let total = missing.len();
        let mut done = 0;
        let mut size = self.options.first_batch.max(1);
        while done < total {
            if done > 0 && self.options.bodies {
                self.fetch_whole(
                    session, folder_id, name, missing, done, condstore, report, progress,
                )
                .await?;
                break;
            }
            let chunk_end = (done + size).min(total);
            let mut chunk: Vec<u32> = missing[done..chunk_end].to_vec();
            chunk.sort_unstable();
            let batch = self.fetch_headers(session, &chunk, condstore).await?;
            let lowest = chunk.first().copied();
            report.new += batch.len();
            self.store.insert_batch(folder_id, &batch, lowest).await?;
            done = chunk_end;
            size = self.options.batch.max(1);
            progress(SyncEvent::Headers {
                account: self.address.clone(),
                folder: name.to_owned(),
                done,
                total,
            });
        }
        Ok(())
    }

    /// Bodies, then the folder's sync state (recorded last: only a complete sync counts).
    #[allow(clippy::too_many_arguments)]
    async fn finish_folder(
        &self,
        session: &mut ImapSession,
        folder_id: i64,
        name: &str,
        mbox: &async_imap::types::Mailbox,
        modseq: Option<u64>,
        full_scan: bool,
        report: &mut SyncReport,
        progress: &(dyn Fn(SyncEvent) + Send + Sync),
    ) -> Result<(), SyncError> {
        if self.options.bodies {
            self.fetch_all_bodies(session, folder_id, name, report, progress)
                .await?;
        }
        self.store
            .set_folder_sync(folder_id, mbox.uid_next, modseq, mbox.exists, full_scan)
            .await?;
        Ok(())
    }

    async fn fetch_headers(
        &self,
        session: &mut ImapSession,
        uids: &[u32],
        condstore: bool,
    ) -> Result<Vec<NewMessage>, SyncError> {
        let items = if condstore {
            "(UID FLAGS RFC822.SIZE INTERNALDATE MODSEQ BODY.PEEK[HEADER])"
        } else {
            "(UID FLAGS RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER])"
        };
        let wanted: BTreeSet<u32> = uids.iter().copied().collect();
        let fetched: Vec<_> = session
            .uid_fetch(uid_set(uids), items)
            .await?
            .try_collect()
            .await?;
        off_runtime(move || {
            fetched
                .iter()
                .filter_map(|f| new_message(f, f.header()?, &wanted))
                .collect()
        })
        .await
    }

    async fn fetch_flags(
        &self,
        session: &mut ImapSession,
        set: &str,
        items: &str,
    ) -> Result<Vec<(u32, Vec<String>, Option<u64>)>, SyncError> {
        let fetched: Vec<_> = session.uid_fetch(set, items).await?.try_collect().await?;
        Ok(fetched
            .iter()
            .filter_map(|f| Some((f.uid?, flag_strings(f), f.modseq)))
            .collect())
    }
}

/// A fetched message's cache row from its header (`raw` may be the whole message: only the
/// header is read) and the fetch's items; `None` for an unsolicited FETCH response (a flag
/// update of a message not asked for).
/// The no-change test of a folder: the server's UIDVALIDITY, HIGHESTMODSEQ and UIDNEXT are
/// those the last sync recorded, its message count is the cache's (`count`; `None`: not
/// compared yet) and no cached message waits for its body (`missing_bodies`, when bodies are
/// fetched).
fn unchanged(
    state: &FolderState,
    server: &FolderStatus,
    count: Option<u32>,
    missing_bodies: bool,
) -> bool {
    server.uidvalidity.is_some()
        && state.uidvalidity == server.uidvalidity
        && state.highestmodseq.is_some()
        && state.highestmodseq == server.highestmodseq
        && state.uidnext == server.uidnext
        && count.is_none_or(|c| server.messages == Some(c))
        && !missing_bodies
}

fn new_message(
    f: &async_imap::types::Fetch,
    raw: &[u8],
    wanted: &BTreeSet<u32>,
) -> Option<NewMessage> {
    let uid = f.uid.filter(|u| wanted.contains(u))?;
    let mut m = parse::headers(uid, raw);
    m.flags = flag_strings(f);
    m.size = f.size;
    m.modseq = f.modseq;
    m.received_at = f.internal_date().map(|d| d.timestamp()).or(m.sent_at);
    Some(m)
}

/// Runs the parsing of one fetched batch on tokio's blocking pool: mail-parser, CDA/XDM
/// reading and PDF text extraction (which may wait up to its budget) are CPU-bound and must not
/// hold a runtime worker that IDLE, other accounts' syncs and the UI's requests need. One task
/// per batch, not per message. A panic inside is resumed here, exactly as if parsing had run
/// inline; a task cancelled by the runtime shutting down is reported as an I/O error.
async fn off_runtime<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, SyncError> {
    match tokio::task::spawn_blocking(work).await {
        Ok(v) => Ok(v),
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => Err(SyncError::Imap(ImapError::Protocol(
            async_imap::error::Error::Io(std::io::Error::other(format!(
                "analyse des messages interrompue : {e}"
            ))),
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::{off_runtime, selectable, uid_set};

    /// A name Dovecot lists as `\\NonExistent` (the parent of `a/b` created alone) is not
    /// selected, as `\\NoSelect`; other attributes do not matter.
    #[test]
    fn non_existent_and_noselect_names_are_not_selectable() {
        use async_imap::types::NameAttribute as A;
        use std::borrow::Cow;
        assert!(!selectable(&[A::Extension(Cow::Borrowed("\\NonExistent"))]));
        assert!(!selectable(&[A::Extension(Cow::Borrowed("\\nonexistent"))]));
        assert!(!selectable(&[A::Marked, A::NoSelect]));
        assert!(selectable(&[
            A::Extension(Cow::Borrowed("\\HasChildren")),
            A::Sent
        ]));
        assert!(selectable(&[]));
    }

    /// On a single-threaded runtime, work handed to `off_runtime` runs while the runtime keeps
    /// serving other tasks: the work below waits for a message only another task sends, so it
    /// could not finish if it ran on the runtime's only thread.
    #[tokio::test(flavor = "current_thread")]
    async fn parsing_leaves_the_runtime_free() {
        let (tx, rx) = std::sync::mpsc::channel();
        let other = tokio::spawn(async move {
            tokio::task::yield_now().await;
            tx.send(()).unwrap();
        });
        let got = off_runtime(move || rx.recv_timeout(std::time::Duration::from_secs(5)).is_ok())
            .await
            .unwrap();
        assert!(got, "the runtime was blocked while parsing");
        other.await.unwrap();
        // Results come back in order, and a panic inside surfaces as a panic, as inline.
        assert_eq!(off_runtime(|| vec![3, 1, 2]).await.unwrap(), vec![3, 1, 2]);
        let caught = tokio::spawn(off_runtime(|| -> u32 { panic!("boom") })).await;
        assert!(caught.unwrap_err().is_panic());
    }

    /// What Dovecot pushes during IDLE with QRESYNC, parsed by imap-proto, applied to a real
    /// cache: VANISHED ranges (one huge) remove exactly the cached UIDs they cover; a FETCH
    /// with UID, FLAGS and MODSEQ updates flags; a FETCH without UID and EXISTS are left to
    /// the sync.
    #[tokio::test]
    async fn pushed_vanished_and_flags_reach_the_cache() {
        use crate::store::{CacheKey, NewMessage, Store, DB_FILE};
        use async_imap::imap_proto::Response;
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join(DB_FILE), &CacheKey::generate())
            .await
            .unwrap();
        let acc = store.add_account("a@x.test", "PER", None).await.unwrap();
        let f = store
            .upsert_folder(acc, "INBOX", Some("/"), None, true)
            .await
            .unwrap();
        let batch: Vec<NewMessage> = (1..=5)
            .map(|uid| NewMessage {
                uid,
                ..Default::default()
            })
            .collect();
        store.insert_batch(f, &batch, Some(1)).await.unwrap();
        let mut pushed = super::Pushed::default();
        assert!(pushed.is_empty());
        for line in [
            "* VANISHED 2,4:4000000000\r\n",
            "* 1 FETCH (UID 1 FLAGS (\\Seen \\Flagged) MODSEQ (77))\r\n",
            "* 3 FETCH (FLAGS (\\Seen))\r\n",
            "* 9 EXISTS\r\n",
        ] {
            let (_, r) = Response::parse(line.as_bytes()).unwrap();
            pushed.add(&r);
        }
        let report = pushed.apply(&store, f).await.unwrap();
        assert!(report.idle);
        assert_eq!(
            (report.vanished, report.expunged, report.flag_changes),
            (3, 3, 1)
        );
        assert_eq!(store.local_uids(f).await.unwrap(), vec![1, 3]);
        let listed = store.list_messages(f, 10).await.unwrap();
        let flags = |uid| listed.iter().find(|m| m.uid == uid).unwrap().flags.clone();
        assert_eq!(flags(1), "\\Flagged \\Seen");
        assert_eq!(flags(3), "");
    }

    #[test]
    fn uid_sets_are_compressed() {
        assert_eq!(uid_set(&[]), "");
        assert_eq!(uid_set(&[4]), "4");
        assert_eq!(uid_set(&[1, 2, 3, 5, 7, 8]), "1:3,5,7:8");
    }
}
