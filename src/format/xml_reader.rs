//! Reading the XML a client STORs, strictly (draft 4.39: invalid XML is 511): no DTD, no entity
//! other than the five predefined ones and character references, no mixed content, one root,
//! bounded depth. `ENCODED="base64"` content is decoded here (draft 2.8).

use base64::Engine;
use base64::alphabet::STANDARD as ALPHABET;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

use crate::error::{AgapError, AgapResult};

use super::tree::{Content, Element};

const MAX_DEPTH: usize = 32;

/// Base64 as clients write it: the draft's own figures (5, 15, 21, 23: `ABCDEFGHIJ==`) end in
/// non-zero padding bits, which strict decoders refuse; those bits carry nothing, so they are
/// allowed.
const LENIENT: GeneralPurpose =
    GeneralPurpose::new(&ALPHABET, GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true));

fn invalid(reason: impl std::fmt::Display) -> AgapError {
    AgapError::invalid(format!("invalid XML: {reason}"))
}

struct Frame {
    name: String,
    attributes: Vec<(String, String)>,
    base64: bool,
    text: String,
    children: Vec<Element>,
}

fn open(start: &BytesStart<'_>) -> AgapResult<Frame> {
    let name: String = start.name().as_ref().to_owned();
    let mut attributes = Vec::new();
    let mut base64 = false;
    for attribute in start.attributes() {
        let attribute = attribute.map_err(invalid)?;
        let key: String = attribute.key.as_ref().to_owned();
        let value = attribute.normalized_value(XmlVersion::Implicit1_0).map_err(invalid)?.into_owned();
        if key.eq_ignore_ascii_case("ENCODED") {
            match value.to_ascii_lowercase().as_str() {
                "base64" => base64 = true,
                "utf-8" | "utf8" => {}
                other => return Err(invalid(format!("unknown encoding {other:?}"))),
            }
        } else {
            attributes.push((key, value));
        }
    }
    Ok(Frame { name, attributes, base64, text: String::new(), children: Vec::new() })
}

fn close(frame: Frame) -> AgapResult<Element> {
    let Frame { name, attributes, base64, text, children } = frame;
    let content = if !children.is_empty() {
        if !text.trim().is_empty() {
            return Err(invalid(format!("<{name}> mixes text and elements")));
        }
        Content::Children(children)
    } else if base64 {
        let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        Content::Binary(LENIENT.decode(compact).map_err(|e| invalid(format!("<{name}>: bad base64: {e}")))?)
    } else {
        Content::Text(text)
    };
    Ok(Element { name, attributes, content })
}

fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{fffe}' && c != '\u{ffff}')
}

/// Parses one XML document into an element tree.
pub fn parse_xml(text: &str) -> AgapResult<Element> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().trim_text(false);
    let mut stack: Vec<Frame> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let event = reader.read_event().map_err(|e| invalid(format!("at byte {}: {e}", reader.buffer_position())))?;
        match event {
            Event::Eof => break,
            Event::DocType(_) => return Err(invalid("DTDs are not accepted")),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Start(start) => {
                if root.is_some() {
                    return Err(invalid("more than one root element"));
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(invalid("elements nested too deeply"));
                }
                stack.push(open(&start)?);
            }
            Event::Empty(start) => {
                let element = close(open(&start)?)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None if root.is_none() => root = Some(element),
                    None => return Err(invalid("more than one root element")),
                }
            }
            Event::End(_) => {
                let frame = stack.pop().ok_or_else(|| invalid("unbalanced end tag"))?;
                let element = close(frame)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => root = Some(element),
                }
            }
            Event::Text(content) => {
                let content = content.xml10_content();
                match stack.last_mut() {
                    Some(frame) => frame.text.push_str(&content),
                    None if content.trim().is_empty() => {}
                    None => return Err(invalid("text outside the root element")),
                }
            }
            Event::CData(data) => {
                let data: String = data.as_ref().to_owned();
                stack.last_mut().ok_or_else(|| invalid("CDATA outside the root element"))?.text.push_str(&data);
            }
            Event::GeneralRef(reference) => {
                let name: &str = reference.as_ref();
                let resolved = match name {
                    "amp" => '&',
                    "lt" => '<',
                    "gt" => '>',
                    "quot" => '"',
                    "apos" => '\'',
                    _ => reference
                        .resolve_char_ref()
                        .map_err(invalid)?
                        .filter(|c| is_xml_char(*c))
                        .ok_or_else(|| invalid(format!("unknown entity &{name};")))?,
                };
                stack.last_mut().ok_or_else(|| invalid("reference outside the root element"))?.text.push(resolved);
            }
        }
    }
    if !stack.is_empty() {
        return Err(invalid("the document ends inside an element"));
    }
    root.ok_or_else(|| invalid("no root element"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_retr_writes_reads_back_the_same() {
        let tree = Element::parent(
            "MESSAGE",
            vec![
                Element::parent("HEADER", vec![Element::text("Subject", "a < b & \"c\" ü")]),
                Element::text("TEXT", "line\r\nbare\rcr"),
                Element { name: "BODY".into(), attributes: vec![], content: Content::Binary(vec![0, 255, 10]) },
            ],
        );
        let text = tree.to_lines(1022).join("\n");
        assert_eq!(parse_xml(&text).expect("parses"), tree);
        // Text that went out as base64 comes back as its UTF-8 bytes; the reader of the tree
        // knows from the element whether they are text.
        let long = Element::text("HTML", "x".repeat(3000));
        let back = parse_xml(&long.to_lines(1022).join("\n")).expect("parses");
        assert_eq!(back.content, Content::Binary("x".repeat(3000).into_bytes()));
    }

    #[test]
    fn hostile_or_broken_documents_are_refused() {
        for bad in [
            "<!DOCTYPE x [<!ENTITY e \"boom\">]><x>&e;</x>",
            "<x>&e;</x>",
            "<x>&#0;</x>",
            "<x><y>text</x>",
            "<x>a<y/>b</x>",
            "<x/><y/>",
            "text",
            "",
            "<x ENCODED=\"base64\">%%%</x>",
            "<x ENCODED=\"rot13\">a</x>",
            "<from>HCCP<&lt;news@example.com&&gt;</from>",
        ] {
            assert!(parse_xml(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(parse_xml(&format!("{}{}", "<a>".repeat(40), "</a>".repeat(40))).is_err());
    }

    #[test]
    fn declarations_comments_and_cdata_are_fine() {
        let tree = parse_xml("<?xml version=\"1.0\"?><!-- hi --><x><![CDATA[<b>]]></x>").expect("parses");
        assert_eq!(tree.content, Content::Text("<b>".into()));
    }
}
