//! AUTH mechanism (draft 4.6): enters the pre-authentication state.

use crate::codec::Reply;
use crate::error::{AgapError, AgapResult};
use crate::session::{Mechanism, PreAuth};

/// Accepts a mechanism this gateway offers; anything else, known to the draft or not, is 511.
pub fn handle(argument: Option<&str>) -> AgapResult<(Reply, PreAuth)> {
    let mechanism = super::require_argument("AUTH", argument)?;
    if mechanism.is_empty() || !mechanism.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(AgapError::invalid("UNKNOWN method: invalid mechanism name"));
    }
    match mechanism.to_ascii_uppercase().as_str() {
        "PLAIN" => Ok((Reply::ok("OK Send USER"), PreAuth { mechanism: Mechanism::Plain, user: None })),
        _ => Err(AgapError::invalid(format!("UNKNOWN method {mechanism}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_in_any_case_is_accepted_others_are_511() {
        assert!(handle(Some("plain")).is_ok());
        for other in ["MD5", "SHA1", "unknown", "PLAIN EXTRA", "PL@IN"] {
            assert_eq!(handle(Some(other)).expect_err(other).to_reply().code.number(), 511, "{other}");
        }
        assert_eq!(handle(None).expect_err("none").to_reply().code.number(), 510);
    }
}
