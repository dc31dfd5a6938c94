//! Helpers for the sync tests: the Dovecot master user as the oracle, a client with a real
//! PSC token, temporary encrypted caches, and test messages (ISO-8859-1 bodies).

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use futures::TryStreamExt;
use pli_core::auth::{AccessToken, StaticToken};
use pli_core::config::Config;
use pli_core::imap::sync::{AccountSync, SyncError, SyncOptions, SyncReport};
use pli_core::imap::{self, ImapSession};
use pli_core::store::{CacheKey, Store, DB_FILE};

use crate::{person, psc, tls};

/// A Dovecot master-user session.
pub type Master = async_imap::Session<tokio_rustls::client::TlsStream<tokio::net::TcpStream>>;

/// The master user on `mailbox` (implicit TLS).
pub async fn master_session(cfg: &Config, mailbox: &str) -> Master {
    let sb = cfg.sandbox.as_ref().unwrap();
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", 10993))
        .await
        .unwrap();
    let name = pli_core::tls::server_name(&cfg.operator.imap.host).unwrap();
    let stream = tokio_rustls::TlsConnector::from(tls(cfg))
        .connect(name, tcp)
        .await
        .unwrap();
    let mut client = async_imap::Client::new(stream);
    client.read_response().await.unwrap();
    let login = format!("{mailbox}*{}", sb.master_user.as_deref().unwrap());
    client
        .login(login, sb.master_password.as_deref().unwrap())
        .await
        .map_err(|(e, _)| e)
        .unwrap()
}

/// The server's (UID → Message-ID) map of a folder, read by the master user.
pub async fn server_map(m: &mut Master, folder: &str) -> BTreeMap<u32, Option<String>> {
    let mbox = m.examine(folder).await.unwrap();
    let mut out = BTreeMap::new();
    if mbox.exists == 0 {
        return out;
    }
    let fetched: Vec<_> = m
        .uid_fetch("1:*", "(UID BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    for f in fetched {
        let h = String::from_utf8_lossy(f.header().unwrap_or_default()).to_string();
        let id = h
            .split_once(':')
            .map(|(_, v)| {
                v.trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_owned()
            })
            .filter(|v| !v.is_empty());
        out.insert(f.uid.unwrap(), id);
    }
    out
}

/// The cache's (UID → Message-ID) map of a folder.
pub async fn local_map(
    store: &Store,
    account: &str,
    folder: &str,
) -> BTreeMap<u32, Option<String>> {
    let acc = store.account_id(account).await.unwrap();
    let (fid, _) = store
        .folders(acc)
        .await
        .unwrap()
        .into_iter()
        .find(|(_, n)| n == folder)
        .unwrap_or_else(|| panic!("folder {folder} not in the cache"));
    store
        .uid_message_ids(fid)
        .await
        .unwrap()
        .into_iter()
        .collect()
}

/// A mailbox opened with a real PSC token.
#[derive(Debug)]
pub struct Client {
    /// Configuration (possibly pointed at 127.0.0.2).
    pub cfg: Config,
    /// The token.
    pub creds: StaticToken,
    /// The mailbox.
    pub mailbox: String,
}
impl Client {
    /// Logs `role` in at the PSC and picks its mailbox number `which`.
    pub async fn new(mut cfg: Config, role: &str, which: usize, addr: Option<&str>) -> Self {
        let p = person(&cfg, role);
        let t = psc::code_pkce(&cfg, &p.national_id).await.unwrap();
        if let Some(a) = addr {
            cfg.operator.imap.connect_addr = Some(a.to_owned());
        }
        Self {
            creds: StaticToken(AccessToken::new(t.access_token)),
            mailbox: p.mailboxes[which].clone(),
            cfg,
        }
    }

    /// An authenticated session.
    pub async fn session(&self) -> ImapSession {
        imap::connect(
            &self.cfg.operator.imap,
            tls(&self.cfg),
            &self.creds,
            &self.mailbox,
        )
        .await
        .unwrap()
    }

    /// Replays the offline journal, then syncs everything into `store` (one connection).
    ///
    /// Tests share mailboxes and delete their folders while others sync: Dovecot then drops a
    /// connection that has such a folder selected. Like the app's watch loop, this reconnects
    /// and syncs again (three attempts).
    pub async fn sync(&self, store: &Store) -> SyncReport {
        self.sync_with(store, SyncOptions::default()).await
    }

    /// [`Client::sync`] with these options.
    pub async fn sync_with(&self, store: &Store, options: SyncOptions) -> SyncReport {
        let mut last = None;
        for _ in 0..3 {
            match self.try_sync(store, options.clone()).await {
                Ok(r) => return r,
                Err(e) => last = Some(e),
            }
        }
        panic!("sync failed three times: {last:?}");
    }

    async fn try_sync(&self, store: &Store, options: SyncOptions) -> Result<SyncReport, SyncError> {
        let mut s = imap::connect(
            &self.cfg.operator.imap,
            tls(&self.cfg),
            &self.creds,
            &self.mailbox,
        )
        .await?;
        // As the app's runner does: replaying selects the folders it changes.
        let replayed = pli_core::imap::journal::replay(&mut s, store, &self.mailbox).await?;
        let sync = AccountSync::new(store, &self.mailbox, "ORG", options)
            .await?
            .mailbox_may_be_selected(replayed > 0);
        let r = sync.run(&mut s, &|_| {}).await;
        s.logout().await.ok();
        r
    }
}

/// A fresh encrypted cache in a temporary directory.
pub async fn temp_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join(DB_FILE), &CacheKey::generate())
        .await
        .unwrap();
    (dir, store)
}

/// A unique number for names.
pub fn stamp() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

/// Test message `n` of run `tag`, with an ISO-8859-1 body.
pub fn mail(n: u32, tag: &str) -> Vec<u8> {
    format!(
        "From: =?ISO-8859-1?Q?Dr_B=E9atrice_Roux?= <b.roux@pli-sandbox.mssante.fr>\r\n\
         To: urgences@pli-sandbox.mssante.fr\r\nSubject: Synchro {tag} message {n}\r\n\
         Message-ID: <sync-{tag}-{n}@pli.test>\r\nDate: Mon, 2 Nov 2026 10:0{n}:00 +0100\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\
         Content-Transfer-Encoding: 8bit\r\n\r\n"
    )
    .into_bytes()
    .into_iter()
    .chain(b"D\xe9tail n\xb0 ".iter().copied())
    .chain(format!("{n} pour {tag}\r\n").into_bytes())
    .collect()
}

/// A small deterministic generator (xorshift) for fault tests, seeded per run and printed for
/// replay.
#[derive(Debug)]
pub struct Rng(pub u64);
impl Rng {
    /// The next value.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Fault-test message `n` of run `tag` (≈ 1 KB of UTF-8 text).
pub fn big_mail(n: u32, tag: &str) -> Vec<u8> {
    format!(
        "From: Labo <labo@pli-sandbox.mssante.fr>\r\nTo: hugo.moreau@pli-sandbox.mssante.fr\r\n\
         Subject: Lot {tag} n{n}\r\nMessage-ID: <fault-{tag}-{n}@pli.test>\r\n\
         Date: Mon, 2 Nov 2026 10:00:00 +0100\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         {}\r\n",
        "Résultat de biologie, valeurs normales. ".repeat(20)
    )
    .into_bytes()
}

impl Client {
    /// The watch loop's settings for this client's mailbox into `store` (`kind` PER, ORG…),
    /// every sync result handed to `on_sync`.
    pub fn watch(
        &self,
        store: &Store,
        kind: &str,
        on_sync: impl Fn(&str, &Result<SyncReport, SyncError>) + Send + Sync + 'static,
    ) -> pli_core::imap::runner::Watch {
        pli_core::imap::runner::Watch {
            endpoint: pli_core::imap::runner::Endpoint {
                server: self.cfg.operator.imap.clone(),
                tls: tls(&self.cfg),
                credentials: std::sync::Arc::new(self.creds.clone()),
            },
            store: store.clone(),
            address: self.mailbox.clone(),
            kind: kind.to_owned(),
            options: SyncOptions::default(),
            progress: std::sync::Arc::new(|_| {}),
            on_sync: std::sync::Arc::new(on_sync),
        }
    }
}

/// Removes from `folder` every message whose Message-ID contains `tag` (test clean-up).
pub async fn delete_tagged(m: &mut Master, folder: &str, tag: &str) {
    let uids: Vec<String> = server_map(m, folder)
        .await
        .into_iter()
        .filter(|(_, id)| id.as_deref().is_some_and(|i| i.contains(tag)))
        .map(|(u, _)| u.to_string())
        .collect();
    if uids.is_empty() {
        return;
    }
    let set = uids.join(",");
    m.select(folder).await.unwrap();
    let _: Vec<_> = m
        .uid_store(&set, "+FLAGS (\\Deleted)")
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let _: Vec<_> = m
        .uid_expunge(&set)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
}

/// How many messages the fault tests sync: `PLI_FAULT_MESSAGES`, default 1,600 (the issue's
/// 10,000 is a run of its own: `PLI_FAULT_MESSAGES=10000`, a few minutes per test).
pub fn fault_messages() -> u32 {
    std::env::var("PLI_FAULT_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n >= 50)
        .unwrap_or(1600)
}

/// Fills `folder` with exactly `n` messages: 50 distinct ones (APPEND), then server-side COPY
/// doublings, then a last partial COPY.
pub async fn fill_by_copy(m: &mut Master, folder: &str, tag: &str, n: u32) {
    for i in 1..=50 {
        m.append(folder, None, None, big_mail(i, tag))
            .await
            .unwrap();
    }
    let mut count = 50;
    while count < n {
        m.select(folder).await.unwrap();
        let add = count.min(n - count);
        m.copy(format!("1:{add}"), folder).await.unwrap();
        count += add;
    }
    m.close().await.ok();
}

/// Credentials that log `role` in again at the sandbox PSC once the token is 90 s old (PSC
/// access tokens live 120 s): for tests that last longer than one token.
#[derive(Debug)]
pub struct FreshToken {
    cfg: Config,
    national_id: String,
    current: tokio::sync::Mutex<(std::time::Instant, AccessToken)>,
}

impl FreshToken {
    /// Logs `role` in now.
    pub async fn new(cfg: &Config, role: &str) -> Self {
        let national_id = person(cfg, role).national_id;
        let t = psc::code_pkce(cfg, &national_id).await.unwrap();
        Self {
            cfg: cfg.clone(),
            national_id,
            current: tokio::sync::Mutex::new((
                std::time::Instant::now(),
                AccessToken::new(t.access_token),
            )),
        }
    }
}

impl pli_core::auth::Credentials for FreshToken {
    fn xoauth2<'a>(
        &'a self,
        mailbox: &'a str,
    ) -> std::pin::Pin<
        Box<
            dyn std::future::Future<
                    Output = Result<pli_core::auth::Xoauth2, pli_core::auth::CredentialsError>,
                > + Send
                + 'a,
        >,
    > {
        Box::pin(async move {
            let mut current = self.current.lock().await;
            if current.0.elapsed() > std::time::Duration::from_secs(90) {
                let t = psc::code_pkce(&self.cfg, &self.national_id)
                    .await
                    .map_err(|e| pli_core::auth::CredentialsError::Provider(e.to_string()))?;
                *current = (std::time::Instant::now(), AccessToken::new(t.access_token));
            }
            Ok(pli_core::auth::Xoauth2::new(mailbox, &current.1))
        })
    }
}
