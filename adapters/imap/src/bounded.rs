//! Bounds on what an IMAP server can make the gateway hold.
//!
//! async-imap buffers a whole response before handing it over, and sizes its buffer from the
//! literal lengths the server announces (`{n}`), up to 512 MiB: one hostile or broken server
//! line `* 1 FETCH (BODY[] {500000000}` would make the gateway allocate that much at once.
//! [`BoundedStream`] sits under async-imap and reads the server's bytes first: a literal
//! announced larger than the adapter ever asks for, or a response line (outside literals)
//! longer than [`MAX_RESPONSE_LINE`], fails the read before async-imap sees it; the connection
//! is then dropped like any other that failed mid-command.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The longest response line outside literals: a UID SEARCH answer for about seven million
/// messages. Every other response the adapter reads is far shorter.
pub const MAX_RESPONSE_LINE: usize = 64 * 1024 * 1024;

/// Where the scanner is in the server's byte stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Position {
    /// In a response line; `announcing` tracks a `{digits}` (or `{digits+}`) seen at its end.
    Line { length: usize, announcing: Announcing },
    /// Inside a literal, with this many bytes left.
    Literal { remaining: u64 },
}

/// Progress through a literal announcement `{n}` CR LF at the end of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Announcing {
    Nothing,
    Digits(u64),
    Closed(u64),
    ClosedCr(u64),
}

/// The sans-I/O part: fed the server's bytes in any chunking, says whether they stay within
/// the bounds.
#[derive(Debug, Clone)]
pub struct ResponseScanner {
    max_literal: u64,
    max_line: usize,
    position: Position,
}

impl ResponseScanner {
    /// A scanner refusing literals over `max_literal` bytes and lines over `max_line`.
    pub fn new(max_literal: usize, max_line: usize) -> Self {
        Self {
            max_literal: u64::try_from(max_literal).unwrap_or(u64::MAX),
            max_line,
            position: Position::Line { length: 0, announcing: Announcing::Nothing },
        }
    }

    /// Checks the next bytes of the stream.
    pub fn scan(&mut self, mut bytes: &[u8]) -> io::Result<()> {
        while !bytes.is_empty() {
            match &mut self.position {
                Position::Literal { remaining } => {
                    let skipped = u64::try_from(bytes.len()).unwrap_or(u64::MAX).min(*remaining);
                    *remaining -= skipped;
                    // `skipped` is at most `bytes.len()`.
                    bytes = &bytes[usize::try_from(skipped).unwrap_or(bytes.len())..];
                    if *remaining == 0 {
                        self.position = Position::Line { length: 0, announcing: Announcing::Nothing };
                    }
                }
                Position::Line { length, announcing } => {
                    let byte = bytes[0];
                    bytes = &bytes[1..];
                    *length += 1;
                    if *length > self.max_line {
                        return Err(refusal(format!(
                            "IMAP server sent a response line longer than {} bytes",
                            self.max_line
                        )));
                    }
                    *announcing = match (*announcing, byte) {
                        (Announcing::ClosedCr(size), b'\n') => {
                            if size > self.max_literal {
                                return Err(refusal(format!(
                                    "IMAP server announced a literal of {size} bytes, over the gateway's limit of {}",
                                    self.max_literal
                                )));
                            }
                            self.position = if size == 0 {
                                Position::Line { length: 0, announcing: Announcing::Nothing }
                            } else {
                                Position::Literal { remaining: size }
                            };
                            continue;
                        }
                        (_, b'\n') => {
                            *length = 0;
                            Announcing::Nothing
                        }
                        (_, b'{') => Announcing::Digits(0),
                        (Announcing::Digits(size), digit @ b'0'..=b'9') => {
                            Announcing::Digits(size.saturating_mul(10).saturating_add(u64::from(digit - b'0')))
                        }
                        // LITERAL+ syntax; servers may use it in what they send too.
                        (Announcing::Digits(size), b'+') => Announcing::Digits(size),
                        (Announcing::Digits(size), b'}') => Announcing::Closed(size),
                        (Announcing::Closed(size), b'\r') => Announcing::ClosedCr(size),
                        _ => Announcing::Nothing,
                    };
                }
            }
        }
        Ok(())
    }
}

fn refusal(reason: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, reason)
}

/// A stream whose incoming bytes pass a [`ResponseScanner`]; writes go through untouched.
#[derive(Debug)]
pub struct BoundedStream<S> {
    inner: S,
    scanner: ResponseScanner,
}

impl<S> BoundedStream<S> {
    /// Wraps `inner`, refusing literals over `max_literal` bytes.
    pub fn new(inner: S, max_literal: usize) -> Self {
        Self { inner, scanner: ResponseScanner::new(max_literal, MAX_RESPONSE_LINE) }
    }

    /// The stream underneath (for the TLS handshake after STARTTLS); the scanner holds no bytes.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for BoundedStream<S> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                let scanned = this.scanner.scan(&buf.filled()[before..]);
                if scanned.is_err() {
                    // The refused bytes never reach the IMAP parser.
                    buf.set_filled(before);
                }
                Poll::Ready(scanned)
            }
            other => other,
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for BoundedStream<S> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, data)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `stream` to a fresh scanner in pieces of `chunk` bytes.
    fn scan_in_chunks(stream: &[u8], chunk: usize, max_literal: usize, max_line: usize) -> io::Result<()> {
        let mut scanner = ResponseScanner::new(max_literal, max_line);
        stream.chunks(chunk).try_for_each(|piece| scanner.scan(piece))
    }

    fn every_chunking(stream: &[u8], max_literal: usize, max_line: usize) -> Vec<bool> {
        (1..=stream.len().max(1)).map(|chunk| scan_in_chunks(stream, chunk, max_literal, max_line).is_ok()).collect()
    }

    #[test]
    fn literals_within_the_limit_pass_and_their_content_is_not_read_as_syntax() {
        // The literal's content holds what looks like a huge announcement and a long line.
        let content = b"{999999999}\r\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";
        let mut stream = format!("* 1 FETCH (UID 7 BODY[] {{{}}}\r\n", content.len()).into_bytes();
        stream.extend_from_slice(content);
        stream.extend_from_slice(b")\r\nA1 OK done\r\n");
        assert!(every_chunking(&stream, content.len(), 40).into_iter().all(|ok| ok));
    }

    #[test]
    fn a_literal_over_the_limit_is_refused_at_its_announcement() {
        let stream = b"* 1 FETCH (UID 7 BODY[] {500000000}\r\n";
        assert!(every_chunking(stream, 1000, 1000).into_iter().all(|ok| !ok));
        let error = scan_in_chunks(stream, 7, 1000, 1000).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains("500000000"), "{error}");
        // Just at the limit passes; LITERAL+ and literal8 announcements count the same.
        assert!(scan_in_chunks(b"* 1 FETCH (BODY[] {4}\r\nabcd)\r\n", 3, 4, 1000).is_ok());
        assert!(scan_in_chunks(b"* 1 FETCH (BODY[] {5+}\r\n", 3, 4, 1000).is_err());
        assert!(scan_in_chunks(b"* 1 FETCH (BINARY[] ~{5}\r\n", 3, 4, 1000).is_err());
        // Beyond u64: saturates, still refused.
        assert!(scan_in_chunks(b"* 1 FETCH (BODY[] {99999999999999999999999}\r\n", 5, 4, 1000).is_err());
    }

    #[test]
    fn braces_that_announce_nothing_are_text() {
        // No CR LF right after the brace: a quoted string or text, not a literal.
        assert!(scan_in_chunks(b"* OK [ALERT] {500000000} is a number\r\nA1 OK x\r\n", 4, 10, 1000).is_ok());
        assert!(scan_in_chunks(b"* 1 FETCH (X \"{500000000}\")\r\n", 4, 10, 1000).is_ok());
    }

    #[test]
    fn long_lines_are_refused_and_line_ends_reset_the_count() {
        let mut stream = Vec::new();
        for _ in 0..100 {
            stream.extend_from_slice(b"* SEARCH 1 2 3\r\n");
        }
        assert!(scan_in_chunks(&stream, 5, 10, 16).is_ok());
        assert!(scan_in_chunks(b"* SEARCH 1 2 3 4 5 6 7 8 9\r\n", 5, 10, 16).is_err());
    }

    #[tokio::test]
    async fn a_refused_read_hands_no_bytes_to_the_reader() {
        use tokio::io::AsyncReadExt;
        let (mut server, client) = tokio::io::duplex(1024);
        tokio::io::AsyncWriteExt::write_all(&mut server, b"* 1 FETCH (BODY[] {2000}\r\n").await.ok();
        let mut bounded = BoundedStream::new(client, 1000);
        let mut read = Vec::new();
        let outcome = bounded.read_buf(&mut read).await;
        assert!(outcome.is_err());
        assert!(read.is_empty());
    }
}
