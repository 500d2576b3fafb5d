//! MESSAGE XML to an RFC 5322 message (STOR into a MESG folder): `parse_xml` then
//! `compose_message`; a message that composes is rendered back to XML lines as RETR would.
//! Checks: no panic.
#![no_main]

use agap_gateway::format::compose::{Defaults, compose_message};
use agap_gateway::format::message::render_message;
use agap_gateway::format::xml_reader::parse_xml;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(tree) = parse_xml(text) else { return };
    let defaults = Defaults { now: 1_700_000_000, host: "gateway.invalid".into(), unique: "fuzz.0".into() };
    if let Ok(message) = compose_message(tree, &defaults) {
        let _ = render_message(&message).map(|tree| tree.to_lines(1022));
    }
});
