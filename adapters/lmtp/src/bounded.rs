//! A stream that stops reading after a number of bytes, so that a server sending replies without
//! end cannot make the reply parser hold them.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// `inner`, whose reads fail once `remaining` bytes were read.
pub struct Bounded<S> {
    inner: S,
    remaining: u64,
}

impl<S> Bounded<S> {
    pub fn new(inner: S, limit: u64) -> Self {
        Self { inner, remaining: limit }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Bounded<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        if self.remaining == 0 {
            return Poll::Ready(Err(io::Error::new(io::ErrorKind::InvalidData, "the server sent too much")));
        }
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.inner).poll_read(cx, buf);
        let read = (buf.filled().len() - before) as u64;
        self.remaining = self.remaining.saturating_sub(read);
        poll
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Bounded<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    #[tokio::test]
    async fn reads_stop_at_the_limit() {
        let (mut server, client) = tokio::io::duplex(64);
        let mut bounded = Bounded::new(client, 10);
        let writer = tokio::spawn(async move {
            for _ in 0..4 {
                if server.write_all(b"0123456789").await.is_err() {
                    break;
                }
            }
        });
        let mut held = Vec::new();
        let error = bounded.read_to_end(&mut held).await.expect_err("cut off");
        assert_eq!(error.kind(), io::ErrorKind::InvalidData);
        assert!(held.len() <= 10 + 64, "at most one read past the limit: {}", held.len());
        writer.abort();
    }
}
