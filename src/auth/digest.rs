//! The MD5 and SHA1 proofs (draft 4.6, 4.10; docs/interpretations.md, HASH-INPUT): a fresh random
//! prefix per AUTH, and HASH = lower-case hex of the digest of the UTF-8 bytes of prefix +
//! password, compared in constant time.

use md5::Md5;
use rand::RngExt;
use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;

/// The digest of a hashed mechanism.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestAlgorithm {
    /// MD5 (RFC 1321), 32 hex digits.
    Md5,
    /// SHA-1 (RFC 3174), 40 hex digits.
    Sha1,
}

impl DigestAlgorithm {
    /// The digest of `prefix` followed by `password`.
    pub fn digest(self, prefix: &str, password: &str) -> Vec<u8> {
        match self {
            DigestAlgorithm::Md5 => Md5::new().chain_update(prefix).chain_update(password).finalize().to_vec(),
            DigestAlgorithm::Sha1 => Sha1::new().chain_update(prefix).chain_update(password).finalize().to_vec(),
        }
    }
}

/// Characters of a prefix: printable ASCII without the space, so that the prefix survives
/// clients that trim the `.` line (the draft allows any character above 31).
const PREFIX_ALPHABET: &[u8] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&()*+,-./:;<=>?@[]^_{|}~";

/// Length of a prefix (the draft allows 1 to 256 characters); 32 characters from 89 carry
/// about 200 bits, so a prefix is never reused and a recorded HASH never replays.
const PREFIX_LENGTH: usize = 32;

/// A fresh random prefix for one AUTH.
pub fn new_prefix() -> String {
    let mut rng = rand::rng();
    (0..PREFIX_LENGTH).map(|_| char::from(PREFIX_ALPHABET[rng.random_range(0..PREFIX_ALPHABET.len())])).collect()
}

/// Whether `hash` (hex, either case) is the digest of `prefix` + `password`. The comparison
/// takes the same time wherever the first differing byte is.
pub fn verify_digest(algorithm: DigestAlgorithm, prefix: &str, password: &str, hash: &str) -> bool {
    let expected = algorithm.digest(prefix, password);
    let Some(given) = decode_hex(hash) else { return false };
    given.len() == expected.len() && bool::from(given.ct_eq(&expected))
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    text.as_bytes()
        .chunks(2)
        .map(|pair| {
            let digit = |byte: u8| char::from(byte).to_digit(16);
            u8::try_from(digit(pair[0])? * 16 + digit(pair[1])?).ok()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn known_digests_of_prefix_and_password() {
        // md5("abc") and sha1("abc"), split between prefix and password.
        assert_eq!(hex(&DigestAlgorithm::Md5.digest("a", "bc")), "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(hex(&DigestAlgorithm::Sha1.digest("ab", "c")), "a9993e364706816aba3e25717850c26c9cd0d89d");
    }

    #[test]
    fn verify_accepts_either_case_and_nothing_else() {
        let right = hex(&DigestAlgorithm::Sha1.digest("prefix!", "pässword"));
        assert!(verify_digest(DigestAlgorithm::Sha1, "prefix!", "pässword", &right));
        assert!(verify_digest(DigestAlgorithm::Sha1, "prefix!", "pässword", &right.to_uppercase()));
        assert!(!verify_digest(DigestAlgorithm::Sha1, "prefix!", "password", &right));
        assert!(!verify_digest(DigestAlgorithm::Md5, "prefix!", "pässword", &right), "wrong length");
        assert!(!verify_digest(DigestAlgorithm::Sha1, "prefix!", "pässword", &right[..39]));
        assert!(!verify_digest(DigestAlgorithm::Sha1, "prefix!", "pässword", &format!("{}zz", &right[..38])));
        assert!(!verify_digest(DigestAlgorithm::Sha1, "prefix!", "pässword", ""));
    }

    #[test]
    fn prefixes_are_fresh_and_within_the_drafts_bounds() {
        let first = new_prefix();
        assert_eq!(first.chars().count(), PREFIX_LENGTH);
        assert!(first.chars().all(|c| c > ' ' && c.is_ascii()));
        assert_ne!(first, new_prefix());
    }
}
