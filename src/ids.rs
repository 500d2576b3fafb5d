//! AGAP identifiers: UIDs, FCIDs and UCIDs (draft 2.5-2.7).
//!
//! All three share one format: 1 to 32 characters of 0-9A-Za-z, ordered shorter-first and then
//! character by character (0-9 < A-Z < a-z, which is byte order for these characters). The
//! gateway writes its numbers in decimal without leading zeros, for which that order is exactly
//! numeric order, and which stays readable in a transcript.

use std::cmp::Ordering;

/// Compares two identifiers in AGAP order.
pub fn compare(a: &str, b: &str) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| a.as_bytes().cmp(b.as_bytes()))
}

/// Whether `candidate` has the syntax of a UID.
pub fn is_valid(candidate: &str) -> bool {
    (1..=32).contains(&candidate.len()) && candidate.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The identifier for a number.
pub fn format(number: u64) -> String {
    number.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shorter_sorts_first_then_digits_upper_lower() {
        assert_eq!(compare("9234", "02345"), Ordering::Less);
        assert_eq!(compare("0A", "0a"), Ordering::Less);
        assert_eq!(compare("9", "A"), Ordering::Less);
        assert_eq!(compare("Z", "a"), Ordering::Less);
    }

    #[test]
    fn decimal_numbers_keep_numeric_order() {
        let numbers = [0u64, 1, 9, 10, 99, 100, 4_294_967_295, 1_700_000_000_000, u64::MAX];
        for pair in numbers.windows(2) {
            assert_eq!(compare(&format(pair[0]), &format(pair[1])), Ordering::Less, "{pair:?}");
            assert!(is_valid(&format(pair[1])));
        }
    }

    #[test]
    fn syntax_is_checked() {
        assert!(is_valid("UIDx1234"));
        assert!(!is_valid(""));
        assert!(!is_valid("-1"));
        assert!(!is_valid(&"a".repeat(33)));
    }
}
