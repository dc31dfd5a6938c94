//! A TCP relay that cuts connections after a byte budget: a real network fault between Pli and
//! a real server (mid-FETCH for sync, mid-DATA for submission).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Which direction's bytes count against the budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// Close once `limit` bytes came from the client (e.g. mid-DATA).
    AfterClientBytes,
    /// Close once `limit` bytes came from the server (e.g. mid-response).
    AfterServerBytes,
}

/// Starts a relay to `upstream` on a free loopback port and returns the port. Each new
/// connection reads the current `limit`; both directions die when the budget is spent.
pub async fn cutting_relay(upstream: (&'static str, u16), limit: Arc<AtomicU64>, cut: Cut) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((client, _)) = listener.accept().await else {
                return;
            };
            let budget = limit.load(Ordering::SeqCst);
            tokio::spawn(async move {
                let Ok(server) = TcpStream::connect(upstream).await else {
                    return;
                };
                let (cr, cw) = client.into_split();
                let (sr, sw) = server.into_split();
                match cut {
                    Cut::AfterClientBytes => relay(cr, sw, sr, cw, budget).await,
                    Cut::AfterServerBytes => relay(sr, cw, cr, sw, budget).await,
                }
            });
        }
    });
    port
}

/// Copies `free_r → free_w` freely and `metered_r → metered_w` up to `budget` bytes, then
/// drops both directions.
async fn relay<R1, W1, R2, W2>(
    mut metered_r: R1,
    mut metered_w: W1,
    mut free_r: R2,
    mut free_w: W2,
    budget: u64,
) where
    R1: AsyncRead + Unpin,
    W1: AsyncWrite + Unpin,
    R2: AsyncRead + Unpin + Send + 'static,
    W2: AsyncWrite + Unpin + Send + 'static,
{
    let other = tokio::spawn(async move {
        let _ = tokio::io::copy(&mut free_r, &mut free_w).await;
    });
    let mut sent = 0u64;
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match metered_r.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let allowed = (budget - sent).min(n as u64) as usize;
        if metered_w.write_all(&buf[..allowed]).await.is_err() || allowed < n {
            break;
        }
        sent += n as u64;
    }
    other.abort();
}
