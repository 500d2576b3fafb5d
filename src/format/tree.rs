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
    /// Attributes other than ENCODED, which the renderer decides.
    pub attributes: Vec<(String, String)>,
    /// Its content.
    pub content: Content,
}

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

/// The base64 of `bytes` in lines of 76.
pub fn base64_lines(bytes: &[u8]) -> Vec<String> {
    let encoded = STANDARD.encode(bytes);
    encoded.as_bytes().chunks(BASE64_LINE).map(|chunk| String::from_utf8_lossy(chunk).into_owned()).collect()
}

/// Splits rendered XML into lines, folding each empty line into the line before it as a
/// character reference (`a&#10;` then `b` reads as "a", LF, LF, "b"): an empty line ends STOR
/// content (draft 4.39), and what RETR sends must be fit to STOR again (AMBIGUITIES B.12).
fn without_empty_lines(rendered: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for line in rendered.split('\n') {
        match lines.last_mut() {
            Some(previous) if line.is_empty() => previous.push_str("&#10;"),
            _ => lines.push(line.to_owned()),
        }
    }
    lines
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

    fn open_tag(&self, encoded: bool) -> String {
        let mut tag = format!("<{}", self.name);
        for (name, value) in &self.attributes {
            tag.push_str(&format!(" {name}=\"{}\"", escape_attribute(value)));
        }
        if encoded {
            tag.push_str(" ENCODED=\"base64\"");
        }
        tag.push('>');
        tag
    }

    /// Appends the element's lines to `lines`, none longer than `max_chars`.
    pub fn render(&self, max_chars: usize, lines: &mut Vec<String>) {
        let close = format!("</{}>", self.name);
        match &self.content {
            Content::Children(children) => {
                lines.push(self.open_tag(false));
                for child in children {
                    child.render(max_chars, lines);
                }
                lines.push(close);
            }
            Content::Text(text) => {
                if text.chars().all(xml_char_allowed) {
                    let rendered = without_empty_lines(&format!("{}{}{close}", self.open_tag(false), escape(text)));
                    if rendered.iter().all(|line| line.chars().count() <= max_chars) {
                        lines.extend(rendered);
                        return;
                    }
                }
                self.render_base64(text.as_bytes(), &close, lines);
            }
            // Nothing to encode: empty data looks the same whatever its kind.
            Content::Binary(bytes) if bytes.is_empty() => lines.push(format!("{}{close}", self.open_tag(false))),
            Content::Binary(bytes) => self.render_base64(bytes, &close, lines),
        }
    }

    fn render_base64(&self, bytes: &[u8], close: &str, lines: &mut Vec<String>) {
        lines.push(self.open_tag(true));
        let mut encoded = base64_lines(bytes);
        match encoded.last_mut() {
            Some(last) => last.push_str(close),
            None => encoded.push(close.to_owned()),
        }
        lines.extend(encoded);
    }

    /// The rendering as lines.
    pub fn to_lines(&self, max_chars: usize) -> Vec<String> {
        let mut lines = Vec::new();
        self.render(max_chars, &mut lines);
        lines
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
    fn characters_xml_cannot_hold_force_base64() {
        let lines = Element::text("TEXT", "bell\u{7}").to_lines(1022);
        assert_eq!(lines[0], "<TEXT ENCODED=\"base64\">");
        assert_eq!(Element::text("TEXT", "").to_lines(1022), ["<TEXT></TEXT>"]);
    }
}
