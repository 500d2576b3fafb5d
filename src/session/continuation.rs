//! Content lines after a 110 reply (draft 5.2.2, 4.22, 4.39): collected up to the empty line
//! that ends them, never taken for commands, and bounded in memory. Content that breaks a limit
//! is still read to its end (AMBIGUITIES B.9), then refused as a whole: nothing is half-stored.

use agap_adapter_api::tags::TagChange;

use crate::codec::Line;
use crate::error::AgapError;
use crate::folder::FolderEntry;

/// Which command the content belongs to, with what it decided before asking for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContentKind {
    /// A FIND filter.
    Find,
    /// The item of a STOR.
    Stor,
    /// An FTAG filter and the change to apply.
    Ftag(TagChange),
    /// An FDEL filter.
    Fdel,
    /// An FMOV filter and its checked destination.
    Fmov(FolderEntry),
    /// An FCPY filter and its checked destination.
    Fcpy(FolderEntry),
}

/// Content being received.
#[derive(Debug)]
pub struct Content {
    /// Its command.
    pub kind: ContentKind,
    lines: Vec<String>,
    size: usize,
    max_size: usize,
    refusal: Option<AgapError>,
}

impl Content {
    /// Starts collecting at most `max_size` bytes of content for `kind`.
    pub fn new(kind: ContentKind, max_size: usize) -> Self {
        Self { kind, lines: Vec::new(), size: 0, max_size, refusal: None }
    }

    /// Takes one line; true when it was the empty line that ends the content.
    pub fn push(&mut self, line: Line) -> bool {
        match line {
            Line::Text(text) if text.is_empty() => return true,
            _ if self.refusal.is_some() => {}
            Line::Text(text) => {
                self.size += text.len() + 1;
                if self.size > self.max_size {
                    self.lines = Vec::new();
                    self.refusal = Some(AgapError::invalid(format!("content larger than {} bytes", self.max_size)));
                } else {
                    self.lines.push(text);
                }
            }
            Line::TooLong => self.refusal = Some(AgapError::invalid("a content line is longer than the line limit")),
            Line::InvalidUtf8 => self.refusal = Some(AgapError::invalid("a content line is not valid UTF-8")),
        }
        false
    }

    /// Why the content will be refused, once a limit fired.
    pub fn refusal(&self) -> Option<&AgapError> {
        self.refusal.as_ref()
    }

    /// The lines, or why the content as a whole is refused.
    pub fn into_lines(self) -> Result<Vec<String>, AgapError> {
        match self.refusal {
            Some(refusal) => Err(refusal),
            None => Ok(self.lines),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_ends_at_the_empty_line() {
        let mut content = Content::new(ContentKind::Find, 1000);
        assert!(!content.push(Line::Text("TAG SEEN".into())));
        assert!(!content.push(Line::Text("QUIT".into())), "a command name is content here");
        assert!(content.push(Line::Text(String::new())));
        assert_eq!(content.into_lines().expect("accepted"), ["TAG SEEN", "QUIT"]);
    }

    #[test]
    fn oversized_or_broken_content_is_read_to_its_end_then_refused() {
        let mut content = Content::new(ContentKind::Find, 10);
        assert!(!content.push(Line::Text("0123456789abc".into())));
        assert!(!content.push(Line::Text("more".into())));
        assert!(content.push(Line::Text(String::new())));
        assert_eq!(content.into_lines().expect_err("too big").to_reply().code.number(), 511);
        let mut content = Content::new(ContentKind::Find, 1000);
        content.push(Line::TooLong);
        content.push(Line::Text("fine".into()));
        assert!(content.push(Line::Text(String::new())));
        assert!(content.into_lines().is_err());
    }
}
