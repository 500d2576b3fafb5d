//! Files as `<FILE>` (draft 2.11.5): `<NAME>` and `<CONTENT>`, whose content is base64 unless
//! `ENCODED="utf-8"` says otherwise (docs/interpretations.md, FILE-ENCODING, FILE-NAME).
//!
//! Base64 goes out in the tree's 76-character lines, as message attachments do. A STORed
//! `<FILE>` must be read with [`parse_xml_keeping_encoding`](super::xml_reader::parse_xml_keeping_encoding):
//! the plain reader drops an explicit `ENCODED="utf-8"`, after which the content would be taken
//! for base64.

use crate::error::{AgapError, AgapResult};

use super::compose::text_of;
use super::tree::{Content, ENCODED, Element};
use super::xml_reader::decode_base64;

/// The longest file name in bytes (UTF-8): what common file systems take for one name.
pub const MAX_NAME: usize = 255;

/// How RETR writes a file's content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FileEncoding {
    /// Base64, the draft's default.
    #[default]
    Base64,
    /// UTF-8 text where the bytes are UTF-8 that XML and the wire can carry; base64 otherwise.
    Utf8,
}

fn invalid(reason: impl Into<String>) -> AgapError {
    AgapError::invalid(reason.into())
}

/// Refuses a name that is no single file name: empty, over [`MAX_NAME`] bytes, `.` or `..`,
/// holding `/`, `\` or control characters, or starting or ending with whitespace (which
/// pretty-printed XML adds and which would be kept silently otherwise).
pub fn check_file_name(name: &str) -> AgapResult<()> {
    let reason = if name.is_empty() {
        "is empty"
    } else if name.len() > MAX_NAME {
        "is longer than 255 bytes"
    } else if name == "." || name == ".." {
        "names a directory"
    } else if name.contains(['/', '\\']) {
        "holds a path separator"
    } else if name.chars().any(char::is_control) {
        "holds control characters"
    } else if name.starts_with(char::is_whitespace) || name.ends_with(char::is_whitespace) {
        "starts or ends with whitespace"
    } else {
        return Ok(());
    };
    Err(invalid(format!("the file name {name:?} {reason}")))
}

/// Renders a file. The tree consumes the bytes, so the content is never held twice.
pub fn render_file(name: &str, bytes: Vec<u8>, encoding: FileEncoding) -> Element {
    let content = match encoding {
        FileEncoding::Utf8 => match String::from_utf8(bytes) {
            // The tree turns text XML or the wire cannot carry into base64, replacing ENCODED.
            Ok(text) => Element {
                name: "CONTENT".into(),
                attributes: vec![(ENCODED.into(), "utf-8".into())],
                content: Content::Text(text),
            },
            Err(error) => {
                Element { name: "CONTENT".into(), attributes: Vec::new(), content: Content::Binary(error.into_bytes()) }
            }
        },
        FileEncoding::Base64 => {
            Element { name: "CONTENT".into(), attributes: Vec::new(), content: Content::Binary(bytes) }
        }
    };
    Element::parent("FILE", vec![Element::text("NAME", name), content])
}

/// The bytes of CONTENT: base64 unless it said `ENCODED="utf-8"`.
fn content_bytes(element: Element) -> AgapResult<Vec<u8>> {
    let utf8 = element.attributes.iter().any(|(name, value)| name == ENCODED && value == "utf-8");
    match element.content {
        Content::Binary(bytes) => Ok(bytes),
        Content::Text(text) if utf8 => Ok(text.into_bytes()),
        Content::Text(text) => decode_base64(&element.name, &text),
        Content::Children(_) => Err(invalid("<CONTENT> must hold data")),
    }
}

/// The name and bytes of a STORed `<FILE>` (read with `parse_xml_keeping_encoding`).
///
/// 511 for another root, a child other than one NAME and one CONTENT, either missing, a name
/// [`check_file_name`] refuses, content that is not base64 when it should be, or more than
/// `max_size` bytes of it.
pub fn read_file(tree: Element, max_size: usize) -> AgapResult<(String, Vec<u8>)> {
    if !tree.name.eq_ignore_ascii_case("FILE") {
        return Err(invalid(format!("<{}> is not a file", tree.name)));
    }
    let Content::Children(children) = tree.content else {
        return Err(invalid("<FILE> must hold <NAME> and <CONTENT>"));
    };
    let (mut name, mut bytes) = (None, None);
    for child in children {
        let upper = child.name.to_ascii_uppercase();
        match upper.as_str() {
            "NAME" if name.is_none() => name = Some(text_of(child)?),
            "CONTENT" if bytes.is_none() => bytes = Some(content_bytes(child)?),
            "NAME" | "CONTENT" => return Err(invalid(format!("two <{upper}> elements"))),
            _ => return Err(invalid(format!("unexpected element <{}> in <FILE>", child.name))),
        }
    }
    let name = name.ok_or_else(|| invalid("<FILE> without <NAME>"))?;
    check_file_name(&name)?;
    let bytes = bytes.ok_or_else(|| invalid("<FILE> without <CONTENT>"))?;
    if bytes.len() > max_size {
        return Err(AgapError::too_large(format!("the file holds more than {max_size} bytes")));
    }
    Ok((name, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::xml_reader::{parse_xml, parse_xml_keeping_encoding};

    fn read(xml: &str) -> AgapResult<(String, Vec<u8>)> {
        read_file(parse_xml_keeping_encoding(xml, 1 << 20)?, 1000)
    }

    const FIGURE_11: &str =
        "<FILE>\n  <NAME>Example.txt</NAME>\n  <CONTENT ENCODED=\"base64\">c3VyZS4=</CONTENT>\n</FILE>";

    #[test]
    fn figure_11_reads_and_renders_as_in_the_draft() {
        assert_eq!(read(FIGURE_11).expect("reads"), ("Example.txt".to_owned(), b"sure.".to_vec()));
        // Base64 starts on the line after the open tag, as every base64 content does.
        assert_eq!(
            render_file("Example.txt", b"sure.".to_vec(), FileEncoding::Base64).to_lines(1022),
            ["<FILE>", "<NAME>Example.txt</NAME>", "<CONTENT ENCODED=\"base64\">", "c3VyZS4=</CONTENT>", "</FILE>"]
        );
    }

    #[test]
    fn content_is_base64_unless_it_says_utf8() {
        assert_eq!(read("<FILE><NAME>a</NAME><CONTENT>c3Vy\n ZS4=</CONTENT></FILE>").expect("reads").1, b"sure.");
        let utf8 = "<FILE><NAME>a</NAME><CONTENT ENCODED=\"utf-8\">sure.</CONTENT></FILE>";
        assert_eq!(read(utf8).expect("reads").1, b"sure.");
        assert_eq!(read("<FILE><NAME>a</NAME><CONTENT/></FILE>").expect("reads").1, b"");
        // "test" is base64 too: only the encoding tells the two readings apart, which is why
        // the plain reader, dropping it, does not do for FILE.
        let ambiguous = "<FILE><NAME>a</NAME><CONTENT ENCODED=\"utf-8\">test</CONTENT></FILE>";
        assert_eq!(read(ambiguous).expect("reads").1, b"test");
        assert_eq!(read_file(parse_xml(ambiguous).expect("xml"), 1000).expect("reads").1, [0xb5, 0xeb, 0x2d]);
    }

    #[test]
    fn what_retr_writes_stores_back_the_same_file() {
        let long_lines = "x".repeat(3000);
        let cases: [(&[u8], FileEncoding, &str); 7] = [
            (b"sure.", FileEncoding::Utf8, "<CONTENT ENCODED=\"utf-8\">sure.</CONTENT>"),
            (b"a\r\nb\n\nc\t", FileEncoding::Utf8, "<CONTENT ENCODED=\"utf-8\">a&#13;"),
            ("grüße".as_bytes(), FileEncoding::Base64, "<CONTENT ENCODED=\"base64\">"),
            (b"\xff\xfe not UTF-8", FileEncoding::Utf8, "<CONTENT ENCODED=\"base64\">"),
            (b"bell \x07", FileEncoding::Utf8, "<CONTENT ENCODED=\"base64\">"),
            (long_lines.as_bytes(), FileEncoding::Utf8, "<CONTENT ENCODED=\"base64\">"),
            (b"", FileEncoding::Base64, "<CONTENT></CONTENT>"),
        ];
        for (bytes, encoding, content_line) in cases {
            let lines = render_file("n.bin", bytes.to_vec(), encoding).to_lines(1022);
            assert_eq!(lines[2], content_line, "{lines:?}");
            assert!(lines.iter().all(|line| line.chars().count() <= 1022));
            if content_line.ends_with("base64\">") {
                assert!(lines[3..lines.len() - 2].iter().all(|line| line.len() == 76), "{lines:?}");
            }
            let back = read_file(parse_xml_keeping_encoding(&lines.join("\n"), 1 << 20).expect("xml"), 10_000);
            assert_eq!(back.expect("reads"), ("n.bin".to_owned(), bytes.to_vec()));
        }
    }

    #[test]
    fn odd_names_and_contents_are_refused() {
        let long = format!("{}.txt", "n".repeat(MAX_NAME - 3));
        let many = "YWJj".repeat(400);
        for xml in [
            "<DIR><NAME>a</NAME><CONTENT/></DIR>".to_owned(),
            "<FILE>x</FILE>".to_owned(),
            "<FILE><CONTENT/></FILE>".to_owned(),
            "<FILE><NAME>a</NAME></FILE>".to_owned(),
            "<FILE><NAME>a</NAME><NAME>b</NAME><CONTENT/></FILE>".to_owned(),
            "<FILE><NAME>a</NAME><CONTENT/><CONTENT/></FILE>".to_owned(),
            "<FILE><NAME>a</NAME><CONTENT/><SIZE>0</SIZE></FILE>".to_owned(),
            "<FILE><NAME>a</NAME><CONTENT><X/></CONTENT></FILE>".to_owned(),
            "<FILE><NAME>a</NAME><CONTENT>%%%</CONTENT></FILE>".to_owned(),
            "<FILE><NAME>a</NAME><CONTENT ENCODED=\"base64\">%%%</CONTENT></FILE>".to_owned(),
            format!("<FILE><NAME>a</NAME><CONTENT>{many}</CONTENT></FILE>"),
            format!("<FILE><NAME>a</NAME><CONTENT ENCODED=\"utf-8\">{}</CONTENT></FILE>", "u".repeat(1001)),
            format!("<FILE><NAME>{long}</NAME><CONTENT/></FILE>"),
            "<FILE><NAME ENCODED=\"base64\">/w==</NAME><CONTENT/></FILE>".to_owned(),
        ] {
            let reply = read(&xml).expect_err(&xml).to_reply();
            assert_eq!(reply.code.number(), 511, "{xml}: {}", reply.text);
        }
        assert!(read(&format!("<FILE><NAME>{}</NAME><CONTENT/></FILE>", &long[1..])).is_ok(), "255 bytes fit");
        for name in
            ["", ".", "..", "a/b", "/", "a\\b", "a\u{0}b", "a\nb", "a\u{7f}", "a\u{85}", " a", "a ", "a\t", "\u{a0}a"]
        {
            assert!(check_file_name(name).is_err(), "{name:?}");
        }
        for name in
            ["a", "a b", "..a", "a..b", ".hidden", "grüße.txt", "日本.doc", "a:b*c?", "x".repeat(MAX_NAME).as_str()]
        {
            assert!(check_file_name(name).is_ok(), "{name:?}");
        }
    }
}
