//! SMTP submission with STARTTLS and XOAUTH2 (Ref#2 ECO.1.0.1, ECO.1.2.1), on lettre.

use lettre::transport::smtp::authentication::{Credentials as SmtpCredentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, Tokio1Executor};

use crate::auth::Xoauth2;
use crate::config::{OperatorConfig, Security};

pub mod outbox;

/// A submission transport bound to one mailbox's credentials.
pub type SmtpTransport = AsyncSmtpTransport<Tokio1Executor>;

/// Errors while preparing the transport.
#[derive(Debug, thiserror::Error)]
pub enum SmtpError {
    /// Trust anchors unreadable or unusable.
    #[error("autorités de confiance SMTP : {0}")]
    Anchors(String),
    /// lettre refused the TLS parameters.
    #[error("TLS SMTP : {0}")]
    Tls(#[from] lettre::transport::smtp::Error),
}

/// Builds a transport that upgrades with STARTTLS (or uses implicit TLS), trusts only the
/// configured anchors, checks the host name, and authenticates with XOAUTH2 only.
pub fn transport(operator: &OperatorConfig, creds: &Xoauth2) -> Result<SmtpTransport, SmtpError> {
    let server = &operator.smtp;
    let params = tls_parameters(operator)?;
    let tls = match server.security {
        Security::Starttls => Tls::Required(params),
        Security::Tls => Tls::Wrapper(params),
    };
    let host = server.connect_addr.as_deref().unwrap_or(&server.host);
    Ok(SmtpTransport::builder_dangerous(host)
        .port(server.port)
        .tls(tls)
        .credentials(SmtpCredentials::new(
            creds.user().to_owned(),
            creds.token().expose().to_owned(),
        ))
        .authentication(vec![Mechanism::Xoauth2])
        .build())
}

/// TLS parameters trusting only the configured anchors, with host-name checks (shared by the
/// transport and the outbox drain's connection).
pub fn tls_parameters(operator: &OperatorConfig) -> Result<TlsParameters, SmtpError> {
    let server = &operator.smtp;
    let pem = std::fs::read(&operator.trust_anchors)
        .map_err(|e| SmtpError::Anchors(format!("{}: {e}", operator.trust_anchors.display())))?;
    let mut params = TlsParameters::builder(server.host.clone())
        .dangerous_accept_invalid_certs(false)
        .dangerous_accept_invalid_hostnames(false);
    // lettre adds these to webpki roots; we only want ours, so strip the public ones below.
    let mut count = 0;
    for block in split_pem(&pem) {
        let cert = Certificate::from_pem(block.as_bytes())
            .map_err(|e| SmtpError::Anchors(e.to_string()))?;
        params = params.add_root_certificate(cert);
        count += 1;
    }
    if count == 0 {
        return Err(SmtpError::Anchors(format!(
            "aucun certificat dans {}",
            operator.trust_anchors.display()
        )));
    }
    Ok(params.build_rustls()?)
}

/// True when a send failed because the server refused the XOAUTH2 credentials.
///
/// On refusal an XOAUTH2 server first answers `334 <base64 JSON error>`; lettre's XOAUTH2
/// does not answer that challenge and reports a client error instead of the final `535`.
/// Both forms mean "credentials refused" (token invalid, expired, or not allowed on the
/// mailbox), which the outbox treats as "log in again", not as a delivery failure.
pub fn is_auth_refusal(err: &lettre::transport::smtp::Error) -> bool {
    let text = err.to_string();
    text.contains("does not expect a challenge")
        || err
            .status()
            .is_some_and(|c| c.to_string().starts_with("535"))
}

fn split_pem(pem: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(pem);
    let mut out = Vec::new();
    let mut cur = String::new();
    for line in text.lines() {
        if line.starts_with("-----BEGIN CERTIFICATE-----") {
            cur.clear();
        }
        cur.push_str(line);
        cur.push('\n');
        if line.starts_with("-----END CERTIFICATE-----") {
            out.push(std::mem::take(&mut cur));
        }
    }
    out
}
