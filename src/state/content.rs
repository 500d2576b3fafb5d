//! Content lines after a 110 reply (draft 5.2.2, 4.22, 4.39): collected up to the empty line
//! that ends them, never taken for commands, and bounded in memory. Content that breaks a limit
//! is still read to its end (docs/interpretations.md, EARLY-REJECT), then refused as a whole:
//! nothing is half-stored.
//!
//! The lines are kept in one buffer, joined by LF, whose capacity never passes the limit: what
//! is counted is what is held (a `String` per line cost 24 bytes and an allocation each, so a
//! STOR of one-character lines held some 20 times its size).

use agap_adapter_api::tags::TagChange;

use crate::codec::Line;
use crate::delivery::Destination;
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
    /// The item of an FSTO, and where it goes.
    Fsto(Destination),
}

/// Content being received.
#[derive(Debug)]
pub struct Content {
    /// Its command.
    pub kind: ContentKind,
    /// The lines so far, joined by LF (no LF after the last one).
    text: String,
    /// Whether a line was taken (the first one gets no LF before it).
    started: bool,
    max_size: usize,
    refusal: Option<AgapError>,
}

impl Content {
    /// Starts collecting at most `max_size` bytes of content for `kind`; line ends count one
    /// byte each.
    pub fn new(kind: ContentKind, max_size: usize) -> Self {
        Self { kind, text: String::new(), started: false, max_size, refusal: None }
    }

    /// Takes one line; true when it was the empty line that ends the content.
    pub fn push(&mut self, line: Line) -> bool {
        match line {
            Line::Text(text) if text.is_empty() => return true,
            _ if self.refusal.is_some() => {}
            Line::Text(text) => {
                let separator = usize::from(self.started);
                let needed = self.text.len() + separator + text.len();
                if needed > self.max_size {
                    self.text = String::new();
                    self.refusal = Some(AgapError::invalid(format!("content larger than {} bytes", self.max_size)));
                } else {
                    self.grow_to(needed);
                    if self.started {
                        self.text.push('\n');
                    }
                    self.text.push_str(&text);
                    self.started = true;
                }
            }
            Line::TooLong => self.refusal = Some(AgapError::invalid("a content line is longer than the line limit")),
            Line::InvalidUtf8 => self.refusal = Some(AgapError::invalid("a content line is not valid UTF-8")),
        }
        false
    }

    /// Makes room for `needed` bytes, doubling as a `String` would but never past the limit,
    /// so that the buffer's capacity (what the allocator holds) stays within it.
    fn grow_to(&mut self, needed: usize) {
        let capacity = self.text.capacity();
        if needed <= capacity {
            return;
        }
        let target = needed.max(capacity.saturating_mul(2)).max(64).min(self.max_size);
        self.text.reserve_exact(target - self.text.len());
    }

    /// The bytes held for the content so far (the buffer's capacity).
    pub fn held(&self) -> usize {
        self.text.capacity()
    }

    /// Why the content will be refused, once a limit fired.
    pub fn refusal(&self) -> Option<&AgapError> {
        self.refusal.as_ref()
    }

    /// The lines joined by LF (empty when there was none), or why the content as a whole is
    /// refused.
    pub fn into_text(self) -> Result<String, AgapError> {
        match self.refusal {
            Some(refusal) => Err(refusal),
            None => Ok(self.text),
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
        assert_eq!(content.into_text().expect("accepted"), "TAG SEEN\nQUIT");
        let content = Content::new(ContentKind::Stor, 1000);
        assert_eq!(content.into_text().expect("no line"), "");
    }

    #[test]
    fn oversized_or_broken_content_is_read_to_its_end_then_refused() {
        let mut content = Content::new(ContentKind::Find, 10);
        assert!(!content.push(Line::Text("0123456789abc".into())));
        assert!(!content.push(Line::Text("more".into())));
        assert!(content.push(Line::Text(String::new())));
        assert_eq!(content.into_text().expect_err("too big").to_reply().code.number(), 511);
        let mut content = Content::new(ContentKind::Find, 1000);
        content.push(Line::TooLong);
        content.push(Line::Text("fine".into()));
        assert!(content.push(Line::Text(String::new())));
        assert!(content.into_text().is_err());
    }

    #[test]
    fn the_limit_counts_line_ends_and_fits_exactly() {
        let mut content = Content::new(ContentKind::Stor, 7);
        content.push(Line::Text("abc".into()));
        content.push(Line::Text("def".into()));
        assert_eq!(content.into_text().expect("7 bytes with the LF between"), "abc\ndef");
        let mut content = Content::new(ContentKind::Stor, 6);
        content.push(Line::Text("abc".into()));
        content.push(Line::Text("def".into()));
        assert!(content.into_text().is_err(), "the LF counts");
    }

    /// The attack of issue 12: a STOR of one-character lines. What is held is the limit at most,
    /// whatever the number of lines, and nothing once the limit fired.
    #[test]
    fn one_character_lines_hold_no_more_than_the_limit() {
        let limit = 1 << 20;
        let mut content = Content::new(ContentKind::Stor, limit);
        for _ in 0..(limit / 2) {
            content.push(Line::Text("x".into()));
            assert!(content.held() <= limit, "holds {} for a limit of {limit}", content.held());
        }
        assert_eq!(content.held(), limit, "no more than the limit even where doubling would pass it");
        content.push(Line::Text("x".into()));
        assert!(content.refusal().is_some());
        assert_eq!(content.held(), 0, "refused content is no longer held");
        for _ in 0..1000 {
            content.push(Line::Text("x".into()));
        }
        assert_eq!(content.held(), 0);
        assert!(content.push(Line::Text(String::new())));
        assert_eq!(content.into_text().expect_err("too big").to_reply().code.number(), 511);
    }
}
