//! The IMAP session's stream, counting round trips: every flush after written bytes is one
//! message from us that the server answers before the (non-pipelining) client goes on, so the
//! count is the number of round trips the sync paid (`SyncReport::folder_round_trips`,
//! `tests/bench/sync`). Measured on the wire, not declared by each command site, so a command
//! added later is counted too.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A stream that counts the client's messages (see the module documentation).
#[derive(Debug)]
pub struct Counted<S> {
    inner: S,
    pending: bool,
    sent: u64,
}

impl<S> Counted<S> {
    /// Wraps `inner`, count zero.
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            pending: false,
            sent: 0,
        }
    }

    /// Messages sent (flushed) so far.
    pub fn round_trips(&self) -> u64 {
        self.sent
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Counted<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Counted<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.pending = true;
        }
        r
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.pending = true;
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let r = Pin::new(&mut self.inner).poll_flush(cx);
        if matches!(r, Poll::Ready(Ok(()))) && self.pending {
            self.pending = false;
            self.sent += 1;
        }
        r
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn one_message_per_flush_after_writes() {
        let (a, mut b) = tokio::io::duplex(1024);
        let mut c = Counted::new(a);
        c.write_all(b"A1 SELECT ").await.unwrap();
        c.write_all(b"INBOX\r\n").await.unwrap();
        assert_eq!(c.round_trips(), 0, "not sent before the flush");
        c.flush().await.unwrap();
        c.flush().await.unwrap();
        assert_eq!(c.round_trips(), 1, "an empty flush is no message");
        c.write_all(b"A2 NOOP\r\n").await.unwrap();
        c.flush().await.unwrap();
        assert_eq!(c.round_trips(), 2);
        let mut got = vec![0; 24];
        b.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"A1 SELECT INBOX\r\nA2 NOOP");
    }
}
