//! Part paths (draft 4.34, 4.3.1): `/MESSAGE/HEADER/subject`, `/MESSAGE/TEXT`,
//! `/MESSAGE/ATTACHMENT-2/BODY`, with `[n]` (comma lists) or `{n}` (semicolon lists) on the
//! last name to take one item of a list value.
//!
//! Names match case-insensitively (header fields keep their spelling in the rendering, but a
//! client cannot know it). The draft's other spellings are aliases (docs/interpretations.md,
//! `PART-PATHS`, `HEADER-PATHS`): a path without the root element (`header/subject`,
//! `/HEADER/subject`), and `BODY` between MESSAGE and TEXT, HTML or ATTACHMENT-n. List items are
//! counted from 1, like attachments (docs/interpretations.md, `LIST-INDEX-BASE`).

use crate::error::{AgapError, AgapResult};

use super::tree::{Base64Lines, Content, Element};

/// Which list separator an index refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListIndex {
    /// `[n]`: the n-th comma-separated item.
    Comma(usize),
    /// `{n}`: the n-th semicolon-separated item.
    Semicolon(usize),
}

/// A parsed part path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartPath {
    /// Element names below the root.
    pub names: Vec<String>,
    /// Item extraction on the leaf.
    pub index: Option<ListIndex>,
}

/// A part's value, as RETR sends it.
#[derive(Debug)]
pub struct PartValue {
    /// Data lines (the base64 ones made as they are taken).
    pub lines: PartLines,
    /// Whether the lines are the base64 of the value (it was binary, or its lines too long).
    pub base64: bool,
}

/// The data lines of a part's value.
#[derive(Debug)]
pub enum PartLines {
    /// Text lines.
    Text(std::vec::IntoIter<String>),
    /// The base64 of the value.
    Base64(Base64Lines),
}

impl Iterator for PartLines {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        match self {
            Self::Text(lines) => lines.next(),
            Self::Base64(lines) => lines.next(),
        }
    }
}

fn unknown(path: &str) -> AgapError {
    AgapError::invalid(format!("UNKNOWN part name {path}"))
}

impl PartPath {
    /// Parses `text` for a rendering whose root element is `root` (e.g. MESSAGE).
    pub fn parse(text: &str, root: &str) -> AgapResult<PartPath> {
        let (body, index) = match text.char_indices().find(|(_, c)| *c == '[' || *c == '{') {
            Some((at, open)) => {
                let close = if open == '[' { ']' } else { '}' };
                let inner = text[at + 1..].strip_suffix(close).ok_or_else(|| unknown(text))?;
                let n: usize = inner.parse().ok().filter(|n| *n > 0).ok_or_else(|| unknown(text))?;
                (&text[..at], Some(if open == '[' { ListIndex::Comma(n) } else { ListIndex::Semicolon(n) }))
            }
            None => (text, None),
        };
        let mut names: Vec<String> = body.trim_start_matches('/').split('/').map(str::to_owned).collect();
        if names.iter().any(String::is_empty) {
            return Err(unknown(text));
        }
        if names[0].eq_ignore_ascii_case(root) {
            names.remove(0);
        }
        let is_body_part = |name: &str| {
            let upper = name.to_ascii_uppercase();
            upper == "TEXT" || upper == "HTML" || upper.starts_with("ATTACHMENT-")
        };
        if names.len() > 1 && names[0].eq_ignore_ascii_case("BODY") && is_body_part(&names[1]) {
            names.remove(0);
        }
        if names.is_empty() {
            return Err(unknown(text));
        }
        Ok(PartPath { names, index })
    }

    /// The header field a path names (`HEADER/<field>`), if it names one: RETR can then fetch
    /// only that field upstream.
    pub fn header_field(&self) -> Option<&str> {
        match self.names.as_slice() {
            [header, field] if header.eq_ignore_ascii_case("HEADER") => Some(field),
            _ => None,
        }
    }

    /// The text values the path names in `tree`, for filters: one per item of a multi-valued
    /// field, `[n]`/`{n}` applied; none when the path names nothing, an element with children,
    /// or bytes; and none in an attachment body whose Content-Type is not text/* (draft 4.3.1:
    /// only text attachments are searched).
    pub fn values(&self, tree: &Element) -> Vec<String> {
        let mut element = tree;
        let mut attachment: Option<&Element> = None;
        for name in &self.names {
            let Some(child) = find_child(element, name) else { return Vec::new() };
            if child.name.to_ascii_uppercase().starts_with("ATTACHMENT-") {
                attachment = Some(child);
            }
            element = child;
        }
        if let Some(attachment) = attachment {
            let content_type = attachment
                .child("HEADER")
                .and_then(|header| find_child(header, "content-type"))
                .and_then(|field| match &field.content {
                    Content::Text(text) => Some(text.trim().to_ascii_lowercase()),
                    _ => None,
                });
            // Without a Content-Type a MIME part is text/plain (RFC 2045 5.2).
            if content_type.is_some_and(|ct| !ct.starts_with("text/")) {
                return Vec::new();
            }
        }
        let values: Vec<String> = match &element.content {
            Content::Text(text) => vec![text.clone()],
            Content::Children(children) if children.iter().all(|c| c.name == "item") => children
                .iter()
                .filter_map(|item| match &item.content {
                    Content::Text(text) => Some(text.clone()),
                    _ => None,
                })
                .collect(),
            _ => return Vec::new(),
        };
        match self.index {
            None => values,
            Some(index) => {
                let (separator, n) = match index {
                    ListIndex::Comma(n) => (',', n),
                    ListIndex::Semicolon(n) => (';', n),
                };
                values.iter().filter_map(|value| split_list(value, separator).get(n - 1).cloned()).collect()
            }
        }
    }

    /// The value the path names in `tree`, taken out of it (the rest is dropped at once).
    pub fn extract(&self, tree: Element, max_chars: usize) -> AgapResult<PartValue> {
        let shown = format!("/{}/{}", tree.name, self.names.join("/"));
        let mut element = tree;
        for name in &self.names {
            element = take_child(element, name).ok_or_else(|| unknown(&shown))?;
        }
        let shown = || shown.clone();
        let values: Vec<String> = match element.content {
            Content::Text(text) => vec![text],
            Content::Binary(bytes) => {
                if self.index.is_some() {
                    return Err(unknown(&shown()));
                }
                return Ok(PartValue { lines: PartLines::Base64(Base64Lines::new(bytes)), base64: true });
            }
            Content::Children(children) if children.iter().all(|c| c.name == "item") => children
                .into_iter()
                .map(|item| match item.content {
                    Content::Text(text) => text,
                    _ => String::new(),
                })
                .collect(),
            Content::Children(_) => {
                return Err(AgapError::invalid(format!("{} is not an end leaf", shown())));
            }
        };
        let values = match self.index {
            None => values,
            Some(index) => {
                let (separator, n) = match index {
                    ListIndex::Comma(n) => (',', n),
                    ListIndex::Semicolon(n) => (';', n),
                };
                let items = split_list(values.first().map(String::as_str).unwrap_or(""), separator);
                vec![items.get(n - 1).cloned().ok_or_else(|| unknown(&shown()))?]
            }
        };
        let lines: Vec<String> = values.iter().flat_map(|value| value.split('\n').map(str::to_owned)).collect();
        if lines.iter().all(|line| line.chars().count() <= max_chars) {
            return Ok(PartValue { lines: PartLines::Text(lines.into_iter()), base64: false });
        }
        Ok(PartValue { lines: PartLines::Base64(Base64Lines::new(values.join("\n").into_bytes())), base64: true })
    }
}

/// Whether `child` is the element a path level `name` names: by its name, or a header field
/// whose name could not be an element name by its NAME attribute.
fn is_named(child: &Element, name: &str) -> bool {
    child.name.eq_ignore_ascii_case(name)
        || (child.name == super::message::ODD_FIELD
            && child.attributes.iter().any(|(key, value)| key == "NAME" && value.eq_ignore_ascii_case(name)))
}

fn find_child<'a>(element: &'a Element, name: &str) -> Option<&'a Element> {
    let Content::Children(children) = &element.content else { return None };
    children.iter().find(|child| is_named(child, name))
}

fn take_child(element: Element, name: &str) -> Option<Element> {
    let Content::Children(mut children) = element.content else { return None };
    let position = children.iter().position(|child| is_named(child, name))?;
    Some(children.swap_remove(position))
}

/// Splits a list value at `separator`s outside quotes, angle brackets and comments.
pub fn split_list(value: &str, separator: char) -> Vec<String> {
    let mut items = Vec::new();
    let mut current = String::new();
    let (mut quoted, mut escaped, mut angle, mut comment) = (false, false, 0usize, 0usize);
    for c in value.chars() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == '"' {
            quoted = !quoted;
        } else if !quoted {
            match c {
                '<' => angle += 1,
                '>' => angle = angle.saturating_sub(1),
                '(' => comment += 1,
                ')' => comment = comment.saturating_sub(1),
                _ if c == separator && angle == 0 && comment == 0 => {
                    items.push(current.trim().to_owned());
                    current.clear();
                    continue;
                }
                _ => {}
            }
        }
        current.push(c);
    }
    items.push(current.trim().to_owned());
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Element {
        Element::parent(
            "MESSAGE",
            vec![
                Element::parent(
                    "HEADER",
                    vec![
                        Element::text("Subject", "Hello"),
                        Element::text("To", "\"Doe, John\" <j@x>, b@y"),
                        Element::parent("Received", vec![Element::text("item", "one"), Element::text("item", "two")]),
                    ],
                ),
                Element::text("HTML", "<b>x</b>\nline 2"),
            ],
        )
    }

    fn value(path: &str) -> AgapResult<Vec<String>> {
        PartPath::parse(path, "MESSAGE")?.extract(sample(), 1022).map(|v| v.lines.collect())
    }

    #[test]
    fn every_spelling_of_the_draft_reaches_the_same_part() {
        for path in ["/MESSAGE/HEADER/subject", "/MESSAGE/HEADER/SUBJECT", "header/subject", "/HEADER/subject"] {
            assert_eq!(value(path).expect(path), ["Hello"], "{path}");
        }
        for path in ["/MESSAGE/HTML", "/MESSAGE/BODY/HTML", "/message/html"] {
            assert_eq!(value(path).expect(path), ["<b>x</b>", "line 2"], "{path}");
        }
    }

    #[test]
    fn multi_valued_fields_give_one_value_per_line() {
        assert_eq!(value("/MESSAGE/HEADER/received").expect("items"), ["one", "two"]);
    }

    #[test]
    fn list_items_are_counted_from_one_and_respect_quotes() {
        assert_eq!(value("/MESSAGE/HEADER/to[1]").expect("first"), ["\"Doe, John\" <j@x>"]);
        assert_eq!(value("/MESSAGE/HEADER/to[2]").expect("second"), ["b@y"]);
        assert!(value("/MESSAGE/HEADER/to[3]").is_err());
        assert!(value("/MESSAGE/HEADER/to[0]").is_err());
        assert_eq!(value("/MESSAGE/HEADER/subject{1}").expect("no separator"), ["Hello"]);
    }

    #[test]
    fn unknown_and_malformed_paths_are_511() {
        for path in [
            "ABC",
            "/MESSAGE/NOPE",
            "/MESSAGE/HEADER/x-not-there",
            "/MESSAGE/HEADER",
            "//x",
            "/MESSAGE/HEADER/to[x]",
            "/MESSAGE/HEADER/to[1",
        ] {
            assert_eq!(value(path).expect_err(path).to_reply().code.number(), 511, "{path}");
        }
    }

    #[test]
    fn header_paths_are_recognised_for_partial_fetches() {
        assert_eq!(PartPath::parse("header/subject", "MESSAGE").expect("valid").header_field(), Some("subject"));
        assert_eq!(PartPath::parse("/MESSAGE/TEXT", "MESSAGE").expect("valid").header_field(), None);
    }
}
