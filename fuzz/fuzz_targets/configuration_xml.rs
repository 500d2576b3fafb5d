//! CONFIGURATION XML (STOR into a CONF folder): `parse_xml` then `read_configuration`. Checks:
//! no panic; every entry maps to an IMAP METADATA entry name and value and back; the rendering
//! reads back to the same entries.
#![no_main]

use agap_gateway::format::configuration::{
    entry_name, entry_value, name_of_entry, read_configuration, render_configuration, value_of_entry,
};
use agap_gateway::format::xml_reader::parse_xml;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(tree) = parse_xml(text) else { return };
    let Ok(entries) = read_configuration(tree) else { return };
    for (name, value) in &entries {
        let entry = entry_name(name).expect("a key read maps to an entry");
        assert!(entry.bytes().all(|b| b.is_ascii_graphic() && !b"*%\"\\/".contains(&b)), "{entry}");
        assert_eq!(name_of_entry(&entry).as_ref(), Some(name));
        assert_eq!(name_of_entry(&entry.to_ascii_uppercase()).as_ref(), Some(name));
        let stored = entry_value(value);
        assert!(stored.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\'), "{stored}");
        assert_eq!(value_of_entry(&stored).as_ref(), Some(value));
    }
    let lines = render_configuration(&entries).to_lines(1022);
    assert!(lines.iter().all(|line| line.chars().count() <= 1022));
    let back = read_configuration(parse_xml(&lines.join("\n")).expect("RETR output parses"));
    assert_eq!(back.expect("RETR output reads"), entries);
});
