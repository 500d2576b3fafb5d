//! USER account (draft 4.12).

use crate::codec::Reply;
use crate::error::{AgapError, AgapResult};
use crate::session::PreAuth;

/// Longest account name accepted; upstream servers have similar limits.
const MAX_USER_LENGTH: usize = 256;

/// Records the account name; a new USER replaces an earlier one.
pub fn handle(pre_auth: PreAuth, argument: Option<&str>) -> (AgapResult<Reply>, PreAuth) {
    let user = match super::require_argument("USER", argument) {
        Ok(user) => user,
        Err(error) => return (Err(error), pre_auth),
    };
    if user.chars().count() > MAX_USER_LENGTH || user.chars().any(char::is_control) || user.trim() != user {
        return (Err(AgapError::invalid("INVALID username")), pre_auth);
    }
    (Ok(Reply::ok("OK Send PASS")), PreAuth { user: Some(user.to_owned()), ..pre_auth })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::Mechanism;

    fn fresh() -> PreAuth {
        PreAuth { mechanism: Mechanism::Plain, user: None }
    }

    #[test]
    fn valid_names_are_kept_and_invalid_ones_refused() {
        let (result, state) = handle(fresh(), Some("alice@example.com"));
        assert!(result.is_ok());
        assert_eq!(state.user.as_deref(), Some("alice@example.com"));
        let (result, state) = handle(fresh(), Some(" padded"));
        assert_eq!(result.expect_err("padded").to_reply().code.number(), 511);
        assert_eq!(state.user, None);
        let (result, _) = handle(fresh(), None);
        assert_eq!(result.expect_err("missing").to_reply().code.number(), 510);
    }
}
