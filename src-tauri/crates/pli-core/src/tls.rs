//! TLS client configuration: only the configured trust anchors, TLS 1.2 minimum.
//!
//! MSSanté servers chain to IGC Santé, not to a public web CA (Ref#2 ECO.1.1.10), so Pli never
//! uses the system or webpki roots for the operator: the trust anchors are a PEM bundle from
//! the configuration (IGC Santé in production, the sandbox CA in tests). The certificate and
//! host name are verified during the handshake, before any credential is sent.

use std::io::BufReader;
use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::ServerName;
pub use rustls::ClientConfig;
use rustls::RootCertStore;

/// TLS setup errors.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The trust-anchor file could not be read.
    #[error("impossible de lire les autorités de confiance {path}: {source}")]
    Read {
        /// The PEM file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file holds no usable CA certificate.
    #[error("aucun certificat d'autorité utilisable dans {0}")]
    NoAnchors(String),
    /// The host name is not a valid TLS server name.
    #[error("nom de serveur invalide pour TLS : {0}")]
    BadServerName(String),
    /// rustls refused the configuration.
    #[error("configuration TLS : {0}")]
    Config(#[from] rustls::Error),
}

/// Loads a PEM bundle into a root store, refusing an empty one.
pub fn load_anchors(path: &Path) -> Result<RootCertStore, TlsError> {
    let file = std::fs::File::open(path).map_err(|source| TlsError::Read {
        path: path.display().to_string(),
        source,
    })?;
    let mut roots = RootCertStore::empty();
    for cert in rustls_pemfile::certs(&mut BufReader::new(file)) {
        let cert = cert.map_err(|source| TlsError::Read {
            path: path.display().to_string(),
            source,
        })?;
        // A bad certificate in the bundle is skipped; an empty store is refused below.
        let _ = roots.add(cert);
    }
    if roots.is_empty() {
        return Err(TlsError::NoAnchors(path.display().to_string()));
    }
    Ok(roots)
}

/// A rustls client configuration trusting only `anchors`, TLS 1.2 and 1.3.
pub fn client_config(anchors: &Path) -> Result<Arc<ClientConfig>, TlsError> {
    let roots = load_anchors(anchors)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The server name checked against the certificate.
pub fn server_name(host: &str) -> Result<ServerName<'static>, TlsError> {
    ServerName::try_from(host.to_owned()).map_err(|_| TlsError::BadServerName(host.to_owned()))
}
