//! A client connection's byte stream as a stack of layers: TCP, then TLS (STLS, draft 4.9, or an
//! implicit-TLS listener) and gzip (SGZP, 4.8) in whichever order the client asked for them
//! (docs/interpretations.md, `TLS-GZIP-ORDER`: both orders work here). Each switch takes the stream
//! out of the line decoder, puts the new layer on top and decodes lines from the result.
//!
//! Pipelining past STLS or SGZP is not allowed: the client must read the 200 before it sends a
//! byte of the new layer (4.8, 4.9: "effective only after a 200 response line"). Bytes already
//! received behind the STLS or SGZP line were sent in the old layer; they are dropped and logged,
//! never read as commands, as IMAP servers do after STARTTLS (RFC 3207 section 4.2 and the
//! STARTTLS command-injection flaw, CVE-2011-0411).

mod gzip;

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio_rustls::TlsAcceptor;
use tokio_util::codec::FramedRead;

pub use gzip::GzipStream;

use crate::codec::{Line, LineDecoder, Reply, encode_data_line};

/// Any layer of the stack.
pub trait Transport: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug {}

impl<T: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug> Transport for T {}

/// The top of the stack.
pub type BoxedTransport = Box<dyn Transport>;

/// Which layers are on the stack.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Layers {
    /// TLS is active (STLS or an implicit-TLS listener).
    pub tls: bool,
    /// gzip is active (SGZP).
    pub gzip: bool,
}

/// Why a TLS handshake did not complete.
#[derive(Debug, thiserror::Error)]
pub enum HandshakeError {
    /// The client did not finish it in time (tokio-rustls has no timeout of its own).
    #[error("TLS handshake timed out")]
    TimedOut,
    /// The handshake failed.
    #[error("TLS handshake failed: {0}")]
    Failed(#[from] io::Error),
}

/// One client connection: lines in, replies out, layers switched between commands.
#[derive(Debug)]
pub struct Connection {
    lines: FramedRead<BoxedTransport, LineDecoder>,
    max_line_length: usize,
    layers: Layers,
    peer: SocketAddr,
}

impl Connection {
    /// A connection over `stream`, whose layers are `layers` already.
    pub fn new(stream: BoxedTransport, layers: Layers, max_line_length: usize, peer: SocketAddr) -> Self {
        Self { lines: FramedRead::new(stream, LineDecoder::new(max_line_length)), max_line_length, layers, peer }
    }

    /// The layers in use.
    pub fn layers(&self) -> Layers {
        self.layers
    }

    /// The next line; `None` at the end of the stream or on a read error.
    pub async fn next_line(&mut self) -> Option<Line> {
        match self.lines.next().await {
            Some(Ok(line)) => Some(line),
            Some(Err(error)) => {
                tracing::debug!(client = %self.peer.ip(), %error, "read failed");
                None
            }
            None => None,
        }
    }

    /// Writes one reply and flushes every layer: a sync flush of gzip, the TLS records, so the
    /// client never waits for bytes held in a compressor or a buffer.
    ///
    /// The data lines go out in chunks of about [`WRITE_CHUNK`] bytes as the body makes them:
    /// a client that reads slowly (or not at all) stops the body where its socket is full
    /// instead of making the gateway hold the rest, and the chunk buffer never grows with the
    /// size of a reply.
    pub async fn send(&mut self, reply: Reply) -> io::Result<()> {
        write_reply(self.lines.get_mut(), reply).await
    }

    /// Ends the connection (the gzip trailer and the TLS close_notify go out first).
    pub async fn shutdown(mut self) {
        let _ = self.lines.get_mut().shutdown().await;
    }

    /// Takes the stream out of the line decoder, dropping what the client pipelined behind the
    /// command that switches layers (see the module comment).
    fn into_stream(self, switch: &str) -> (BoxedTransport, usize, SocketAddr) {
        let pipelined = self.lines.read_buffer().len();
        if pipelined > 0 {
            tracing::warn!(client = %self.peer.ip(), bytes = pipelined, "dropped bytes sent behind {switch} before its reply");
        }
        (self.lines.into_inner(), self.max_line_length, self.peer)
    }

    /// Puts TLS on top of the stack: the server side of the handshake, bounded by `timeout`.
    pub async fn start_tls(self, acceptor: &TlsAcceptor, timeout: Duration) -> Result<Connection, HandshakeError> {
        let mut layers = self.layers;
        let (stream, max_line_length, peer) = self.into_stream("STLS");
        let tls = accept_tls(stream, acceptor, timeout).await?;
        layers.tls = true;
        Ok(Connection::new(tls, layers, max_line_length, peer))
    }

    /// Puts gzip on top of the stack.
    pub fn start_gzip(self) -> Connection {
        let mut layers = self.layers;
        let (stream, max_line_length, peer) = self.into_stream("SGZP");
        layers.gzip = true;
        Connection::new(Box::new(GzipStream::new(stream)), layers, max_line_length, peer)
    }
}

/// About how many bytes of a reply are gathered before they are written.
pub const WRITE_CHUNK: usize = 16 * 1024;

/// Writes `reply` to `stream` in chunks of about [`WRITE_CHUNK`] bytes, then flushes.
pub async fn write_reply<S: AsyncWrite + Unpin + ?Sized>(stream: &mut S, reply: Reply) -> io::Result<()> {
    let (body, code_line) = reply.into_parts();
    let mut chunk = Vec::with_capacity(WRITE_CHUNK + 1024);
    for line in body {
        encode_data_line(&line, &mut chunk);
        if chunk.len() >= WRITE_CHUNK {
            stream.write_all(&chunk).await?;
            chunk.clear();
        }
    }
    code_line.encode(&mut chunk);
    stream.write_all(&chunk).await?;
    stream.flush().await
}

/// The server side of a TLS handshake over `stream`, bounded by `timeout`.
pub async fn accept_tls(
    stream: BoxedTransport,
    acceptor: &TlsAcceptor,
    timeout: Duration,
) -> Result<BoxedTransport, HandshakeError> {
    match tokio::time::timeout(timeout, acceptor.accept(stream)).await {
        Err(_) => Err(HandshakeError::TimedOut),
        Ok(Err(error)) => Err(HandshakeError::Failed(error)),
        Ok(Ok(tls)) => Ok(Box::new(tls)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};

    fn peer() -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 1))
    }

    #[tokio::test]
    async fn bytes_pipelined_behind_sgzp_are_dropped_not_decoded() {
        let (near, mut far) = tokio::io::duplex(1 << 16);
        let mut connection = Connection::new(Box::new(near), Layers::default(), 1024, peer());
        far.write_all(b"SGZP\r\nNOOP\r\n").await.expect("write");
        assert_eq!(connection.next_line().await, Some(Line::Text("SGZP".into())));
        connection.send(Reply::ok("OK Using GZIP")).await.expect("send");
        let mut connection = connection.start_gzip();
        assert_eq!(connection.layers(), Layers { tls: false, gzip: true });
        // The reply to SGZP is plain; the gzip streams start after it.
        let mut plain = [0; 18];
        far.read_exact(&mut plain).await.expect("read");
        assert_eq!(&plain, b"200 OK Using GZIP\n");
        let mut client = BufReader::new(GzipStream::new(Box::new(far)));
        client.get_mut().write_all(b"CAPA\r\n").await.expect("write");
        client.get_mut().flush().await.expect("flush");
        // The plain "NOOP" the client pipelined is gone.
        assert_eq!(connection.next_line().await, Some(Line::Text("CAPA".into())));
        connection.send(Reply::ok("OK")).await.expect("send");
        let mut line = String::new();
        client.read_line(&mut line).await.expect("read");
        assert_eq!(line, "200 OK\n");
    }

    /// Lines of 100 bytes (with dot and LF), counting how many were made.
    fn counted_lines(total: usize, made: Arc<AtomicUsize>) -> impl Iterator<Item = String> + Send + 'static {
        (0..total).map(move |n| {
            made.fetch_add(1, Ordering::SeqCst);
            format!("{n:098}")
        })
    }

    #[tokio::test]
    async fn a_reply_is_made_only_as_fast_as_the_client_reads_it() {
        const PIPE: usize = 8 * 1024;
        const LINES: usize = 100_000; // 10 MB on the wire
        let (mut near, mut far) = tokio::io::duplex(PIPE);
        let made = Arc::new(AtomicUsize::new(0));
        let reply = Reply::ok("OK").with_line_stream(counted_lines(LINES, Arc::clone(&made)));
        let writer = tokio::spawn(async move { write_reply(&mut near, reply).await });
        let mut read = vec![0; 200_000];
        far.read_exact(&mut read).await.expect("read");
        // Give the writer every chance to run ahead of the reader.
        for _ in 0..100 {
            tokio::task::yield_now().await;
        }
        let ahead = made.load(Ordering::SeqCst) * 100 - read.len();
        assert!(ahead <= PIPE + WRITE_CHUNK + 100, "{ahead} bytes made beyond what was read");
        let mut rest = Vec::new();
        far.read_to_end(&mut rest).await.expect("read the rest");
        writer.await.expect("writer").expect("written");
        assert_eq!(made.load(Ordering::SeqCst), LINES);
        assert_eq!(read.len() + rest.len(), LINES * 100 + "200 OK\n".len());
        let last = format!("\n.{:098}\n200 OK\n", LINES - 1);
        assert!(rest.ends_with(last.as_bytes()), "the last line, then the code line");
    }
}
