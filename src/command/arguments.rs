//! The argument forms that several commands share (draft 4.1, 4.2), parsed without context.
//! A missing argument where one is needed, or one where none is, is 510 (draft Figs 43, 59,
//! 106, 125; docs/interpretations.md, `NOARG-510-511`); a malformed one is 511.

use agap_adapter_api::tags::{Tag, TagChange};

use crate::auth::Mechanism;
use crate::error::{AgapError, AgapResult};
use crate::ids;

/// Refuses an argument to a command that takes none (510: its syntax is wrong, draft 5.5.2).
pub fn expect_no_argument(verb: &str, argument: Option<&str>) -> AgapResult<()> {
    match argument {
        None => Ok(()),
        Some(_) => Err(AgapError::unknown_command(format!("{verb} takes no argument"))),
    }
}

/// Requires an argument; its absence is 510.
pub fn require_argument<'a>(verb: &str, argument: Option<&'a str>) -> AgapResult<&'a str> {
    argument.ok_or_else(|| AgapError::unknown_command(format!("{verb} needs an argument")))
}

/// An AGAP UID in the gateway's form: a decimal 32-bit number without leading zeros (for
/// messages, the IMAP UID unless `items::messages` says otherwise).
pub fn parse_uid(text: &str) -> AgapResult<u32> {
    let invalid = || AgapError::invalid(format!("INVALID UID {text}"));
    if !ids::is_valid(text) || text.starts_with('0') {
        return Err(invalid());
    }
    text.parse::<u32>().ok().filter(|uid| *uid > 0).ok_or_else(invalid)
}

/// An item command's arguments: the UID (checked) and the rest of the line (empty when there is
/// none).
#[derive(Debug, Clone, Copy)]
pub struct UidArguments<'a> {
    /// The UID (canonical decimal: replies name it by its number).
    pub uid: u32,
    /// What follows the UID.
    pub rest: &'a str,
}

/// Splits `UID rest`.
pub fn uid_arguments<'a>(verb: &str, argument: Option<&'a str>) -> AgapResult<UidArguments<'a>> {
    let argument = require_argument(verb, argument)?;
    let (text, rest) = argument.split_once(' ').unwrap_or((argument, ""));
    Ok(UidArguments { uid: parse_uid(text)?, rest })
}

/// Splits `UID destination` (COPY, MOVE).
pub fn uid_and_destination<'a>(verb: &str, argument: Option<&'a str>) -> AgapResult<(u32, &'a str)> {
    let arguments = uid_arguments(verb, argument)?;
    if arguments.rest.is_empty() {
        return Err(AgapError::invalid(format!("{verb} needs a UID and a destination")));
    }
    Ok((arguments.uid, arguments.rest))
}

/// Parses `ACTION TAG TAG=VALUE ...` (draft 4.2); the list may be empty (`= ` clears all tags).
pub fn parse_tag_list(text: &str) -> AgapResult<TagChange> {
    let invalid = || AgapError::invalid("INVALID tag list");
    let mut words = text.split(' ');
    let action = words.next().ok_or_else(invalid)?;
    let tags = words.filter(|word| !word.is_empty()).map(Tag::parse).collect::<Result<Vec<_>, _>>();
    let tags = tags.map_err(|bad| AgapError::invalid(format!("INVALID tag list: {bad}")))?;
    match action {
        "=" => Ok(TagChange::Set(tags)),
        "+" => Ok(TagChange::Add(tags)),
        "-" => Ok(TagChange::Remove(tags)),
        _ => Err(invalid()),
    }
}

/// The mechanism of AUTH: 510 without one (Fig 43), 511 for a name the draft does not define
/// or that breaks its syntax (letters, digits, `-`, `_`; Fig 44).
pub fn parse_mechanism(argument: Option<&str>) -> AgapResult<Mechanism> {
    let name = require_argument("AUTH", argument)?;
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(AgapError::invalid("UNKNOWN method: invalid mechanism name"));
    }
    Mechanism::parse(name).ok_or_else(|| AgapError::invalid(format!("UNKNOWN method {name}")))
}

/// The longest account name USER takes, in characters (upstream servers have similar limits).
const MAX_USER_LENGTH: usize = 256;

/// The account name of USER: bounded, without control characters or surrounding spaces.
pub fn parse_user_name(argument: Option<&str>) -> AgapResult<&str> {
    let user = require_argument("USER", argument)?;
    if user.chars().count() > MAX_USER_LENGTH || user.chars().any(char::is_control) || user.trim() != user {
        return Err(AgapError::invalid("INVALID username"));
    }
    Ok(user)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uids_must_be_imap_uids_in_agap_syntax() {
        assert_eq!(parse_uid("42").expect("valid"), 42);
        for bad in ["", "0", "042", "-1", "UIDx1234", "4294967296", "1 2"] {
            assert!(parse_uid(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn mechanism_names_of_the_draft_in_any_case_parse_others_are_511() {
        assert_eq!(parse_mechanism(Some("plain")).expect("plain"), Mechanism::Plain);
        assert_eq!(parse_mechanism(Some("Storing-Md5")).expect("storing-md5"), Mechanism::StoringMd5);
        for other in ["unknown", "PLAIN EXTRA", "PL@IN", "SHA-1", "MD5 "] {
            assert_eq!(parse_mechanism(Some(other)).expect_err(other).to_reply().code.number(), 511, "{other}");
        }
        assert_eq!(parse_mechanism(None).expect_err("none").to_reply().code.number(), 510);
    }

    #[test]
    fn tag_lists_follow_section_4_2() {
        assert!(matches!(parse_tag_list("= SEEN SPAM=YES"), Ok(TagChange::Set(tags)) if tags.len() == 2));
        assert!(matches!(parse_tag_list("+ seen"), Ok(TagChange::Add(tags)) if tags[0].name() == "SEEN"));
        assert!(matches!(parse_tag_list("="), Ok(TagChange::Set(tags)) if tags.is_empty()));
        for bad in ["", "SEEN", "* SEEN", "+ SEEN bad/tag", "+ A=b c=d=e"] {
            assert_eq!(parse_tag_list(bad).expect_err(bad).to_reply().code.number(), 511, "{bad:?}");
        }
    }

    #[test]
    fn user_names_are_bounded_and_unpadded() {
        assert_eq!(parse_user_name(Some("alice@example.com")).expect("valid"), "alice@example.com");
        for bad in [" padded", "trailing ", "tab\there", &"x".repeat(257)] {
            assert_eq!(parse_user_name(Some(bad)).expect_err(bad).to_reply().code.number(), 511, "{bad:?}");
        }
        assert_eq!(parse_user_name(None).expect_err("missing").to_reply().code.number(), 510);
    }
}
