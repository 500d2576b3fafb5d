//! Authentication (draft 3.2, 4.6, 4.10-4.12): the mechanisms and the states they lead to, the
//! prefix-and-hash proof of MD5 and SHA1, and the credential source that makes those possible.

mod digest;
mod mechanism;
mod users;

pub use digest::{DigestAlgorithm, new_prefix, verify_digest};
pub use mechanism::{Goal, Mechanism, Proof};
pub use users::{CredentialSource, UsersFile, UsersFileError};

/// Why the gateway does not offer `mechanism` (AUTH answers 511 with it; CAPA omits the
/// mechanism), or `None` when it does.
pub fn refusal(mechanism: Mechanism, has_source: bool, delivers: bool) -> Option<&'static str> {
    match (mechanism.goal(), mechanism.proof()) {
        // The state exists in the draft (3.5) but not yet in this gateway.
        (Goal::Presence, _) => Some("the presence state (PNFO) is not offered by this gateway"),
        (Goal::Storing, _) if !delivers => Some("the storing state (FSTO) is not offered without [delivery] lmtp"),
        // The hash is over the clear password: only a configured source knows it.
        (_, Proof::Digest(_)) if !has_source => {
            Some("hashed logins need a credential source ([auth] users_file) on this gateway")
        }
        (Goal::Account | Goal::Storing, _) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presence_is_refused_storing_needs_delivery_digests_need_a_source() {
        for mechanism in Mechanism::ALL {
            let offered = |source, delivers| refusal(mechanism, source, delivers).is_none();
            let expected = match mechanism {
                Mechanism::Plain => [true, true, true, true],
                Mechanism::Md5 | Mechanism::Sha1 => [false, true, false, true],
                Mechanism::Storing => [false, false, true, true],
                Mechanism::StoringMd5 | Mechanism::StoringSha1 => [false, false, false, true],
                _ => [false; 4],
            };
            let found = [offered(false, false), offered(true, false), offered(false, true), offered(true, true)];
            assert_eq!(found, expected, "{mechanism:?}");
        }
    }
}
