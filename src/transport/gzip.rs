//! The SGZP layer (draft 4.8): one gzip stream per direction over the layer below
//! (docs/interpretations.md, GZIP-FRAMING), flushed with a sync flush at every reply.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use async_compression::tokio::bufread::GzipDecoder;
use async_compression::tokio::write::GzipEncoder;
use tokio::io::{AsyncRead, AsyncWrite, BufReader, ReadBuf, ReadHalf, WriteHalf};

use super::BoxedTransport;

/// Decompresses what is read and compresses what is written. `flush` emits a sync flush, so the
/// peer can decompress everything written so far without waiting for more.
#[derive(Debug)]
pub struct GzipStream {
    reader: GzipDecoder<BufReader<ReadHalf<BoxedTransport>>>,
    writer: GzipEncoder<WriteHalf<BoxedTransport>>,
}

impl GzipStream {
    /// Starts both gzip streams over `inner`; nothing is written until the first flush.
    pub fn new(inner: BoxedTransport) -> Self {
        let (read, write) = tokio::io::split(inner);
        let mut reader = GzipDecoder::new(BufReader::new(read));
        // A client that ends its gzip member and starts another (as a new archive would) is
        // still one continuous stream of lines.
        reader.multiple_members(true);
        Self { reader, writer: GzipEncoder::new(write) }
    }
}

impl AsyncRead for GzipStream {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.reader).poll_read(cx, buf)
    }
}

impl AsyncWrite for GzipStream {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.writer).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.writer).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Writes the gzip trailer, then shuts the layer below down.
        Pin::new(&mut self.writer).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn each_flush_makes_everything_written_readable_at_once() {
        let (near, far) = tokio::io::duplex(1 << 16);
        let mut near = GzipStream::new(Box::new(near));
        let mut far = tokio::io::BufReader::new(GzipStream::new(Box::new(far)));
        for n in 0..50 {
            near.write_all(format!("200 OK line {n}\r\n").as_bytes()).await.expect("write");
            near.flush().await.expect("flush");
            let mut line = String::new();
            let read = tokio::time::timeout(std::time::Duration::from_secs(5), far.read_line(&mut line));
            read.await.expect("no waiting for more data").expect("read");
            assert_eq!(line, format!("200 OK line {n}\r\n"));
        }
    }

    #[tokio::test]
    async fn the_stream_starts_with_the_gzip_magic_and_ends_with_a_trailer() {
        let (near, mut far) = tokio::io::duplex(1 << 16);
        let mut near = GzipStream::new(Box::new(near));
        near.write_all(b"QUIT\r\n").await.expect("write");
        near.shutdown().await.expect("shutdown");
        let mut raw = Vec::new();
        far.read_to_end(&mut raw).await.expect("read");
        assert_eq!(&raw[..2], &[0x1f, 0x8b]);
        let mut plain = String::new();
        let mut decoder = GzipDecoder::new(&raw[..]);
        decoder.read_to_string(&mut plain).await.expect("a complete gzip member");
        assert_eq!(plain, "QUIT\r\n");
    }
}
