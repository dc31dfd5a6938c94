//! The local cache: SQLite encrypted at rest with SQLCipher, numbered migrations, folders,
//! messages, bodies, FTS5 search, operations journal, outbox and audit log.
//!
//! One database file per profile (`<data_dir>/pli-cache.db`). The 256-bit key is generated on
//! first run and kept in the OS keyring (`cache-key:<profile>`, see [`crate::secrets`]); it is
//! handed to SQLCipher as a raw key (`PRAGMA key = "x'…'"`), so no passphrase derivation runs
//! at open. The database is in WAL mode with **one writer**: a pool of exactly one connection
//! for writes and a small pool for reads (decision 0012-store-sqlcipher).

mod audit;
mod drafts;
mod journal;
mod key;
mod messages;
mod migrations;
mod outbox;
mod search;
mod views;

pub use audit::{format_time, parse_date, AuditEntry};
pub use drafts::{DraftRow, DraftUpload, ServerCopy};
pub use journal::{LocalOp, Operation};
pub use key::CacheKey;
pub use messages::{BodyData, FolderOverview, FolderState, NewMessage, ReportRow, StoredMessage};
pub use migrations::{MIGRATIONS, SCHEMA_VERSION};
pub use outbox::{NewOutgoing, OutboxRow};
pub use search::{fts_query, SearchDriver, SearchFilter, SearchHit};
pub use views::{BodyParts, FolderCounts, PageScope, PatientThread, RowData};

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::ConnectOptions;

/// File name of the cache inside the data directory.
pub const DB_FILE: &str = "pli-cache.db";

/// The data directory: `data_dir` from the configuration, else the OS data directory
/// (`$XDG_DATA_HOME/pli`, `~/.local/share/pli`, `%APPDATA%\\pli`).
pub fn data_dir(cfg: &crate::config::Config) -> PathBuf {
    if let Some(d) = &cfg.data_dir {
        return d.clone();
    }
    let env = |k: &str| std::env::var_os(k).map(PathBuf::from);
    env("XDG_DATA_HOME")
        .or_else(|| env("HOME").map(|h| h.join(".local/share")))
        .or_else(|| env("APPDATA"))
        .unwrap_or_else(|| PathBuf::from("."))
        .join("pli")
}

/// The cache profile: `PLI_PROFILE` if set, else the environment's name (`sandbox`, `bas`,
/// `production`). It names the keyring entry of the cache key (`cache-key:<profile>`).
pub fn profile(cfg: &crate::config::Config) -> String {
    std::env::var("PLI_PROFILE")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| format!("{:?}", cfg.environment).to_lowercase())
}

/// Errors of the local cache.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The key does not open this database (wrong key, or the keyring entry was replaced).
    #[error(
        "le cache local {path} ne s'ouvre pas avec la clé du trousseau (clé erronée ou fichier \
         corrompu) : supprimez le fichier pour le reconstruire depuis le serveur"
    )]
    WrongKey {
        /// The database file.
        path: PathBuf,
    },
    /// The cache exists but its key is missing from the keyring.
    #[error(
        "la clé du cache local est absente du trousseau ({account}) : supprimez {path} pour le \
         reconstruire depuis le serveur"
    )]
    KeyMissing {
        /// Keyring account name.
        account: String,
        /// The database file.
        path: PathBuf,
    },
    /// The keyring failed.
    #[error(transparent)]
    Secret(#[from] crate::secrets::SecretError),
    /// The database was written by a newer Pli.
    #[error("le cache local a été créé par une version plus récente de Pli (schéma {found} > {supported})")]
    TooNew {
        /// Version in the file.
        found: i64,
        /// Latest version this build knows.
        supported: i64,
    },
    /// File system error.
    #[error("cache local : {0}")]
    Io(#[from] std::io::Error),
    /// Any other SQLite error.
    #[error("cache local (SQLite) : {0}")]
    Sql(#[from] sqlx::Error),
    /// An unknown account.
    #[error("compte inconnu dans le cache local : {0}")]
    UnknownAccount(String),
}

/// The opened cache.
#[derive(Debug, Clone)]
pub struct Store {
    writer: SqlitePool,
    reader: SqlitePool,
    path: PathBuf,
    /// One lock per mailbox: a sync pass holds its mailbox's (see [`Store::sync_pass`]).
    passes: Arc<std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
    /// One wake-up per mailbox for its watch loop (see [`Store::nudge`]).
    nudges: Arc<std::sync::Mutex<HashMap<String, Arc<tokio::sync::Notify>>>>,
}

/// Who uses an opened cache, which sets how many read connections it keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Usage {
    /// The app: up to four read connections, so the list, the counts and a search run side
    /// by side.
    App,
    /// A command that runs its queries one after another (`pli search`, `pli audit`…): one
    /// read connection. sqlx hands a released connection back to its pool asynchronously, so
    /// with room for more a query that follows another opened a second SQLCipher connection
    /// (its own key setup and schema read: 1.4 ms of a 12.7 ms `pli search`, measured).
    Command,
}

impl Store {
    /// Opens (creating if needed) the cache at `path` with `key`, and migrates it.
    pub async fn open(path: &Path, key: &CacheKey) -> Result<Self, StoreError> {
        Self::open_for(path, key, Usage::App).await
    }

    /// [`Store::open`] for `usage`.
    pub async fn open_for(path: &Path, key: &CacheKey, usage: Usage) -> Result<Self, StoreError> {
        // Before SQLCipher first touches OpenSSL, in every process that opens a cache (test
        // binaries and examples have no `main` of ours to do it): see `init_process`.
        crate::init_process();
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let opts = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))?
            .pragma("key", key.pragma_value())
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .pragma("secure_delete", "on")
            .pragma("temp_store", "memory")
            // sqlx logs each statement's text, the `PRAGMA key` run at connect included (seen
            // with PLI_LOG=sqlx=debug): no SQL log at all, so the key never reaches a log.
            .disable_statement_logging();
        let existed = path.exists();
        // Both pools connect on first use: a read-only command (`pli search`) opens no writer
        // connection at all when the schema is current (each SQLCipher connection costs a few
        // ms to set up; tests/bench/search).
        // No ping before handing out a connection (sqlx's default): a local file's connection
        // cannot go stale, and each ping is one more trip to the connection's worker thread
        // per query.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .connect_lazy_with(opts.clone());
        let reader = SqlitePoolOptions::new()
            .max_connections(if usage == Usage::App { 4 } else { 1 })
            .test_before_acquire(false)
            .connect_lazy_with(opts.read_only(true));
        // An existing file's version is read first (this also checks the key: a wrong one fails
        // here, on the first page read); migrations, and a new file, go through the writer.
        let found = if existed {
            match migrations::current_version(&reader).await {
                Ok(v) => Some(v),
                Err(StoreError::Sql(e)) => match classify(e, path) {
                    wrong @ StoreError::WrongKey { .. } => return Err(wrong),
                    // A file a read-only connection cannot open as configured (not yet in WAL
                    // mode: switching is a write): the writer opens it and migrates, as for a
                    // new file.
                    _ => None,
                },
                Err(e) => return Err(e),
            }
        } else {
            None
        };
        let store_version = match found {
            Some(v) if v > SCHEMA_VERSION => {
                return Err(StoreError::TooNew {
                    found: v,
                    supported: SCHEMA_VERSION,
                })
            }
            Some(v) if v == SCHEMA_VERSION => v,
            _ => migrations::run(&writer).await.map_err(|e| match e {
                StoreError::Sql(e) => classify(e, path),
                other => other,
            })?,
        };
        tracing::debug!(version = store_version, path = %path.display(), "cache opened");
        Ok(Self {
            writer,
            reader,
            path: path.to_owned(),
            passes: Arc::default(),
            nudges: Arc::default(),
        })
    }

    /// Opens the profile's cache in `data_dir`, with the key from the OS keyring (created,
    /// together with the key, on first run).
    pub async fn open_profile(data_dir: &Path, profile: &str) -> Result<Self, StoreError> {
        Self::open_profile_for(data_dir, profile, Usage::App).await
    }

    /// [`Store::open_profile`] for `usage`.
    pub async fn open_profile_for(
        data_dir: &Path,
        profile: &str,
        usage: Usage,
    ) -> Result<Self, StoreError> {
        let path = data_dir.join(DB_FILE);
        // The session copy of the key first (secrets::session): never for a new file, and a copy
        // that does not open the file is dropped before the keyring is asked.
        if path.exists() {
            if let Some(key) = CacheKey::from_session_copy(profile, &path) {
                match Self::open_for(&path, &key, usage).await {
                    Err(StoreError::WrongKey { .. }) => CacheKey::forget_session_copy(profile),
                    other => return other,
                }
            }
        }
        let key = CacheKey::from_keyring(profile, &path)?;
        Self::open_for(&path, &key, usage).await
    }

    /// The lock of `address`'s sync passes: a pass holds it from the journal replay to the
    /// end of the sync, so a "sync now" asked while the watch loop's pass runs waits for it
    /// instead of fetching the same new messages over a second connection (and counting them
    /// twice as new mail). Shared by every clone of this store.
    pub fn sync_pass(&self, address: &str) -> Arc<tokio::sync::Mutex<()>> {
        self.passes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(address.to_ascii_lowercase())
            .or_default()
            .clone()
    }

    /// The wake-up of `address`'s watch loop: local work for the server is waiting (a journaled
    /// change, a draft to append), so the loop leaves IDLE and runs a pass now instead of at
    /// the next server change or IDLE re-arm. A wake-up given while no loop waits is kept for
    /// the next wait. Shared by every clone of this store.
    pub fn nudge(&self, address: &str) -> Arc<tokio::sync::Notify> {
        self.nudges
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(address.to_ascii_lowercase())
            .or_default()
            .clone()
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The single-connection pool used for every write.
    pub(crate) fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    /// The read pool.
    pub(crate) fn reader(&self) -> &SqlitePool {
        &self.reader
    }

    /// Schema version of the open database.
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        migrations::current_version(&self.reader).await
    }

    /// Flushes the WAL into the main file (tests, backups).
    pub async fn checkpoint(&self) -> Result<(), StoreError> {
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Closes both pools.
    pub async fn close(self) {
        self.reader.close().await;
        self.writer.close().await;
    }

    /// Adds an account (or updates its kind and name); returns its id.
    pub async fn add_account(
        &self,
        address: &str,
        kind: &str,
        display_name: Option<&str>,
    ) -> Result<i64, StoreError> {
        // Already there as asked (every command registers the configured accounts): a read, no
        // write transaction.
        let same: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM accounts WHERE address = ?1 AND kind = ?2
               AND (?3 IS NULL OR display_name IS ?3)",
        )
        .bind(address)
        .bind(kind)
        .bind(display_name)
        .fetch_optional(&self.reader)
        .await?;
        if let Some(id) = same {
            return Ok(id);
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO accounts (address, kind, display_name, created_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(address) DO UPDATE SET kind = excluded.kind,
                 display_name = COALESCE(excluded.display_name, accounts.display_name)
             RETURNING id",
        )
        .bind(address)
        .bind(kind)
        .bind(display_name)
        .bind(now())
        .fetch_one(&self.writer)
        .await?;
        Ok(id)
    }

    /// The accounts, as (id, address, kind).
    pub async fn accounts(&self) -> Result<Vec<(i64, String, String)>, StoreError> {
        Ok(
            sqlx::query_as("SELECT id, address, kind FROM accounts ORDER BY address")
                .fetch_all(&self.reader)
                .await?,
        )
    }

    /// The id of the account with this address.
    pub async fn account_id(&self, address: &str) -> Result<i64, StoreError> {
        sqlx::query_scalar("SELECT id FROM accounts WHERE address = ?1")
            .bind(address)
            .fetch_optional(&self.reader)
            .await?
            .ok_or_else(|| StoreError::UnknownAccount(address.to_owned()))
    }

    /// Appends an audit entry: who did what, on which account, with which server request.
    pub async fn audit(
        &self,
        actor: &str,
        account: Option<&str>,
        action: &str,
        request: &str,
        outcome: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO audit_log (at, actor, account, action, request, outcome)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .bind(now())
        .bind(actor)
        .bind(account)
        .bind(action)
        .bind(request)
        .bind(outcome)
        .execute(&self.writer)
        .await?;
        Ok(())
    }
}

/// Unix time in seconds.
pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// SQLCipher reports a wrong key as "file is not a database" (SQLITE_NOTADB) on first read.
fn classify(e: sqlx::Error, path: &Path) -> StoreError {
    if let sqlx::Error::Database(db) = &e {
        if db.code().as_deref() == Some("26") || db.message().contains("file is not a database") {
            return StoreError::WrongKey {
                path: path.to_owned(),
            };
        }
    }
    StoreError::Sql(e)
}

#[cfg(test)]
mod tests;
