//! FILE XML (STOR into a FILE folder): `parse_xml_keeping_encoding` then `read_file`; a file
//! that reads is rendered as RETR would, in both encodings. Checks: no panic; every rendering
//! fits the wire and reads back to the same name and bytes.
#![no_main]

use agap_gateway::format::file::{FileEncoding, read_file, render_file};
use agap_gateway::format::xml_reader::parse_xml_keeping_encoding;
use libfuzzer_sys::fuzz_target;

const MAX: usize = 64 * 1024;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(tree) = parse_xml_keeping_encoding(text, MAX) else { return };
    let Ok((name, bytes)) = read_file(tree, MAX) else { return };
    for encoding in [FileEncoding::Base64, FileEncoding::Utf8] {
        let lines = render_file(&name, bytes.clone(), encoding).to_lines(1022);
        assert!(lines.iter().all(|line| line.chars().count() <= 1022));
        let tree = parse_xml_keeping_encoding(&lines.join("\n"), MAX).expect("RETR output parses");
        let back = read_file(tree, MAX).expect("RETR output reads");
        assert_eq!(back, (name.clone(), bytes.clone()), "{encoding:?}");
    }
});
