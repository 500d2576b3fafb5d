//! Rendering replies (draft 5.1): `NNN text`, with any data lines before it prefixed by a dot.
//!
//! Every data line gets the dot, so content may itself start with a dot or be empty. Line
//! breaks inside a reason or a data line would forge protocol lines, so they are replaced.

use std::fmt;

/// The reply codes of draft section 5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReplyCode {
    /// 110: send the rest of the request.
    Continue,
    /// 200
    Ok,
    /// 210: applied to some of the items only.
    PartialOk,
    /// 401
    InternalError,
    /// 410
    RetryLater,
    /// 510
    UnknownCommand,
    /// 511
    InvalidParameter,
    /// 512
    OutOfOrder,
    /// 521
    NotFound,
    /// 531
    Banned,
}

impl ReplyCode {
    /// The three digits on the wire.
    pub fn number(self) -> u16 {
        match self {
            Self::Continue => 110,
            Self::Ok => 200,
            Self::PartialOk => 210,
            Self::InternalError => 401,
            Self::RetryLater => 410,
            Self::UnknownCommand => 510,
            Self::InvalidParameter => 511,
            Self::OutOfOrder => 512,
            Self::NotFound => 521,
            Self::Banned => 531,
        }
    }
}

impl fmt::Display for ReplyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.number())
    }
}

/// The data lines of a reply.
pub enum Body {
    /// Lines made already.
    Lines(Vec<String>),
    /// Lines made as they are written (a rendering, a long listing), so that a reply never
    /// sits whole in memory.
    Stream(Box<dyn Iterator<Item = String> + Send>),
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Lines(lines) => f.debug_tuple("Lines").field(lines).finish(),
            Self::Stream(_) => f.write_str("Stream(..)"),
        }
    }
}

impl IntoIterator for Body {
    type Item = String;
    type IntoIter = Box<dyn Iterator<Item = String> + Send>;

    fn into_iter(self) -> Self::IntoIter {
        match self {
            Self::Lines(lines) => Box::new(lines.into_iter()),
            Self::Stream(lines) => lines,
        }
    }
}

/// A complete reply: data lines, then the code line.
#[derive(Debug)]
pub struct Reply {
    /// The code of the final line.
    pub code: ReplyCode,
    /// The reason phrase of the final line.
    pub text: String,
    /// Data lines, without their dots.
    pub body: Body,
}

fn single_line(text: &str) -> String {
    text.replace(['\r', '\n'], " ")
}

/// Appends one data line: its dot, the line, LF.
pub fn encode_data_line(line: &str, out: &mut Vec<u8>) {
    out.push(b'.');
    if line.bytes().any(|byte| matches!(byte, b'\r' | b'\n')) {
        out.extend_from_slice(single_line(line).as_bytes());
    } else {
        out.extend_from_slice(line.as_bytes());
    }
    out.push(b'\n');
}

impl Reply {
    /// A reply without data lines.
    pub fn new(code: ReplyCode, text: impl Into<String>) -> Self {
        Self { code, text: text.into(), body: Body::Lines(Vec::new()) }
    }

    /// A 200 reply.
    pub fn ok(text: impl Into<String>) -> Self {
        Self::new(ReplyCode::Ok, text)
    }

    /// Adds data lines before the code line.
    pub fn with_lines(mut self, lines: Vec<String>) -> Self {
        self.body = Body::Lines(lines);
        self
    }

    /// Adds data lines made only as they are written.
    pub fn with_line_stream(mut self, lines: impl Iterator<Item = String> + Send + 'static) -> Self {
        self.body = Body::Stream(Box::new(lines));
        self
    }

    /// Splits the reply into its data lines and its code line.
    pub fn into_parts(self) -> (Body, CodeLine) {
        (self.body, CodeLine { code: self.code, text: self.text })
    }

    /// The whole reply as bytes, LF-terminated (draft 2.2): for short replies and tests; the
    /// server writes replies line by line instead.
    pub fn into_wire(self) -> Vec<u8> {
        let (body, code_line) = self.into_parts();
        let mut out = Vec::new();
        for line in body {
            encode_data_line(&line, &mut out);
        }
        code_line.encode(&mut out);
        out
    }

    /// The wire form as a string (tests and logs).
    pub fn to_wire(self) -> String {
        String::from_utf8_lossy(&self.into_wire()).into_owned()
    }
}

/// The final line of a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeLine {
    /// Its code.
    pub code: ReplyCode,
    /// Its reason phrase.
    pub text: String,
}

impl CodeLine {
    /// Appends `NNN text` and LF.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.code.number().to_string().as_bytes());
        if !self.text.is_empty() {
            out.push(b' ');
            out.extend_from_slice(single_line(&self.text).as_bytes());
        }
        out.push(b'\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_lines_get_a_dot_even_when_empty_or_dotted() {
        let reply = Reply::ok("OK done").with_lines(vec!["MESG /INBOX".into(), String::new(), ".hidden".into()]);
        assert_eq!(reply.to_wire(), ".MESG /INBOX\n.\n..hidden\n200 OK done\n");
    }

    #[test]
    fn a_bare_code_has_no_trailing_space() {
        assert_eq!(Reply::new(ReplyCode::InvalidParameter, "").to_wire(), "511\n");
    }

    #[test]
    fn line_breaks_cannot_forge_protocol_lines() {
        let reply = Reply::ok("a\r\n200 forged").with_lines(vec!["x\n.y".into()]);
        assert_eq!(reply.to_wire(), ".x .y\n200 a  200 forged\n");
    }
}
