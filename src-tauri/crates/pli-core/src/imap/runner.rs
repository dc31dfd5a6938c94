//! Running syncs: several accounts in parallel, and a watch loop per account (sync, then
//! IDLE on INBOX re-armed every 9 minutes, reconnect with exponential back-off). Expunges
//! (`VANISHED`) and flag changes the server pushes during IDLE are applied to the cache as
//! they arrive, then a sync runs.

use std::sync::Arc;
use std::time::Duration;

use async_imap::extensions::idle::IdleResponse;
use async_imap::types::UnsolicitedResponse;

use super::sync::{self, AccountSync, SyncError, SyncEvent, SyncOptions, SyncReport};
use super::{connect, drafts, journal, ImapSession};
use crate::auth::Credentials;
use crate::config::ServerConfig;
use crate::store::Store;

/// Re-IDLE before this (RFC 2177 servers may drop an IDLE after 30 minutes; NATs sooner).
pub const IDLE_REARM: Duration = Duration::from_secs(9 * 60);

/// Syncs in a row when INBOX keeps moving between a sync and the IDLE meant to follow it; then
/// IDLE anyway (the next change or re-arm catches up).
const MAX_RESYNCS_BEFORE_IDLE: u32 = 3;
/// First reconnect delay.
pub const BACKOFF_MIN: Duration = Duration::from_secs(2);
/// Longest reconnect delay.
pub const BACKOFF_MAX: Duration = Duration::from_secs(80);

/// Where and how to reach the server.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// IMAP server.
    pub server: ServerConfig,
    /// TLS configuration (operator trust anchors only).
    pub tls: Arc<rustls::ClientConfig>,
    /// Token provider.
    pub credentials: Arc<dyn Credentials>,
}

/// A progress callback shared by parallel syncs.
pub type Progress = Arc<dyn Fn(SyncEvent) + Send + Sync>;

/// Called after every sync of a watch loop, with the account and the result.
pub type OnSync = Arc<dyn Fn(&str, &Result<SyncReport, SyncError>) + Send + Sync>;

/// One account kept in sync by [`watch`].
#[derive(Clone)]
pub struct Watch {
    /// Server, TLS and credentials.
    pub endpoint: Endpoint,
    /// The cache.
    pub store: Store,
    /// Mailbox address.
    pub address: String,
    /// Mailbox kind (PER, ORG…).
    pub kind: String,
    /// Sync tuning.
    pub options: SyncOptions,
    /// Progress events.
    pub progress: Progress,
    /// Result of each sync.
    pub on_sync: OnSync,
}

impl std::fmt::Debug for Watch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watch")
            .field("address", &self.address)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// Replays the account's offline journal, then syncs it, over one new connection.
pub async fn sync_account_once(
    endpoint: &Endpoint,
    store: &Store,
    address: &str,
    kind: &str,
    options: &SyncOptions,
    progress: &Progress,
) -> Result<SyncReport, SyncError> {
    let mut session = login(endpoint, address).await?;
    sync_session_once(
        &mut session,
        endpoint,
        store,
        address,
        kind,
        options,
        progress,
    )
    .await
}

/// Logs in to `address`'s mailbox (TLS, then XOAUTH2): the first half of
/// [`sync_account_once`], for a caller that has other work to do while the server checks the
/// token (`pli sync --once --account` opens the cache meanwhile).
pub async fn login(endpoint: &Endpoint, address: &str) -> Result<ImapSession, SyncError> {
    Ok(connect(
        &endpoint.server,
        endpoint.tls.clone(),
        endpoint.credentials.as_ref(),
        address,
    )
    .await?)
}

/// The second half of [`sync_account_once`]: drafts, journal and sync over a session from
/// [`login`], then LOGOUT.
pub async fn sync_session_once(
    session: &mut ImapSession,
    endpoint: &Endpoint,
    store: &Store,
    address: &str,
    kind: &str,
    options: &SyncOptions,
    progress: &Progress,
) -> Result<SyncReport, SyncError> {
    let options = with_actor(options, endpoint);
    let report = run_on(session, store, address, kind, &options, progress, false).await;
    session.logout().await.ok();
    report
}

/// The options with the audit actor taken from the credentials when none is set.
fn with_actor(options: &SyncOptions, endpoint: &Endpoint) -> SyncOptions {
    let mut o = options.clone();
    if o.actor.is_none() {
        o.actor = endpoint.credentials.actor();
    }
    o
}

/// Appends the drafts waiting for the server, replays the journal (which deletes the drafts'
/// replaced copies), then syncs, one pass at a time per mailbox (`Store::sync_pass`).
/// `selected`: a mailbox is selected on `session` already.
async fn run_on(
    session: &mut ImapSession,
    store: &Store,
    address: &str,
    kind: &str,
    options: &SyncOptions,
    progress: &Progress,
    selected: bool,
) -> Result<SyncReport, SyncError> {
    let pass = store.sync_pass(address);
    let _pass = pass.lock().await;
    let sync = AccountSync::new(store, address, kind, options.clone()).await?;
    let actor = options.actor.as_deref().unwrap_or(address);
    let appended = drafts::upload(session, store, address, actor).await?;
    // Replaying selects the folders it changes (even for an operation it then drops).
    let replayed = journal::replay(session, store, address).await?;
    sync.mailbox_may_be_selected(selected || appended > 0 || replayed > 0)
        .run(session, progress.as_ref())
        .await
}

/// Syncs every account once, in parallel (one connection each).
pub async fn sync_all_once(
    endpoint: &Endpoint,
    store: &Store,
    accounts: &[(String, String)],
    options: &SyncOptions,
    progress: Progress,
) -> Vec<(String, Result<SyncReport, SyncError>)> {
    let runs = accounts.iter().map(|(address, kind)| {
        let progress = progress.clone();
        async move {
            let r = sync_account_once(endpoint, store, address, kind, options, &progress).await;
            (address.clone(), r)
        }
    });
    futures::future::join_all(runs).await
}

/// Keeps one account in sync until `stop` resolves: sync, IDLE on INBOX until the server
/// reports a change or [`IDLE_REARM`] passes, sync again. Connection failures are retried
/// with back-off from [`BACKOFF_MIN`] to [`BACKOFF_MAX`]; `on_sync` sees every result.
pub async fn watch(w: Watch, stop: impl std::future::Future<Output = ()>) {
    let work = async {
        let mut backoff = BACKOFF_MIN;
        loop {
            match watch_session(&w).await {
                Ok(()) => backoff = BACKOFF_MIN,
                Err(e) => {
                    tracing::warn!(account = %w.address, error = %e, "sync connection lost; retrying in {backoff:?}");
                    (w.on_sync)(&w.address, &Err(e));
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(BACKOFF_MAX);
                }
            }
        }
    };
    tokio::select! {
        _ = stop => {}
        _ = work => {}
    }
}

async fn watch_session(w: &Watch) -> Result<(), SyncError> {
    let (endpoint, store, address, kind, options, progress, on_sync) = (
        &w.endpoint,
        &w.store,
        w.address.as_str(),
        w.kind.as_str(),
        &w.options,
        &w.progress,
        &w.on_sync,
    );
    let mut session = connect(
        &endpoint.server,
        endpoint.tls.clone(),
        endpoint.credentials.as_ref(),
        address,
    )
    .await?;
    let options = with_actor(options, endpoint);
    let mut resyncs = 0;
    // INBOX is selected after the first round (IDLE runs on it).
    let mut selected = false;
    loop {
        let r = run_on(
            &mut session,
            store,
            address,
            kind,
            &options,
            progress,
            selected,
        )
        .await;
        selected = true;
        let failed = r.is_err();
        on_sync(address, &r);
        if failed {
            return r.map(|_| ());
        }
        let mbox = session.select("INBOX").await?;
        // What was queued until now belongs to the folders the sync visited, not to INBOX.
        sync::drain_unsolicited(&mut session);
        let (inbox, moved) = cached_inbox(store, address, &mbox).await?;
        // Mail that arrived (or flags that changed) after the sync read INBOX and before this
        // SELECT would not wake IDLE, which reports only what happens once it started: sync
        // again first. Bounded, so a server whose UIDNEXT never settles cannot spin the loop.
        if moved && resyncs < MAX_RESYNCS_BEFORE_IDLE {
            resyncs += 1;
            tracing::debug!(
                account = address,
                "INBOX changed since the sync: syncing again before IDLE"
            );
            continue;
        }
        resyncs = 0;
        let mut idle = session.idle();
        idle.init().await?;
        let (wait, interrupt) = idle.wait_with_timeout(IDLE_REARM);
        // Local work for the server (a journaled change, a draft to append) ends IDLE at
        // once: dropping the interrupt handle makes the wait return `ManualInterrupt`.
        let nudge = store.nudge(address);
        let why = {
            let mut wait = std::pin::pin!(wait);
            tokio::select! {
                r = &mut wait => r?,
                _ = nudge.notified() => {
                    tracing::debug!(account = address, "IDLE: local changes to send");
                    drop(interrupt);
                    wait.await?
                }
            }
        };
        session = idle.done().await?;
        // The response that ended IDLE, then whatever else the server sent before DONE's OK.
        let mut pushed = sync::Pushed::default();
        match why {
            IdleResponse::NewData(r) => {
                tracing::debug!(account = address, "IDLE: server change");
                pushed.add(r.parsed());
            }
            IdleResponse::Timeout => tracing::debug!(account = address, "IDLE re-armed"),
            IdleResponse::ManualInterrupt => {}
        }
        while let Ok(u) = session.unsolicited_responses.try_recv() {
            if let UnsolicitedResponse::Other(r) = u {
                pushed.add(r.parsed());
            }
        }
        // Expunges and flag changes pushed during IDLE reach the cache (and the UI, through
        // `on_sync`) at once, before the sync below, which stays the reference for the rest.
        if let (Some(folder_id), false) = (inbox, pushed.is_empty()) {
            let r = pushed.apply(store, folder_id).await;
            match &r {
                Ok(rep) if rep.expunged == 0 && rep.flag_changes == 0 => {}
                _ => on_sync(address, &r),
            }
            r?;
        }
    }
}

/// The cached INBOX of `address`, when its UIDVALIDITY is the server's (only then do UIDs
/// pushed during IDLE name the cached messages), and whether the server's INBOX moved since
/// the last sync recorded it: a different UIDNEXT, or HIGHESTMODSEQ when both are known.
async fn cached_inbox(
    store: &Store,
    address: &str,
    mbox: &async_imap::types::Mailbox,
) -> Result<(Option<i64>, bool), SyncError> {
    let account = store.account_id(address).await?;
    let Some((id, _)) = store
        .folders(account)
        .await?
        .into_iter()
        .find(|(_, n)| n == "INBOX")
    else {
        return Ok((None, false));
    };
    let state = store.folder_state(id).await?;
    if mbox.uid_validity.is_none() || state.uidvalidity != mbox.uid_validity {
        return Ok((None, false));
    }
    Ok((
        Some(id),
        inbox_moved(&state, mbox.uid_next, mbox.highest_modseq),
    ))
}

/// Whether the server's INBOX (its `UIDNEXT` and `HIGHESTMODSEQ` at SELECT) is ahead of what
/// the last sync recorded. Unknown values on either side say nothing.
fn inbox_moved(
    state: &crate::store::FolderState,
    uid_next: Option<u32>,
    highest_modseq: Option<u64>,
) -> bool {
    let newer_uid = matches!((state.uidnext, uid_next), (Some(a), Some(b)) if b > a);
    let newer_modseq = matches!((state.highestmodseq, highest_modseq), (Some(a), Some(b)) if b > a);
    newer_uid || newer_modseq
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::FolderState;

    fn state(uidnext: Option<u32>, highestmodseq: Option<u64>) -> FolderState {
        FolderState {
            id: 1,
            name: "INBOX".into(),
            uidvalidity: Some(7),
            uidnext,
            highestmodseq,
            fetched_below: Some(1),
        }
    }

    #[test]
    fn inbox_moved_compares_what_both_sides_know() {
        // New mail since the sync: UIDNEXT grew.
        assert!(inbox_moved(&state(Some(10), None), Some(11), None));
        // A flag changed: HIGHESTMODSEQ grew, UIDNEXT did not.
        assert!(inbox_moved(&state(Some(10), Some(5)), Some(10), Some(6)));
        // Nothing new.
        assert!(!inbox_moved(&state(Some(10), Some(5)), Some(10), Some(5)));
        // Unknown on either side says nothing (no CONDSTORE, no UIDNEXT in the response).
        assert!(!inbox_moved(&state(None, None), Some(11), Some(9)));
        assert!(!inbox_moved(&state(Some(10), Some(5)), None, None));
    }
}
