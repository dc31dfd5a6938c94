//! What a sync is given and gives back: options, progress events, the report, errors.

use crate::imap::ImapError;
use crate::store::StoreError;

/// Sync errors.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The server or the connection failed.
    #[error(transparent)]
    Imap(#[from] ImapError),
    /// The cache failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<async_imap::error::Error> for SyncError {
    fn from(e: async_imap::error::Error) -> Self {
        SyncError::Imap(ImapError::Protocol(e))
    }
}

/// Tuning of a sync run.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// Headers per batch after the first.
    pub batch: usize,
    /// Headers in the first batch (first screenful quickly).
    pub first_batch: usize,
    /// At most this many bodies per batch (one round trip)...
    pub body_batch: usize,
    /// ...and at most this many bytes of RFC822.SIZE (except a single larger message, which
    /// goes alone): few round trips for small mail, bounded memory for large attachments.
    pub body_batch_bytes: u64,
    /// Fetch bodies at all (headers-only sync when false).
    pub bodies: bool,
    /// UIDs per chunk of the full flag scan without CONDSTORE.
    pub flag_scan_chunk: usize,
    /// Who the audit rows of this sync name (the logged-in person's national id); `None`:
    /// `pli`, a sync with no person behind it (a token given by hand).
    pub actor: Option<String>,
}

impl Default for SyncOptions {
    fn default() -> Self {
        Self {
            batch: 500,
            first_batch: 50,
            // Measured on 2,000 small messages (tests/bench/sync): 25 a batch cost 83 round
            // trips, each waiting for the previous batch to be stored.
            body_batch: 250,
            body_batch_bytes: 4 << 20,
            bodies: true,
            flag_scan_chunk: 2000,
            actor: None,
        }
    }
}

/// Progress of a sync, for the UI.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum SyncEvent {
    /// New headers stored in a folder: `done` of `total`.
    Headers {
        /// Account address.
        account: String,
        /// Folder name.
        folder: String,
        /// Messages stored so far in this folder.
        done: usize,
        /// Messages to fetch in this folder.
        total: usize,
    },
    /// Bodies stored in a folder.
    Bodies {
        /// Account address.
        account: String,
        /// Folder name.
        folder: String,
        /// Bodies stored so far.
        done: usize,
        /// Bodies to fetch.
        total: usize,
    },
}

/// What a sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SyncReport {
    /// Folders synchronised.
    pub folders: usize,
    /// New messages stored.
    pub new: usize,
    /// Of the new messages, those a new-mail notification counts: in folders that receive
    /// mail (no special use: not Sent, Drafts, Trash, Junk, Archive…), read and delivery
    /// reports folded into the message they report on (migration 0011) left out.
    pub new_incoming: usize,
    /// Messages whose flags changed.
    pub flag_changes: u64,
    /// Messages removed (expunged on the server).
    pub expunged: u64,
    /// Bodies stored.
    pub bodies: usize,
    /// Folders the server refused during this sync (e.g. deleted since LIST), left as cached.
    pub skipped_folders: Vec<String>,
    /// Folders whose UIDVALIDITY changed (their cache was rebuilt).
    pub uidvalidity_resets: Vec<String>,
    /// CONDSTORE was used.
    pub condstore: bool,
    /// QRESYNC was enabled.
    pub qresync: bool,
    /// Folders resynced by QRESYNC alone (no UID SEARCH ALL).
    pub qresync_folders: usize,
    /// Expunges learnt from VANISHED (EARLIER, or pushed during IDLE).
    pub vanished: u64,
    /// These are changes the server pushed during IDLE (VANISHED, FETCH of flags), applied
    /// from its responses alone, not the result of a sync.
    pub idle: bool,
    /// IMAP round trips of the whole sync (commands sent, each answered before the next:
    /// measured on the stream, `imap::counted`), session set-up (CAPABILITY, ENABLE, LIST)
    /// included, login excluded.
    pub round_trips: u64,
    /// Round trips per synchronised folder (a no-change resync with QRESYNC: one, the SELECT).
    pub folder_round_trips: std::collections::BTreeMap<String, u64>,
}

/// What the server offers for resync.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServerCaps {
    /// RFC 7162 CONDSTORE advertised.
    pub condstore: bool,
    /// RFC 7162 QRESYNC advertised and enabled.
    pub qresync: bool,
}
