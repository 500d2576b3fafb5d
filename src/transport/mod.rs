//! A client connection's byte stream as a stack of layers: TCP, then TLS (STLS, draft 4.9, or an
//! implicit-TLS listener) and gzip (SGZP, 4.8) in whichever order the client asked for them
//! (AMBIGUITIES `TLS-GZIP-ORDER`: both orders work here). Each switch takes the stream out of the
//! line decoder, puts the new layer on top and decodes lines from the result.
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

use crate::codec::{Line, LineDecoder};

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
    pub async fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        let stream = self.lines.get_mut();
        stream.write_all(bytes).await?;
        stream.flush().await
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
        connection.send(b"200 OK Using GZIP\r\n").await.expect("send");
        let mut connection = connection.start_gzip();
        assert_eq!(connection.layers(), Layers { tls: false, gzip: true });
        // The reply to SGZP is plain; the gzip streams start after it.
        let mut plain = [0; 19];
        far.read_exact(&mut plain).await.expect("read");
        assert_eq!(&plain, b"200 OK Using GZIP\r\n");
        let mut client = BufReader::new(GzipStream::new(Box::new(far)));
        client.get_mut().write_all(b"CAPA\r\n").await.expect("write");
        client.get_mut().flush().await.expect("flush");
        // The plain "NOOP" the client pipelined is gone.
        assert_eq!(connection.next_line().await, Some(Line::Text("CAPA".into())));
        connection.send(b"200 OK\r\n").await.expect("send");
        let mut line = String::new();
        client.read_line(&mut line).await.expect("read");
        assert_eq!(line, "200 OK\r\n");
    }
}
