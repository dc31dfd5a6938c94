//! IMAP: a TLS session authenticated with XOAUTH2 (Ref#2 ECO.1.0.2, ECO.1.2.1).
//!
//! The connection sequence is fixed: TCP, then STARTTLS (or implicit TLS), certificate and
//! host name verified by rustls against the configured anchors, then `AUTHENTICATE XOAUTH2`.
//! No authentication is ever attempted before TLS, and no other mechanism is tried.

pub mod counted;
pub mod drafts;
pub mod fetch;
pub mod journal;
pub mod parse;
pub mod runner;
pub mod sync;

use std::sync::Arc;

use async_imap::Client;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use crate::auth::{Credentials, CredentialsError, Xoauth2};
use crate::config::{Security, ServerConfig};
use crate::tls::{self, TlsError};

/// An authenticated IMAP session over TLS (its stream counts round trips: `counted`).
pub type ImapSession = async_imap::Session<counted::Counted<TlsStream<TcpStream>>>;

/// Errors while opening an IMAP session.
#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    /// TCP connection failed.
    #[error("connexion IMAP à {addr} impossible : {source}")]
    Connect {
        /// host:port tried.
        addr: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// TLS setup or handshake failed (certificate, host name, protocol).
    #[error("TLS IMAP : {0}")]
    Tls(String),
    /// The server does not offer STARTTLS on a STARTTLS port.
    #[error("le serveur IMAP ne propose pas STARTTLS")]
    NoStarttls,
    /// The server does not offer XOAUTH2 after TLS.
    #[error("le serveur IMAP ne propose pas AUTH=XOAUTH2")]
    NoXoauth2,
    /// The server refused the credentials.
    #[error("authentification IMAP refusée pour {mailbox} : {detail}")]
    AuthFailed {
        /// The mailbox.
        mailbox: String,
        /// The server's answer.
        detail: String,
    },
    /// No credentials could be obtained.
    #[error(transparent)]
    Credentials(#[from] CredentialsError),
    /// Any other protocol error.
    #[error("IMAP : {0}")]
    Protocol(#[from] async_imap::error::Error),
}

impl From<TlsError> for ImapError {
    fn from(e: TlsError) -> Self {
        ImapError::Tls(e.to_string())
    }
}

struct XoauthAuthenticator(Xoauth2);

impl async_imap::Authenticator for &XoauthAuthenticator {
    type Response = String;
    fn process(&mut self, _challenge: &[u8]) -> String {
        // On failure Dovecot sends a JSON error challenge; any answer ends the exchange.
        self.0.raw()
    }
}

/// Opens a TLS connection to `server` and authenticates `mailbox` with XOAUTH2.
pub async fn connect(
    server: &ServerConfig,
    tls_config: Arc<rustls::ClientConfig>,
    credentials: &dyn Credentials,
    mailbox: &str,
) -> Result<ImapSession, ImapError> {
    let tls_stream = open_tls(server, tls_config).await?;
    let mut pre = PreAuth::new(tls_stream);
    if server.security == Security::Tls {
        pre.greeting().await?;
    }
    let caps = pre.capabilities().await?;
    if !caps.iter().any(|c| c.eq_ignore_ascii_case("AUTH=XOAUTH2")) {
        return Err(ImapError::NoXoauth2);
    }
    let client = Client::new(counted::Counted::new(pre.into_inner()?));
    let auth = XoauthAuthenticator(credentials.xoauth2(mailbox).await?);
    client
        .authenticate("XOAUTH2", &auth)
        .await
        .map_err(|(e, _)| ImapError::AuthFailed {
            mailbox: mailbox.to_owned(),
            detail: e.to_string(),
        })
}

/// TCP + TLS, with STARTTLS when configured.
async fn open_tls(
    server: &ServerConfig,
    tls_config: Arc<rustls::ClientConfig>,
) -> Result<TlsStream<TcpStream>, ImapError> {
    let addr = format!(
        "{}:{}",
        server.connect_addr.as_deref().unwrap_or(&server.host),
        server.port
    );
    let tcp = TcpStream::connect(&addr)
        .await
        .map_err(|source| ImapError::Connect {
            addr: addr.clone(),
            source,
        })?;
    tcp.set_nodelay(true).ok();
    let name = tls::server_name(&server.host)?;
    let tcp = match server.security {
        Security::Tls => tcp,
        Security::Starttls => {
            let mut pre = PreAuth::new(tcp);
            pre.greeting().await?;
            let caps = pre.capabilities().await?;
            if !caps.iter().any(|c| c.eq_ignore_ascii_case("STARTTLS")) {
                return Err(ImapError::NoStarttls);
            }
            pre.command("STARTTLS").await?;
            pre.into_inner()?
        }
    };
    TlsConnector::from(tls_config)
        .connect(name, tcp)
        .await
        .map_err(|e| ImapError::Tls(e.to_string()))
}

/// The few line-based exchanges before authentication (greeting, CAPABILITY, STARTTLS).
///
/// Done by hand because `async_imap::Client` exposes no pre-authentication CAPABILITY. It
/// also lets us refuse a server that sends data after `STARTTLS` OK before the handshake:
/// such bytes would otherwise be read as if they came over TLS (response injection).
struct PreAuth<S> {
    reader: BufReader<S>,
    next_tag: u32,
}

impl<S: AsyncRead + AsyncWrite + Unpin> PreAuth<S> {
    fn new(stream: S) -> Self {
        Self {
            reader: BufReader::new(stream),
            next_tag: 0,
        }
    }

    async fn line(&mut self) -> Result<String, ImapError> {
        let mut line = String::new();
        let n = (&mut self.reader)
            .take(8192)
            .read_line(&mut line)
            .await
            .map_err(|e| ImapError::Protocol(e.into()))?;
        if n == 0 {
            return Err(ImapError::Protocol(
                async_imap::error::Error::ConnectionLost,
            ));
        }
        Ok(line.trim_end().to_owned())
    }

    async fn greeting(&mut self) -> Result<(), ImapError> {
        let line = self.line().await?;
        if line.starts_with("* OK") || line.starts_with("* PREAUTH") {
            Ok(())
        } else {
            Err(ImapError::Tls(format!(
                "message d'accueil inattendu : {line}"
            )))
        }
    }

    /// Sends `cmd`, returns the untagged lines; errors unless the tagged answer is OK.
    async fn command(&mut self, cmd: &str) -> Result<Vec<String>, ImapError> {
        self.next_tag += 1;
        let tag = format!("p{}", self.next_tag);
        let stream = self.reader.get_mut();
        stream
            .write_all(format!("{tag} {cmd}\r\n").as_bytes())
            .await
            .map_err(|e| ImapError::Protocol(e.into()))?;
        stream
            .flush()
            .await
            .map_err(|e| ImapError::Protocol(e.into()))?;
        let mut untagged = Vec::new();
        loop {
            let line = self.line().await?;
            if let Some(rest) = line.strip_prefix(&format!("{tag} ")) {
                return if rest.starts_with("OK") {
                    Ok(untagged)
                } else {
                    Err(ImapError::Protocol(async_imap::error::Error::No(
                        rest.to_owned(),
                    )))
                };
            }
            untagged.push(line);
        }
    }

    async fn capabilities(&mut self) -> Result<Vec<String>, ImapError> {
        let lines = self.command("CAPABILITY").await?;
        Ok(lines
            .iter()
            .filter_map(|l| l.strip_prefix("* CAPABILITY "))
            .flat_map(|l| l.split_ascii_whitespace().map(str::to_owned))
            .collect())
    }

    fn into_inner(self) -> Result<S, ImapError> {
        if !self.reader.buffer().is_empty() {
            return Err(ImapError::Tls(
                "le serveur a envoyé des données non sollicitées avant TLS".into(),
            ));
        }
        Ok(self.reader.into_inner())
    }
}
