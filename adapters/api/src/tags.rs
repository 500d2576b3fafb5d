//! Item tags (draft 2.10, 4.2): `NAME` or `NAME=value`, and how `=`, `+` and `-` change a set.
//!
//! Names are case-insensitive and kept in upper case; values are case-sensitive. `NAME`,
//! `NAME=` and `NAME=value` are three different tags (docs/interpretations.md, `TAG-EMPTY-VALUE`:
//! the empty value is kept). Adapters map tags to what their server stores (IMAP flags and
//! keywords, iCalendar properties) and back.

use std::fmt;

/// Longest tag name and longest value (draft 2.10.1).
pub const MAX_TAG_PART: usize = 32;

/// One tag.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag {
    name: String,
    value: Option<String>,
}

/// Why a tag was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid tag {0:?}")]
pub struct InvalidTag(pub String);

fn valid_name(name: &str) -> bool {
    (1..=MAX_TAG_PART).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

fn valid_value(value: &str) -> bool {
    value.len() <= MAX_TAG_PART && value.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

impl Tag {
    /// A tag from its name (any case) and optional value.
    pub fn new(name: &str, value: Option<&str>) -> Result<Tag, InvalidTag> {
        let shown = || match value {
            Some(value) => format!("{name}={value}"),
            None => name.to_owned(),
        };
        if !valid_name(name) || !value.is_none_or(valid_value) {
            return Err(InvalidTag(shown()));
        }
        Ok(Tag { name: name.to_ascii_uppercase(), value: value.map(str::to_owned) })
    }

    /// Parses `NAME` or `NAME=value`.
    pub fn parse(text: &str) -> Result<Tag, InvalidTag> {
        match text.split_once('=') {
            Some((name, value)) => Tag::new(name, Some(value)),
            None => Tag::new(text, None),
        }
    }

    /// The name, upper case.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The value, if the tag has one (possibly empty).
    pub fn value(&self) -> Option<&str> {
        self.value.as_deref()
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            Some(value) => write!(f, "{}={value}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// A tag list's action applied to an item (draft 4.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagChange {
    /// `=`: exactly these tags afterwards.
    Set(Vec<Tag>),
    /// `+`: add these; a tag replaces any tag of the same name (draft 2.10.1: a new value
    /// replaces the old one, and setting a name alone drops its value).
    Add(Vec<Tag>),
    /// `-`: remove these; a name alone removes the tag whatever its value, `NAME=value` only
    /// that exact tag.
    Remove(Vec<Tag>),
}

impl TagChange {
    /// The tags an item has after this change, given the ones it has now.
    pub fn apply(&self, current: &[Tag]) -> Vec<Tag> {
        let mut result: Vec<Tag> = match self {
            TagChange::Set(tags) => Self::last_per_name(tags),
            TagChange::Add(tags) => {
                let added = Self::last_per_name(tags);
                let mut kept: Vec<Tag> =
                    current.iter().filter(|tag| !added.iter().any(|new| new.name == tag.name)).cloned().collect();
                kept.extend(added);
                kept
            }
            TagChange::Remove(tags) => current
                .iter()
                .filter(|tag| {
                    !tags.iter().any(|gone| gone.name == tag.name && (gone.value.is_none() || gone.value == tag.value))
                })
                .cloned()
                .collect(),
        };
        result.sort();
        result.dedup();
        result
    }

    /// Within one list, a later tag of a name wins over an earlier one.
    fn last_per_name(tags: &[Tag]) -> Vec<Tag> {
        let mut kept: Vec<Tag> = Vec::new();
        for tag in tags {
            kept.retain(|earlier| earlier.name != tag.name);
            kept.push(tag.clone());
        }
        kept
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(list: &[&str]) -> Vec<Tag> {
        list.iter().map(|t| Tag::parse(t).expect("valid")).collect()
    }

    #[test]
    fn names_are_upper_cased_and_values_kept_exactly() {
        let tag = Tag::parse("flag=Red").expect("valid");
        assert_eq!(tag.to_string(), "FLAG=Red");
        assert_ne!(Tag::parse("FLAG=Red"), Tag::parse("FLAG=red"));
        assert_eq!(Tag::parse("FLAG=").expect("valid").to_string(), "FLAG=");
        assert_ne!(Tag::parse("FLAG="), Tag::parse("FLAG"));
        assert_eq!(Tag::parse("x-y-z=a.b_c-D").expect("valid").to_string(), "X-Y-Z=a.b_c-D");
    }

    #[test]
    fn invalid_tags_are_refused() {
        for bad in ["", "=x", "A B", "NAME=va lue", "NAME=a/b", "Ä", &"N".repeat(33), &format!("N={}", "v".repeat(33))]
        {
            assert!(Tag::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Tag::parse(&format!("{}={}", "N".repeat(32), "v".repeat(32))).is_ok());
    }

    #[test]
    fn the_example_of_section_4_2_leaves_seen_and_spam_yes() {
        // docs/interpretations.md, TAG-EXAMPLE-4.2: the rules imply {SEEN, SPAM=YES}.
        let after_set = TagChange::Set(tags(&["SEEN", "SPAM=YES"])).apply(&[]);
        let after_add = TagChange::Add(tags(&["SEEN", "FLAG=RED"])).apply(&after_set);
        let after_remove = TagChange::Remove(tags(&["FLAG", "JUNK"])).apply(&after_add);
        assert_eq!(after_remove, tags(&["SEEN", "SPAM=YES"]));
    }

    #[test]
    fn adding_replaces_a_tag_of_the_same_name() {
        let current = tags(&["FLAG=red", "SEEN"]);
        assert_eq!(TagChange::Add(tags(&["FLAG=Blue"])).apply(&current), tags(&["FLAG=Blue", "SEEN"]));
        assert_eq!(TagChange::Add(tags(&["FLAG"])).apply(&current), tags(&["FLAG", "SEEN"]));
        assert_eq!(TagChange::Add(tags(&["A=1", "A=2"])).apply(&[]), tags(&["A=2"]));
    }

    #[test]
    fn removing_by_name_or_exactly() {
        let current = tags(&["FLAG=red", "SEEN", "X"]);
        assert_eq!(TagChange::Remove(tags(&["FLAG=blue"])).apply(&current), current);
        assert_eq!(TagChange::Remove(tags(&["FLAG=red"])).apply(&current), tags(&["SEEN", "X"]));
        assert_eq!(TagChange::Remove(tags(&["flag", "x"])).apply(&current), tags(&["SEEN"]));
        assert_eq!(TagChange::Set(Vec::new()).apply(&current), Vec::<Tag>::new());
    }
}
