//! The trace field FSTO puts on top of a delivered message (RFC 5322 3.6.7, RFC 5321 4.4): which
//! gateway took it, from which client address, and who sent it. A recipient (and the recipient's
//! filters) can so tell an FSTO delivery from mail that came through the MTA, and an operator
//! can find the sender of an unwanted one (docs/interpretations.md, FSTO-TRACE).

use std::net::IpAddr;

use agap_adapter_api::delivery::is_address_char;

/// Who sent an FSTO delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sender {
    /// A user who logged in with a password or digest.
    Authenticated(String),
    /// An anonymous login (draft 4.6: USER anonymous, the address as password), with the address
    /// it gave, which nobody checked.
    Anonymous(String),
}

impl Sender {
    /// The envelope sender: the user's address where the login name is one, the address an
    /// anonymous sender gave; otherwise the null sender (no bounce goes to a guessed address).
    pub fn envelope_address(&self) -> &str {
        match self {
            Sender::Authenticated(user) if user.contains('@') && user.chars().all(is_address_char) => user,
            Sender::Anonymous(address) => address,
            Sender::Authenticated(_) => "",
        }
    }

    /// The key of the per-sender limit.
    pub fn limit_key(&self) -> String {
        match self {
            Sender::Authenticated(user) => format!("user:{}", user.to_lowercase()),
            Sender::Anonymous(address) => format!("anonymous:{}", address.to_lowercase()),
        }
    }
}

/// The `Received:` field of a delivery, with its CR LF. `date` is an RFC 5322 date-time.
pub fn received_field(gateway_name: &str, client: IpAddr, sender: &Sender, recipient: &str, date: &str) -> String {
    let who = match sender {
        Sender::Authenticated(user) => format!("authenticated as {}", comment_safe(user)),
        Sender::Anonymous(address) => format!("anonymous, gave {}", comment_safe(address)),
    };
    format!(
        "Received: from [{}] (AGAP FSTO, {who})\r\n\tby {} with AGAP for <{}>;\r\n\t{date}\r\n",
        client.to_canonical(),
        comment_safe(gateway_name),
        comment_safe(recipient),
    )
}

/// `text` with everything that could end the comment, the field or the line replaced by `?`.
fn comment_safe(text: &str) -> String {
    text.chars().take(256).map(|c| if is_address_char(c) || c == '-' { c } else { '?' }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_field_names_gateway_client_and_sender_and_cannot_be_bent() {
        let field = received_field(
            "gw.example",
            "127.0.0.1".parse().expect("ip"),
            &Sender::Authenticated("user17) \r\nX-Evil: 1".into()),
            "kontakt@agap.at",
            "Mon, 7 Dec 2026 23:59:00 +0000",
        );
        assert!(field.starts_with("Received: from [127.0.0.1] (AGAP FSTO, authenticated as user17????X-Evil??1)\r\n"));
        assert!(field.contains("by gw.example with AGAP for <kontakt@agap.at>;"));
        assert_eq!(field.matches("\r\n").count(), 3, "three lines, the last ending the field");
        assert!(field.lines().skip(1).all(|line| line.starts_with('\t')), "folded, never a new field");
        let anonymous =
            received_field("gw", "::ffff:10.0.0.1".parse().expect("ip"), &Sender::Anonymous("a@b.c".into()), "x", "d");
        assert!(anonymous.contains("from [10.0.0.1] (AGAP FSTO, anonymous, gave a@b.c)"));
    }

    #[test]
    fn the_envelope_sender_is_never_a_guess() {
        assert_eq!(Sender::Authenticated("user17".into()).envelope_address(), "");
        assert_eq!(Sender::Authenticated("a@b.c".into()).envelope_address(), "a@b.c");
        assert_eq!(Sender::Anonymous("x@y.z".into()).envelope_address(), "x@y.z");
    }
}
