//! The command line: bytes from the client, split into lines by the codec's `LineDecoder`
//! (fed in chunks of a fuzzed size, with a fuzzed line limit), each line parsed by
//! `parse_command`. Checks: no panic; the decoder buffers at most one line of the limit plus one
//! chunk; a decoded line fits the limit and has no LF; a parsed command names its verb.
#![no_main]

use agap_gateway::codec::{Line, LineDecoder};
use agap_gateway::command::parse_command;
use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;

fn check_line(text: &str, max_chars: usize) {
    assert!(!text.contains('\n'), "a decoded line holds LF: {text:?}");
    assert!(text.chars().count() < max_chars, "a decoded line is over the limit of {max_chars}");
    match parse_command(text) {
        Ok(command) => {
            let name = text.split(' ').next().unwrap_or("");
            assert!(command.verb.as_str().eq_ignore_ascii_case(name), "{text:?} parsed as {}", command.verb);
            assert_ne!(command.argument.as_deref(), Some(""));
        }
        Err(error) => {
            let _ = error.to_reply();
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let [limit, chunk, stream @ ..] = data else { return };
    // Small limits reach the over-long paths quickly; 255 stands for the default 1024.
    let max_chars = if *limit == 255 { 1024 } else { usize::from(*limit % 64) };
    let chunk = usize::from(*chunk).max(1);
    let mut decoder = LineDecoder::new(max_chars);
    let max_chars = max_chars.max(2);
    let mut buffer = BytesMut::new();
    for piece in stream.chunks(chunk) {
        buffer.extend_from_slice(piece);
        while let Some(line) = decoder.decode(&mut buffer) {
            if let Line::Text(text) = line {
                check_line(&text, max_chars);
            }
        }
        assert!(buffer.len() <= max_chars * 4 + chunk, "buffer grew to {}", buffer.len());
    }
    decoder.reset(&mut buffer);
    assert!(buffer.is_empty());
    // The parser on its own, over the whole input as one line.
    if let Ok(text) = std::str::from_utf8(stream) {
        let _ = parse_command(text);
    }
});
