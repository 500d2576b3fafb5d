//! The FILT folder form of a filter (draft 4.3.2): `parse_xml` then `parse_definition` for an
//! item root picked by the first byte; a definition that parses is planned as FIND in a FILT
//! folder would. Checks: no panic, no stack overflow.
#![no_main]

use agap_gateway::filter::{fetch_needs, mail_query, parse_definition};
use agap_gateway::format::xml_reader::parse_xml;
use libfuzzer_sys::fuzz_target;

const ROOTS: [&str; 5] = ["MESSAGE", "VEVENT", "VTODO", "VJOURNAL", "VCARD"];

fuzz_target!(|data: &[u8]| {
    let [pick, rest @ ..] = data else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let Ok(tree) = parse_xml(text) else { return };
    if let Ok(definition) = parse_definition(&tree, ROOTS[usize::from(*pick) % ROOTS.len()]) {
        drop(mail_query(&definition.rules));
        drop(fetch_needs(&definition.rules));
    }
});
