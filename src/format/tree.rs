//! The element tree of an AGAP rendering and how it goes on the wire.
//!
//! Text is written as XML character data when it can be: valid XML 1.0 characters only, and
//! every resulting line short enough for the protocol (draft 2.2: 1024 characters with the
//! leading dot and the LF). Otherwise, and for binary data, the element gets
//! `ENCODED="base64"` (draft 2.8) and its content goes out base64-encoded in 76-character lines;
//! for text that is the base64 of its UTF-8 bytes.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// What an element holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    /// Text (UTF-8, line ends as LF).
    Text(String),
    /// Bytes.
    Binary(Vec<u8>),
    /// Child elements.
    Children(Vec<Element>),
}

/// One element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    /// Its name, as written.
    pub name: String,
    /// Its attributes. ENCODED is the renderer's to decide: one given here (`ENCODED="utf-8"`,
    /// for renderings whose default is base64, draft 2.11.5) is written only while the content
    /// goes out as text, and replaced by `ENCODED="base64"` when it does not.
    pub attributes: Vec<(String, String)>,
    /// Its content.
    pub content: Content,
}

/// The attribute naming how content is encoded (draft 2.8).
pub const ENCODED: &str = "ENCODED";

/// Longest base64 line.
const BASE64_LINE: usize = 76;

fn xml_char_allowed(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{fffe}' && c != '\u{ffff}')
}

/// Escapes character data and attribute values; CR as a character reference so that it
/// survives a line-based transport.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\r' => out.push_str("&#13;"),
            _ => out.push(c),
        }
    }
    out
}

/// Escapes an attribute value. A reader replaces a literal line break or tab in an attribute
/// with a space (XML 1.0, 3.3.3), so those go as character references to come back intact.
pub fn escape_attribute(value: &str) -> String {
    escape(value).replace('\n', "&#10;").replace('\t', "&#9;")
}

/// The bytes base64 encodes into one line of 76 characters.
const BASE64_LINE_BYTES: usize = BASE64_LINE / 4 * 3;

/// The base64 of `bytes` in lines of 76, encoded as the lines are taken: the same lines as
/// encoding the whole and cutting it every 76 characters, since 57 bytes make 76 characters
/// without padding.
#[derive(Debug)]
pub struct Base64Lines {
    bytes: Vec<u8>,
    next: usize,
}

impl Base64Lines {
    /// The lines of `bytes`.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self { bytes, next: 0 }
    }
}

impl Iterator for Base64Lines {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        if self.next >= self.bytes.len() {
            return None;
        }
        let end = (self.next + BASE64_LINE_BYTES).min(self.bytes.len());
        let line = STANDARD.encode(&self.bytes[self.next..end]);
        self.next = end;
        Some(line)
    }
}

/// Where the next line of an element with text content starts.
///
/// The element's XML is split into lines, each empty line folded into the line before it as
/// a character reference (`a&#10;` then `b` reads as "a", LF, LF, "b"): an empty line ends STOR
/// content (draft 4.39), and what RETR sends must be fit to STOR again (docs/interpretations.md,
/// ROUND-TRIP). The open tag starts the first line and the close tag ends the last, so neither can
/// be empty.
#[derive(Debug)]
struct TextCursor {
    /// Byte offset of the next segment of the text; `None` once the close tag went out.
    next: Option<usize>,
    opened: bool,
}

impl TextCursor {
    fn next_line(&mut self, text: &str, open: &str, close: &str) -> Option<String> {
        let start = self.next?;
        let mut line = if self.opened { String::new() } else { open.to_owned() };
        self.opened = true;
        let rest = &text[start..];
        match rest.find('\n') {
            None => {
                line.push_str(&escape(rest));
                line.push_str(close);
                self.next = None;
            }
            Some(end) => {
                line.push_str(&escape(&rest[..end]));
                let mut next = start + end + 1;
                // An empty segment that is not the last one would be an empty line.
                while text[next..].starts_with('\n') {
                    line.push_str("&#10;");
                    next += 1;
                }
                self.next = Some(next);
            }
        }
        Some(line)
    }

    fn start() -> Self {
        Self { next: Some(0), opened: false }
    }
}

/// The lines of a rendering, made as they are taken and from a tree they consume: a
/// connection writing a large item to a slow client holds a shrinking tree and one line, never
/// the rendering as a whole.
#[derive(Debug)]
pub struct Lines {
    max_chars: usize,
    /// Elements to write, the next one last.
    stack: Vec<Pending>,
    /// The lines of the leaf being written.
    leaf: Option<LeafLines>,
}

#[derive(Debug)]
enum Pending {
    /// An element not started yet.
    Element(Element),
    /// The children still to write of an element already opened, and its close tag.
    Children { rest: std::vec::IntoIter<Element>, close: String },
}

#[derive(Debug)]
enum LeafLines {
    /// Text as XML character data.
    Text { text: String, open: String, close: String, cursor: TextCursor },
    /// Base64 data after its open tag, the close tag at the end of its last line.
    Base64 { open: Option<String>, lines: std::iter::Peekable<Base64Lines>, close: Option<String> },
}

impl Iterator for LeafLines {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        match self {
            Self::Text { text, open, close, cursor } => cursor.next_line(text, open, close),
            Self::Base64 { open, lines, close } => {
                if let Some(open) = open.take() {
                    return Some(open);
                }
                match lines.next() {
                    Some(mut line) => {
                        if lines.peek().is_none()
                            && let Some(close) = close.take()
                        {
                            line.push_str(&close);
                        }
                        Some(line)
                    }
                    None => close.take(),
                }
            }
        }
    }
}

impl Iterator for Lines {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        loop {
            if let Some(line) = self.leaf.as_mut().and_then(Iterator::next) {
                return Some(line);
            }
            self.leaf = None;
            match self.stack.pop()? {
                Pending::Children { mut rest, close } => match rest.next() {
                    Some(child) => {
                        self.stack.push(Pending::Children { rest, close });
                        self.stack.push(Pending::Element(child));
                    }
                    None => return Some(close),
                },
                Pending::Element(Element { name, attributes, content }) => {
                    let close = format!("</{name}>");
                    let open = |encoded| open_tag(&name, &attributes, encoded);
                    match content {
                        Content::Children(children) => {
                            self.stack.push(Pending::Children { rest: children.into_iter(), close });
                            return Some(open(false));
                        }
                        Content::Text(text) => {
                            let plain = open(false);
                            self.leaf = Some(if fits_as_text(&text, &plain, &close, self.max_chars) {
                                LeafLines::Text { text, open: plain, close, cursor: TextCursor::start() }
                            } else {
                                LeafLines::base64(open(true), text.into_bytes(), close)
                            });
                        }
                        // Nothing to encode: empty data looks the same whatever its kind.
                        Content::Binary(bytes) if bytes.is_empty() => return Some(format!("{}{close}", open(false))),
                        Content::Binary(bytes) => self.leaf = Some(LeafLines::base64(open(true), bytes, close)),
                    }
                }
            }
        }
    }
}

impl LeafLines {
    fn base64(open: String, bytes: Vec<u8>, close: String) -> Self {
        Self::Base64 { open: Some(open), lines: Base64Lines::new(bytes).peekable(), close: Some(close) }
    }
}

/// An open tag; `encoded` adds ENCODED="base64" (draft 2.8) in place of any ENCODED given.
fn open_tag(name: &str, attributes: &[(String, String)], encoded: bool) -> String {
    let mut tag = format!("<{name}");
    for (name, value) in attributes.iter().filter(|(name, _)| !(encoded && name.eq_ignore_ascii_case(ENCODED))) {
        tag.push_str(&format!(" {name}=\"{}\"", escape_attribute(value)));
    }
    if encoded {
        tag.push_str(" ENCODED=\"base64\"");
    }
    tag.push('>');
    tag
}

/// Whether text goes out as character data: only characters XML allows, and no line longer
/// than the protocol's (checked line by line, without keeping them).
fn fits_as_text(text: &str, open: &str, close: &str, max_chars: usize) -> bool {
    if !text.chars().all(xml_char_allowed) {
        return false;
    }
    let mut cursor = TextCursor::start();
    std::iter::from_fn(|| cursor.next_line(text, open, close)).all(|line| line.chars().count() <= max_chars)
}

impl Element {
    /// An element with text content.
    pub fn text(name: impl Into<String>, text: impl Into<String>) -> Self {
        Self { name: name.into(), attributes: Vec::new(), content: Content::Text(text.into()) }
    }

    /// An element with children.
    pub fn parent(name: impl Into<String>, children: Vec<Element>) -> Self {
        Self { name: name.into(), attributes: Vec::new(), content: Content::Children(children) }
    }

    /// The first child whose name matches `name` case-insensitively.
    pub fn child(&self, name: &str) -> Option<&Element> {
        match &self.content {
            Content::Children(children) => children.iter().find(|child| child.name.eq_ignore_ascii_case(name)),
            _ => None,
        }
    }

    /// The first child element named `name` (any case), to change or take its content.
    pub fn child_mut(&mut self, name: &str) -> Option<&mut Element> {
        match &mut self.content {
            Content::Children(children) => children.iter_mut().find(|child| child.name.eq_ignore_ascii_case(name)),
            _ => None,
        }
    }

    /// The rendering as lines, none longer than `max_chars`, made as they are taken.
    pub fn into_lines(self, max_chars: usize) -> Lines {
        Lines { max_chars, stack: vec![Pending::Element(self)], leaf: None }
    }

    /// The rendering as lines (tests and small trees; replies use [`Element::into_lines`]).
    pub fn to_lines(&self, max_chars: usize) -> Vec<String> {
        self.clone().into_lines(max_chars).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Element {
        Element::parent(
            "MESSAGE",
            vec![
                Element::parent("HEADER", vec![Element::text("subject", "a < b & \"c\"")]),
                Element::text("TEXT", "line 1\nline 2\r\nend"),
            ],
        )
    }

    #[test]
    fn text_is_escaped_and_keeps_its_lines() {
        assert_eq!(
            sample().to_lines(1022),
            [
                "<MESSAGE>",
                "<HEADER>",
                "<subject>a &lt; b &amp; &quot;c&quot;</subject>",
                "</HEADER>",
                "<TEXT>line 1",
                "line 2&#13;",
                "end</TEXT>",
                "</MESSAGE>"
            ]
        );
    }

    #[test]
    fn long_lines_and_binary_go_out_as_wrapped_base64() {
        let long = "x".repeat(5000);
        let lines = Element::text("TEXT", long.clone()).to_lines(1022);
        assert_eq!(lines[0], "<TEXT ENCODED=\"base64\">");
        assert!(lines.iter().all(|line| line.len() <= 76 + "</TEXT>".len()));
        let joined: String = lines[1..].concat().trim_end_matches("</TEXT>").to_owned();
        assert_eq!(STANDARD.decode(joined).expect("base64"), long.as_bytes());
        let binary = Element { name: "BODY".into(), attributes: Vec::new(), content: Content::Binary(vec![0, 1, 2]) };
        assert_eq!(binary.to_lines(1022), ["<BODY ENCODED=\"base64\">", "AAEC</BODY>"]);
    }

    #[test]
    fn base64_made_line_by_line_is_the_whole_encoding_cut_every_76() {
        for size in 0..300 {
            let bytes: Vec<u8> = (0..size).map(|n| (n * 7 % 256) as u8).collect();
            let whole = STANDARD.encode(&bytes);
            let cut: Vec<String> =
                whole.as_bytes().chunks(76).map(|c| String::from_utf8_lossy(c).into_owned()).collect();
            assert_eq!(Base64Lines::new(bytes).collect::<Vec<_>>(), cut, "{size} bytes");
        }
    }

    #[test]
    fn empty_lines_never_appear_so_that_retr_output_can_be_stored_again() {
        let lines = Element::text("TEXT", "a\n\n\nb\n\n").to_lines(1022);
        assert_eq!(lines, ["<TEXT>a&#10;&#10;", "b&#10;", "</TEXT>"]);
        assert!(lines.iter().all(|line| !line.is_empty()));
    }

    #[test]
    fn line_breaks_in_attributes_survive_a_reader() {
        let mut element = Element::text("X-APPLE-STRUCTURED-LOCATION", "geo:1,2");
        element.attributes.push(("X-ADDRESS".into(), "Street 16\n12764 Town\tDK".into()));
        let lines = element.to_lines(1022);
        assert_eq!(lines.len(), 1, "{lines:?}");
        let read = crate::format::xml_reader::parse_xml(&lines.join("\n")).expect("XML");
        assert_eq!(read.attributes, [("X-ADDRESS".to_owned(), "Street 16\n12764 Town\tDK".to_owned())]);
    }

    #[test]
    fn a_given_encoding_stays_with_text_and_gives_way_to_base64() {
        let mut utf8 = Element::text("CONTENT", "sure.");
        utf8.attributes.push((ENCODED.into(), "utf-8".into()));
        assert_eq!(utf8.to_lines(1022), ["<CONTENT ENCODED=\"utf-8\">sure.</CONTENT>"]);
        utf8.content = Content::Text("bell\u{7}".into());
        assert_eq!(utf8.to_lines(1022), ["<CONTENT ENCODED=\"base64\">", "YmVsbAc=</CONTENT>"]);
        utf8.content = Content::Binary(vec![0]);
        assert_eq!(utf8.to_lines(1022), ["<CONTENT ENCODED=\"base64\">", "AA==</CONTENT>"]);
    }

    #[test]
    fn characters_xml_cannot_hold_force_base64() {
        let lines = Element::text("TEXT", "bell\u{7}").to_lines(1022);
        assert_eq!(lines[0], "<TEXT ENCODED=\"base64\">");
        assert_eq!(Element::text("TEXT", "").to_lines(1022), ["<TEXT></TEXT>"]);
    }
}
