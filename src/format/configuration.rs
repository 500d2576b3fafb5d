//! Configuration as `<CONFIGURATION>` (draft 2.11.3): one element per entry, named by the
//! client's own key, holding its value as text; and how one entry is kept upstream as an IMAP
//! METADATA entry (RFC 5464). Readings: docs/interpretations.md, CONF-KEYS, CONF-DUPLICATES,
//! CONF-VALUES, CONF-BOUNDS.
//!
//! Upstream, a key becomes one component of an entry name and its value an annotation value:
//!
//! - [`entry_name`]: upper-case letters, digits, `-` and `.` stand for themselves, upper case
//!   written in lower case; every other byte is `_` and two hex digits (`quota` ->
//!   `_71_75_6f_74_61`). The result holds no upper case, so a server that folds the case of
//!   entry names keeps it intact, and [`name_of_entry`] reads it in any case.
//! - [`entry_value`]: printable ASCII stands for itself except `%`, `"` and `\`; every other
//!   byte is `%` and two hex digits. Annotation values travel as quoted strings of printable
//!   ASCII (adapters/api, `MAX_ANNOTATION_VALUE`).

use mail_builder::MessageBuilder;
use mail_builder::headers::date::Date;
use mail_builder::headers::raw::Raw;

use crate::error::{AgapError, AgapResult};

use super::compose::{Defaults, text_leaf, text_of};
use super::content_line::is_xml_name;
use super::message::parse;
use super::tree::{Content, Element};
use super::xml_reader::parse_xml_within;

/// The most entries one configuration holds.
pub const MAX_ENTRIES: usize = 256;

/// The longest key in bytes.
pub const MAX_KEY: usize = 128;

/// The most bytes a configuration takes upstream: its entry name components and encoded
/// values together. The gateway writes a configuration in one SETMETADATA command, and servers
/// bound a command line (Dovecot's `imap_max_line_length` is 64 KiB by default): this leaves
/// room for [`MAX_ENTRIES`] full entry names and their quoting (src/items/configuration checks
/// the worst case).
pub const MAX_STORED: usize = 40 * 1024;

fn invalid(reason: impl Into<String>) -> AgapError {
    AgapError::invalid(reason.into())
}

/// Whether `name` can be a key: an XML name of ASCII letters, digits, `-`, `_` and `.`, no
/// longer than [`MAX_KEY`].
fn is_key(name: &str) -> bool {
    name.len() <= MAX_KEY && is_xml_name(name)
}

/// Refuses what a value may not hold: control characters other than tab and line feed.
fn check_value(name: &str, value: &str) -> AgapResult<()> {
    if value.chars().any(|c| c.is_control() && c != '\t' && c != '\n') {
        return Err(invalid(format!("<{name}> holds control characters")));
    }
    Ok(())
}

/// The entries of a STORed `<CONFIGURATION>`, in order.
///
/// 511 for another root, an entry whose name is no key (see [`entry_name`]) or that holds
/// elements, a key given twice, a value with control characters other than tab and line feed
/// or that is not UTF-8, more than [`MAX_ENTRIES`] entries, or more than [`MAX_STORED`] bytes
/// upstream. Values are kept as written, whitespace included.
pub fn read_configuration(tree: Element) -> AgapResult<Vec<(String, String)>> {
    if !tree.name.eq_ignore_ascii_case("CONFIGURATION") {
        return Err(invalid(format!("<{}> is not a configuration", tree.name)));
    }
    let children = match tree.content {
        Content::Children(children) => children,
        Content::Text(text) if text.trim().is_empty() => Vec::new(),
        _ => return Err(invalid("<CONFIGURATION> must hold elements")),
    };
    if children.len() > MAX_ENTRIES {
        return Err(invalid(format!("a configuration holds at most {MAX_ENTRIES} entries")));
    }
    let mut entries: Vec<(String, String)> = Vec::with_capacity(children.len());
    let mut stored = 0;
    for child in children {
        let name = child.name.clone();
        let entry = entry_name(&name)?;
        if entries.iter().any(|(known, _)| *known == name) {
            return Err(invalid(format!("<{name}> is given twice")));
        }
        let value = text_of(child)?;
        check_value(&name, &value)?;
        stored += entry.len() + entry_value(&value).len();
        if stored > MAX_STORED {
            return Err(invalid(format!("a configuration takes at most {MAX_STORED} bytes")));
        }
        entries.push((name, value));
    }
    Ok(entries)
}

/// Renders entries as `<CONFIGURATION>`, in the order given; a name that is no key (none that
/// [`read_configuration`] or [`name_of_entry`] gives) could not be an element and is left out.
pub fn render_configuration(entries: &[(String, String)]) -> Element {
    let children = entries.iter().filter(|(name, _)| is_key(name)).map(|(name, value)| Element::text(name, value));
    Element::parent("CONFIGURATION", children.collect())
}

/// The entry name component that keeps key `name` upstream; 511 when `name` is no key.
pub fn entry_name(name: &str) -> AgapResult<String> {
    if !is_key(name) {
        return Err(invalid(format!(
            "{name:?} is not a configuration key (an XML name of ASCII letters, digits, '-', '_' and '.', \
             at most {MAX_KEY} bytes)"
        )));
    }
    let mut entry = String::with_capacity(name.len() * 3);
    for byte in name.bytes() {
        match byte {
            b'A'..=b'Z' => entry.push(char::from(byte.to_ascii_lowercase())),
            b'0'..=b'9' | b'-' | b'.' => entry.push(char::from(byte)),
            _ => entry.push_str(&format!("_{byte:02x}")),
        }
    }
    Ok(entry)
}

/// Two hex digits as a byte.
fn hex_byte(digits: &[u8]) -> Option<u8> {
    let [high, low] = digits else { return None };
    let value = |digit: u8| char::from(digit).to_digit(16).and_then(|v| u8::try_from(v).ok());
    Some(value(*high)? << 4 | value(*low)?)
}

/// The key an entry name component keeps, in the case the server gives it; `None` for a
/// component [`entry_name`] does not write.
pub fn name_of_entry(component: &str) -> Option<String> {
    let bytes = component.as_bytes();
    let mut name = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while let Some(&byte) = bytes.get(at) {
        if byte == b'_' {
            name.push(hex_byte(bytes.get(at + 1..at + 3)?)?);
            at += 3;
        } else {
            name.push(byte.to_ascii_uppercase());
            at += 1;
        }
    }
    let name = String::from_utf8(name).ok()?;
    // Only the one spelling entry_name writes (in any case): two entries never read as one key.
    entry_name(&name).ok().filter(|canonical| canonical.eq_ignore_ascii_case(component)).map(|_| name)
}

/// A value as an annotation value: printable ASCII.
pub fn entry_value(value: &str) -> String {
    let mut stored = String::with_capacity(value.len());
    for byte in value.bytes() {
        if (0x20..0x7f).contains(&byte) && !matches!(byte, b'%' | b'"' | b'\\') {
            stored.push(char::from(byte));
        } else {
            stored.push_str(&format!("%{byte:02X}"));
        }
    }
    stored
}

/// The value an annotation value keeps; `None` for one [`entry_value`] does not write.
pub fn value_of_entry(stored: &str) -> Option<String> {
    let bytes = stored.as_bytes();
    let mut value = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while let Some(&byte) = bytes.get(at) {
        match byte {
            b'%' => {
                value.push(hex_byte(bytes.get(at + 1..at + 3)?)?);
                at += 3;
            }
            b'"' | b'\\' => return None,
            0x20..0x7f => {
                value.push(byte);
                at += 1;
            }
            _ => return None,
        }
    }
    String::from_utf8(value).ok()
}

/// The header field that marks a message as an AGAP configuration, and its value.
pub const CONFIGURATION_FIELD: &str = "X-AGAP-Item";
/// See [`CONFIGURATION_FIELD`].
pub const CONFIGURATION_KIND: &str = "configuration";

/// Composes the message that keeps a STORed `<CONFIGURATION>` in a configuration mailbox
/// (docs/configuration.md): the entries as `<CONFIGURATION>` XML in a `text/xml` body, so that
/// the mailbox stays readable in any mail client. 511 as [`read_configuration`].
pub fn compose_configuration(tree: Element, defaults: &Defaults) -> AgapResult<Vec<u8>> {
    let entries = read_configuration(tree)?;
    let xml = render_configuration(&entries).to_lines(usize::MAX).join("\n") + "\n";
    MessageBuilder::new()
        .subject("AGAP configuration")
        .header(CONFIGURATION_FIELD, Raw::new(CONFIGURATION_KIND))
        .message_id(format!("{}@{}", defaults.unique, defaults.host))
        .date(Date::new(defaults.now))
        .body(text_leaf("xml", xml))
        .write_to_vec()
        .map_err(AgapError::internal)
}

/// The `<CONFIGURATION>` a message of a configuration mailbox keeps; `None` when the message
/// holds none that reads (another client's message filed there, say).
pub fn render_configuration_message(raw: &[u8], max_size: usize) -> Option<Element> {
    let message = parse(raw)?;
    let body = message.parts.first()?.contents();
    let tree = parse_xml_within(std::str::from_utf8(body).ok()?, max_size).ok()?;
    read_configuration(tree).ok().map(|entries| render_configuration(&entries))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_configuration_message_reads_back_as_it_was_stored() {
        let defaults = Defaults { now: 1_700_000_000, host: "gw.example".into(), unique: "abc".into() };
        let tree = crate::format::xml_reader::parse_xml(
            "<CONFIGURATION><CHECK-EACH-MIN>10</CHECK-EACH-MIN><QUOTA>1024</QUOTA><Note>a &lt; b\n c</Note></CONFIGURATION>",
        )
        .expect("xml");
        let message = compose_configuration(tree.clone(), &defaults).expect("composed");
        let text = String::from_utf8_lossy(&message);
        assert!(text.contains("X-AGAP-Item: configuration"), "{text}");
        assert!(text.contains("text/xml"), "{text}");
        let back = render_configuration_message(&message, 1 << 20).expect("reads back");
        assert_eq!(read_configuration(back).expect("valid"), read_configuration(tree).expect("valid"));
        assert_eq!(render_configuration_message(b"Subject: x\r\n\r\nnot xml\r\n", 1 << 20), None);
        let nested =
            crate::format::xml_reader::parse_xml("<CONFIGURATION><A><B>x</B></A></CONFIGURATION>").expect("xml");
        assert_eq!(compose_configuration(nested, &defaults).expect_err("nested").to_reply().code.number(), 511);
    }
    use crate::format::xml_reader::parse_xml;

    fn read(xml: &str) -> AgapResult<Vec<(String, String)>> {
        read_configuration(parse_xml(xml)?)
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())).collect()
    }

    #[test]
    fn figure_7_reads_and_renders_as_in_the_draft() {
        let figure = "<CONFIGURATION>\n  <CHECK-EACH-MIN>10</CHECK-EACH-MIN>\n  <QUOTA>1024</QUOTA>\n</CONFIGURATION>";
        let entries = read(figure).expect("reads");
        assert_eq!(entries, pairs(&[("CHECK-EACH-MIN", "10"), ("QUOTA", "1024")]));
        assert_eq!(
            render_configuration(&entries).to_lines(1022),
            ["<CONFIGURATION>", "<CHECK-EACH-MIN>10</CHECK-EACH-MIN>", "<QUOTA>1024</QUOTA>", "</CONFIGURATION>"]
        );
        assert_eq!(read("<CONFIGURATION>\n</CONFIGURATION>").expect("empty"), []);
        assert_eq!(read("<configuration/>").expect("any case"), []);
    }

    #[test]
    fn keys_keep_their_case_and_values_their_text() {
        let entries = pairs(&[
            ("Quota", " 1 024 "),
            ("quota", "a\tb\nc"),
            ("x.y_z-1", "Grüße & <tags> \"quoted\" 100%"),
            ("EMPTY", ""),
            ("B64", "\u{1F600}"),
        ]);
        let lines = render_configuration(&entries).to_lines(1022);
        assert_eq!(read(&lines.join("\n")).expect("reads back"), entries);
        let base64 = "<CONFIGURATION><A ENCODED=\"base64\">w7w=</A></CONFIGURATION>";
        assert_eq!(read(base64).expect("base64"), pairs(&[("A", "ü")]));
    }

    #[test]
    fn what_is_no_configuration_is_refused() {
        let many = format!(
            "<CONFIGURATION>{}</CONFIGURATION>",
            (0..=MAX_ENTRIES).map(|n| format!("<K{n}/>")).collect::<String>()
        );
        let big = format!(
            "<CONFIGURATION>{}</CONFIGURATION>",
            (0..50).map(|n| format!("<K{n}>{}</K{n}>", "\u{e9}".repeat(170))).collect::<String>()
        );
        for xml in [
            "<CONF><A>1</A></CONF>".to_owned(),
            "<CONFIGURATION>text</CONFIGURATION>".to_owned(),
            "<CONFIGURATION><A><B>1</B></A></CONFIGURATION>".to_owned(),
            "<CONFIGURATION><A>1</A><A>2</A></CONFIGURATION>".to_owned(),
            "<CONFIGURATION><a:b>1</a:b></CONFIGURATION>".to_owned(),
            "<CONFIGURATION><Grüße>1</Grüße></CONFIGURATION>".to_owned(),
            format!("<CONFIGURATION><{0}>1</{0}></CONFIGURATION>", "K".repeat(MAX_KEY + 1)),
            "<CONFIGURATION><A>a&#13;b</A></CONFIGURATION>".to_owned(),
            "<CONFIGURATION><A ENCODED=\"base64\">AA==</A></CONFIGURATION>".to_owned(),
            "<CONFIGURATION><A ENCODED=\"base64\">/w==</A></CONFIGURATION>".to_owned(),
            many,
            big,
        ] {
            let reply = read(&xml).expect_err(&xml).to_reply();
            assert_eq!(reply.code.number(), 511, "{}: {}", &xml[..xml.len().min(80)], reply.text);
        }
        let fits = format!(
            "<CONFIGURATION>{}</CONFIGURATION>",
            (0..MAX_ENTRIES).map(|n| format!("<K{n}/>")).collect::<String>()
        );
        assert_eq!(read(&fits).expect("the most entries").len(), MAX_ENTRIES);
        assert!(read(&format!("<CONFIGURATION><{0}/></CONFIGURATION>", "K".repeat(MAX_KEY))).is_ok());
    }

    #[test]
    fn entry_names_map_keys_both_ways_whatever_the_server_does_to_case() {
        for (name, entry) in [
            ("CHECK-EACH-MIN", "check-each-min"),
            ("QUOTA", "quota"),
            ("Quota", "q_75_6f_74_61"),
            ("_x.1", "_5f_78.1"),
            ("A_", "a_5f"),
        ] {
            assert_eq!(entry_name(name).expect("maps"), entry);
            assert_eq!(name_of_entry(entry).as_deref(), Some(name));
            assert_eq!(name_of_entry(&entry.to_ascii_uppercase()).as_deref(), Some(name), "folded to upper case");
        }
        // Every entry is what the IMAP adapter lets through: visible ASCII without * % " \ /.
        for name in ["A", "z", "a.b-c_d", "X".repeat(MAX_KEY).as_str()] {
            let entry = entry_name(name).expect("maps");
            assert!(entry.bytes().all(|b| b.is_ascii_graphic() && !b"*%\"\\/".contains(&b)), "{entry}");
            assert!(!entry.bytes().any(|b| b.is_ascii_uppercase()), "{entry}");
            assert_eq!(name_of_entry(&entry).as_deref(), Some(name));
        }
        for name in ["", "1A", "-a", "a:b", "a b", "ü", "a/b", "a*", "K".repeat(MAX_KEY + 1).as_str()] {
            assert!(entry_name(name).is_err(), "{name:?}");
        }
        // Only the spelling entry_name writes reads back.
        for entry in ["", "_4", "_zz", "_+1", "_41", "_5f_41", "1a", "a b", "a/b", "a%", "\u{e9}"] {
            assert_eq!(name_of_entry(entry), None, "{entry:?}");
        }
    }

    #[test]
    fn values_map_to_printable_ascii_and_back() {
        for (value, stored) in [
            ("10", "10"),
            ("", ""),
            ("a b", "a b"),
            ("100% \"q\" \\", "100%25 %22q%22 %5C"),
            ("tab\tline\n", "tab%09line%0A"),
            ("Grüße", "Gr%C3%BC%C3%9Fe"),
        ] {
            assert_eq!(entry_value(value), stored);
            assert_eq!(value_of_entry(stored).as_deref(), Some(value));
        }
        assert_eq!(value_of_entry("%c3%bc").as_deref(), Some("ü"), "hex in either case");
        for stored in ["%", "%4", "%zz", "%+1", "\"", "\\", "a\tb", "\u{e9}", "%FF"] {
            assert_eq!(value_of_entry(stored), None, "{stored:?}");
        }
    }
}
