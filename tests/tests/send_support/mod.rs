//! Helpers shared by the sending e2e tests (`send.rs`, `send_outbox.rs`): sandbox senders with a
//! fresh encrypted cache, IMAP readers (master user or patient PLAIN), and a TCP relay that cuts
//! the client's stream after N bytes.
#![allow(dead_code)]

use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

use futures::TryStreamExt;
use pli_core::auth::{AccessToken, StaticToken};
use pli_core::config::Config;
use pli_core::mssante::{self, Draft};
use pli_core::smtp::outbox::{Backoff, Drain};
use pli_core::store::{CacheKey, NewOutgoing, Store, DB_FILE};
use pli_e2e::{person, psc, sandbox_config, tls};
use sha1::{Digest, Sha1};
use tokio::net::TcpStream;

pub type Session = async_imap::Session<tokio_rustls::client::TlsStream<TcpStream>>;

pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(pli_e2e::repo_root().join("tests/fixtures/cda").join(name)).unwrap()
}

pub fn stamp() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

pub async fn imap_login(cfg: &Config, user: &str, password: &str) -> Session {
    let tcp = TcpStream::connect(("127.0.0.1", 10993)).await.unwrap();
    let name = pli_core::tls::server_name(&cfg.operator.imap.host).unwrap();
    let stream = tokio_rustls::TlsConnector::from(tls(cfg))
        .connect(name, tcp)
        .await
        .unwrap();
    let mut client = async_imap::Client::new(stream);
    client.read_response().await.unwrap();
    client
        .login(user, password)
        .await
        .map_err(|(e, _)| e)
        .unwrap()
}

pub async fn master(cfg: &Config, mailbox: &str) -> Session {
    let sb = cfg.sandbox.as_ref().unwrap();
    let login = format!("{mailbox}*{}", sb.master_user.as_deref().unwrap());
    imap_login(cfg, &login, sb.master_password.as_deref().unwrap()).await
}

/// Every message of `folder` whose Message-ID is `mid`, as raw bytes.
pub async fn find(s: &mut Session, folder: &str, mid: &str) -> Vec<Vec<u8>> {
    s.select(folder).await.unwrap();
    let uids = s
        .uid_search(format!("HEADER Message-ID \"{mid}\""))
        .await
        .unwrap();
    let mut out = Vec::new();
    for uid in uids {
        let fetched: Vec<_> = s
            .uid_fetch(uid.to_string(), "BODY.PEEK[]")
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        for f in fetched {
            out.push(f.body().unwrap().to_vec());
        }
    }
    out
}

/// Waits (up to 30 s) until `mid` is in `folder`; returns all copies.
pub async fn wait_for(s: &mut Session, folder: &str, mid: &str) -> Vec<Vec<u8>> {
    for _ in 0..60 {
        let found = find(s, folder, mid).await;
        if !found.is_empty() {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("{mid} never reached {folder}");
}

pub struct Sender {
    pub cfg: Config,
    pub from: String,
    pub token: String,
    pub store: Store,
    _dir: tempfile::TempDir,
}

pub async fn sender(role: &str) -> Sender {
    let cfg = sandbox_config();
    let p = person(&cfg, role);
    let from = p.personal_mailbox.clone().unwrap();
    let token = psc::code_pkce(&cfg, &p.national_id)
        .await
        .unwrap()
        .access_token;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join(DB_FILE), &CacheKey::generate())
        .await
        .unwrap();
    Sender {
        cfg,
        from,
        token,
        store,
        _dir: dir,
    }
}

impl Sender {
    pub fn drain(&self, operator: pli_core::config::OperatorConfig) -> Drain {
        Drain {
            operator,
            imap_tls: tls(&self.cfg),
            credentials: Arc::new(StaticToken(AccessToken::new(self.token.clone()))),
            store: self.store.clone(),
            backoff: Backoff::default(),
            timeout: Duration::from_secs(30),
        }
    }

    pub fn draft(&self, to: &str, subject: &str) -> Draft {
        Draft {
            from: self.from.clone(),
            from_name: "Dr Anne LEFÈVRE - Cardiologie - Hôpital Pli".into(),
            to: vec![to.to_owned()],
            subject: subject.to_owned(),
            body:
                "Bonjour,\nVeuillez trouver ci-joint le compte rendu.\nCordialement — A. Lefèvre\n"
                    .into(),
            ..Default::default()
        }
    }

    pub async fn enqueue(&self, c: &mssante::Composed, dsn: bool, ended: &[String]) {
        self.store
            .outbox_enqueue(&NewOutgoing {
                account: &self.from,
                account_kind: "PER",
                message_id: &c.message_id,
                recipients: &c.recipients,
                dsn,
                raw: &c.raw,
                ends_exchange_with: ended,
            })
            .await
            .unwrap();
    }
}

pub fn header<'a>(m: &'a mail_parser::Message<'a>, name: &str) -> Option<String> {
    m.header_raw(name).map(|v| v.trim().to_owned())
}

pub fn sha1_hex(b: &[u8]) -> String {
    Sha1::digest(b).iter().map(|x| format!("{x:02x}")).collect()
}

/// A relay that cuts after `limit` bytes from the client (mid-DATA).
pub async fn cutting_relay(upstream: (&'static str, u16), limit: Arc<AtomicU64>) -> u16 {
    pli_e2e::relay::cutting_relay(upstream, limit, pli_e2e::relay::Cut::AfterClientBytes).await
}
