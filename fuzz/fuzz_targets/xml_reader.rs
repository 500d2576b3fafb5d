//! The strict XML reader every STORed item and FILT definition goes through
//! (`format::xml_reader::parse_xml`). Checks: no panic; a tree that parses renders again
//! (as RETR would write it) without panicking.
#![no_main]

use agap_gateway::format::xml_reader::parse_xml;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(tree) = parse_xml(text) {
        let _ = tree.to_lines(1022);
    }
});
