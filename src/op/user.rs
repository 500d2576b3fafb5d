//! USER account (draft 4.12).

use crate::auth::Proof;
use crate::codec::Reply;
use crate::error::AgapResult;
use crate::state::{PreAuth, Transition};

/// Records the account name; a new USER replaces an earlier one. The reply asks for PASS or
/// HASH as the mechanism proves the user (Figs 35, 58).
pub fn handle(pre_auth: &PreAuth, user: &str) -> (AgapResult<Reply>, Transition) {
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
    fn the_name_is_kept_for_pass_or_hash() {
        let (result, transition) = handle(&fresh(Mechanism::Plain), "alice@example.com");
        assert_eq!(result.expect("accepted").text, "OK Send PASS");
        let Transition::PreAuth(state) = transition else { panic!("{transition:?}") };
        assert_eq!(state.user.as_deref(), Some("alice@example.com"));
    }

    #[test]
    fn hashed_mechanisms_ask_for_hash() {
        let (result, _) = handle(&fresh(Mechanism::Sha1), "alice");
        assert_eq!(result.expect("accepted").text, "OK Send HASH");
    }
}
