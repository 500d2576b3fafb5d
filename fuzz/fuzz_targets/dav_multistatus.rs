//! The DAV adapter's reader of server bodies: `parse_multistatus_document` (PROPFIND, REPORT,
//! sync-collection; its namespace-aware tree reader) and `parse_multistatus`. Checks: no panic.
#![no_main]

use agap_adapter_dav::{parse_multistatus, parse_multistatus_document};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let document = parse_multistatus_document(text);
    let responses = parse_multistatus(text);
    assert_eq!(document.map(|d| d.responses), responses);
});
