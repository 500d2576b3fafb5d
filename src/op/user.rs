//! USER account (draft 4.12).

use crate::auth::Proof;
use crate::codec::Reply;
use crate::error::{AgapError, AgapResult};
use crate::session::PreAuth;

/// Longest account name accepted; upstream servers have similar limits.
const MAX_USER_LENGTH: usize = 256;

/// Records the account name; a new USER replaces an earlier one. The reply asks for PASS or
/// HASH as the mechanism proves the user (Figs 35, 58).
pub fn handle(pre_auth: PreAuth, argument: Option<&str>) -> (AgapResult<Reply>, PreAuth) {
    let user = match super::require_argument("USER", argument) {
        Ok(user) => user,
        Err(error) => return (Err(error), pre_auth),
    };
    if user.chars().count() > MAX_USER_LENGTH || user.chars().any(char::is_control) || user.trim() != user {
        return (Err(AgapError::invalid("INVALID username")), pre_auth);
    }
    let next = match pre_auth.mechanism.proof() {
        Proof::Password => "OK Send PASS",
        Proof::Digest(_) => "OK Send HASH",
    };
    (Ok(Reply::ok(next)), PreAuth { user: Some(user.to_owned()), ..pre_auth })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Mechanism;

    fn fresh(mechanism: Mechanism) -> PreAuth {
        PreAuth { mechanism, user: None, prefix: None }
    }

    #[test]
    fn valid_names_are_kept_and_invalid_ones_refused() {
        let (result, state) = handle(fresh(Mechanism::Plain), Some("alice@example.com"));
        assert_eq!(result.expect("accepted").text, "OK Send PASS");
        assert_eq!(state.user.as_deref(), Some("alice@example.com"));
        let (result, state) = handle(fresh(Mechanism::Plain), Some(" padded"));
        assert_eq!(result.expect_err("padded").to_reply().code.number(), 511);
        assert_eq!(state.user, None);
        let (result, _) = handle(fresh(Mechanism::Plain), None);
        assert_eq!(result.expect_err("missing").to_reply().code.number(), 510);
    }

    #[test]
    fn hashed_mechanisms_ask_for_hash() {
        let (result, _) = handle(fresh(Mechanism::Sha1), Some("alice"));
        assert_eq!(result.expect("accepted").text, "OK Send HASH");
    }
}
