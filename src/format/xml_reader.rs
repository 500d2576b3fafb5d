//! Reading the XML a client STORs, strictly (draft 4.39: invalid XML is 511): no DTD, no entity
//! other than the five predefined ones and character references, no mixed content, one root,
//! bounded depth. `ENCODED="base64"` content is decoded here (draft 2.8).
//!
//! The tree is bounded too: each element and attribute costs far more in the tree than in the
//! text (`<a/>` is 4 bytes of text and about 200 bytes of tree), so their number is bounded by
//! the item size limit over that cost, and a document of tiny elements cannot make the tree
//! hold more than about the limit (text content is at most the input's size on top of it).

use base64::Engine;
use base64::alphabet::STANDARD as ALPHABET;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

use crate::error::{AgapError, AgapResult};

use super::tree::{Content, ENCODED, Element};

const MAX_DEPTH: usize = 32;

/// What one element or attribute holds in the tree, counted high: an element is stored in its
/// parent's vector, which holds up to twice what it uses while it grows, and owns two small
/// allocations (its name, its text), which the allocator rounds up to 32 bytes; an attribute is
/// a pair of strings with an allocation each. Measured: 80 bytes per `Element`, 48 per
/// attribute pair (test `node_cost_covers_what_the_tree_holds`).
pub const NODE_COST: usize = {
    let element = 2 * std::mem::size_of::<Element>() + 2 * 32;
    let attribute = 2 * std::mem::size_of::<(String, String)>() + 2 * 32;
    if element > attribute { element } else { attribute }
};

/// The fewest elements and attributes a document may have whatever the item limit, so that a
/// small limit still takes ordinary items (the smallest figures of the draft have dozens).
const MIN_NODES: usize = 4096;

/// Attributes on one element. AGAP renderings carry a handful (ENCODED, vCard and iCalendar
/// parameters); the bound also keeps the XML reader's duplicate check, quadratic in the
/// attributes of one element, short.
const MAX_ATTRIBUTES: usize = 64;

/// The elements and attributes a document may hold for items of at most `max_item_size` bytes:
/// so many that their overhead in the tree stays within the item limit.
pub fn max_nodes(max_item_size: usize) -> usize {
    (max_item_size / NODE_COST).max(MIN_NODES)
}

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

/// Counts what a document puts in the tree.
struct Nodes {
    left: usize,
    max: usize,
}

impl Nodes {
    fn take(&mut self) -> AgapResult<()> {
        self.left = self.left.checked_sub(1).ok_or_else(|| {
            AgapError::invalid(format!(
                "invalid XML: more than {} elements and attributes (the bound for items of this size)",
                self.max
            ))
        })?;
        Ok(())
    }
}

fn open(start: &BytesStart<'_>, nodes: &mut Nodes, keep_utf8: bool) -> AgapResult<Frame> {
    nodes.take()?;
    let name: String = start.name().as_ref().to_owned();
    let mut attributes = Vec::new();
    let mut base64 = false;
    for (index, attribute) in start.attributes().enumerate() {
        if index >= MAX_ATTRIBUTES {
            return Err(invalid(format!("<{name}> has more than {MAX_ATTRIBUTES} attributes")));
        }
        nodes.take()?;
        let attribute = attribute.map_err(invalid)?;
        let key: String = attribute.key.as_ref().to_owned();
        let value = attribute.normalized_value(XmlVersion::Implicit1_0).map_err(invalid)?.into_owned();
        if key.eq_ignore_ascii_case(ENCODED) {
            match value.to_ascii_lowercase().as_str() {
                "base64" => base64 = true,
                "utf-8" | "utf8" if keep_utf8 => attributes.push((ENCODED.to_owned(), "utf-8".to_owned())),
                "utf-8" | "utf8" => {}
                other => return Err(invalid(format!("unknown encoding {other:?}"))),
            }
        } else {
            attributes.push((key, value));
        }
    }
    Ok(Frame { name, attributes, base64, text: String::new(), children: Vec::new() })
}

/// The bytes of the base64 content of element `name`, line breaks and other whitespace
/// ignored; 511 when it is not base64.
pub fn decode_base64(name: &str, text: &str) -> AgapResult<Vec<u8>> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    LENIENT.decode(compact).map_err(|e| invalid(format!("<{name}>: bad base64: {e}")))
}

fn close(frame: Frame) -> AgapResult<Element> {
    let Frame { name, attributes, base64, text, children } = frame;
    let content = if !children.is_empty() {
        if !text.trim().is_empty() {
            return Err(invalid(format!("<{name}> mixes text and elements")));
        }
        Content::Children(children)
    } else if base64 {
        Content::Binary(decode_base64(&name, &text)?)
    } else {
        Content::Text(text)
    };
    Ok(Element { name, attributes, content })
}

fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{fffe}' && c != '\u{ffff}')
}

/// Parses one XML document into an element tree, bounded as for items of the default size
/// limit.
pub fn parse_xml(text: &str) -> AgapResult<Element> {
    parse_xml_within(text, crate::config::MailConfig::default().max_item_size)
}

/// Parses one XML document into an element tree whose elements and attributes hold no more
/// than about `max_item_size` bytes (see [`max_nodes`]).
pub fn parse_xml_within(text: &str, max_item_size: usize) -> AgapResult<Element> {
    parse(text, max_item_size, false)
}

/// As [`parse_xml_within`], but an explicit `ENCODED="utf-8"` stays on its element as that
/// attribute, so that a reader can tell it from content without ENCODED: for renderings whose
/// content is base64 unless it says otherwise (FILE, draft 2.11.5). Others take ENCODED for
/// the reader's alone and would treat the attribute as data (a vCard parameter).
pub fn parse_xml_keeping_encoding(text: &str, max_item_size: usize) -> AgapResult<Element> {
    parse(text, max_item_size, true)
}

fn parse(text: &str, max_item_size: usize, keep_utf8: bool) -> AgapResult<Element> {
    let max = max_nodes(max_item_size);
    let mut nodes = Nodes { left: max, max };
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
                stack.push(open(&start, &mut nodes, keep_utf8)?);
            }
            Event::Empty(start) => {
                let element = close(open(&start, &mut nodes, keep_utf8)?)?;
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
    fn node_cost_covers_what_the_tree_holds() {
        assert_eq!(std::mem::size_of::<Element>(), 80, "the cost below was measured with this size");
        assert_eq!(std::mem::size_of::<(String, String)>(), 48);
        assert_eq!(NODE_COST, 224);
        // A limit of 25 MiB takes about 117,000 elements: far more than any rendering has
        // (a message is a few dozen, a vCard or event a few hundred).
        assert_eq!(max_nodes(25 * 1024 * 1024), 117_028);
        assert_eq!(max_nodes(1000), MIN_NODES);
    }

    /// The attack of issue 12: a STOR of `<a/>` elements. Past the bound, 511 naming it; the
    /// tree built meanwhile stays within the item limit.
    #[test]
    fn many_tiny_elements_are_refused_past_the_bound() {
        let limit = 1 << 20;
        let max = max_nodes(limit);
        assert_eq!(max, 4681);
        let fits = format!("<r>{}</r>", "<a/>".repeat(max - 1));
        let tree = parse_xml_within(&fits, limit).expect("the root and max - 1 elements fit");
        let Content::Children(children) = &tree.content else { panic!("children") };
        assert_eq!(children.len(), max - 1);
        let over = format!("<r>{}</r>", "<a/>".repeat(max));
        let reply = parse_xml_within(&over, limit).expect_err("one too many").to_reply();
        assert_eq!(reply.code.number(), 511);
        assert!(reply.text.contains("more than 4681 elements and attributes"), "{}", reply.text);
        // Attributes count as well, and there are at most 64 on one element.
        let attributes = format!("<r>{}</r>", "<a b=\"\" c=\"\"/>".repeat(max / 3 + 1));
        assert!(parse_xml_within(&attributes, limit).is_err());
        let many = format!("<a {}/>", (0..65).map(|i| format!("x{i}=\"\"")).collect::<Vec<_>>().join(" "));
        let reply = parse_xml_within(&many, limit).expect_err("65 attributes").to_reply();
        assert!(reply.text.contains("more than 64 attributes"), "{}", reply.text);
    }

    #[test]
    fn an_explicit_utf8_encoding_is_kept_only_when_asked_for() {
        let xml = "<FILE><CONTENT ENCODED=\"UTF-8\">sure.</CONTENT><B ENCODED=\"base64\">AA==</B><C>x</C></FILE>";
        let kept = parse_xml_keeping_encoding(xml, 1 << 20).expect("parses");
        let content = kept.child("CONTENT").expect("CONTENT");
        assert_eq!(content.attributes, [(ENCODED.to_owned(), "utf-8".to_owned())]);
        assert_eq!(content.content, Content::Text("sure.".into()));
        assert_eq!(kept.child("B").map(|b| (&b.attributes, &b.content)), Some((&vec![], &Content::Binary(vec![0]))));
        assert!(kept.child("C").is_some_and(|c| c.attributes.is_empty()));
        let dropped = parse_xml(xml).expect("parses");
        assert!(dropped.child("CONTENT").is_some_and(|c| c.attributes.is_empty()));
    }

    #[test]
    fn declarations_comments_and_cdata_are_fine() {
        let tree = parse_xml("<?xml version=\"1.0\"?><!-- hi --><x><![CDATA[<b>]]></x>").expect("parses");
        assert_eq!(tree.content, Content::Text("<b>".into()));
    }
}
