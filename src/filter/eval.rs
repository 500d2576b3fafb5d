//! Evaluating a filter on one item: its UID, its tags and (when the filter reads content) the
//! same XML view RETR gives, built from as much of the item as was fetched.

use agap_adapter_api::tags::Tag;

use crate::format::Element;
use crate::ids;

use super::tree::{Comparison, Filter};

/// What is known of one item.
#[derive(Debug, Clone, Copy)]
pub struct ItemView<'a> {
    /// Its AGAP UID.
    pub uid: &'a str,
    /// Its tags.
    pub tags: &'a [Tag],
    /// Its rendering (possibly header fields only), when the filter reads content.
    pub tree: Option<&'a Element>,
}

/// Whether the item matches.
pub fn matches(filter: &Filter, item: &ItemView<'_>) -> bool {
    match filter {
        Filter::All => true,
        Filter::And(children) => children.iter().all(|child| matches(child, item)),
        Filter::Or(children) => children.iter().any(|child| matches(child, item)),
        Filter::Not(child) => !matches(child, item),
        Filter::Uid { from, to } => ids::compare(from, item.uid).is_le() && ids::compare(item.uid, to).is_le(),
        Filter::Tag { name, value } => {
            let has = |wanted: &str| {
                item.tags.iter().any(|tag| tag.name() == wanted && (value.is_none() || tag.value() == value.as_deref()))
            };
            // docs/interpretations.md, NEW-COUNT: NEW is no defined tag; `TAG NEW` matches the
            // unseen items.
            has(name) || (name == "NEW" && value.is_none() && !item.tags.iter().any(|tag| tag.name() == "SEEN"))
        }
        Filter::Is { path, op, value } => {
            let values = item.tree.map(|tree| path.values(tree)).unwrap_or_default();
            match op {
                // "!=" holds when no value equals (also when the field is absent).
                Comparison::NotEqual => !values.iter().any(|v| v == value),
                op => values.iter().any(|v| op.holds(v, value)),
            }
        }
        Filter::Regex { path, negated, pattern } => {
            let values = item.tree.map(|tree| path.values(tree)).unwrap_or_default();
            values.iter().any(|v| pattern.regex.is_match(v)) != *negated
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::parse_filter;

    fn check(filter: &str, uid: &str, tags: &[&str], tree: &Element) -> bool {
        let filter = parse_filter(filter.lines(), "MESSAGE").expect("filter");
        let tags: Vec<Tag> = tags.iter().map(|t| Tag::parse(t).expect("tag")).collect();
        matches(&filter, &ItemView { uid, tags: &tags, tree: Some(tree) })
    }

    fn message() -> Element {
        Element::parent(
            "MESSAGE",
            vec![
                Element::parent(
                    "HEADER",
                    vec![
                        Element::text("Subject", "Newsletter from Example.com"),
                        Element::text("Date", "2011-06-07T18:00:00Z"),
                        Element::parent(
                            "Received",
                            vec![Element::text("item", "from a"), Element::text("item", "from b")],
                        ),
                    ],
                ),
                Element::text("TEXT", "Hello Viagra"),
                Element::parent(
                    "ATTACHMENT-1",
                    vec![
                        Element::parent("HEADER", vec![Element::text("Content-Type", "image/png")]),
                        Element::text("BODY", "Viagra in a picture"),
                    ],
                ),
            ],
        )
    }

    #[test]
    fn uids_compare_in_agap_order() {
        let tree = message();
        assert!(check("UID 5:12", "9", &[], &tree));
        assert!(!check("UID 5:12", "13", &[], &tree));
        assert!(check("UID UIDx0001:UIDx1000", "UIDx0500", &[], &tree));
        assert!(!check("UID 7", "70", &[], &tree));
    }

    #[test]
    fn tags_by_name_or_exact_value_and_new_as_unseen() {
        let tree = message();
        assert!(check("TAG FLAG", "1", &["FLAG=Red"], &tree));
        assert!(check("TAG FLAG=Red", "1", &["FLAG=Red"], &tree));
        assert!(!check("TAG FLAG=red", "1", &["FLAG=Red"], &tree));
        assert!(check("TAG NEW", "1", &["FLAG"], &tree));
        assert!(!check("TAG NEW", "1", &["SEEN"], &tree));
        assert!(check("NOT TAG SPAM", "1", &["SEEN"], &tree));
    }

    #[test]
    fn is_compares_exactly_and_as_strings() {
        let tree = message();
        assert!(check("IS /MESSAGE/HEADER/subject = 'Newsletter from Example.com'", "1", &[], &tree));
        assert!(!check("IS /MESSAGE/HEADER/subject = 'newsletter from example.com'", "1", &[], &tree));
        assert!(check("IS header/date < '2012'", "1", &[], &tree));
        assert!(check("IS header/date >= '2011-06-07T00:00:00Z'", "1", &[], &tree));
        assert!(check("IS header/received = 'from b'", "1", &[], &tree), "any item of a multi-valued field");
        assert!(check("IS header/x-missing != 'x'", "1", &[], &tree));
        assert!(!check("IS header/x-missing = 'x'", "1", &[], &tree));
    }

    #[test]
    fn regex_matches_part_of_the_value_and_only_text_attachments() {
        let tree = message();
        assert!(check("REGEX header/subject = '[Ll]etter'", "1", &[], &tree));
        assert!(check("REGEX /MESSAGE/TEXT = '[Vv][i1]agra'", "1", &[], &tree));
        assert!(!check("REGEX /MESSAGE/ATTACHMENT-1/BODY = 'Viagra'", "1", &[], &tree), "image/png is not searched");
        assert!(check("REGEX header/subject != '^x'", "1", &[], &tree));
    }
}
