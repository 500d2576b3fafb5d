//! AUTH mechanism (draft 4.6): enters the pre-authentication state. MD5 and SHA1 first send
//! the prefix of the hash as a `.` line (Figs 35, 36), then the 200 line.

use crate::auth::{Mechanism, Proof, new_prefix};
use crate::codec::Reply;
use crate::error::{AgapError, AgapResult};
use crate::gateway::Gateway;
use crate::state::PreAuth;

/// Accepts a mechanism this gateway offers; anything else, known to the draft or not, is 511.
pub fn handle(gateway: &Gateway, argument: Option<&str>) -> AgapResult<(Reply, PreAuth)> {
    let mechanism = parse_arguments(argument)?;
    if let Some(reason) = gateway.mechanism_refusal(mechanism) {
        return Err(AgapError::invalid(format!("UNSUPPORTED method {}: {reason}", mechanism.name())));
    }
    let reply = Reply::ok("OK Send USER");
    let pre_auth = PreAuth { mechanism, user: None, prefix: None };
    Ok(match mechanism.proof() {
        Proof::Password => (reply, pre_auth),
        Proof::Digest(_) => {
            let prefix = new_prefix();
            (reply.with_lines(vec![prefix.clone()]), PreAuth { prefix: Some(prefix), ..pre_auth })
        }
    })
}

/// The mechanism named: 510 without one (Fig 43), 511 for a name the draft does not define or
/// that breaks its syntax (letters, digits, `-`, `_`; Fig 44).
fn parse_arguments(argument: Option<&str>) -> AgapResult<Mechanism> {
    let name = super::require_argument("AUTH", argument)?;
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(AgapError::invalid("UNKNOWN method: invalid mechanism name"));
    }
    Mechanism::parse(name).ok_or_else(|| AgapError::invalid(format!("UNKNOWN method {name}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_the_draft_in_any_case_parse_others_are_511() {
        assert_eq!(parse_arguments(Some("plain")).expect("plain"), Mechanism::Plain);
        assert_eq!(parse_arguments(Some("Storing-Md5")).expect("storing-md5"), Mechanism::StoringMd5);
        for other in ["unknown", "PLAIN EXTRA", "PL@IN", "SHA-1", "MD5 "] {
            assert_eq!(parse_arguments(Some(other)).expect_err(other).to_reply().code.number(), 511, "{other}");
        }
        assert_eq!(parse_arguments(None).expect_err("none").to_reply().code.number(), 510);
    }
}
