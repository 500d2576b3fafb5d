//! Notes as `<NOTE>` (draft 2.11.9), kept upstream as IMAP messages in the form Apple Notes
//! (iOS, macOS) syncs notes over IMAP, so that a note written through AGAP shows in Notes and
//! the other way round (docs/interpretations.md, NOTE-UPSTREAM, NOTE-STOR, NOTE-RETR):
//!
//! - `X-Uniform-Type-Identifier: com.apple.mail-note` marks the message as a note;
//! - `X-Universally-Unique-Identifier` is the note's identity, the same in every version of it
//!   (upper-case UUID as Apple writes it); a version without it is taken as a new note;
//! - `X-Mail-Created-Date` is when the note was first written, carried from version to
//!   version; `Date` is the last change. Both are written in UTC: iOS is reported to drop a note
//!   whose two dates differ in their zone;
//! - `Subject` is the title, `From` the user, `Message-ID` new for every version;
//! - the body is one text part, `text/html` as Apple writes it (its first line repeats the
//!   title) or `text/plain`, which Notes shows and turns into HTML when the note is edited.
//!
//! SUBJECT is the Subject; CONTENT is the body, TYPE its media type.

use mail_builder::MessageBuilder;
use mail_builder::headers::address::Address;
use mail_builder::headers::date::Date;
use mail_builder::headers::raw::Raw;
use mail_parser::parsers::MessageStream;
use mail_parser::{HeaderValue, Message, MimeHeaders, PartType};

use crate::error::{AgapError, AgapResult};

use super::compose::{Defaults, text_leaf, text_of};
use super::content_line::fresh_uid;
use super::message::{body_layout, body_of, parse};
use super::tree::{Content, ENCODED, Element};

/// The header field that marks a message as a note, and its value.
pub const NOTE_TYPE_FIELD: &str = "X-Uniform-Type-Identifier";
/// See [`NOTE_TYPE_FIELD`].
pub const NOTE_TYPE: &str = "com.apple.mail-note";
/// The header field holding the note's identity across versions.
pub const NOTE_UUID_FIELD: &str = "X-Universally-Unique-Identifier";
/// The header field holding when the note was first written.
pub const CREATED_FIELD: &str = "X-Mail-Created-Date";

/// The longest SUBJECT in bytes: "any short text" (2.11.9), bounded by the length of a header
/// line (RFC 5322 2.1.1).
pub const MAX_SUBJECT: usize = 998;

/// The longest note identity taken over from a previous version; a longer or odd one is not
/// an identity Apple wrote, and the note gets a fresh one.
const MAX_UUID: usize = 128;

/// The media type of CONTENT when TYPE is missing (2.11.9).
const DEFAULT_TYPE: &str = "text/plain";

/// What composing a note needs besides the client's XML.
#[derive(Debug, Clone)]
pub struct NoteDefaults {
    /// The time of this version (Date; X-Mail-Created-Date of a new note) and its Message-ID.
    pub message: Defaults,
    /// The user's address, the note's From.
    pub from: String,
    /// The most bytes CONTENT may hold (UTF-8).
    pub max_size: usize,
}

fn invalid(reason: impl Into<String>) -> AgapError {
    AgapError::invalid(reason.into())
}

/// RFC 6838 4.2 restricted-name: the subtype of a media type.
fn is_restricted_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    (1..=127).contains(&bytes.len())
        && bytes[0].is_ascii_alphanumeric()
        && bytes.iter().all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(b))
}

/// The subtype of a TYPE that names a `text/*` media type without parameters, lower case.
fn text_subtype(media_type: &str) -> Option<String> {
    let (kind, subtype) = media_type.split_once('/')?;
    (kind.eq_ignore_ascii_case("text") && is_restricted_name(subtype)).then(|| subtype.to_ascii_lowercase())
}

/// A note as the client sent it.
#[derive(Debug)]
struct NoteInput {
    subject: String,
    subtype: String,
    content: String,
}

fn read_subject(element: Element) -> AgapResult<String> {
    let text = text_of(element)?;
    // Line breaks and indentation around the title are the XML's pretty-printing.
    let subject = text.trim();
    // A line break that reached a header field would end it and start another.
    if subject.chars().any(char::is_control) {
        return Err(invalid("<SUBJECT> must not hold control characters or line breaks"));
    }
    if subject.len() > MAX_SUBJECT {
        return Err(invalid(format!("<SUBJECT> holds more than {MAX_SUBJECT} bytes")));
    }
    Ok(subject.to_owned())
}

fn read_content(element: Element, max_size: usize) -> AgapResult<(String, String)> {
    let declared = element.attributes.iter().find(|(name, _)| name.eq_ignore_ascii_case("TYPE"));
    let subtype = match declared {
        Some((_, value)) => text_subtype(value.trim())
            .ok_or_else(|| invalid(format!("<CONTENT> TYPE {value:?} is not a text/* media type")))?,
        None => "plain".to_owned(),
    };
    let size = match &element.content {
        Content::Text(text) => text.len(),
        Content::Binary(bytes) => bytes.len(),
        Content::Children(_) => 0,
    };
    if size > max_size {
        return Err(AgapError::too_large(format!("<CONTENT> holds more than {max_size} bytes")));
    }
    Ok((subtype, text_of(element)?))
}

fn read_note(tree: Element, max_size: usize) -> AgapResult<NoteInput> {
    if !tree.name.eq_ignore_ascii_case("NOTE") {
        return Err(invalid(format!("<{}> is not a note", tree.name)));
    }
    let children = match tree.content {
        Content::Children(children) => children,
        Content::Text(text) if text.trim().is_empty() => Vec::new(),
        _ => return Err(invalid("<NOTE> must hold elements")),
    };
    let (mut subject, mut content) = (None, None);
    for child in children {
        let upper = child.name.to_ascii_uppercase();
        match upper.as_str() {
            "SUBJECT" if subject.is_none() => subject = Some(read_subject(child)?),
            "CONTENT" if content.is_none() => content = Some(read_content(child, max_size)?),
            "SUBJECT" | "CONTENT" => return Err(invalid(format!("two <{upper}> elements"))),
            _ => return Err(invalid(format!("unexpected element <{}> in <NOTE>", child.name))),
        }
    }
    let (subtype, content) = content.unwrap_or_else(|| ("plain".to_owned(), String::new()));
    Ok(NoteInput { subject: subject.unwrap_or_default(), subtype, content })
}

/// A date header field's value as a timestamp, if it is a valid date.
fn timestamp_of(raw: &str) -> Option<i64> {
    let line = format!("{}\r\n", raw.trim());
    match MessageStream::new(line.as_bytes()).parse_date() {
        HeaderValue::DateTime(date) if date.is_valid() => Some(date.to_timestamp()),
        _ => None,
    }
}

/// What a new version keeps of the one it replaces: the identity and the creation time.
fn kept_from(previous: &Message<'_>) -> (Option<String>, Option<i64>) {
    let uuid = previous
        .header_raw(NOTE_UUID_FIELD)
        .map(str::trim)
        .filter(|uuid| (1..=MAX_UUID).contains(&uuid.len()) && uuid.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned);
    // A note without a creation date was created at its Date, as far as anyone can tell.
    let created = previous
        .header_raw(CREATED_FIELD)
        .and_then(timestamp_of)
        .or_else(|| previous.date().filter(|date| date.is_valid()).map(|date| date.to_timestamp()));
    (uuid, created)
}

/// Composes the message of a note from a STORed `<NOTE>`; `previous` is the message of the
/// version it replaces, whose identity and creation date it keeps.
///
/// 511 for another root, a child other than one SUBJECT and one CONTENT, a SUBJECT with
/// control characters or over [`MAX_SUBJECT`] bytes, a TYPE that is not `text/*` (parameters
/// included), content that is not UTF-8 or over `max_size` bytes. Both children may be
/// missing: an empty title, an empty text/plain body.
pub fn compose_note(tree: Element, defaults: &NoteDefaults, previous: Option<&[u8]>) -> AgapResult<Vec<u8>> {
    let NoteInput { subject, subtype, content } = read_note(tree, defaults.max_size)?;
    let (uuid, created) = previous.and_then(parse).map(|message| kept_from(&message)).unwrap_or_default();
    let uuid = uuid.unwrap_or_else(|| fresh_uid().to_ascii_uppercase());
    let now = defaults.message.now;
    let mut builder = MessageBuilder::new();
    // The user's address comes from the gateway, but nothing with a line break goes in a header.
    let from = defaults.from.trim();
    if !from.is_empty() && !from.chars().any(char::is_control) {
        builder = builder.from(Address::new_address(None::<String>, from.to_owned()));
    }
    builder
        .subject(subject)
        .header(NOTE_UUID_FIELD, Raw::new(uuid))
        .header(NOTE_TYPE_FIELD, Raw::new(NOTE_TYPE))
        .message_id(format!("{}@{}", defaults.message.unique, defaults.message.host))
        .date(Date::new(now))
        .header(CREATED_FIELD, Date::new(created.unwrap_or(now)))
        .body(text_leaf(&subtype, content))
        .write_to_vec()
        .map_err(AgapError::internal)
}

/// The media type of a text part, lower case; its default when the part declares none or an
/// odd one.
fn media_type(message: &Message<'_>, part: u32) -> String {
    let found = &message.parts[part as usize];
    let fallback = if matches!(found.body, PartType::Html(_)) { "text/html" } else { DEFAULT_TYPE };
    found
        .content_type()
        .filter(|ct| ct.ctype().eq_ignore_ascii_case("text"))
        .and_then(|ct| ct.subtype())
        .filter(|subtype| is_restricted_name(subtype))
        .map_or_else(|| fallback.to_owned(), |subtype| format!("text/{}", subtype.to_ascii_lowercase()))
}

/// Renders any message of a notes folder as `<NOTE>`, also one another client wrote without
/// the note fields: SUBJECT is its Subject, CONTENT its HTML body if it has one (Apple writes
/// HTML), else its plain text body, else its first other text part, else empty. `None` if
/// mail-parser finds no message in the bytes.
pub fn render_note(raw: &[u8]) -> Option<Element> {
    let mut message = parse(raw)?;
    let subject = message.subject().map(str::trim).unwrap_or_default().to_owned();
    let layout = body_layout(&message);
    let part = layout.html.or(layout.text).or_else(|| {
        layout.attachments.iter().copied().find(|id| {
            matches!(message.parts.get(*id as usize).map(|p| &p.body), Some(PartType::Text(_) | PartType::Html(_)))
        })
    });
    let (media, body) = match part {
        Some(id) => (media_type(&message, id), body_of(&mut message, id)),
        None => (DEFAULT_TYPE.to_owned(), Content::Text(String::new())),
    };
    let content = Element {
        name: "CONTENT".into(),
        // ENCODED="utf-8" as Fig 19 writes it; the tree makes it base64 for text XML cannot carry.
        attributes: vec![("TYPE".into(), media), (ENCODED.into(), "utf-8".into())],
        content: body,
    };
    Some(Element::parent("NOTE", vec![Element::text("SUBJECT", subject), content]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::xml_reader::parse_xml;

    fn defaults() -> NoteDefaults {
        NoteDefaults {
            message: Defaults { now: 1_700_000_000, host: "gateway.test".into(), unique: "n1".into() },
            from: "user@example.com".into(),
            max_size: 1 << 20,
        }
    }

    fn compose(xml: &str, previous: Option<&[u8]>) -> AgapResult<Vec<u8>> {
        compose_note(parse_xml(xml)?, &defaults(), previous)
    }

    /// SUBJECT, TYPE and CONTENT of a rendering.
    fn parts(note: &Element) -> (String, String, Content) {
        let subject = match note.child("SUBJECT").map(|s| &s.content) {
            Some(Content::Text(text)) => text.clone(),
            other => panic!("SUBJECT {other:?}"),
        };
        let content = note.child("CONTENT").expect("CONTENT");
        let kind = content.attributes.iter().find(|(k, _)| k == "TYPE").map(|(_, v)| v.clone()).expect("TYPE");
        (subject, kind, content.content.clone())
    }

    fn header<'a>(message: &'a str, name: &str) -> Option<&'a str> {
        let head = message.split("\r\n\r\n").next().unwrap_or_default();
        head.split("\r\n").find_map(|line| {
            line.split_once(':').filter(|(field, _)| field.eq_ignore_ascii_case(name)).map(|(_, value)| value.trim())
        })
    }

    #[test]
    fn figure_19_composes_as_an_apple_note_and_renders_as_in_the_draft() {
        let figure = "<NOTE>\n  <SUBJECT>Important!</SUBJECT>\n  <CONTENT TYPE=\"text/plain\" ENCODED=\"utf-8\">\n    \
                      To review the code.</CONTENT>\n</NOTE>";
        let composed = compose(figure, None).expect("composes");
        let text = String::from_utf8(composed.clone()).expect("ASCII");
        assert_eq!(header(&text, NOTE_TYPE_FIELD), Some(NOTE_TYPE));
        let uuid = header(&text, NOTE_UUID_FIELD).expect("a note identity");
        assert_eq!(uuid.len(), 36);
        assert_eq!(uuid, uuid.to_ascii_uppercase(), "upper case, as Apple writes it");
        assert_eq!(header(&text, "Subject"), Some("Important!"));
        assert_eq!(header(&text, "From"), Some("<user@example.com>"));
        assert_eq!(header(&text, "Message-ID"), Some("<n1@gateway.test>"));
        assert_eq!(header(&text, "MIME-Version"), Some("1.0"));
        assert_eq!(header(&text, "Date"), Some("Tue, 14 Nov 2023 22:13:20 +0000"));
        assert_eq!(header(&text, CREATED_FIELD), header(&text, "Date"), "a new note is created now");
        assert!(header(&text, "Content-Type").is_some_and(|ct| ct.starts_with("text/plain")), "{text}");
        // Indentation between elements is not kept; the content's own whitespace is.
        assert_eq!(
            render_note(&composed).expect("renders").to_lines(1022),
            [
                "<NOTE>",
                "<SUBJECT>Important!</SUBJECT>",
                "<CONTENT TYPE=\"text/plain\" ENCODED=\"utf-8\">",
                "    To review the code.</CONTENT>",
                "</NOTE>"
            ]
        );
    }

    #[test]
    fn compose_then_render_gives_the_same_subject_type_and_content() {
        let long_subject = "A  title with  double spaces, long enough to be folded ".repeat(15).trim().to_owned();
        let long_unicode = "Grüße  aus  Köln ".repeat(40).trim().to_owned();
        let cases = [
            ("Grüße, 日本", "text/plain", "line 1\nline 2\n\n  indented\ttab\n"),
            ("", "text/html", "<div>Title</div><div><br></div><div>é &amp; ü</div>"),
            ("Markdown", "text/markdown", "# Title\r\n\r\n* a bare CR\rhere\n"),
            ("Long", "text/plain", &"x".repeat(5000)),
            ("Bell", "text/plain", "ring \u{7} and NUL \u{0} too"),
            ("Empty", "text/plain", ""),
            (long_subject.as_str(), "text/plain", "folded title"),
            (long_unicode.as_str(), "text/plain", "folded encoded title"),
        ];
        for (subject, kind, content) in cases {
            let tree = Element::parent(
                "NOTE",
                vec![
                    Element::text("SUBJECT", subject),
                    Element {
                        name: "CONTENT".into(),
                        attributes: vec![("TYPE".into(), kind.into())],
                        content: Content::Text(content.into()),
                    },
                ],
            );
            // Through the wire: what a client STORs is the XML text.
            let xml = tree.to_lines(1022).join("\n");
            let composed = compose(&xml, None).expect("composes");
            let rendered = render_note(&composed).expect("renders");
            let (s, k, c) = parts(&rendered);
            assert_eq!((s.as_str(), k.as_str()), (subject, kind), "{content:?}");
            // CR LF in a text body is a line end: it comes back as LF, like messages' TEXT.
            assert_eq!(c, Content::Text(content.replace("\r\n", "\n")), "{kind}");
            // And what RETR sends reads back as the same note.
            let again = parse_xml(&rendered.to_lines(1022).join("\n")).expect("RETR output parses");
            let recomposed = compose_note(again, &defaults(), Some(&composed)).expect("stores again");
            assert_eq!(parts(&render_note(&recomposed).expect("renders")), (s, k, c));
        }
    }

    #[test]
    fn base64_content_is_utf8_text() {
        let composed = compose("<NOTE><CONTENT ENCODED=\"base64\">w7xiZXI=</CONTENT></NOTE>", None).expect("composes");
        let (subject, kind, content) = parts(&render_note(&composed).expect("renders"));
        assert_eq!((subject.as_str(), kind.as_str(), content), ("", "text/plain", Content::Text("über".into())));
    }

    #[test]
    fn a_new_version_keeps_the_identity_and_creation_date_of_the_old() {
        let first = String::from_utf8(compose("<NOTE><SUBJECT>a</SUBJECT></NOTE>", None).expect("v1")).expect("ASCII");
        let later = NoteDefaults {
            message: Defaults { now: 1_800_000_000, host: "gateway.test".into(), unique: "n2".into() },
            ..defaults()
        };
        let tree = parse_xml("<NOTE><SUBJECT>b</SUBJECT></NOTE>").expect("xml");
        let second = String::from_utf8(compose_note(tree, &later, Some(first.as_bytes())).expect("v2")).expect("ASCII");
        assert_eq!(header(&second, NOTE_UUID_FIELD), header(&first, NOTE_UUID_FIELD));
        assert_eq!(header(&second, CREATED_FIELD), header(&first, "Date"));
        assert_eq!(header(&second, "Date"), Some("Fri, 15 Jan 2027 08:00:00 +0000"));
        assert_eq!(header(&second, "Message-ID"), Some("<n2@gateway.test>"));
        // Apple's own fields in another zone: the same instant, written in UTC.
        let apple = b"X-Universally-Unique-Identifier: 0811AAB1-6B98-4236-A762-AC8CCDEAB7D4\r\n\
                      X-Mail-Created-Date: Fri, 06 Jan 2012 23:19:33 +0100\r\nDate: Sat, 07 Jan 2012 10:00:00 +0100\r\n\r\nx";
        let third = compose("<NOTE/>", Some(apple)).expect("v3");
        let third = String::from_utf8(third).expect("ASCII");
        assert_eq!(header(&third, NOTE_UUID_FIELD), Some("0811AAB1-6B98-4236-A762-AC8CCDEAB7D4"));
        assert_eq!(header(&third, CREATED_FIELD), Some("Fri, 6 Jan 2012 22:19:33 +0000"));
        // Without a creation date, the old version's Date stands for it.
        let plain = compose("<NOTE/>", Some(b"Date: Sat, 07 Jan 2012 10:00:00 +0100\r\n\r\nx")).expect("v4");
        assert_eq!(
            header(&String::from_utf8(plain).expect("ASCII"), CREATED_FIELD),
            Some("Sat, 7 Jan 2012 09:00:00 +0000")
        );
    }

    #[test]
    fn an_odd_identity_in_the_old_version_is_not_carried_over() {
        let hostile = b"X-Universally-Unique-Identifier: a b\r\n\tX-Injected: 1\r\n\r\nx";
        let text = String::from_utf8(compose("<NOTE/>", Some(hostile)).expect("composes")).expect("ASCII");
        assert!(!text.contains("X-Injected"), "{text}");
        let uuid = header(&text, NOTE_UUID_FIELD).expect("fresh identity");
        assert_eq!(uuid.len(), 36, "{uuid}");
    }

    #[test]
    fn what_is_no_note_is_refused() {
        let max = defaults().max_size;
        for xml in [
            "<MESSAGE><TEXT>x</TEXT></MESSAGE>",
            "<NOTE>text</NOTE>",
            "<NOTE><CONTENT TYPE=\"image/png\">x</CONTENT></NOTE>",
            "<NOTE><CONTENT TYPE=\"text/\">x</CONTENT></NOTE>",
            "<NOTE><CONTENT TYPE=\"text/plain; charset=utf-8\">x</CONTENT></NOTE>",
            "<NOTE><CONTENT TYPE=\"text\">x</CONTENT></NOTE>",
            "<NOTE><CONTENT ENCODED=\"base64\">/w==</CONTENT></NOTE>",
            "<NOTE><CONTENT><b>x</b></CONTENT></NOTE>",
            "<NOTE><SUBJECT>a\nb</SUBJECT></NOTE>",
            "<NOTE><SUBJECT>a&#13;Bcc: x@example.com</SUBJECT></NOTE>",
            "<NOTE><SUBJECT>tab\there</SUBJECT></NOTE>",
            "<NOTE><SUBJECT>a</SUBJECT><SUBJECT>b</SUBJECT></NOTE>",
            "<NOTE><CONTENT/><CONTENT/></NOTE>",
            "<NOTE><COLOR>red</COLOR></NOTE>",
            &format!("<NOTE><SUBJECT>{}</SUBJECT></NOTE>", "s".repeat(MAX_SUBJECT + 1)),
            &format!("<NOTE><CONTENT>{}</CONTENT></NOTE>", "c".repeat(max + 1)),
            &format!("<NOTE><CONTENT ENCODED=\"base64\">{}</CONTENT></NOTE>", "YWJj".repeat(max / 3 + 1)),
        ] {
            let reply = compose(xml, None).expect_err(xml).to_reply();
            assert_eq!(reply.code.number(), 511, "{xml}: {}", reply.text);
        }
        // An unknown encoding is the XML reader's 511.
        assert!(parse_xml("<NOTE><CONTENT ENCODED=\"rot13\">x</CONTENT></NOTE>").is_err());
        // Pretty-printing around the title is not part of it; the longest title fits.
        let composed = compose(&format!("<NOTE><SUBJECT>\n  {}\n</SUBJECT></NOTE>", "s".repeat(MAX_SUBJECT)), None);
        assert_eq!(parts(&render_note(&composed.expect("composes")).expect("renders")).0, "s".repeat(MAX_SUBJECT));
    }

    /// A note as Notes on macOS writes it to an IMAP account (header set and HTML as seen in
    /// messages published by users of Notes; the body quoted-printable with soft line breaks).
    const APPLE_NOTE: &str = "Subject: Groceries\r\n\
        From: =?utf-8?Q?Ren=C3=A9_Dupont?= <rene@example.com>\r\n\
        X-Universally-Unique-Identifier: 3C2E7E0A-4C5B-4F0E-9D8A-6B1F2E3D4C5B\r\n\
        Content-Type: text/html;\r\n\tcharset=utf-8\r\n\
        X-Uniform-Type-Identifier: com.apple.mail-note\r\n\
        Message-Id: <9F4A6E2B-1C3D-4E5F-8A7B-0C1D2E3F4A5B@example.com>\r\n\
        Date: Tue, 14 Nov 2023 09:12:45 +0100\r\n\
        X-Mail-Created-Date: Mon, 13 Nov 2023 18:02:11 +0100\r\n\
        Content-Transfer-Encoding: quoted-printable\r\n\
        Mime-Version: 1.0 (Mac OS X Notes 4.9 \\(1247.4.1\\))\r\n\
        \r\n\
        <html><head><meta http-equiv=3D\"Content-Type\" content=3D\"text/html; charset=\r\n\
        =3Dutf-8\"></head><body style=3D\"word-wrap: break-word; -webkit-nbsp-mode: s=\r\n\
        pace; line-break: after-white-space;\"><div>Groceries</div><div><br></div><d=\r\n\
        iv>Milk, cr=C3=A8me fra=C3=AEche</div></body></html>";

    #[test]
    fn a_note_written_by_apple_notes_renders() {
        let rendered = render_note(APPLE_NOTE.as_bytes()).expect("renders");
        let (subject, kind, content) = parts(&rendered);
        assert_eq!((subject.as_str(), kind.as_str()), ("Groceries", "text/html"));
        let Content::Text(html) = content else { panic!("text") };
        assert!(html.starts_with("<html><head><meta http-equiv=\"Content-Type\""), "{html}");
        assert!(html.contains("<div>Milk, crème fraîche</div></body></html>"), "{html}");
        let lines = rendered.to_lines(1022);
        assert!(lines[2].starts_with("<CONTENT TYPE=\"text/html\" ENCODED=\"utf-8\">&lt;html&gt;"), "{lines:?}");
        // Storing it back keeps the note's identity and creation date.
        let again = parse_xml(&lines.join("\n")).expect("parses");
        let composed = compose_note(again, &defaults(), Some(APPLE_NOTE.as_bytes())).expect("composes");
        let text = String::from_utf8(composed).expect("ASCII");
        assert_eq!(header(&text, NOTE_UUID_FIELD), Some("3C2E7E0A-4C5B-4F0E-9D8A-6B1F2E3D4C5B"));
        assert_eq!(header(&text, CREATED_FIELD), Some("Mon, 13 Nov 2023 17:02:11 +0000"));
        assert!(header(&text, "Content-Type").is_some_and(|ct| ct.starts_with("text/html")), "{text}");
    }

    #[test]
    fn messages_other_clients_put_in_the_folder_render_too() {
        let alternative = "Subject: =?utf-8?q?R=C3=A9union?=\r\nMIME-Version: 1.0\r\n\
                           Content-Type: multipart/alternative; boundary=b\r\n\r\n\
                           --b\r\nContent-Type: text/plain\r\n\r\nplain\r\n\
                           --b\r\nContent-Type: text/html\r\n\r\n<p>html</p>\r\n--b--\r\n";
        let (subject, kind, content) = parts(&render_note(alternative.as_bytes()).expect("renders"));
        assert_eq!((subject.as_str(), kind.as_str()), ("Réunion", "text/html"));
        assert_eq!(content, Content::Text("<p>html</p>".into()));
        let plain = "Subject: bare\r\n\r\nJust text\r\n";
        assert_eq!(
            parts(&render_note(plain.as_bytes()).expect("renders")),
            ("bare".into(), "text/plain".into(), Content::Text("Just text\n".into()))
        );
        let markdown = "Content-Type: text/markdown; charset=utf-8\r\n\r\n# T\r\n";
        assert_eq!(parts(&render_note(markdown.as_bytes()).expect("renders")).1, "text/markdown");
        let picture = "Content-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\nAAEC\r\n";
        assert_eq!(
            parts(&render_note(picture.as_bytes()).expect("renders")),
            (String::new(), "text/plain".into(), Content::Text(String::new()))
        );
    }
}
