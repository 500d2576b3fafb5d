//! The command filter language (draft 4.3.1): `parse_filter` over fuzzed lines, for an item
//! root picked by the first byte; a filter that parses is also planned (the IMAP and DAV
//! queries, the fetch needs), as FIND would. Checks: no panic, no stack overflow.
//!
//! A filter reaches the gateway as up to 256 lines of the line limit (256 KiB by default) and
//! is parsed on a tokio worker (2 MiB of stack): about 8 bytes of stack per byte of input. The
//! fuzzer's inputs are a few KiB, so each is parsed on a thread with 256 KiB of stack, about the
//! same ratio with room for the sanitizer's larger frames: stack use that grows with the
//! input, not with a bounded nesting depth, shows up here as a stack overflow.
#![no_main]

use agap_adapter_api::collection::ItemKind;
use agap_gateway::filter::{collection_query, fetch_needs, mail_query, parse_filter};
use libfuzzer_sys::fuzz_target;

const ROOTS: [(&str, Option<ItemKind>); 5] = [
    ("MESSAGE", None),
    ("VEVENT", Some(ItemKind::Events)),
    ("VTODO", Some(ItemKind::Tasks)),
    ("VJOURNAL", Some(ItemKind::Journals)),
    ("VCARD", Some(ItemKind::Contacts)),
];

const STACK: usize = 256 * 1024;

fn run(root: &str, kind: Option<ItemKind>, lines: &[String]) {
    if let Ok(filter) = parse_filter(lines, root) {
        match kind {
            None => drop(mail_query(&filter)),
            Some(kind) => drop(collection_query(&filter, kind)),
        }
        drop(fetch_needs(&filter));
    }
}

fuzz_target!(|data: &[u8]| {
    let [pick, rest @ ..] = data else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let (root, kind) = ROOTS[usize::from(*pick) % ROOTS.len()];
    let lines: Vec<String> = text.split('\n').map(str::to_owned).collect();
    let worker = std::thread::Builder::new().stack_size(STACK).spawn(move || run(root, kind, &lines));
    if let Err(panic) = worker.expect("spawn").join() {
        std::panic::resume_unwind(panic);
    }
});
