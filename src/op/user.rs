//! USER account (draft 4.12).

use crate::auth::Proof;
use crate::codec::Reply;
use crate::error::AgapResult;
use crate::state::{PreAuth, Transition};

/// Records the account name; a new USER replaces an earlier one. The reply asks for PASS or
/// HASH as the mechanism proves the user (Figs 35, 58).
pub fn handle(pre_auth: &PreAuth, argument: Option<&str>) -> (AgapResult<Reply>, Transition) {
    let user = match crate::command::arguments::parse_user_name(argument) {
        Ok(user) => user,
        Err(error) => return (Err(error), Transition::Stay),
    };
    let next = match pre_auth.mechanism.proof() {
        Proof::Password => "OK Send PASS",
        Proof::Digest(_) => "OK Send HASH",
    };
    (Ok(Reply::ok(next)), Transition::PreAuth(PreAuth { user: Some(user.to_owned()), ..pre_auth.clone() }))
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
        let (result, transition) = handle(&fresh(Mechanism::Plain), Some("alice@example.com"));
        assert_eq!(result.expect("accepted").text, "OK Send PASS");
        let Transition::PreAuth(state) = transition else { panic!("{transition:?}") };
        assert_eq!(state.user.as_deref(), Some("alice@example.com"));
        let (result, transition) = handle(&fresh(Mechanism::Plain), Some(" padded"));
        assert_eq!(result.expect_err("padded").to_reply().code.number(), 511);
        assert!(matches!(transition, Transition::Stay));
        let (result, _) = handle(&fresh(Mechanism::Plain), None);
        assert_eq!(result.expect_err("missing").to_reply().code.number(), 510);
    }

    #[test]
    fn hashed_mechanisms_ask_for_hash() {
        let (result, _) = handle(&fresh(Mechanism::Sha1), Some("alice"));
        assert_eq!(result.expect("accepted").text, "OK Send HASH");
    }
}
