//! Filters pushed down to IMAP: a `Query` becomes one UID SEARCH (RFC 3501 6.4.4), each node
//! translated exactly where IMAP can say the same thing, or widened to a superset (and marked
//! inexact) where it cannot.
//!
//! - UID ranges, tags and "unseen" are exact. A tag by value is its keyword(s); a tag by name
//!   alone is every keyword of the mailbox (its FLAGS, read by a fresh SELECT) that stands for a
//!   tag of that name.
//! - A field that contains a text becomes HEADER, a case-insensitive substring search: a
//!   superset of the exact comparison the core then makes. Only where the server promises to
//!   match decoded text (I18NLEVEL, RFC 5255, or IMAP4rev2) and for ASCII text; otherwise ALL.
//! - NOT of an inexact condition cannot be pushed down (its complement is no superset): ALL.

use agap_adapter_api::query::Query;
use agap_adapter_api::tags::Tag;

use crate::connection::quote;
use crate::keywords;

/// What the translation may rely on.
#[derive(Debug)]
pub struct SearchContext<'a> {
    /// Flags and keywords defined in the mailbox.
    pub mailbox_flags: &'a [String],
    /// Whether HEADER searches match decoded values.
    pub decodes_headers: bool,
}

fn flag_key(flag: &str) -> String {
    match flag.to_ascii_lowercase().as_str() {
        "\\seen" => "SEEN".into(),
        "\\answered" => "ANSWERED".into(),
        "\\flagged" => "FLAGGED".into(),
        "\\draft" => "DRAFT".into(),
        "\\deleted" => "DELETED".into(),
        _ => format!("KEYWORD {flag}"),
    }
}

fn all_of(flags: &[String]) -> String {
    match flags {
        [single] => flag_key(single),
        many => format!("({})", many.iter().map(|f| flag_key(f)).collect::<Vec<_>>().join(" ")),
    }
}

fn any_of(keys: Vec<String>) -> String {
    let mut keys = keys.into_iter();
    let Some(first) = keys.next() else { return "NOT ALL".into() };
    keys.fold(first, |acc, key| format!("OR {acc} {key}"))
}

/// The search key for `query` and whether it is exact.
pub fn translate(query: &Query, context: &SearchContext<'_>) -> (String, bool) {
    match query {
        Query::All => ("ALL".into(), true),
        Query::Unknown | Query::TimeRange { .. } => ("ALL".into(), false),
        Query::Uids(ranges) => {
            let mut uids = Vec::new();
            let set: Vec<String> = ranges
                .iter()
                .filter(|(from, to)| from <= to)
                .map(|(from, to)| if from == to { from.to_string() } else { format!("{from}:{to}") })
                .collect();
            uids.extend(set);
            if uids.is_empty() { ("NOT ALL".into(), true) } else { (format!("UID {}", uids.join(",")), true) }
        }
        Query::Tag { name, value: Some(value) } => match Tag::new(name, Some(value)) {
            Ok(tag) => (all_of(&keywords::flags_for(&tag)), true),
            Err(_) => ("NOT ALL".into(), true),
        },
        Query::Tag { name, value: None } => {
            let mut keys: Vec<String> = keywords::tags_of(context.mailbox_flags)
                .into_iter()
                .filter(|(tag, _)| tag.name() == name)
                .map(|(_, carriers)| all_of(&carriers))
                .collect();
            // A system flag exists in every mailbox, listed or not.
            if let Ok(tag) = Tag::new(name, None) {
                let flags = keywords::flags_for(&tag);
                if flags.iter().all(|f| f.starts_with('\\')) {
                    keys.push(all_of(&flags));
                }
            }
            keys.sort();
            keys.dedup();
            (any_of(keys), true)
        }
        Query::Unseen => ("UNSEEN".into(), true),
        Query::FieldContains { field, text } => {
            let plain = |s: &str| s.is_ascii() && !s.chars().any(|c| c.is_control());
            if context.decodes_headers && plain(field) && plain(text) && !field.is_empty() {
                (format!("HEADER {} {}", quote(field), quote(text)), false)
            } else {
                ("ALL".into(), false)
            }
        }
        Query::Not(child) => match translate(child, context) {
            (key, true) => (format!("NOT {key}"), true),
            (_, false) => ("ALL".into(), false),
        },
        Query::And(children) => {
            let translated: Vec<(String, bool)> = children.iter().map(|c| translate(c, context)).collect();
            let exact = translated.iter().all(|(_, e)| *e);
            let keys: Vec<String> = translated.into_iter().map(|(k, _)| k).filter(|k| k != "ALL").collect();
            match keys.len() {
                0 => ("ALL".into(), exact),
                1 => (keys.into_iter().next().unwrap_or_default(), exact),
                _ => (format!("({})", keys.join(" ")), exact),
            }
        }
        Query::Or(children) => {
            let translated: Vec<(String, bool)> = children.iter().map(|c| translate(c, context)).collect();
            let exact = translated.iter().all(|(_, e)| *e);
            if let Some((_, whole_is_exact)) = translated.iter().find(|(k, _)| k == "ALL") {
                // Everything qualifies; exactly so if that child matched everything exactly.
                return ("ALL".into(), *whole_is_exact);
            }
            (any_of(translated.into_iter().map(|(k, _)| k).collect()), exact)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(flags: &[&str]) -> (Vec<String>, bool) {
        (flags.iter().map(|f| f.to_string()).collect(), true)
    }

    fn run(query: &Query, flags: &[&str]) -> (String, bool) {
        let (flags, decodes) = context(flags);
        translate(query, &SearchContext { mailbox_flags: &flags, decodes_headers: decodes })
    }

    fn tag(name: &str, value: Option<&str>) -> Query {
        Query::Tag { name: name.into(), value: value.map(String::from) }
    }

    #[test]
    fn exact_conditions_stay_exact() {
        assert_eq!(run(&Query::Uids(vec![(5, 9), (12, 12)]), &[]), ("UID 5:9,12".into(), true));
        assert_eq!(run(&tag("SEEN", None), &[]), ("SEEN".into(), true));
        assert_eq!(run(&tag("SPAM", None), &["$Junk"]), ("KEYWORD $Junk".into(), true));
        assert_eq!(run(&tag("SPAM", None), &[]), ("NOT ALL".into(), true), "no message has an undefined keyword");
        assert_eq!(run(&tag("FLAG", Some("Red")), &[]), ("KEYWORD FLAG=^red".into(), true));
        assert_eq!(run(&Query::Not(Box::new(tag("SEEN", None))), &[]), ("NOT SEEN".into(), true));
    }

    #[test]
    fn a_tag_by_name_is_every_keyword_of_that_name_in_the_mailbox() {
        let (key, exact) = run(&tag("FLAG", None), &["\\Seen", "FLAG=^red", "FLAG=blue", "OTHER", "FLAG"]);
        assert!(exact);
        assert_eq!(key, "OR OR KEYWORD FLAG KEYWORD FLAG=^red KEYWORD FLAG=blue");
        assert_eq!(run(&tag("ABSENT", None), &["FLAG"]), ("NOT ALL".into(), true));
    }

    #[test]
    fn substring_searches_are_supersets_and_not_of_them_is_all() {
        let contains = Query::FieldContains { field: "subject".into(), text: "Hello \"you\"".into() };
        assert_eq!(run(&contains, &[]), ("HEADER \"subject\" \"Hello \\\"you\\\"\"".into(), false));
        assert_eq!(run(&Query::Not(Box::new(contains.clone())), &[]), ("ALL".into(), false));
        let mixed = Query::And(vec![tag("SEEN", None), contains.clone(), Query::Unknown]);
        assert_eq!(run(&mixed, &[]), ("(SEEN HEADER \"subject\" \"Hello \\\"you\\\"\")".into(), false));
        let either = Query::Or(vec![tag("SEEN", None), Query::Unknown]);
        assert_eq!(run(&either, &[]), ("ALL".into(), false));
        let non_ascii = Query::FieldContains { field: "subject".into(), text: "Grüße".into() };
        assert_eq!(run(&non_ascii, &[]), ("ALL".into(), false));
    }
}
