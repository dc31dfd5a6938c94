//! IMAP → encrypted cache sync against the sandbox's real Dovecot (issue 5).
//!
//! The oracle is always the server itself, read through the Dovecot master user: after a sync
//! the cached (UID, Message-ID) pairs of a folder equal the server's exactly. Mutations happen
//! in a folder created per test in the urgences@ service mailbox (Hugo's token), never in the
//! seeded folders other tests read.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use futures::TryStreamExt;
use pli_core::auth::{AccessToken, StaticToken};
use pli_core::config::Config;
use pli_core::imap::sync::{AccountSync, SyncOptions, SyncReport};
use pli_core::imap::{self, ImapSession};
use pli_core::store::{CacheKey, SearchFilter, Store, DB_FILE};
use pli_e2e::{person, psc, sandbox_config, tls};

type Master = async_imap::Session<tokio_rustls::client::TlsStream<tokio::net::TcpStream>>;

async fn master_session(cfg: &Config, mailbox: &str) -> Master {
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
async fn server_map(m: &mut Master, folder: &str) -> BTreeMap<u32, Option<String>> {
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

async fn local_map(store: &Store, account: &str, folder: &str) -> BTreeMap<u32, Option<String>> {
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

struct Client {
    cfg: Config,
    creds: StaticToken,
    mailbox: String,
}

impl Client {
    async fn new(mut cfg: Config, role: &str, which: usize, addr: Option<&str>) -> Self {
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

    async fn session(&self) -> ImapSession {
        imap::connect(
            &self.cfg.operator.imap,
            tls(&self.cfg),
            &self.creds,
            &self.mailbox,
        )
        .await
        .unwrap()
    }

    async fn sync(&self, store: &Store) -> SyncReport {
        let mut s = self.session().await;
        let sync = AccountSync::new(store, &self.mailbox, "ORG", SyncOptions::default())
            .await
            .unwrap();
        let r = sync.run(&mut s, &|_| {}).await.unwrap();
        s.logout().await.ok();
        r
    }
}

async fn temp_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join(DB_FILE), &CacheKey::generate())
        .await
        .unwrap();
    (dir, store)
}

fn stamp() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

fn mail(n: u32, tag: &str) -> Vec<u8> {
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

/// Initial sync of a seeded mailbox (several folders, multipart, XDM attachments, ISO-8859-1
/// and windows-1252, malformed messages): every folder's UID/Message-ID set equals the server's.
#[tokio::test]
async fn initial_sync_equals_the_server_in_every_folder() {
    let cfg = sandbox_config();
    let anne = Client::new(cfg.clone(), "practitioner", 0, None).await;
    assert_eq!(
        Some(&anne.mailbox),
        person(&cfg, "practitioner").personal_mailbox.as_ref()
    );
    let (_dir, store) = temp_store().await;
    let report = anne.sync(&store).await;
    assert!(report.condstore);
    assert!(report.folders >= 5, "{report:?}");
    assert!(report.new > 20, "{report:?}");
    assert_eq!(report.bodies, report.new, "{report:?}");

    let mut m = master_session(&cfg, &anne.mailbox).await;
    let acc = store.account_id(&anne.mailbox).await.unwrap();
    let folders = store.folders(acc).await.unwrap();
    for f in ["INBOX", "Sent", "Drafts", "Archives", "Trash"] {
        assert!(
            folders.iter().any(|(_, n)| n == f),
            "{f} missing: {folders:?}"
        );
    }
    for (_, folder) in &folders {
        let server = server_map(&mut m, folder).await;
        assert_eq!(
            local_map(&store, &anne.mailbox, folder).await,
            server,
            "{folder}"
        );
    }
    m.logout().await.ok();

    // ISO-8859-1 subject and body decoded, found without accents.
    let hits = store
        .search(&SearchFilter {
            query: "electrocardiogramme fontaine".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(
        hits[0].subject.as_deref(),
        Some("Résultats de l'électrocardiogramme")
    );
    // XDM/PDF attachments flagged as documents; attachment names searchable.
    let docs = store
        .search(&SearchFilter {
            has_documents: true,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(!docs.is_empty());
    let xdm = store
        .search(&SearchFilter {
            query: "IHE_XDM.zip".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(!xdm.is_empty());

    // A second run finds nothing new (CONDSTORE: one SELECT per folder).
    let again = anne.sync(&store).await;
    assert_eq!(
        (again.new, again.expunged, again.bodies),
        (0, 0, 0),
        "{again:?}"
    );
}

async fn incremental(addr: &str, expect_condstore: bool) {
    let cfg = sandbox_config();
    let hugo = Client::new(cfg.clone(), "emergency", 1, Some(addr)).await;
    assert!(hugo.mailbox.starts_with("urgences@"), "{}", hugo.mailbox);
    let tag = format!("{}", stamp());
    let folder = format!("pli-sync-{tag}");
    let mut m = master_session(&cfg, &hugo.mailbox).await;
    m.create(&folder).await.unwrap();
    for n in 1..=3 {
        m.append(&folder, None, None, mail(n, &tag)).await.unwrap();
    }

    let (_dir, store) = temp_store().await;
    let r = hugo.sync(&store).await;
    assert_eq!(r.condstore, expect_condstore);
    let server = server_map(&mut m, &folder).await;
    assert_eq!(server.len(), 3);
    assert_eq!(local_map(&store, &hugo.mailbox, &folder).await, server);
    let hits = store
        .search(&SearchFilter {
            query: format!("detail {tag}"),
            folder: Some(folder.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(hits.len(), 3, "ISO-8859-1 body searchable without accents");

    // On the server: one new message, a flag on 1, 2 read, 3 expunged.
    m.append(&folder, Some("(\\Seen)"), None, mail(4, &tag))
        .await
        .unwrap();
    m.select(&folder).await.unwrap();
    let uids: Vec<u32> = server.keys().copied().collect();
    let _: Vec<_> = m
        .uid_store(uids[0].to_string(), "+FLAGS (\\Flagged)")
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let _: Vec<_> = m
        .uid_store(uids[1].to_string(), "+FLAGS (\\Seen)")
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let _: Vec<_> = m
        .uid_store(uids[2].to_string(), "+FLAGS (\\Deleted)")
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let _: Vec<_> = m.expunge().await.unwrap().try_collect().await.unwrap();

    let r = hugo.sync(&store).await;
    assert!(
        r.new >= 1 && r.expunged >= 1 && r.flag_changes >= 2,
        "{r:?}"
    );
    let server = server_map(&mut m, &folder).await;
    assert_eq!(server.len(), 3);
    assert_eq!(local_map(&store, &hugo.mailbox, &folder).await, server);
    let flagged: Vec<_> = store
        .search(&SearchFilter {
            folder: Some(folder.clone()),
            unread: true,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(flagged.len(), 1, "only message 1 is unread: {flagged:?}");
    assert_eq!(flagged[0].uid, uids[0]);
    let acc = store.account_id(&hugo.mailbox).await.unwrap();
    let fid = store
        .folders(acc)
        .await
        .unwrap()
        .into_iter()
        .find(|(_, n)| *n == folder)
        .unwrap()
        .0;
    let listed = store.list_messages(fid, 10).await.unwrap();
    let first = listed.iter().find(|x| x.uid == uids[0]).unwrap();
    assert_eq!(first.flags, "\\Flagged");

    // UIDVALIDITY change: the folder is deleted and recreated with other messages.
    m.close().await.ok();
    m.delete(&folder).await.unwrap();
    m.create(&folder).await.unwrap();
    for n in 5..=6 {
        m.append(&folder, None, None, mail(n, &tag)).await.unwrap();
    }
    let r = hugo.sync(&store).await;
    assert!(r.uidvalidity_resets.contains(&folder), "{r:?}");
    let server = server_map(&mut m, &folder).await;
    assert_eq!(local_map(&store, &hugo.mailbox, &folder).await, server);
    assert!(
        server
            .values()
            .all(|id| id.as_deref().unwrap().contains("-5@")
                || id.as_deref().unwrap().contains("-6@"))
    );

    m.delete(&folder).await.unwrap();
    m.logout().await.ok();
}

/// New mail, flags and expunges come back through CONDSTORE (127.0.0.1 advertises it).
#[tokio::test]
async fn incremental_sync_with_condstore() {
    incremental("127.0.0.1", true).await;
}

/// The same through the bounded full flag scan when CONDSTORE is not advertised (127.0.0.2).
#[tokio::test]
async fn incremental_sync_without_condstore() {
    incremental("127.0.0.2", false).await;
}
