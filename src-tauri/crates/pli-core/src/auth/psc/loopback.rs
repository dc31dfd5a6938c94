//! The loopback redirect of the browser login (RFC 8252 §7.3): a one-shot HTTP listener on
//! `127.0.0.1:<random port>/callback`. It accepts exactly one valid callback (right path,
//! right `state`, right `iss` when present), answers a French page telling the user to go back
//! to Pli, ignores anything else (favicon, stray requests, a wrong `state`), and gives up
//! after a timeout or on cancellation.

use std::collections::HashMap;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

use crate::auth::AuthError;

/// What came back from the browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Callback {
    /// The authorization code.
    Code(String),
    /// The provider's error (`access_denied` when the user refused).
    Error {
        /// OAuth error code.
        code: String,
        /// Description, if any.
        description: Option<String>,
    },
}

/// A bound loopback listener.
#[derive(Debug)]
pub struct Loopback {
    listener: TcpListener,
    port: u16,
}

const MAX_REQUEST: usize = 16 * 1024;
const PER_CONNECTION: Duration = Duration::from_secs(10);

fn page(title: &str, message: &str) -> String {
    format!(
        "<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\"><title>{title} — Pli</title>\
<style>body{{font-family:sans-serif;max-width:32em;margin:4em auto;color:#123}}</style></head>\
<body><h1>{title}</h1><p>{message}</p></body></html>"
    )
}

/// Page shown after a successful login.
pub const SUCCESS_TITLE: &str = "Connexion réussie";
const SUCCESS_TEXT: &str =
    "Vous êtes connecté à Pro Santé Connect. Vous pouvez fermer cet onglet et revenir à Pli.";

impl Loopback {
    /// Binds `127.0.0.1` on a port chosen by the system.
    pub async fn bind() -> Result<Self, AuthError> {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|e| AuthError::Loopback(e.to_string()))?;
        let port = listener
            .local_addr()
            .map_err(|e| AuthError::Loopback(e.to_string()))?
            .port();
        Ok(Self { listener, port })
    }

    /// The redirect URI to register in the authorization request.
    pub fn redirect_uri(&self) -> String {
        format!("http://127.0.0.1:{}/callback", self.port)
    }

    /// Waits for the one valid callback carrying `state` (and `iss` = `issuer` when the
    /// provider sends it, RFC 9207). The listener is closed when this returns.
    pub async fn wait(
        self,
        state: &str,
        issuer: &str,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<Callback, AuthError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let accepted = tokio::select! {
                _ = cancel.cancelled() => return Err(AuthError::Cancelled),
                _ = tokio::time::sleep_until(deadline) => return Err(AuthError::Timeout),
                a = self.listener.accept() => a,
            };
            let Ok((stream, _)) = accepted else {
                // e.g. out of file descriptors: do not spin.
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            };
            match tokio::time::timeout(PER_CONNECTION, handle(stream, state, issuer)).await {
                Ok(Some(cb)) => return Ok(cb),
                Ok(None) | Err(_) => continue,
            }
        }
    }
}

/// Serves one connection; `Some` when it carried the valid callback.
async fn handle(mut stream: TcpStream, state: &str, issuer: &str) -> Option<Callback> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 || buf.len() + n > MAX_REQUEST {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let head = String::from_utf8_lossy(&buf);
    let line = head.lines().next().unwrap_or_default();
    let mut parts = line.split(' ');
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if method != "GET" || path != "/callback" {
        respond(
            &mut stream,
            "404 Not Found",
            &page("Introuvable", "Adresse inconnue."),
        )
        .await;
        return None;
    }
    let q: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    if q.get("state").map(String::as_str) != Some(state) {
        respond(
            &mut stream,
            "400 Bad Request",
            &page(
                "Réponse inattendue",
                "Cette réponse ne correspond pas à la connexion en cours dans Pli. Revenez à Pli \
                 et recommencez la connexion si besoin.",
            ),
        )
        .await;
        return None;
    }
    if let Some(iss) = q.get("iss") {
        if iss.trim_end_matches('/') != issuer.trim_end_matches('/') {
            respond(
                &mut stream,
                "400 Bad Request",
                &page(
                    "Réponse refusée",
                    "La réponse ne vient pas du fournisseur d'identité attendu. Revenez à Pli.",
                ),
            )
            .await;
            return None;
        }
    }
    if let Some(code) = q.get("code") {
        respond(&mut stream, "200 OK", &page(SUCCESS_TITLE, SUCCESS_TEXT)).await;
        return Some(Callback::Code(code.clone()));
    }
    let code = q
        .get("error")
        .cloned()
        .unwrap_or_else(|| "invalid_request".into());
    respond(
        &mut stream,
        "200 OK",
        &page(
            "Connexion non aboutie",
            "La connexion à Pro Santé Connect n'a pas abouti. Revenez à Pli pour réessayer.",
        ),
    )
    .await;
    Some(Callback::Error {
        code,
        description: q.get("error_description").cloned(),
    })
}

async fn respond(stream: &mut TcpStream, status: &str, body: &str) {
    let resp = format!(
        "HTTP/1.1 {status}\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\n\
         cache-control: no-store\r\nreferrer-policy: no-referrer\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(resp.as_bytes()).await;
    let _ = stream.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn get(port: u16, target: &str) -> String {
        let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        s.write_all(format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        out
    }

    #[tokio::test]
    async fn only_the_valid_callback_is_accepted_then_the_port_closes() {
        let lb = Loopback::bind().await.unwrap();
        let port = lb.port;
        assert_eq!(
            lb.redirect_uri(),
            format!("http://127.0.0.1:{port}/callback")
        );
        let cancel = CancellationToken::new();
        let waiter = tokio::spawn(async move {
            lb.wait(
                "st-1",
                "https://psc.test/realm",
                Duration::from_secs(10),
                &cancel,
            )
            .await
        });
        assert!(get(port, "/favicon.ico").await.starts_with("HTTP/1.1 404"));
        let wrong = get(port, "/callback?code=evil&state=other").await;
        assert!(wrong.starts_with("HTTP/1.1 400"), "{wrong}");
        let mixup = get(
            port,
            "/callback?code=evil&state=st-1&iss=https%3A%2F%2Fevil.test",
        )
        .await;
        assert!(mixup.starts_with("HTTP/1.1 400"), "{mixup}");
        let ok = get(
            port,
            "/callback?code=the-code&state=st-1&iss=https%3A%2F%2Fpsc.test%2Frealm",
        )
        .await;
        assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
        assert!(ok.contains("revenir à Pli"), "{ok}");
        let cb = waiter.await.unwrap().unwrap();
        assert_eq!(cb, Callback::Code("the-code".into()));
        // Exactly one: nothing listens any more.
        assert!(TcpStream::connect(("127.0.0.1", port)).await.is_err());
    }

    #[tokio::test]
    async fn provider_error_is_reported() {
        let lb = Loopback::bind().await.unwrap();
        let port = lb.port;
        let cancel = CancellationToken::new();
        let waiter =
            tokio::spawn(async move { lb.wait("s", "i", Duration::from_secs(10), &cancel).await });
        let page = get(port, "/callback?error=access_denied&state=s").await;
        assert!(page.contains("Revenez à Pli"), "{page}");
        assert_eq!(
            waiter.await.unwrap().unwrap(),
            Callback::Error {
                code: "access_denied".into(),
                description: None
            }
        );
    }

    #[tokio::test]
    async fn times_out_and_can_be_cancelled() {
        let lb = Loopback::bind().await.unwrap();
        let cancel = CancellationToken::new();
        let r = lb.wait("s", "i", Duration::from_millis(50), &cancel).await;
        assert!(matches!(r, Err(AuthError::Timeout)), "{r:?}");

        let lb = Loopback::bind().await.unwrap();
        let cancel = CancellationToken::new();
        cancel.cancel();
        let r = lb.wait("s", "i", Duration::from_secs(60), &cancel).await;
        assert!(matches!(r, Err(AuthError::Cancelled)), "{r:?}");
    }
}
