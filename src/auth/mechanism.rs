//! The AUTH mechanisms of draft 4.6: how each proves the user and which state it leads to.

use super::DigestAlgorithm;

/// Every mechanism the draft names, offered or not (`super::refusal` decides).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mechanism {
    /// USER and PASS in clear text; authenticated state.
    Plain,
    /// USER and an MD5 hash of prefix and password; authenticated state.
    Md5,
    /// USER and a SHA-1 hash of prefix and password; authenticated state.
    Sha1,
    /// As PLAIN, into the presence state (3.5).
    Presence,
    /// As MD5, into the presence state.
    PresenceMd5,
    /// As SHA1, into the presence state.
    PresenceSha1,
    /// As PLAIN, into the storing state (3.6).
    Storing,
    /// As MD5, into the storing state.
    StoringMd5,
    /// As SHA1, into the storing state.
    StoringSha1,
}

/// How the client proves the account is theirs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof {
    /// PASS with the password.
    Password,
    /// HASH with a digest of the prefix sent after AUTH and the password (4.10).
    Digest(DigestAlgorithm),
}

/// The state a successful login enters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Goal {
    /// The authenticated state (3.3, 3.4).
    Account,
    /// The presence state (3.5).
    Presence,
    /// The storing state (3.6).
    Storing,
}

impl Mechanism {
    /// In the order CAPA lists them.
    pub const ALL: [Mechanism; 9] = [
        Mechanism::Md5,
        Mechanism::Plain,
        Mechanism::Presence,
        Mechanism::PresenceMd5,
        Mechanism::PresenceSha1,
        Mechanism::Sha1,
        Mechanism::Storing,
        Mechanism::StoringMd5,
        Mechanism::StoringSha1,
    ];

    /// The name on the wire, upper case (CAPA shows it as `AUTH-<name>`).
    pub fn name(self) -> &'static str {
        match self {
            Mechanism::Plain => "PLAIN",
            Mechanism::Md5 => "MD5",
            Mechanism::Sha1 => "SHA1",
            Mechanism::Presence => "PRESENCE",
            Mechanism::PresenceMd5 => "PRESENCE-MD5",
            Mechanism::PresenceSha1 => "PRESENCE-SHA1",
            Mechanism::Storing => "STORING",
            Mechanism::StoringMd5 => "STORING-MD5",
            Mechanism::StoringSha1 => "STORING-SHA1",
        }
    }

    /// The mechanism of a name, case-insensitively (4.6).
    pub fn parse(name: &str) -> Option<Mechanism> {
        Self::ALL.into_iter().find(|mechanism| mechanism.name().eq_ignore_ascii_case(name))
    }

    /// How the user proves the account.
    pub fn proof(self) -> Proof {
        match self {
            Mechanism::Plain | Mechanism::Presence | Mechanism::Storing => Proof::Password,
            Mechanism::Md5 | Mechanism::PresenceMd5 | Mechanism::StoringMd5 => Proof::Digest(DigestAlgorithm::Md5),
            Mechanism::Sha1 | Mechanism::PresenceSha1 | Mechanism::StoringSha1 => Proof::Digest(DigestAlgorithm::Sha1),
        }
    }

    /// The state a successful login enters.
    pub fn goal(self) -> Goal {
        match self {
            Mechanism::Plain | Mechanism::Md5 | Mechanism::Sha1 => Goal::Account,
            Mechanism::Presence | Mechanism::PresenceMd5 | Mechanism::PresenceSha1 => Goal::Presence,
            Mechanism::Storing | Mechanism::StoringMd5 | Mechanism::StoringSha1 => Goal::Storing,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_case_insensitively() {
        for mechanism in Mechanism::ALL {
            assert_eq!(Mechanism::parse(mechanism.name()), Some(mechanism));
            assert_eq!(Mechanism::parse(&mechanism.name().to_ascii_lowercase()), Some(mechanism));
        }
        assert_eq!(Mechanism::parse("presence-sha1"), Some(Mechanism::PresenceSha1));
        assert_eq!(Mechanism::parse("SHA-1"), None);
        let mut names: Vec<_> = Mechanism::ALL.iter().map(|m| m.name()).collect();
        names.sort_unstable();
        assert_eq!(names, Mechanism::ALL.map(Mechanism::name), "ALL is in CAPA order");
    }

    #[test]
    fn each_mechanism_has_its_proof_and_goal() {
        assert_eq!(Mechanism::StoringMd5.proof(), Proof::Digest(DigestAlgorithm::Md5));
        assert_eq!(Mechanism::StoringMd5.goal(), Goal::Storing);
        assert_eq!(Mechanism::Presence.proof(), Proof::Password);
        assert_eq!(Mechanism::Sha1.goal(), Goal::Account);
    }
}
