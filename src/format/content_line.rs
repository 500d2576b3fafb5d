//! What the iCalendar and vCard renderings share (draft 2.11.2, 2.11.4, 2.11.7, 2.11.10):
//! parameter <-> attribute mapping, value escaping, timestamps, the AGAP tags property, and the
//! textual (byte-keeping) editing of content lines. The readings are listed in
//! docs/calendars.md, section "Renderings".
//!
//! Parsing and writing whole resources is calcard's job; what is here works on single values
//! and on the content lines calcard is then given to parse.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

use crate::error::{AgapError, AgapResult};

use super::tree::{Content, Element};

/// The property that keeps the AGAP tags of an item in its resource. Not CATEGORIES: those
/// belong to the user, other clients show and edit them, and AGAP tags (SEEN, FLAG=Red) are
/// the gateway's state, not the user's categories.
pub const TAGS_PROPERTY: &str = "X-AGAP-TAGS";

/// Parameters whose values are enumerations: rendered lower case (draft 2.11.1 "the values for
/// attributes only in lowercase"), sent upstream upper case. All other parameters are free
/// text (CN, DIR, ALTREP, SENT-BY, MEMBER, DELEGATED-TO/FROM, EMAIL, LABEL, FMTTYPE, X-...) and
/// keep their value as it is: lower-casing "CN=John Smith" would lose data.
const ENUMERATED: [&str; 21] = [
    "TYPE",
    "RELATED",
    "ROLE",
    "PARTSTAT",
    "CUTYPE",
    "RSVP",
    "FBTYPE",
    "RELTYPE",
    "RANGE",
    "PREF",
    "SCHEDULE-AGENT",
    "SCHEDULE-FORCE-SEND",
    "DISPLAY",
    "FEATURE",
    "LINKREL",
    "CALSCALE",
    "LEVEL",
    "PHONETIC",
    "ENCODING",
    "VALUE",
    "KIND",
];

/// Parameters whose values are lists (`A,B`); the others are one value, quoted when needed.
const LISTS: [&str; 4] = ["TYPE", "MEMBER", "DELEGATED-TO", "DELEGATED-FROM"];

/// Whether a parameter name can be an XML attribute name; parameters that cannot are not shown.
pub fn is_attribute_name(name: &str) -> bool {
    is_xml_name(name) && !name.eq_ignore_ascii_case("ENCODED")
}

/// Whether a property name can be an XML element name (ASCII subset). Properties that cannot
/// (`X-GOOGLE TALK`, `X-MESSAGING/XMPP-ALL`, a broken folded line read as a property) are not
/// shown: the rendering must stay well-formed XML.
pub fn is_xml_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Whether a parameter's value is an enumeration.
pub fn is_enumerated(name: &str) -> bool {
    ENUMERATED.iter().any(|known| known.eq_ignore_ascii_case(name))
}

/// The attribute value of a parameter value.
pub fn attribute_value(name: &str, value: &str) -> String {
    if is_enumerated(name) { value.to_ascii_lowercase() } else { value.to_owned() }
}

/// Appends `;NAME=value` for an attribute of STORed XML: enumerated values upper case, list
/// parameters split on commas, values quoted when they hold `,;:` (RFC 5545 3.2). A `"` cannot
/// be quoted in a parameter value; it becomes `'`. A line break is written `\n`, the way Apple's
/// clients write it in X-ADDRESS and the way calcard reads it back (calcard does not decode
/// RFC 6868's `^n`). An empty value is written `NAME=` (RFC 5545 3.1, RFC 6350 3.3: the `=` is
/// there even when the value is empty; servers refuse a bare name), or bare when `bare_if_empty`
/// (vCard 2.1, where `EMAIL;PREF` is a parameter without value).
pub fn push_parameter(line: &mut String, name: &str, value: &str, bare_if_empty: bool) {
    let name = name.to_ascii_uppercase();
    let value = value.replace('"', "'").replace("\r\n", "\n").replace('\r', "\n").replace('\n', "\\n");
    let value = if is_enumerated(&name) { value.to_ascii_uppercase() } else { value };
    line.push(';');
    line.push_str(&name);
    if value.is_empty() && bare_if_empty {
        return;
    }
    line.push('=');
    let quote = |item: &str| {
        if item.contains([',', ';', ':']) { format!("\"{item}\"") } else { item.to_owned() }
    };
    if LISTS.contains(&name.as_str()) {
        line.push_str(&value.split(',').map(|item| quote(item.trim())).collect::<Vec<_>>().join(","));
    } else {
        line.push_str(&quote(&value));
    }
}

/// The XML text of a raw (escaped) property value: `\n` and `\N` become line feeds; every other
/// escape (`\,`, `\;`, `\\`) stays as it is (draft 2.11.2: "Any escaped semicolon or comma ... is
/// also passed prefixed with a backslash in XML"), so structured values keep their separators.
pub fn raw_to_xml(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n' | 'N') => out.push('\n'),
            // calcard writes a CR of a value as `\r`; line ends are LF in XML (as for mail).
            Some('r' | 'R') => {}
            Some(next) => {
                out.push('\\');
                out.push(next);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// The raw property value of an XML text: line feeds (and CR LF) back to `\n`.
pub fn xml_to_raw(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', "\n").replace('\n', "\\n")
}

/// Escapes one TEXT value (RFC 5545 3.3.11, RFC 6350 3.4).
pub fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ',' => out.push_str("\\,"),
            ';' => out.push_str("\\;"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            _ => out.push(c),
        }
    }
    out
}

/// Splits a raw list value on unescaped commas and unescapes the items.
pub fn split_text_list(raw: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut current = String::new();
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('n' | 'N') => current.push('\n'),
                Some(next) => current.push(next),
                None => {}
            },
            ',' => items.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    items.push(current);
    items.retain(|item| !item.is_empty());
    items
}

/// `yyyy-mm-ddThh:mm:ssZ` (draft 2.11.2).
pub fn format_utc(at: NaiveDateTime) -> String {
    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// `yyyy-mm-dd` (draft 2.11.4).
pub fn format_date(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

/// A timestamp or date of STORed XML.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stamp {
    /// A UTC date-time.
    DateTime(NaiveDateTime),
    /// A date.
    Date(NaiveDate),
}

impl Stamp {
    /// The iCalendar basic form: `yyyymmddThhmmssZ` or `yyyymmdd`.
    pub fn basic(self) -> String {
        match self {
            Self::DateTime(at) => at.format("%Y%m%dT%H%M%SZ").to_string(),
            Self::Date(date) => date.format("%Y%m%d").to_string(),
        }
    }
}

/// Reads `yyyy-mm-ddThh:mm:ssZ`, the basic `yyyymmddThhmmssZ`, `yyyy-mm-dd` and `yyyymmdd`.
/// `T24:00:00Z` is the next day's midnight (ISO 8601; docs/interpretations.md, `DTEND-24`). A
/// date-time without `Z` is taken as UTC too: the draft says all times are UTC.
pub fn parse_stamp(text: &str) -> Option<Stamp> {
    let text = text.trim();
    let compact: String = text.chars().filter(|c| *c != '-' && *c != ':').collect();
    let (date, time) = match compact.split_once(['T', 't']) {
        Some((date, time)) => (date, Some(time.trim_end_matches(['Z', 'z']))),
        None => (compact.as_str(), None),
    };
    if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let date = NaiveDate::parse_from_str(date, "%Y%m%d").ok()?;
    let Some(time) = time else { return Some(Stamp::Date(date)) };
    if time.len() != 6 || !time.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if time == "240000" {
        return Some(Stamp::DateTime(date.succ_opt()?.and_time(NaiveTime::MIN)));
    }
    Some(Stamp::DateTime(date.and_time(NaiveTime::parse_from_str(time, "%H%M%S").ok()?)))
}

/// A fresh UID (a random UUID, RFC 4122 version 4).
pub fn fresh_uid() -> String {
    let bytes: [u8; 16] = rand::random();
    let hex: String = bytes
        .iter()
        .enumerate()
        .map(|(i, b)| match i {
            6 => format!("{:02x}", (b & 0x0f) | 0x40),
            8 => format!("{:02x}", (b & 0x3f) | 0x80),
            _ => format!("{b:02x}"),
        })
        .collect();
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

/// The value calcard's writer gives a property: `line` is what `write_to` wrote for an entry
/// without parameters other than VALUE/ENCODING/CHARSET (none of which holds a colon), so the
/// value starts after the first colon. The line is unfolded first.
pub fn written_value(line: &str) -> String {
    let unfolded = line.replace("\r\n ", "").replace("\r\n\t", "");
    let unfolded = unfolded.trim_end_matches(['\r', '\n']);
    unfolded.split_once(':').map(|(_, value)| value.to_owned()).unwrap_or_default()
}

/// The text of an element of STORed XML. Content that came as base64 is taken as UTF-8 text
/// (the tree renders long or odd text as base64, draft 2.8); 511 when it is not UTF-8.
pub fn element_text(element: &Element) -> AgapResult<String> {
    match &element.content {
        Content::Text(text) => Ok(text.clone()),
        Content::Binary(bytes) => {
            String::from_utf8(bytes.clone()).map_err(|_| AgapError::invalid(format!("<{}> must be text", element.name)))
        }
        Content::Children(_) => Err(AgapError::invalid(format!("<{}> must not have child elements", element.name))),
    }
}

/// Refuses values that are `cid:` URIs: they reference MIME parts, which cannot exist in the XML
/// (draft 2.11.2, 2.11.4).
pub fn refuse_cid(element: &Element, value: &str) -> AgapResult<()> {
    let trimmed = value.trim_start();
    if trimmed.get(..4).is_some_and(|scheme| scheme.eq_ignore_ascii_case("cid:")) {
        return Err(AgapError::invalid(format!("<{}> references a MIME part (cid:)", element.name)));
    }
    Ok(())
}

/// Whether a value looks like a URI (`scheme:rest`, the scheme at least two characters so that
/// a Windows drive letter or `a:b` text is not taken for one).
pub fn looks_like_uri(value: &str) -> bool {
    let value = value.trim();
    let Some((scheme, rest)) = value.split_once(':') else { return false };
    scheme.len() >= 2
        && !rest.is_empty()
        && !value.contains(char::is_whitespace)
        && scheme.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// One logical (unfolded) content line of a text, with the byte range of its physical lines
/// (line end included).
#[derive(Debug, Clone)]
pub struct LogicalLine {
    /// Byte offset of its first character.
    pub start: usize,
    /// Byte offset after its line end.
    pub end: usize,
    /// The unfolded line, without line end.
    pub text: String,
}

impl LogicalLine {
    /// The property name (upper case), without group.
    pub fn name(&self) -> String {
        let head = self.text.split([';', ':']).next().unwrap_or_default();
        let name = head.rsplit('.').next().unwrap_or(head);
        name.trim().to_ascii_uppercase()
    }

    /// The value after `BEGIN:`/`END:` when this is such a line.
    pub fn boundary(&self) -> Option<(bool, String)> {
        let (name, value) = self.text.split_once(':')?;
        let name = name.trim();
        let value = value.trim().to_ascii_uppercase();
        if name.eq_ignore_ascii_case("BEGIN") {
            Some((true, value))
        } else if name.eq_ignore_ascii_case("END") {
            Some((false, value))
        } else {
            None
        }
    }

    /// The raw value (after the first colon outside quotes).
    pub fn raw_value(&self) -> &str {
        let mut quoted = false;
        for (i, c) in self.text.char_indices() {
            match c {
                '"' => quoted = !quoted,
                ':' if !quoted => return &self.text[i + 1..],
                _ => {}
            }
        }
        ""
    }
}

/// The logical lines of a text (RFC 5545 3.1 unfolding: a line end followed by a space or tab
/// continues the line).
pub fn logical_lines(text: &str) -> Vec<LogicalLine> {
    let mut lines: Vec<LogicalLine> = Vec::new();
    let mut offset = 0;
    for physical in text.split_inclusive('\n') {
        let start = offset;
        offset += physical.len();
        let content = physical.trim_end_matches(['\r', '\n']);
        match lines.last_mut() {
            Some(last) if content.starts_with([' ', '\t']) => {
                last.text.push_str(&content[1..]);
                last.end = offset;
            }
            _ => lines.push(LogicalLine { start, end: offset, text: content.to_owned() }),
        }
    }
    lines
}

/// Folds one content line at 75 octets (RFC 5545 3.1), on character boundaries.
pub fn fold(line: &str, newline: &str) -> String {
    let mut out = String::with_capacity(line.len() + 8);
    let mut width = 0;
    for c in line.chars() {
        if width + c.len_utf8() > 75 {
            out.push_str(newline);
            out.push(' ');
            width = 1;
        }
        out.push(c);
        width += c.len_utf8();
    }
    out.push_str(newline);
    out
}

/// The AGAP tags of the component spanning `lines[first..last]`, read textually: calcard takes
/// an unknown property's value as one text and would lose the list's separators.
pub fn read_tags(lines: &[LogicalLine], first: usize, last: usize) -> Vec<String> {
    let mut depth = 0usize;
    let mut tags = Vec::new();
    for line in &lines[first + 1..last] {
        match line.boundary() {
            Some((true, _)) => depth += 1,
            Some((false, _)) => depth = depth.saturating_sub(1),
            None if depth == 0 && line.name() == TAGS_PROPERTY => tags.extend(split_text_list(line.raw_value())),
            None => {}
        }
    }
    tags
}

/// `text` with the tags property of the component spanning `lines[first..last]` (its BEGIN and
/// END lines) replaced by one for `tags` (none when empty), every other byte kept. The new line
/// goes where the first old one was, else before the first nested component or the END line.
pub fn replace_tags(text: &str, lines: &[LogicalLine], first: usize, last: usize, tags: &[String]) -> String {
    let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let mut depth = 0usize;
    let mut old = Vec::new();
    let mut insert_at = lines[last].start;
    let mut insert_found = false;
    for line in &lines[first + 1..last] {
        match line.boundary() {
            Some((true, _)) => {
                if depth == 0 && !insert_found {
                    insert_at = line.start;
                    insert_found = true;
                }
                depth += 1;
            }
            Some((false, _)) => depth = depth.saturating_sub(1),
            None if depth == 0 && line.name() == TAGS_PROPERTY => {
                if old.is_empty() {
                    insert_at = line.start;
                    insert_found = true;
                }
                old.push(line.start..line.end);
            }
            None => {}
        }
    }
    // One property per tag: a comma list in a property the server does not know is taken as
    // several values by some (Radicale's vobject keeps only one of them).
    let new_line: String =
        tags.iter().map(|tag| fold(&format!("{TAGS_PROPERTY}:{}", escape_text(tag)), newline)).collect();
    let mut out = String::with_capacity(text.len() + new_line.len());
    let mut cursor = 0;
    let mut inserted = false;
    for range in old.iter().chain(std::iter::once(&(usize::MAX..usize::MAX))) {
        let stop = range.start.min(text.len());
        if !inserted && insert_at <= stop {
            out.push_str(&text[cursor..insert_at]);
            out.push_str(&new_line);
            cursor = insert_at;
            inserted = true;
        }
        out.push_str(&text[cursor..stop]);
        cursor = range.end.min(text.len());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_go_both_ways() {
        assert_eq!(raw_to_xml("a\\, b\\;c\\nd\\Ne\\\\n"), "a\\, b\\;c\nd\ne\\\\n");
        assert_eq!(xml_to_raw("a\\, b\nc"), "a\\, b\\nc");
        assert_eq!(split_text_list("SEEN,FLAG=Red\\, x,"), ["SEEN", "FLAG=Red, x"]);
        assert_eq!(escape_text("A,B"), "A\\,B");
    }

    #[test]
    fn timestamps() {
        let t = |s| parse_stamp(s).map(Stamp::basic);
        assert_eq!(t("2011-06-07T18:00:00Z").as_deref(), Some("20110607T180000Z"));
        assert_eq!(t("20110607T180000Z").as_deref(), Some("20110607T180000Z"));
        assert_eq!(t("2011-06-07T24:00:00Z").as_deref(), Some("20110608T000000Z"));
        assert_eq!(t("2011-12-31T24:00:00Z").as_deref(), Some("20120101T000000Z"));
        assert_eq!(t("2011-06-07").as_deref(), Some("20110607"));
        assert_eq!(t("PT15M"), None);
        assert_eq!(t("2011-06-07T25:00:00Z"), None);
    }

    #[test]
    fn parameters_are_quoted_and_cased() {
        let mut line = String::from("ATTENDEE");
        push_parameter(&mut line, "CN", "Smith, John", false);
        push_parameter(&mut line, "ROLE", "req-participant", false);
        push_parameter(&mut line, "DELEGATED-TO", "mailto:a@b,mailto:c@d", false);
        assert_eq!(line, "ATTENDEE;CN=\"Smith, John\";ROLE=REQ-PARTICIPANT;DELEGATED-TO=\"mailto:a@b\",\"mailto:c@d\"");
    }

    #[test]
    fn an_empty_parameter_value_keeps_its_equals_sign_except_in_vcard_2_1() {
        let mut line = String::from("ORGANIZER");
        push_parameter(&mut line, "SENT-BY", "", false);
        push_parameter(&mut line, "CN", "JohnSmith", false);
        assert_eq!(line, "ORGANIZER;SENT-BY=;CN=JohnSmith");
        let mut line = String::from("EMAIL");
        push_parameter(&mut line, "PREF", "", true);
        assert_eq!(line, "EMAIL;PREF");
    }

    #[test]
    fn uri_detection() {
        assert!(looks_like_uri("http://example.com/x"));
        assert!(looks_like_uri("mailto:a@b"));
        assert!(!looks_like_uri("c:\\x"));
        assert!(!looks_like_uri("Note: text"));
    }
}
