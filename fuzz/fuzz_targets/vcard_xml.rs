//! VCARD XML to vCard (STOR into an ADDR folder): `parse_xml` then `vcard_from_xml`, with or
//! without a previous version of the card (first byte); a card that converts is rendered back
//! as RETR would. Checks: no panic.
#![no_main]

use agap_gateway::format::vcard::{render_vcard, vcard_from_xml};
use agap_gateway::format::xml_reader::parse_xml;
use libfuzzer_sys::fuzz_target;

const PREVIOUS: [&str; 2] = [
    "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:card-1\r\nFN:Old Name\r\nN:Name;Old;;;\r\nX-AGAP-TAGS:SEEN\r\nEND:VCARD\r\n",
    "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:card-1\r\nFN:Old Name\r\nEND:VCARD\r\n",
];

fuzz_target!(|data: &[u8]| {
    let [pick, rest @ ..] = data else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let Ok(tree) = parse_xml(text) else { return };
    let previous = match pick % 3 {
        0 => None,
        n => Some(PREVIOUS[usize::from(n) - 1]),
    };
    if !tree.name.eq_ignore_ascii_case("VCARD") {
        return;
    }
    if let Ok((vcf, _uid)) = vcard_from_xml(&tree, previous) {
        let _ = render_vcard(&vcf);
    }
});
