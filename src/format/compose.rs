//! `<MESSAGE>` to MIME (draft 4.39), with mail-builder, so that what RETR renders comes back
//! the same when it is STORed again (docs/interpretations.md, ROUND-TRIP).
//!
//! - Header fields are written in the order of the XML: ASCII values as they are (folded only
//!   at their own whitespace); non-ASCII address fields parsed and written with encoded display
//!   names; other non-ASCII values as RFC 2047 encoded words, except Content-* fields, which
//!   keep their UTF-8 (RFC 6532) so that parameters stay parseable.
//! - The structure follows the XML: one body and a non-multipart Content-Type give a single
//!   part; otherwise a multipart of the declared subtype (mixed if none; alternative for TEXT
//!   plus HTML alone), TEXT and HTML grouped in a multipart/alternative unless the message is
//!   one. The declared top-level boundary is reused, quoted.
//! - A part's body is written in its declared Content-Transfer-Encoding (base64,
//!   quoted-printable, or as is for 7bit, 8bit, binary and the rest) and its text in its
//!   declared charset; where the charset cannot hold the text, it becomes UTF-8 and the
//!   header says so. Bodies of TEXT and HTML inside a multipart are UTF-8 with whatever
//!   encoding mail-builder picks: their headers are not part of the rendering.
//! - Date and Message-ID are added when missing.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use mail_builder::headers::address::Address as BuiltAddress;
use mail_builder::headers::content_type::ContentType;
use mail_builder::headers::raw::Raw;
use mail_builder::headers::text::Text;
use mail_builder::headers::{Header, HeaderType};
use mail_builder::mime::{BodyPart, MimePart};
use mail_parser::parsers::MessageStream;
use mail_parser::{Address, HeaderValue};

use crate::error::{AgapError, AgapResult};

use super::message::ODD_FIELD;
use super::tree::{Content, Element};

const ADDRESS_FIELDS: [&str; 10] =
    ["from", "to", "cc", "bcc", "reply-to", "sender", "resent-from", "resent-to", "resent-cc", "resent-bcc"];

/// What the gateway adds to a message the client did not fully describe.
#[derive(Debug, Clone)]
pub struct Defaults {
    /// Seconds since the epoch, for a missing Date.
    pub now: i64,
    /// Domain of a generated Message-ID.
    pub host: String,
    /// Unique part of a generated Message-ID.
    pub unique: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Field {
    name: String,
    value: String,
}

#[derive(Debug)]
enum Body {
    Text(String),
    Bytes(Vec<u8>),
}

#[derive(Debug)]
struct Attachment {
    fields: Vec<Field>,
    body: Body,
}

#[derive(Debug, Default)]
struct Parts {
    fields: Vec<Field>,
    text: Option<String>,
    html: Option<String>,
    attachments: Vec<(u32, Attachment)>,
}

fn invalid(reason: impl Into<String>) -> AgapError {
    AgapError::invalid(reason.into())
}

/// A header value as one line: pretty-printed XML may have broken it over several.
fn one_line(value: &str) -> String {
    value.split('\n').map(|line| line.trim()).filter(|line| !line.is_empty()).collect::<Vec<_>>().join(" ")
}

/// The text of `element`, taken out of the tree: the message is composed from the tree it
/// consumes, so that an item near the size limit is not held twice. Content that came as
/// base64 must be UTF-8 (511 otherwise).
pub fn text_of(element: Element) -> AgapResult<String> {
    match element.content {
        Content::Text(text) => Ok(text),
        Content::Binary(bytes) => {
            String::from_utf8(bytes).map_err(|_| invalid(format!("<{}> must hold UTF-8 text", element.name)))
        }
        Content::Children(_) => Err(invalid(format!("<{}> must hold text", element.name))),
    }
}

fn fields_of(header: &Element) -> AgapResult<Vec<Field>> {
    let Content::Children(children) = &header.content else {
        return match &header.content {
            Content::Text(text) if text.trim().is_empty() => Ok(Vec::new()),
            _ => Err(invalid("<HEADER> must hold header fields")),
        };
    };
    let mut fields = Vec::new();
    for child in children {
        let name = if child.name == ODD_FIELD {
            child.attributes.iter().find(|(key, _)| key == "NAME").map(|(_, v)| v.clone()).unwrap_or_default()
        } else {
            child.name.clone()
        };
        // Any printable ASCII but the colon: messages in the wild have field names with spaces.
        if name.trim().is_empty() || !name.bytes().all(|b| (32..=126).contains(&b) && b != b':') {
            return Err(invalid(format!("invalid header field name {name:?}")));
        }
        let values = match &child.content {
            Content::Children(items) => items
                .iter()
                .map(|item| {
                    if item.name.eq_ignore_ascii_case("item") {
                        text_of(item.clone())
                    } else {
                        Err(invalid("header values are <item>s"))
                    }
                })
                .collect::<AgapResult<Vec<_>>>()?,
            _ => vec![text_of(child.clone())?],
        };
        for value in values {
            let value = one_line(&value);
            if value.chars().any(|c| c.is_control() && c != '\t') {
                return Err(invalid(format!("control character in header field {name}")));
            }
            fields.push(Field { name: name.clone(), value });
        }
    }
    Ok(fields)
}

fn collect(element: Element, parts: &mut Parts) -> AgapResult<()> {
    let Content::Children(children) = element.content else {
        return Err(invalid(format!("<{}> must hold elements", element.name)));
    };
    for mut child in children {
        let upper = child.name.to_ascii_uppercase();
        match upper.as_str() {
            "HEADER" => parts.fields.extend(fields_of(&child)?),
            "TEXT" if parts.text.is_none() => parts.text = Some(text_of(child)?),
            "HTML" if parts.html.is_none() => parts.html = Some(text_of(child)?),
            // docs/interpretations.md, PART-PATHS: parts may sit in a BODY wrapper.
            "BODY" => collect(child, parts)?,
            _ if upper.starts_with("ATTACHMENT-") => {
                let number: u32 = upper["ATTACHMENT-".len()..]
                    .parse()
                    .map_err(|_| invalid(format!("invalid element <{}>", child.name)))?;
                if parts.attachments.iter().any(|(n, _)| *n == number) {
                    return Err(invalid(format!("two <{}> elements", child.name)));
                }
                let header = child.child("HEADER");
                let fields = header.map(fields_of).transpose()?.unwrap_or_default();
                let body = match child
                    .child_mut("BODY")
                    .map(|body| std::mem::replace(&mut body.content, Content::Binary(Vec::new())))
                {
                    Some(Content::Text(text)) => Body::Text(text),
                    Some(Content::Binary(bytes)) => Body::Bytes(bytes),
                    Some(Content::Children(_)) => return Err(invalid("<BODY> of an attachment must hold data")),
                    None => Body::Bytes(Vec::new()),
                };
                parts.attachments.push((number, Attachment { fields, body }));
            }
            _ => return Err(invalid(format!("unexpected element <{}> in <{}>", child.name, element.name))),
        }
    }
    Ok(())
}

fn field<'a>(fields: &'a [Field], name: &str) -> Option<&'a str> {
    fields.iter().find(|f| f.name.eq_ignore_ascii_case(name)).map(|f| f.value.as_str())
}

/// A Content-Type as mail-parser reads it.
#[derive(Debug)]
struct ParsedContentType {
    ctype: String,
    subtype: Option<String>,
    attributes: Vec<(String, String)>,
}

impl ParsedContentType {
    fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value.as_str())
    }
}

fn parsed_content_type(value: &str) -> Option<ParsedContentType> {
    let line = format!("{value}\r\n");
    match MessageStream::new(line.as_bytes()).parse_content_type() {
        HeaderValue::ContentType(ct) => Some(ParsedContentType {
            ctype: ct.ctype().to_owned(),
            subtype: ct.subtype().map(str::to_owned),
            attributes: ct
                .attributes()
                .unwrap_or_default()
                .iter()
                .map(|a| (a.name.to_string(), a.value.to_string()))
                .collect(),
        }),
        _ => None,
    }
}

fn to_built_address(address: &Address<'_>) -> Option<BuiltAddress<'static>> {
    let single = |addr: &mail_parser::Addr<'_>| {
        addr.address
            .as_ref()
            .map(|email| BuiltAddress::new_address(addr.name.as_ref().map(|n| n.to_string()), email.to_string()))
    };
    match address {
        Address::List(list) => Some(BuiltAddress::new_list(list.iter().map(single).collect::<Option<Vec<_>>>()?)),
        Address::Group(groups) => {
            let mut items = Vec::new();
            for group in groups {
                let members = group.addresses.iter().map(single).collect::<Option<Vec<_>>>()?;
                items.push(match &group.name {
                    Some(name) => BuiltAddress::new_group(Some(name.to_string()), members),
                    None => BuiltAddress::new_list(members),
                });
            }
            Some(BuiltAddress::new_list(items))
        }
    }
}

/// How one header field is written.
fn header_value(name: &str, value: &str) -> HeaderType<'static> {
    if value.is_ascii() || name.to_ascii_lowercase().starts_with("content-") {
        return Raw::new(value.to_owned()).into();
    }
    if ADDRESS_FIELDS.contains(&name.to_ascii_lowercase().as_str()) {
        let line = format!("{value}\r\n");
        if let HeaderValue::Address(address) = MessageStream::new(line.as_bytes()).parse_address()
            && let Some(built) = to_built_address(&address)
        {
            return built.into();
        }
    }
    Text::new(value.to_owned()).into()
}

/// RFC 5322 2.1.1: lines of at most 998 characters.
const MAX_LINE: usize = 998;

/// An ASCII (or RFC 6532 UTF-8) value on one line, folded only when the line would pass 998
/// characters and then only before a single space: a fold at a run of whitespace does not
/// unfold back to the same text in every parser (mail-parser collapses the run).
fn write_unfolded(name: &str, value: &str, out: &mut Vec<u8>) {
    let mut line_length = name.len() + 2;
    let bytes = value.as_bytes();
    let mut start = 0;
    while start < bytes.len() {
        let room = MAX_LINE.saturating_sub(line_length);
        if bytes.len() - start <= room {
            out.extend_from_slice(&bytes[start..]);
            break;
        }
        let limit = (start + room).min(bytes.len());
        let fold = (start + 1..limit)
            .rev()
            .find(|&at| bytes[at] == b' ' && bytes[at - 1] != b' ' && bytes.get(at + 1).is_some_and(|b| *b != b' '));
        match fold {
            Some(at) => {
                out.extend_from_slice(&bytes[start..at]);
                out.extend_from_slice(b"\r\n");
                start = at;
                line_length = 0;
            }
            // No place to fold: an over-long line is better than a changed value.
            None => {
                out.extend_from_slice(&bytes[start..]);
                break;
            }
        }
    }
    out.extend_from_slice(b"\r\n");
}

fn write_fields(fields: &[Field], out: &mut Vec<u8>) {
    for field in fields {
        out.extend_from_slice(field.name.as_bytes());
        out.extend_from_slice(b": ");
        match header_value(&field.name, &field.value) {
            HeaderType::Raw(_) => write_unfolded(&field.name, &field.value, out),
            encoded => encoded.write_header(out, field.name.len() + 2),
        }
    }
}

/// LF line ends to CR LF (text in the XML has LF ends):
/// `text` with every bare LF made CR LF, in the same buffer: it grows by the CRs added (a
/// large buffer grows in place, by remapping) and is filled from the back, so a text near the
/// item limit is never held twice.
pub fn crlf(text: String) -> String {
    let bytes = text.as_bytes();
    let added = (0..bytes.len()).filter(|&at| bytes[at] == b'\n' && (at == 0 || bytes[at - 1] != b'\r')).count();
    if added == 0 {
        return text;
    }
    let mut bytes = text.into_bytes();
    let old_len = bytes.len();
    bytes.resize(old_len + added, 0);
    let mut write = bytes.len();
    for read in (0..old_len).rev() {
        let byte = bytes[read];
        write -= 1;
        bytes[write] = byte;
        if byte == b'\n' && (read == 0 || bytes[read - 1] != b'\r') {
            write -= 1;
            bytes[write] = b'\r';
        }
    }
    // Only ASCII CRs were inserted, between whole characters.
    String::from_utf8(bytes).unwrap_or_else(|error| String::from_utf8_lossy(error.as_bytes()).into_owned())
}

/// Text in `charset` (UTF-8 and unknown labels without a copy); the text back when the
/// charset cannot hold it (or encoding_rs cannot write it).
fn in_charset(text: String, charset: Option<&str>) -> Result<Vec<u8>, String> {
    let Some(label) = charset else { return Ok(text.into_bytes()) };
    let Some(encoding) = encoding_rs::Encoding::for_label(label.trim().as_bytes()) else {
        return Ok(text.into_bytes());
    };
    if encoding == encoding_rs::UTF_8 {
        return Ok(text.into_bytes());
    }
    // encoding_rs decodes UTF-16 but, following the WHATWG standard, never encodes it.
    if encoding == encoding_rs::UTF_16BE {
        return Ok(text.encode_utf16().flat_map(u16::to_be_bytes).collect());
    }
    if encoding == encoding_rs::UTF_16LE {
        return Ok(text.encode_utf16().flat_map(u16::to_le_bytes).collect());
    }
    if encoding.output_encoding() != encoding {
        return Err(text);
    }
    let (bytes, _, had_errors) = encoding.encode(&text);
    if had_errors {
        return Err(text);
    }
    Ok(bytes.into_owned())
}

fn set_charset_utf8(content_type: &str, charset: &str) -> String {
    let lower = content_type.to_ascii_lowercase();
    match lower.find("charset=") {
        Some(at) => {
            let value_start = at + "charset=".len();
            let quoted = content_type[value_start..].starts_with('"');
            let value_len = charset.len() + if quoted { 2 } else { 0 };
            format!(
                "{}utf-8{}",
                &content_type[..value_start],
                &content_type[(value_start + value_len).min(content_type.len())..]
            )
        }
        None => format!("{content_type}; charset=utf-8"),
    }
}

/// Body bytes of a leaf in its declared charset and transfer encoding; may adjust the fields.
fn encode_leaf(body: Body, fields: &mut Vec<Field>) -> Vec<u8> {
    let content_type = field(fields, "content-type").map(str::to_owned);
    let parsed = content_type.as_deref().and_then(parsed_content_type);
    let is_text = parsed.as_ref().is_none_or(|ct| ct.ctype.eq_ignore_ascii_case("text"));
    let charset = parsed.as_ref().and_then(|ct| ct.attribute("charset")).map(str::to_owned);
    let text = match body {
        Body::Text(text) => Ok(text),
        Body::Bytes(bytes) if is_text => String::from_utf8(bytes).map_err(|error| error.into_bytes()),
        Body::Bytes(bytes) => Err(bytes),
    };
    let data = match (text, is_text) {
        (Ok(text), true) => match in_charset(crlf(text), charset.as_deref()) {
            Ok(bytes) => bytes,
            Err(text) => {
                if let (Some(ct), Some(charset)) = (content_type.as_deref(), charset.as_deref()) {
                    let fixed = set_charset_utf8(ct, charset);
                    if let Some(f) = fields.iter_mut().find(|f| f.name.eq_ignore_ascii_case("content-type")) {
                        f.value = fixed;
                    }
                }
                text.into_bytes()
            }
        },
        (Ok(text), false) => crlf(text).into_bytes(),
        (Err(bytes), _) => bytes,
    };
    let declared = field(fields, "content-transfer-encoding").map(|v| v.trim().to_ascii_lowercase());
    match declared.as_deref() {
        Some("base64") => base64_body(&data),
        Some("quoted-printable") => quoted_printable::encode(&data),
        Some(_) => data,
        // IMAP cannot carry NUL without BINARY: such content needs an encoding.
        None if data.contains(&0) => {
            fields.push(Field { name: "Content-Transfer-Encoding".into(), value: "base64".into() });
            base64_body(&data)
        }
        None => data,
    }
}

fn base64_body(data: &[u8]) -> Vec<u8> {
    let encoded = STANDARD.encode(data);
    let mut out = Vec::with_capacity(encoded.len() + encoded.len() / 38 + 2);
    for (index, line) in encoded.as_bytes().chunks(76).enumerate() {
        if index > 0 {
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(line);
    }
    out
}

/// The header fields, an empty line and the encoded body, in the body's own buffer: the
/// header goes in front of it rather than the body being copied behind the header.
fn leaf_bytes(fields: &[Field], body: Body) -> Vec<u8> {
    let mut fields = fields.to_vec();
    let mut encoded = encode_leaf(body, &mut fields);
    let mut header = Vec::new();
    write_fields(&fields, &mut header);
    header.extend_from_slice(b"\r\n");
    encoded.splice(0..0, header);
    encoded
}

/// A `text/<subtype>` part of UTF-8 text with CR LF line ends, in whatever transfer encoding
/// mail-builder picks for it.
pub fn text_leaf(subtype: &str, text: String) -> MimePart<'static> {
    MimePart::new(
        ContentType::new(format!("text/{subtype}")).attribute("charset", "utf-8"),
        BodyPart::Text(crlf(text).into()),
    )
}

/// A Content-Type whose boundary mail-builder can find: it reads only `boundary="..."`.
fn with_quoted_boundary(value: &str) -> String {
    let Some(parsed) = parsed_content_type(value) else { return value.to_owned() };
    let Some(boundary) = parsed.attribute("boundary") else { return value.to_owned() };
    if value.contains(&format!("boundary=\"{boundary}\"")) {
        return value.to_owned();
    }
    let mut rebuilt = format!("{}/{}", parsed.ctype, parsed.subtype.as_deref().unwrap_or("mixed"));
    for (name, value) in &parsed.attributes {
        rebuilt.push_str(&format!("; {name}=\"{}\"", value.replace('"', "\\\"")));
    }
    rebuilt
}

fn declare_utf8(fields: &mut Vec<Field>, mime_type: &str) {
    if field(fields, "mime-version").is_none() {
        fields.push(Field { name: "MIME-Version".into(), value: "1.0".into() });
    }
    fields.push(Field { name: "Content-Type".into(), value: format!("{mime_type}; charset=utf-8") });
}

/// An RFC 5322 date-time of `seconds` since the epoch, as a Date field holds it.
pub fn rfc5322_date(seconds: i64) -> String {
    let mut date = Vec::new();
    HeaderType::from(mail_builder::headers::date::Date::new(seconds)).write_header(&mut date, 6);
    String::from_utf8_lossy(&date).trim().to_owned()
}

/// Composes the MIME message an AGAP `<MESSAGE>` describes.
///
/// The tree is consumed: its texts and attachments become the message's parts without a copy.
pub fn compose_message(tree: Element, defaults: &Defaults) -> AgapResult<Vec<u8>> {
    if !tree.name.eq_ignore_ascii_case("MESSAGE") {
        return Err(invalid(format!("<{}> is not a message", tree.name)));
    }
    let mut parts = Parts::default();
    collect(tree, &mut parts)?;
    parts.attachments.sort_by_key(|(number, _)| *number);
    let Parts { mut fields, text, html, attachments } = parts;
    if field(&fields, "date").is_none() {
        fields.push(Field { name: "Date".into(), value: rfc5322_date(defaults.now) });
    }
    if field(&fields, "message-id").is_none() {
        fields.push(Field { name: "Message-ID".into(), value: format!("<{}@{}>", defaults.unique, defaults.host) });
    }
    let declared = field(&fields, "content-type").map(str::to_owned);
    let declared_multipart =
        declared.as_deref().and_then(parsed_content_type).filter(|ct| ct.ctype.eq_ignore_ascii_case("multipart"));
    let count = usize::from(text.is_some()) + usize::from(html.is_some()) + attachments.len();

    if declared_multipart.is_none() && count <= 1 {
        let body = match (text, html, attachments.into_iter().next()) {
            (Some(text), _, _) => {
                // ASCII needs no declaration; adding one would change what RETR shows.
                if declared.is_none() && !text.is_ascii() {
                    declare_utf8(&mut fields, "text/plain");
                }
                Body::Text(text)
            }
            (None, Some(html), _) => {
                if declared.is_none() && !html.is_ascii() {
                    declare_utf8(&mut fields, "text/html");
                }
                Body::Text(html)
            }
            (None, None, Some((_, attachment))) => {
                if declared.is_none() {
                    fields.extend(
                        attachment.fields.into_iter().filter(|f| f.name.to_ascii_lowercase().starts_with("content-")),
                    );
                }
                attachment.body
            }
            (None, None, None) => Body::Text(String::new()),
        };
        return Ok(leaf_bytes(&fields, body));
    }

    let subtype = match &declared_multipart {
        Some(ct) => ct.subtype.as_deref().unwrap_or("mixed").to_ascii_lowercase(),
        None if attachments.is_empty() => "alternative".to_owned(),
        None => "mixed".to_owned(),
    };
    let mut children = Vec::new();
    match (text, html) {
        (Some(text), Some(html)) if subtype != "alternative" => {
            children.push(MimePart::new(
                ContentType::new("multipart/alternative"),
                vec![text_leaf("plain", text), text_leaf("html", html)],
            ));
        }
        (text, html) => {
            children.extend(text.map(|text| text_leaf("plain", text)));
            children.extend(html.map(|html| text_leaf("html", html)));
        }
    }
    for (_, attachment) in attachments {
        let mut attachment_fields = attachment.fields;
        // Without a Content-Type a part is text/plain (or message/rfc822 in a digest, RFC 2046
        // 5.1.5): only bytes that are no text need one.
        let is_bytes = matches!(&attachment.body, Body::Bytes(bytes) if std::str::from_utf8(bytes).is_err());
        if is_bytes && field(&attachment_fields, "content-type").is_none() {
            attachment_fields
                .insert(0, Field { name: "Content-Type".into(), value: "application/octet-stream".into() });
        }
        children.push(MimePart::raw(BodyPart::Binary(leaf_bytes(&attachment_fields, attachment.body).into())));
    }
    // The top-level header section is written here, so that the declared Content-Type keeps
    // its exact text; mail-builder writes the multipart body, and only finds the boundary in a
    // quoted parameter, so it is given a quoted copy whose header line is cut off again.
    let content_type = match (&declared_multipart, &declared) {
        (Some(_), Some(value)) => value.clone(),
        _ => {
            if field(&fields, "mime-version").is_none() {
                fields.push(Field { name: "MIME-Version".into(), value: "1.0".into() });
            }
            let generated = format!("multipart/{subtype}; boundary=\"{}\"", mail_builder::mime::make_boundary("_"));
            fields.retain(|f| !f.name.eq_ignore_ascii_case("content-type"));
            fields.push(Field { name: "Content-Type".into(), value: generated.clone() });
            generated
        }
    };
    let mut multipart = Vec::new();
    MimePart::raw(BodyPart::Multipart(children))
        .header("Content-Type", Raw::new(with_quoted_boundary(&content_type)))
        .write_part(&mut multipart);
    let body_start = multipart.windows(4).position(|w| w == b"\r\n\r\n").map(|at| at + 4).unwrap_or(0);
    let mut out = Vec::with_capacity(multipart.len() + 1024);
    write_fields(&fields, &mut out);
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&multipart[body_start..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::message::render_message;
    use crate::format::xml_reader::parse_xml;

    fn defaults() -> Defaults {
        Defaults { now: 1_700_000_000, host: "gateway.test".into(), unique: "abc123".into() }
    }

    #[test]
    fn bare_line_feeds_become_crlf_in_place() {
        let reference = |text: &str| {
            let mut out = String::new();
            let mut previous = '\0';
            for c in text.chars() {
                if c == '\n' && previous != '\r' {
                    out.push('\r');
                }
                out.push(c);
                previous = c;
            }
            out
        };
        for text in ["", "a", "\n", "\n\n", "a\nb", "a\r\nb\n", "\r\n\n\r", "é\nü\r\n€\n", "x\n".repeat(1000).as_str()]
        {
            assert_eq!(crlf(text.to_owned()), reference(text), "{text:?}");
        }
        let unchanged = String::from("no line feed");
        let pointer = unchanged.as_ptr();
        let same = crlf(unchanged);
        assert_eq!(same.as_ptr(), pointer, "nothing to add: the same buffer");
    }

    fn round_trip(raw: &str) -> (Vec<String>, Vec<String>) {
        let first = render_message(raw.as_bytes()).expect("renders").to_lines(1022);
        let tree = parse_xml(&first.join("\n")).expect("parses");
        let composed = compose_message(tree, &defaults()).expect("composes");
        let second = render_message(&composed).expect("renders again").to_lines(1022);
        (first, second)
    }

    #[test]
    fn a_simple_message_round_trips_exactly() {
        let (first, second) = round_trip(
            "From: \"Doe, John\" <j@example.com>\r\nTo: a@b.c\r\nSubject: =?utf-8?q?Gr=C3=BC=C3=9Fe?= aus Wien\r\n\
             Date: Mon, 6 Jun 2005 22:21:22 +0200\r\nMessage-ID: <1@x>\r\n\r\nHallo\r\nWelt\r\n",
        );
        assert_eq!(first, second);
    }

    #[test]
    fn multipart_structure_boundary_and_encodings_round_trip() {
        let raw = "From: =?iso-8859-1?q?M=FCller=2C_Hans?= <h@example.com>\r\nDate: Mon, 6 Jun 2005 22:21:22 +0200\r\n\
                   Message-ID: <2@x>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=plain-boundary\r\n\r\n\
                   --plain-boundary\r\nContent-Type: multipart/alternative; boundary=\"b2\"\r\n\r\n\
                   --b2\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nGr=FC=DFe\r\n\
                   --b2\r\nContent-Type: text/html\r\n\r\n<p>hi</p>\r\n--b2--\r\n\
                   --plain-boundary\r\nContent-Type: text/plain; charset=iso-8859-1; name=\"a.txt\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=E4rger\r\n\
                   --plain-boundary\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\nAAECAwQ=\r\n--plain-boundary--\r\n";
        let (first, second) = round_trip(raw);
        // The unquoted boundary parameter comes back quoted: mail-builder needs the quotes.
        let normalise = |lines: &[String]| -> Vec<String> {
            lines.iter().map(|l| l.replace("boundary=plain-boundary", "boundary=&quot;plain-boundary&quot;")).collect()
        };
        for (a, b) in normalise(&first).iter().zip(normalise(&second).iter()) {
            assert_eq!(a, b);
        }
        assert_eq!(first.len(), second.len());
        assert!(second.contains(&"<TEXT>Grüße</TEXT>".to_owned()), "{second:?}");
    }

    #[test]
    fn a_client_message_gets_structure_date_and_message_id() {
        let xml = "<MESSAGE><HEADER><from>a@example.com</from><subject>Hi ü</subject></HEADER><TEXT>body</TEXT>\
                   <HTML>&lt;b&gt;body&lt;/b&gt;</HTML><ATTACHMENT-1><HEADER><content-type>image/png</content-type></HEADER>\
                   <BODY ENCODED=\"base64\">AAEC</BODY></ATTACHMENT-1></MESSAGE>";
        let composed = compose_message(parse_xml(xml).expect("xml"), &defaults()).expect("composes");
        let text = String::from_utf8_lossy(&composed);
        assert!(text.contains("Message-ID: <abc123@gateway.test>"), "{text}");
        assert!(text.contains("Date: "), "{text}");
        assert!(text.contains("subject: =?"), "non-ASCII subject is encoded: {text}");
        let rendered = render_message(&composed).expect("renders");
        assert_eq!(rendered.child("TEXT").map(|t| &t.content), Some(&Content::Text("body".into())));
        assert_eq!(rendered.child("HTML").map(|t| &t.content), Some(&Content::Text("<b>body</b>".into())));
        let attachment = rendered.child("ATTACHMENT-1").and_then(|a| a.child("BODY")).map(|b| &b.content);
        assert_eq!(attachment, Some(&Content::Binary(vec![0, 1, 2])));
    }

    #[test]
    fn elements_that_are_no_message_are_refused() {
        for xml in [
            "<VCARD><FN>x</FN></VCARD>",
            "<MESSAGE><NOPE/></MESSAGE>",
            "<MESSAGE><HEADER><a:b>x</a:b></HEADER></MESSAGE>",
        ] {
            let tree = parse_xml(xml).expect("well-formed");
            assert!(compose_message(tree, &defaults()).is_err(), "{xml}");
        }
    }
}

#[cfg(test)]
mod corpus_tests {
    use super::*;
    use crate::format::message::render_message;
    use crate::format::xml_reader::parse_xml;

    /// Lines of a rendering without the Date and Message-ID that STOR adds when missing.
    fn comparable(lines: Vec<String>, original: &[String]) -> Vec<String> {
        let had = |prefix: &str| original.iter().any(|l| l.to_ascii_lowercase().starts_with(prefix));
        let (had_date, had_id) = (had("<date>"), had("<message-id>"));
        lines
            .into_iter()
            .filter(|l| {
                let lower = l.to_ascii_lowercase();
                (had_date || !lower.starts_with("<date>")) && (had_id || !lower.starts_with("<message-id>"))
            })
            .collect()
    }

    #[test]
    fn corpus_renderings_survive_compose() {
        let defaults = Defaults { now: 1_700_000_000, host: "gateway.test".into(), unique: "u".into() };
        let (mut same, mut failures) = (0, Vec::new());
        for file in crate::format::corpus::corpus_files("mail") {
            let raw = std::fs::read(&file).expect("read");
            let Some(first) = render_message(&raw) else { continue };
            let first = first.to_lines(1022);
            let composed = parse_xml(&first.join("\n")).and_then(|tree| compose_message(tree, &defaults));
            // AGAP_ROUNDTRIP_SHOW=<part of a file name> prints everything about those files.
            if let (Ok(show), Ok(composed)) = (std::env::var("AGAP_ROUNDTRIP_SHOW"), &composed)
                && file.to_string_lossy().contains(&show)
            {
                println!(
                    "== {}\n-- original rendering\n{}\n-- composed\n{}",
                    file.display(),
                    first.join("\n"),
                    String::from_utf8_lossy(composed)
                );
            }
            let second =
                composed.map(|composed| render_message(&composed).map(|t| t.to_lines(1022)).unwrap_or_default());
            match second {
                Ok(second) if comparable(second.clone(), &first) == first => same += 1,
                Ok(second) => {
                    let second = comparable(second, &first);
                    let at =
                        first.iter().zip(&second).position(|(a, b)| a != b).unwrap_or(first.len().min(second.len()));
                    failures.push(format!(
                        "{}: line {at}: {:?} vs {:?}",
                        file.display(),
                        first.get(at).map(|l| l.chars().take(120).collect::<String>()),
                        second.get(at).map(|l| l.chars().take(120).collect::<String>())
                    ));
                }
                Err(error) => failures.push(format!("{}: {error}", file.display())),
            }
        }
        println!("round trip: {same} identical, {} different", failures.len());
        for failure in &failures {
            println!("  {failure}");
        }
        assert!(same > 0);
    }
}
