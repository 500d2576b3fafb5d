//! Authentication (draft 3.2, 4.6, 4.10-4.12): the mechanisms and the states they lead to, the
//! prefix-and-hash proof of MD5 and SHA1, and the credential source that makes those possible.

mod digest;
mod mechanism;
mod users;

pub use digest::{DigestAlgorithm, new_prefix, verify_digest};
pub use mechanism::{Goal, Mechanism, Proof};
pub use users::{CredentialSource, UsersFile, UsersFileError};

/// Why the gateway does not offer `mechanism` (AUTH answers 511 with it; CAPA omits the
/// mechanism), or `None` when it does: with `has_source` a credential source for hashed logins,
/// with `presence` the presence state (`[presence] enabled`).
pub fn refusal(mechanism: Mechanism, has_source: bool, presence: bool) -> Option<&'static str> {
    match (mechanism.goal(), mechanism.proof()) {
        // The state exists in the draft (3.6) but not yet in this gateway.
        (Goal::Storing, _) => Some("the storing state (FSTO) is not offered by this gateway"),
        (Goal::Presence, _) if !presence => Some("presence (PNFO) is switched off on this gateway"),
        // The hash is over the clear password: only a configured source knows it.
        (Goal::Account | Goal::Presence, Proof::Digest(_)) if !has_source => {
            Some("hashed logins need a credential source ([auth] users_file) on this gateway")
        }
        (Goal::Account | Goal::Presence, _) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storing_is_refused_presence_needs_its_setting_digests_need_a_source() {
        for mechanism in Mechanism::ALL {
            let offered = |source, presence| refusal(mechanism, source, presence).is_none();
            let expected = match mechanism {
                Mechanism::Plain => [true, true, true, true],
                Mechanism::Md5 | Mechanism::Sha1 => [false, true, false, true],
                Mechanism::Presence => [false, false, true, true],
                Mechanism::PresenceMd5 | Mechanism::PresenceSha1 => [false, false, false, true],
                _ => [false; 4],
            };
            let actual = [offered(false, false), offered(true, false), offered(false, true), offered(true, true)];
            assert_eq!(actual, expected, "{mechanism:?}");
        }
    }
}
