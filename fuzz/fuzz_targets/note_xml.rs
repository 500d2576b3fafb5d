//! NOTE XML to an Apple-style note message (STOR into a NOTE folder): `parse_xml` then
//! `compose_note`, with or without a previous version (first byte); a note that composes is
//! rendered as RETR would. Checks: no panic; the rendering fits the wire and STORs again to a
//! message that renders the same (docs/interpretations.md, ROUND-TRIP).
#![no_main]

use agap_gateway::format::compose::Defaults;
use agap_gateway::format::note::{NoteDefaults, compose_note, render_note};
use agap_gateway::format::xml_reader::parse_xml;
use libfuzzer_sys::fuzz_target;

const PREVIOUS: [&[u8]; 2] = [
    b"X-Universally-Unique-Identifier: 0811AAB1-6B98-4236-A762-AC8CCDEAB7D4\r\n\
      X-Uniform-Type-Identifier: com.apple.mail-note\r\nX-Mail-Created-Date: Fri, 06 Jan 2012 23:19:33 +0100\r\n\
      Subject: old\r\nContent-Type: text/html;\r\n\tcharset=utf-8\r\n\r\n<div>old</div>\r\n",
    b"X-Universally-Unique-Identifier: a b\r\n\tX-Injected: 1\r\nX-Mail-Created-Date: garbage\r\n\r\nx",
];

fuzz_target!(|data: &[u8]| {
    let [pick, rest @ ..] = data else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let Ok(tree) = parse_xml(text) else { return };
    let previous = match pick % 3 {
        0 => None,
        n => Some(PREVIOUS[usize::from(n) - 1]),
    };
    let defaults = NoteDefaults {
        message: Defaults { now: 1_700_000_000, host: "gateway.invalid".into(), unique: "fuzz.0".into() },
        from: "user@example.com".into(),
        max_size: 64 * 1024,
    };
    let Ok(message) = compose_note(tree, &defaults, previous) else { return };
    let first = render_note(&message).expect("a composed note renders");
    let lines = first.to_lines(1022);
    assert!(lines.iter().all(|line| line.chars().count() <= 1022));
    let again = parse_xml(&lines.join("\n")).expect("RETR output parses");
    let stored = compose_note(again, &defaults, Some(&message)).expect("RETR output stores again");
    assert_eq!(render_note(&stored), Some(first), "a note changed when stored again");
});
