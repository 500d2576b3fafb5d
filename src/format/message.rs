//! A MIME message as `<MESSAGE>` (draft 2.11.8), parsed with mail-parser.
//!
//! - HEADER: every field of the message in order, the element named as the field is spelled in
//!   the message; a field that occurs several times becomes one element with `<item>` children
//!   (docs/interpretations.md, `MULTI-HEADER`, Fig 17). Values are unfolded and decoded (RFC 2047,
//!   any charset). Address fields holding encoded words or non-ASCII text are written from their
//!   parsed form (`"Müller, Hans" <h@example.com>`) so that they parse back the same. A field
//!   name that cannot be an XML element name becomes `<FIELD NAME="...">`.
//! - TEXT and HTML: the first text/plain and text/html body parts, decoded to UTF-8.
//! - ATTACHMENT-n: every other leaf part in message order, with its own header fields and its
//!   BODY: text for text/* parts (decoded to UTF-8) and for nested messages that are UTF-8,
//!   bytes for the rest. A single-part message whose body is not text is ATTACHMENT-1, whose
//!   HEADER repeats the message's Content-* fields.
//! - Line ends in text are LF (the wire is line-based); CR LF in the message becomes LF.

use mail_parser::{Address, Header, HeaderValue, Message, MessageParser, MimeHeaders, PartType};

use super::tree::{Content, Element};

const ADDRESS_FIELDS: [&str; 10] =
    ["from", "to", "cc", "bcc", "reply-to", "sender", "resent-from", "resent-to", "resent-cc", "resent-bcc"];

/// Element name used for header fields whose name is not a valid XML name.
pub const ODD_FIELD: &str = "FIELD";

fn is_xml_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// CR LF (and lone CR) to LF.
pub fn to_lf(text: &str) -> String {
    text.replace("\r\n", "\n")
}

fn quote_display_name(name: &str) -> String {
    if name.chars().any(|c| "()<>[]:;@\\,.\"".contains(c)) {
        format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        name.to_owned()
    }
}

fn format_addresses(address: &Address<'_>) -> String {
    let single = |addr: &mail_parser::Addr<'_>| match (addr.name.as_deref(), addr.address.as_deref()) {
        (Some(name), Some(address)) => format!("{} <{address}>", quote_display_name(name)),
        (None, Some(address)) => address.to_owned(),
        (Some(name), None) => quote_display_name(name),
        (None, None) => String::new(),
    };
    match address {
        Address::List(list) => list.iter().map(single).collect::<Vec<_>>().join(", "),
        Address::Group(groups) => groups
            .iter()
            .map(|group| {
                let members = group.addresses.iter().map(single).collect::<Vec<_>>().join(", ");
                match &group.name {
                    Some(name) => format!("{}: {members};", quote_display_name(name)),
                    None => members,
                }
            })
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// The decoded text of one header field.
fn field_value(header: &Header<'_>, raw: &[u8]) -> String {
    let start = (header.offset_start as usize).min(raw.len());
    let end = (header.offset_end as usize).clamp(start, raw.len());
    let bytes = &raw[start..end];
    let lower = header.name.as_str().to_ascii_lowercase();
    let encoded = !bytes.is_ascii() || bytes.windows(2).any(|w| w == b"=?");
    if encoded
        && ADDRESS_FIELDS.contains(&lower.as_str())
        && let HeaderValue::Address(address) = &header.value
    {
        return format_addresses(address);
    }
    let mut stream = mail_parser::parsers::MessageStream::new(bytes);
    match stream.parse_unstructured() {
        HeaderValue::Text(text) => text.trim().to_owned(),
        _ => String::new(),
    }
}

fn field_spelling(header: &Header<'_>, raw: &[u8]) -> String {
    let start = (header.offset_field as usize).min(raw.len());
    let end = (header.offset_start as usize).clamp(start, raw.len());
    let spelled = String::from_utf8_lossy(&raw[start..end]);
    let spelled = spelled.trim_end().trim_end_matches(':').trim();
    if spelled.is_empty() { header.name.as_str().to_owned() } else { spelled.to_owned() }
}

/// The HEADER element of a list of fields.
pub fn header_element(headers: &[Header<'_>], raw: &[u8], keep: impl Fn(&str) -> bool) -> Element {
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for header in headers {
        let spelled = field_spelling(header, raw);
        if !keep(&spelled) {
            continue;
        }
        let value = field_value(header, raw);
        match groups.iter_mut().find(|(name, _)| name.eq_ignore_ascii_case(&spelled)) {
            Some((_, values)) => values.push(value),
            None => groups.push((spelled, vec![value])),
        }
    }
    let fields = groups
        .into_iter()
        .map(|(name, mut values)| {
            let content = if values.len() == 1 {
                Content::Text(values.pop().unwrap_or_default())
            } else {
                Content::Children(values.into_iter().map(|value| Element::text("item", value)).collect())
            };
            if is_xml_name(&name) {
                Element { name, attributes: Vec::new(), content }
            } else {
                Element { name: ODD_FIELD.into(), attributes: vec![("NAME".into(), name)], content }
            }
        })
        .collect();
    Element::parent("HEADER", fields)
}

fn leaves(message: &Message<'_>, part: u32, out: &mut Vec<u32>) {
    let Some(found) = message.parts.get(part as usize) else { return };
    match &found.body {
        // Bounded by the parts mail-parser found; a part never lists itself.
        PartType::Multipart(children) => {
            for child in children {
                if *child != part {
                    leaves(message, *child, out);
                }
            }
        }
        _ => out.push(part),
    }
}

fn is_subtype(message: &Message<'_>, part: u32, subtype: &str) -> bool {
    let content_type = message.parts.get(part as usize).and_then(|p| p.content_type());
    content_type.is_none_or(|ct| ct.subtype().is_none_or(|s| s.eq_ignore_ascii_case(subtype)))
}

/// The bytes of a nested message as they stand in the part (mail-parser's own `raw_message`
/// of a nested message is the whole outer buffer; the part's offsets already leave out the
/// line end that belongs to the next boundary), decoded from base64 or quoted-printable.
fn nested_message_bytes(message: &Message<'_>, part: &mail_parser::MessagePart<'_>) -> Vec<u8> {
    let raw = message.raw_message.as_ref();
    let start = (part.offset_body as usize).min(raw.len());
    let end = (part.offset_end as usize).clamp(start, raw.len());
    let bytes = &raw[start..end];
    let decoded = match part.encoding {
        mail_parser::Encoding::Base64 => mail_parser::decoders::base64::base64_decode(bytes),
        mail_parser::Encoding::QuotedPrintable => {
            mail_parser::decoders::quoted_printable::quoted_printable_decode(bytes)
        }
        mail_parser::Encoding::None => None,
    };
    decoded.unwrap_or_else(|| bytes.to_vec())
}

/// The content of a part, taken out of the parsed message rather than copied: a decoded
/// attachment is then held once, by the rendering (each part is rendered once).
pub fn body_of(message: &mut Message<'_>, part: u32) -> Content {
    let Some(found) = message.parts.get(part as usize) else { return Content::Text(String::new()) };
    if let PartType::Message(_) = found.body {
        let bytes = nested_message_bytes(message, found);
        return match String::from_utf8(bytes) {
            Ok(text) => Content::Text(to_lf(&text)),
            Err(error) => Content::Binary(error.into_bytes()),
        };
    }
    match std::mem::replace(&mut message.parts[part as usize].body, PartType::Multipart(Vec::new())) {
        PartType::Text(text) | PartType::Html(text) if !text.contains('\r') => Content::Text(text.into_owned()),
        PartType::Text(text) | PartType::Html(text) => Content::Text(to_lf(&text)),
        PartType::Binary(bytes) | PartType::InlineBinary(bytes) => Content::Binary(bytes.into_owned()),
        PartType::Message(_) | PartType::Multipart(_) => Content::Text(String::new()),
    }
}

/// Which parts of a parsed message are TEXT, HTML and the attachments (in order): the one
/// place that decides, shared by rendering and DATT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyLayout {
    /// The part shown as TEXT.
    pub text: Option<u32>,
    /// The part shown as HTML.
    pub html: Option<u32>,
    /// The parts shown as ATTACHMENT-1, ATTACHMENT-2, ...
    pub attachments: Vec<u32>,
}

/// The layout of a parsed message.
pub fn body_layout(message: &Message<'_>) -> BodyLayout {
    let mut parts = Vec::new();
    leaves(message, 0, &mut parts);
    let text = message.text_body.iter().copied().find(|id| {
        matches!(message.parts.get(*id as usize).map(|p| &p.body), Some(PartType::Text(_)))
            && is_subtype(message, *id, "plain")
    });
    let html = message
        .html_body
        .iter()
        .copied()
        .find(|id| matches!(message.parts.get(*id as usize).map(|p| &p.body), Some(PartType::Html(_))));
    let attachments = parts.into_iter().filter(|id| Some(*id) != text && Some(*id) != html).collect();
    BodyLayout { text, html, attachments }
}

/// Parses a message.
pub fn parse(raw: &[u8]) -> Option<Message<'_>> {
    MessageParser::default().parse(raw)
}

/// Renders a message; `None` if mail-parser finds no message at all in the bytes.
pub fn render_message(raw: &[u8]) -> Option<Element> {
    let mut message = MessageParser::default().parse(raw)?;
    let root = message.parts.first()?;
    let mut children = vec![header_element(&root.headers, raw, |_| true)];
    let BodyLayout { text, html, attachments } = body_layout(&message);
    if let Some(id) = text {
        children.push(Element { name: "TEXT".into(), attributes: Vec::new(), content: body_of(&mut message, id) });
    }
    if let Some(id) = html {
        children.push(Element { name: "HTML".into(), attributes: Vec::new(), content: body_of(&mut message, id) });
    }
    for (index, id) in attachments.into_iter().enumerate() {
        let number = index + 1;
        let part = &message.parts[id as usize];
        let header = if id == 0 {
            header_element(&part.headers, raw, |name| name.to_ascii_lowercase().starts_with("content-"))
        } else {
            header_element(&part.headers, raw, |_| true)
        };
        let body = Element { name: "BODY".into(), attributes: Vec::new(), content: body_of(&mut message, id) };
        children.push(Element::parent(format!("ATTACHMENT-{number}"), vec![header, body]));
    }
    Some(Element::parent("MESSAGE", children))
}

/// Renders only header fields (as fetched with IMAP HEADER.FIELDS) as `<MESSAGE><HEADER>`.
pub fn render_header_only(raw_header: &[u8]) -> Element {
    let mut bytes = raw_header.to_vec();
    if !bytes.ends_with(b"\r\n\r\n") && !bytes.ends_with(b"\n\n") {
        bytes.extend_from_slice(b"\r\n\r\n");
    }
    let header = MessageParser::default()
        .parse_headers(&bytes)
        .and_then(|message| message.parts.first().map(|root| header_element(&root.headers, &bytes, |_| true)))
        .unwrap_or_else(|| Element::parent("HEADER", Vec::new()));
    Element::parent("MESSAGE", vec![header])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(raw: &str) -> Vec<String> {
        render_message(raw.as_bytes()).expect("a message").to_lines(1022)
    }

    #[test]
    fn headers_keep_spelling_order_and_repeat_as_items() {
        let lines = render(
            "Received: from a by b; Tue, 16 Mar 2010 12:14:24 +0100\r\nSubject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n\
             Message-Id: <x@y>\r\nreceived: from c\r\n by d\r\n\r\nHello\r\n",
        );
        assert_eq!(
            lines,
            [
                "<MESSAGE>",
                "<HEADER>",
                "<Received>",
                "<item>from a by b; Tue, 16 Mar 2010 12:14:24 +0100</item>",
                "<item>from c by d</item>",
                "</Received>",
                "<Subject>Grüße</Subject>",
                "<Message-Id>&lt;x@y&gt;</Message-Id>",
                "</HEADER>",
                "<TEXT>Hello",
                "</TEXT>",
                "</MESSAGE>"
            ]
        );
    }

    #[test]
    fn encoded_addresses_are_written_so_that_they_parse_back() {
        let lines = render("From: =?iso-8859-1?q?M=FCller=2C_Hans?= <h@example.com>, plain@example.com\r\n\r\nx\r\n");
        assert_eq!(lines[2], "<From>&quot;Müller, Hans&quot; &lt;h@example.com&gt;, plain@example.com</From>");
    }

    #[test]
    fn parts_become_text_html_and_numbered_attachments() {
        let raw = "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: multipart/alternative; boundary=\"b2\"\r\n\r\n\
                   --b2\r\nContent-Type: text/plain\r\n\r\nplain\r\n--b2\r\nContent-Type: text/html\r\n\r\n<b>html</b>\r\n--b2--\r\n\
                   --b1\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\nAAEC\r\n--b1--\r\n";
        let tree = render_message(raw.as_bytes()).expect("message");
        assert_eq!(tree.child("TEXT").map(|e| &e.content), Some(&Content::Text("plain".into())));
        assert_eq!(tree.child("HTML").map(|e| &e.content), Some(&Content::Text("<b>html</b>".into())));
        let attachment = tree.child("ATTACHMENT-1").expect("attachment");
        assert_eq!(attachment.child("BODY").map(|e| &e.content), Some(&Content::Binary(vec![0, 1, 2])));
        assert!(tree.child("ATTACHMENT-2").is_none());
    }

    #[test]
    fn odd_field_names_are_kept_in_an_attribute() {
        let tree = render_message(b"1st-Field: v\r\n\r\nx\r\n").expect("message");
        let header = tree.child("HEADER").expect("header");
        let Content::Children(fields) = &header.content else { panic!("fields") };
        assert_eq!(fields[0].name, ODD_FIELD);
        assert_eq!(fields[0].attributes, [("NAME".to_owned(), "1st-Field".to_owned())]);
    }
}

#[cfg(test)]
mod corpus_tests {
    use super::*;

    /// Every message of integration/corpus/mail renders, and no line exceeds the protocol limit.
    #[test]
    fn every_corpus_message_renders_within_the_line_limit() {
        let files = crate::format::corpus::corpus_files("mail");
        assert!(files.len() >= 200, "corpus missing");
        let mut rendered = 0;
        for file in &files {
            let raw = std::fs::read(file).expect("read");
            if let Some(tree) = render_message(&raw) {
                let lines = tree.to_lines(1022);
                assert!(lines.iter().all(|line| line.chars().count() <= 1022), "{}", file.display());
                rendered += 1;
            }
        }
        assert!(rendered >= files.len() - 2, "{rendered} of {} rendered", files.len());
    }
}
