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

/// A complete reply: data lines, then the code line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The code of the final line.
    pub code: ReplyCode,
    /// The reason phrase of the final line.
    pub text: String,
    /// Data lines, without their dots.
    pub lines: Vec<String>,
}

fn single_line(text: &str) -> String {
    text.replace(['\r', '\n'], " ")
}

impl Reply {
    /// A reply without data lines.
    pub fn new(code: ReplyCode, text: impl Into<String>) -> Self {
        Self { code, text: text.into(), lines: Vec::new() }
    }

    /// A 200 reply.
    pub fn ok(text: impl Into<String>) -> Self {
        Self::new(ReplyCode::Ok, text)
    }

    /// Adds data lines before the code line.
    pub fn with_lines(mut self, lines: Vec<String>) -> Self {
        self.lines = lines;
        self
    }

    /// The bytes on the wire, LF-terminated (draft 2.2).
    pub fn encode(&self, out: &mut Vec<u8>) {
        for line in &self.lines {
            out.push(b'.');
            out.extend_from_slice(single_line(line).as_bytes());
            out.push(b'\n');
        }
        out.extend_from_slice(self.code.number().to_string().as_bytes());
        if !self.text.is_empty() {
            out.push(b' ');
            out.extend_from_slice(single_line(&self.text).as_bytes());
        }
        out.push(b'\n');
    }

    /// The wire form as a string (tests and logs).
    pub fn to_wire(&self) -> String {
        let mut out = Vec::new();
        self.encode(&mut out);
        String::from_utf8_lossy(&out).into_owned()
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
