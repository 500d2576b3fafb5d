//! Typed commands: any line through `Command::parse`. Checks: no panic; a line whose name is
//! unknown is refused as `parse_command` refuses it; a parsed command is of the verb the line
//! names; a refusal is 510 or 511 (a command's syntax, never upstream or internal trouble) and
//! renders as a reply.
#![no_main]

use agap_gateway::command::{Command, parse_command};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let split = parse_command(text);
    match Command::parse(text) {
        Ok(command) => {
            let line = split.expect("a typed command from a line whose name is unknown");
            let name = format!("{command:?}");
            assert!(name.to_ascii_uppercase().starts_with(line.verb.as_str()), "{text:?} parsed as {name}");
        }
        Err(error) => {
            let reply = error.to_reply();
            let code = reply.code.number();
            assert!(code == 510 || code == 511, "{text:?} refused with {code}");
            if let Err(split_error) = split {
                assert_eq!(split_error.to_reply().text, reply.text);
            }
        }
    }
});
