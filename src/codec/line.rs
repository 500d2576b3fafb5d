//! Splitting the client's byte stream into lines (draft 2.1, 2.2).
//!
//! A line ends with LF, optionally preceded by CR. Its length limit counts Unicode characters
//! including the line end (docs/interpretations.md, LINE-LENGTH: with the default 1024, a
//! 1023-character line plus CR LF is too long). An over-long line or one that is not UTF-8 is not a
//! stream error: it becomes a normal item, the rest of it is discarded, and decoding goes on with
//! the next line.

use bytes::{Buf, BytesMut};

/// One decoded line, without its line end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// A well-formed line.
    Text(String),
    /// The line was longer than the limit; its bytes were discarded.
    TooLong,
    /// The line was not valid UTF-8; its bytes were discarded.
    InvalidUtf8,
}

/// Incremental line decoder with bounded memory: it buffers at most one line of the limit
/// (in UTF-8, at most four bytes per character).
#[derive(Debug, Clone)]
pub struct LineDecoder {
    max_chars: usize,
    /// True while skipping the remainder of an over-long line.
    discarding: bool,
    /// How far the buffer was already searched for LF.
    scanned: usize,
}

impl LineDecoder {
    /// A decoder for lines of at most `max_chars` characters, line end included.
    pub fn new(max_chars: usize) -> Self {
        Self { max_chars: max_chars.max(2), discarding: false, scanned: 0 }
    }

    fn max_bytes(&self) -> usize {
        self.max_chars * 4
    }

    /// Takes the next complete line out of `buffer`, or `None` if more bytes are needed.
    pub fn decode(&mut self, buffer: &mut BytesMut) -> Option<Line> {
        loop {
            let newline = buffer[self.scanned..].iter().position(|&b| b == b'\n').map(|i| i + self.scanned);
            match newline {
                None => {
                    if self.discarding {
                        buffer.clear();
                        self.scanned = 0;
                        return None;
                    }
                    if buffer.len() > self.max_bytes() {
                        // Certainly too long whatever the characters: stop buffering it now.
                        buffer.clear();
                        self.scanned = 0;
                        self.discarding = true;
                        return Some(Line::TooLong);
                    }
                    self.scanned = buffer.len();
                    return None;
                }
                Some(end) => {
                    let raw = buffer.split_to(end + 1);
                    self.scanned = 0;
                    if self.discarding {
                        self.discarding = false;
                        continue;
                    }
                    return Some(self.finish(&raw));
                }
            }
        }
    }

    fn finish(&self, raw: &[u8]) -> Line {
        let Ok(text) = std::str::from_utf8(raw) else {
            return Line::InvalidUtf8;
        };
        if text.chars().count() > self.max_chars {
            return Line::TooLong;
        }
        let body = text.strip_suffix('\n').unwrap_or(text);
        let body = body.strip_suffix('\r').unwrap_or(body);
        Line::Text(body.to_owned())
    }

    /// Drops whatever partial line is buffered (used when the connection ends).
    pub fn reset(&mut self, buffer: &mut BytesMut) {
        buffer.advance(buffer.len());
        self.scanned = 0;
        self.discarding = false;
    }
}

impl tokio_util::codec::Decoder for LineDecoder {
    type Item = Line;
    type Error = std::io::Error;

    fn decode(&mut self, buffer: &mut BytesMut) -> Result<Option<Line>, std::io::Error> {
        Ok(LineDecoder::decode(self, buffer))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(decoder: &mut LineDecoder, chunks: &[&[u8]]) -> Vec<Line> {
        let mut buffer = BytesMut::new();
        let mut lines = Vec::new();
        for chunk in chunks {
            buffer.extend_from_slice(chunk);
            while let Some(line) = decoder.decode(&mut buffer) {
                lines.push(line);
            }
        }
        lines
    }

    #[test]
    fn lf_and_crlf_both_end_lines() {
        let lines = decode_all(&mut LineDecoder::new(1024), &[b"NOOP\r\nCAPA\nQUIT\r\n"]);
        assert_eq!(lines, vec![Line::Text("NOOP".into()), Line::Text("CAPA".into()), Line::Text("QUIT".into())]);
    }

    #[test]
    fn empty_lines_are_lines() {
        let lines = decode_all(&mut LineDecoder::new(1024), &[b"\n\r\n"]);
        assert_eq!(lines, vec![Line::Text(String::new()), Line::Text(String::new())]);
    }

    #[test]
    fn the_limit_counts_characters_including_the_line_end() {
        let mut decoder = LineDecoder::new(1024);
        let fits = format!("{}\n", "a".repeat(1023));
        let too_long_with_cr = format!("{}\r\n", "a".repeat(1023));
        let multibyte_fits = format!("{}\n", "é".repeat(1023));
        let lines =
            decode_all(&mut decoder, &[fits.as_bytes(), too_long_with_cr.as_bytes(), multibyte_fits.as_bytes()]);
        assert_eq!(lines[0], Line::Text("a".repeat(1023)));
        assert_eq!(lines[1], Line::TooLong);
        assert_eq!(lines[2], Line::Text("é".repeat(1023)));
    }

    #[test]
    fn an_over_long_line_is_skipped_and_decoding_resumes() {
        let mut decoder = LineDecoder::new(16);
        let huge = vec![b'x'; 10_000];
        let lines = decode_all(&mut decoder, &[&huge, &huge, b"tail of it\nNOOP\n"]);
        assert_eq!(lines, vec![Line::TooLong, Line::Text("NOOP".into())]);
    }

    #[test]
    fn invalid_utf8_is_reported_and_skipped() {
        let lines = decode_all(&mut LineDecoder::new(1024), &[b"AUTH \xff\xfe\nNOOP\n"]);
        assert_eq!(lines, vec![Line::InvalidUtf8, Line::Text("NOOP".into())]);
    }

    #[test]
    fn buffered_bytes_stay_bounded() {
        let mut decoder = LineDecoder::new(8);
        let mut buffer = BytesMut::new();
        for _ in 0..1000 {
            buffer.extend_from_slice(b"yyyyyyyy");
            while decoder.decode(&mut buffer).is_some() {}
            assert!(buffer.len() <= 8 * 4 + 8, "buffer grew to {}", buffer.len());
        }
    }

    #[test]
    fn the_same_input_split_at_every_byte_gives_the_same_lines() {
        let input = "AUTH PLAIN\r\nUSER jürgen\n\nSLCT /Entwürfe/日本\r\nQUIT\n".as_bytes();
        let whole = decode_all(&mut LineDecoder::new(1024), &[input]);
        for split in 0..=input.len() {
            let (a, b) = input.split_at(split);
            assert_eq!(decode_all(&mut LineDecoder::new(1024), &[a, b]), whole, "split at {split}");
        }
        let bytewise: Vec<&[u8]> = input.chunks(1).collect();
        assert_eq!(decode_all(&mut LineDecoder::new(1024), &bytewise), whole);
    }
}
