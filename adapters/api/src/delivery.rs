//! The delivery backend family: putting an item into another account's mailbox the way mail
//! arrives (FSTO, draft 4.24), through the mail server's own delivery agent, so that the
//! recipient's filters (Sieve) and quotas apply as for any incoming mail.

use async_trait::async_trait;

use crate::{AdapterError, AdapterErrorKind, AdapterResult};

/// The longest envelope address accepted, in bytes: RFC 5321 4.5.3.1.3's path limit.
pub const MAX_ADDRESS_BYTES: usize = 256;

/// Refuses (`Refused`) what cannot be one envelope address on an SMTP/LMTP command line: empty,
/// longer than [`MAX_ADDRESS_BYTES`], or holding anything but RFC 5322 `atext`, `.` and `@`
/// (no spaces, `<`, `>`, quotes, parentheses, control characters or non-ASCII: RFC 5321
/// 4.1.2's Mailbox without quoted local parts, address literals or SMTPUTF8). So an address can
/// end or bend neither a command line nor a header comment. Every delivery checks both
/// addresses before any byte goes upstream.
pub fn check_address(address: &str) -> AdapterResult<()> {
    let bad = address.is_empty() || address.len() > MAX_ADDRESS_BYTES || !address.chars().all(is_address_char);
    if bad {
        return Err(AdapterError::new(
            AdapterErrorKind::Refused,
            format!("{:?} is not a deliverable address", address.chars().take(64).collect::<String>()),
        ));
    }
    Ok(())
}

/// RFC 5322 `atext`, and the `.` and `@` between its atoms.
pub fn is_address_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.@".contains(c)
}

/// A mail server's local delivery agent (an LMTP server, RFC 2033).
#[async_trait]
pub trait MailDelivery: Send + Sync {
    /// Delivers `message` (an RFC 5322 message with CR LF line ends) into `recipient`'s mailbox,
    /// with `sender` as the envelope sender (empty: the null sender `<>`). An unknown recipient is `NotFound` (and nothing is
    /// delivered), a refusal of the message `Refused`, a temporary failure `Unavailable`.
    async fn deliver(&self, sender: &str, recipient: &str, message: &[u8]) -> AdapterResult<()>;

    /// Whether `recipient` has a mailbox, asked without delivering anything: `NotFound` when not.
    async fn verify(&self, recipient: &str) -> AdapterResult<()>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_addresses_reach_the_command_line() {
        assert!(check_address("user17").is_ok());
        assert!(check_address("kontakt@agap.at").is_ok());
        for bad in ["", "a b", "a>\r\nRCPT TO:<b", "a\rb", "<a>", "ü@x", "a,b", "a(b)", "a;b", &"a".repeat(257)] {
            assert_eq!(check_address(bad).map_err(|e| e.kind()), Err(AdapterErrorKind::Refused), "{bad:?}");
        }
    }
}
