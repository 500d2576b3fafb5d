//! The IMAP boundary: any strings the core could hand the IMAP adapter (mailbox levels, tags,
//! header field names, search texts, quoted arguments) become command text through the
//! adapter's own builders, and no command that passes `check_command_line` holds CR, LF or NUL.
//! The builders that encode (modified UTF-7, keywords, search keys) must never produce one; a
//! quoted argument that holds one must be refused at the boundary, never sent.
//! Also feeds the bytes to the response scanner that bounds what the server may announce.
#![no_main]

use agap_adapter_api::query::Query;
use agap_adapter_api::tags::Tag;
use agap_adapter_imap::wire::{
    ResponseScanner, SearchContext, check_command_line, encode_mailbox_level, flags_for, quote, translate,
};
use libfuzzer_sys::fuzz_target;

fn line_break_free(text: &str) -> bool {
    !text.bytes().any(|byte| matches!(byte, b'\r' | b'\n' | 0))
}

fuzz_target!(|data: &[u8]| {
    let mut scanner = ResponseScanner::new(64, 256);
    for chunk in data.chunks(7) {
        if scanner.scan(chunk).is_err() {
            break;
        }
    }
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut parts = text.splitn(3, '\u{1}');
    let (first, second, third) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or(""));

    // Encoders: never a line break out, whatever comes in.
    assert!(line_break_free(&encode_mailbox_level(first)));
    if let Ok(tag) = Tag::new(first, Some(second)) {
        assert!(flags_for(&tag).iter().all(|flag| line_break_free(flag)));
    }
    if let Ok(tag) = Tag::new(first, None) {
        assert!(flags_for(&tag).iter().all(|flag| line_break_free(flag)));
    }
    let flags: Vec<String> = third.split(' ').map(str::to_owned).collect();
    let context = SearchContext { mailbox_flags: &flags, decodes_headers: true };
    let query = Query::Or(vec![
        Query::FieldContains { field: first.to_owned(), text: second.to_owned() },
        Query::Tag { name: first.to_owned(), value: None },
        Query::Not(Box::new(Query::Tag { name: first.to_owned(), value: Some(second.to_owned()) })),
    ]);
    let (key, _) = translate(&query, &context);
    assert!(line_break_free(&key), "search key {key:?}");

    // Quoted arguments carry what they are given; the boundary refuses exactly the unsafe ones.
    for argument in [first, second, third] {
        let command = format!("UID FETCH 1 (BODY.PEEK[HEADER.FIELDS ({})])", quote(argument));
        assert_eq!(check_command_line(&command).is_ok(), line_break_free(argument));
    }
});
