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
pub fn refusal(mechanism: Mechanism, has_source: bool) -> Option<&'static str> {
    match (mechanism.goal(), mechanism.proof()) {
        // The states exist in the draft (3.5, 3.6) but not yet in this gateway.
        (Goal::Presence, _) => Some("the presence state (PNFO) is not offered by this gateway"),
        (Goal::Storing, _) => Some("the storing state (FSTO) is not offered by this gateway"),
        // The hash is over the clear password: only a configured source knows it.
        (Goal::Account, Proof::Digest(_)) if !has_source => {
            Some("hashed logins need a credential source ([auth] users_file) on this gateway")
        }
        (Goal::Account, _) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presence_and_storing_are_refused_digests_need_a_source() {
        for mechanism in Mechanism::ALL {
            let offered_without = refusal(mechanism, false).is_none();
            let offered_with = refusal(mechanism, true).is_none();
            let expected = match mechanism {
                Mechanism::Plain => (true, true),
                Mechanism::Md5 | Mechanism::Sha1 => (false, true),
                _ => (false, false),
            };
            assert_eq!((offered_without, offered_with), expected, "{mechanism:?}");
        }
    }
}
