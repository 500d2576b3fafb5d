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
/// with `presence` the presence state (`[presence] enabled`), with `delivers` a delivery path
/// (`[delivery] lmtp`).
pub fn refusal(mechanism: Mechanism, has_source: bool, presence: bool, delivers: bool) -> Option<&'static str> {
    match (mechanism.goal(), mechanism.proof()) {
        (Goal::Presence, _) if !presence => Some("presence (PNFO) is switched off on this gateway"),
        (Goal::Storing, _) if !delivers => Some("the storing state (FSTO) is not offered without [delivery] lmtp"),
        // The hash is over the clear password: only a configured source knows it.
        (_, Proof::Digest(_)) if !has_source => {
            Some("hashed logins need a credential source ([auth] users_file) on this gateway")
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presence_needs_its_setting_storing_delivery_digests_a_source() {
        for mechanism in Mechanism::ALL {
            // Every combination of (source, presence, delivers), in binary order.
            let found: Vec<bool> =
                (0..8).map(|bits| refusal(mechanism, bits & 4 != 0, bits & 2 != 0, bits & 1 != 0).is_none()).collect();
            let expected: Vec<bool> = (0..8)
                .map(|bits| {
                    let (source, presence, delivers) = (bits & 4 != 0, bits & 2 != 0, bits & 1 != 0);
                    match mechanism {
                        Mechanism::Plain => true,
                        Mechanism::Md5 | Mechanism::Sha1 => source,
                        Mechanism::Presence => presence,
                        Mechanism::PresenceMd5 | Mechanism::PresenceSha1 => presence && source,
                        Mechanism::Storing => delivers,
                        Mechanism::StoringMd5 | Mechanism::StoringSha1 => delivers && source,
                    }
                })
                .collect();
            assert_eq!(found, expected, "{mechanism:?}");
        }
    }
}
