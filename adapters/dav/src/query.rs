//! `Query` to CalDAV calendar-query (RFC 4791 9.7) and CardDAV addressbook-query (RFC 6352 10.5)
//! filters. What cannot be expressed is left out, so a filter always selects a superset of the
//! matches; the core checks the candidates itself.

use agap_adapter_api::collection::ItemKind;
use agap_adapter_api::query::Query;

use crate::requests::{escape, is_xml_text};

/// The collation asked for: the one every CalDAV and CardDAV server must offer (RFC 4791 7.5.1,
/// RFC 6352 8.3), which folds ASCII letters only. Texts are pushed down only when they are
/// ASCII: for them its answer is a superset of the exact matches on every server, while
/// `i;unicode-casemap` is refused by some (Xandikos: 500) and matched wrongly beyond ASCII by
/// others (Cyrus 3.6: `MÜLLER` finds no `Müller`, and says nothing). A non-ASCII text is
/// checked by the core alone.
const COLLATION: &str = "i;ascii-casemap";

/// One condition the server can check; a filter holds all of them.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Condition {
    /// A property containing (or, negated, not containing) a text.
    Text { field: String, text: String, negate: bool },
    /// The component overlapping a time range.
    Time { start: Option<String>, end: Option<String> },
    /// One of several properties containing its text (address books only).
    AnyText(Vec<(String, String)>),
}

/// Properties every item has (RFC 5545 3.6.1, 3.6.2, 3.6.3; RFC 6350 6.2.1, 6.7.9): a negated
/// text-match on them selects exactly the items without the text.
fn always_present(kind: ItemKind, field: &str) -> bool {
    match kind {
        ItemKind::Contacts => matches!(field, "FN" | "VERSION"),
        _ => matches!(field, "UID" | "DTSTAMP"),
    }
}

/// A property name as iCalendar and vCard spell them (iana-token, x-name), upper-cased.
fn property_name(field: &str) -> Option<String> {
    let valid = !field.is_empty() && field.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    valid.then(|| field.to_ascii_uppercase())
}

/// A `yyyymmddThhmmssZ` time (RFC 4791 9.9).
fn utc_time(time: &str) -> bool {
    let bytes = time.as_bytes();
    bytes.len() == 16
        && bytes[8] == b'T'
        && bytes[15] == b'Z'
        && bytes.iter().enumerate().all(|(i, b)| i == 8 || i == 15 || b.is_ascii_digit())
}

/// A text-match the server can evaluate (see [`COLLATION`]): a property name and a non-empty
/// ASCII text.
fn text_condition(field: &str, text: &str) -> Option<(String, String)> {
    let field = property_name(field)?;
    (!text.is_empty() && text.is_ascii() && is_xml_text(text)).then(|| (field, text.to_owned()))
}

/// Conditions implied by `query` (all must hold).
fn conditions(query: &Query, kind: ItemKind) -> Vec<Condition> {
    match query {
        Query::All | Query::Unknown | Query::Uids(_) | Query::Tag { .. } | Query::Unseen => Vec::new(),
        Query::FieldContains { field, text } => text_condition(field, text)
            .map(|(field, text)| Condition::Text { field, text, negate: false })
            .into_iter()
            .collect(),
        Query::TimeRange { start, end } => {
            let valid = |t: &Option<String>| t.as_deref().is_none_or(utc_time);
            if kind == ItemKind::Contacts || (start.is_none() && end.is_none()) || !valid(start) || !valid(end) {
                return Vec::new();
            }
            vec![Condition::Time { start: start.clone(), end: end.clone() }]
        }
        Query::And(children) => children.iter().flat_map(|child| conditions(child, kind)).collect(),
        Query::Or(children) if children.len() == 1 => conditions(&children[0], kind),
        Query::Or(children) if kind == ItemKind::Contacts && !children.is_empty() => {
            let texts: Option<Vec<_>> = children
                .iter()
                .map(|child| match child {
                    Query::FieldContains { field, text } => text_condition(field, text),
                    _ => None,
                })
                .collect();
            texts.map(Condition::AnyText).into_iter().collect()
        }
        Query::Or(_) => Vec::new(),
        Query::Not(child) => match child.as_ref() {
            Query::FieldContains { field, text } => match text_condition(field, text) {
                Some((field, text)) if always_present(kind, &field) => {
                    vec![Condition::Text { field, text, negate: true }]
                }
                _ => Vec::new(),
            },
            _ => Vec::new(),
        },
    }
}

fn text_match(prefix: &str, text: &str, negate: bool) -> String {
    let match_type = if prefix == "CR" { r#" match-type="contains""# } else { "" };
    let negate = if negate { r#" negate-condition="yes""# } else { "" };
    // Field names and times are validated; texts were checked by is_xml_text.
    let text = escape(text).map(|t| t.into_owned()).unwrap_or_default();
    format!(r#"<{prefix}:text-match collation="{COLLATION}"{match_type}{negate}>{text}</{prefix}:text-match>"#)
}

fn prop_filter(prefix: &str, field: &str, text: &str, negate: bool) -> String {
    format!(r#"<{prefix}:prop-filter name="{field}">{}</{prefix}:prop-filter>"#, text_match(prefix, text, negate))
}

/// The inner XML of the comp-filter of the kind's component: a time-range then prop-filters
/// (RFC 4791 9.7.1, all must match); `None` when nothing of `query` can be expressed.
pub fn calendar_filter(query: &Query, kind: ItemKind) -> Option<String> {
    let mut start: Option<String> = None;
    let mut end: Option<String> = None;
    let mut timed = false;
    let mut props = String::new();
    for condition in conditions(query, kind) {
        match condition {
            Condition::Time { start: s, end: e } => {
                // Several ranges: their intersection (same fixed-width format, so text order).
                timed = true;
                if let Some(s) = s {
                    start = Some(start.map_or(s.clone(), |old| old.max(s)));
                }
                if let Some(e) = e {
                    end = Some(end.map_or(e.clone(), |old| old.min(e)));
                }
            }
            Condition::Text { field, text, negate } => props.push_str(&prop_filter("C", &field, &text, negate)),
            Condition::AnyText(_) => {}
        }
    }
    if !timed && props.is_empty() {
        return None;
    }
    let mut filter = String::new();
    if timed {
        filter.push_str("<C:time-range");
        if let Some(start) = start {
            filter.push_str(&format!(r#" start="{start}""#));
        }
        if let Some(end) = end {
            filter.push_str(&format!(r#" end="{end}""#));
        }
        filter.push_str("/>");
    }
    filter.push_str(&props);
    Some(filter)
}

/// The CR:filter of an addressbook-query: every text condition (test="allof"), or else one
/// alternative of several (test="anyof"); `None` when nothing of `query` can be expressed.
pub fn addressbook_filter(query: &Query) -> Option<String> {
    let conditions = conditions(query, ItemKind::Contacts);
    let all: String = conditions
        .iter()
        .filter_map(|c| match c {
            Condition::Text { field, text, negate } => Some(prop_filter("CR", field, text, *negate)),
            _ => None,
        })
        .collect();
    if !all.is_empty() {
        return Some(format!(r#"<CR:filter test="allof">{all}</CR:filter>"#));
    }
    let any = conditions.iter().find_map(|c| match c {
        Condition::AnyText(texts) => Some(texts),
        _ => None,
    })?;
    let any: String = any.iter().map(|(field, text)| prop_filter("CR", field, text, false)).collect();
    Some(format!(r#"<CR:filter test="anyof">{any}</CR:filter>"#))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contains(field: &str, text: &str) -> Query {
        Query::FieldContains { field: field.into(), text: text.into() }
    }

    fn range(start: Option<&str>, end: Option<&str>) -> Query {
        Query::TimeRange { start: start.map(str::to_owned), end: end.map(str::to_owned) }
    }

    #[test]
    fn nothing_expressible_means_no_filter() {
        for query in [Query::All, Query::Unknown, Query::Unseen, Query::Uids(vec![(1, 2)]), contains("bad name", "x")] {
            assert_eq!(calendar_filter(&query, ItemKind::Events), None, "{query:?}");
            assert_eq!(addressbook_filter(&query), None, "{query:?}");
        }
        assert_eq!(addressbook_filter(&range(Some("20240101T000000Z"), None)), None);
        assert_eq!(calendar_filter(&range(Some("2024-01-01"), None), ItemKind::Events), None);
        assert_eq!(
            calendar_filter(&Query::Or(vec![contains("SUMMARY", "a"), contains("LOCATION", "b")]), ItemKind::Events),
            None
        );
        assert_eq!(calendar_filter(&Query::Not(Box::new(contains("SUMMARY", "a"))), ItemKind::Events), None);
    }

    #[test]
    fn calendar_text_and_time() {
        let query = Query::And(vec![
            contains("summary", "a&b<c>"),
            range(Some("20240101T000000Z"), Some("20250101T000000Z")),
            range(Some("20240301T000000Z"), None),
            Query::Not(Box::new(contains("UID", "x"))),
            Query::Unknown,
        ]);
        assert_eq!(
            calendar_filter(&query, ItemKind::Tasks).expect("a filter"),
            concat!(
                r#"<C:time-range start="20240301T000000Z" end="20250101T000000Z"/>"#,
                r#"<C:prop-filter name="SUMMARY"><C:text-match collation="i;ascii-casemap">a&amp;b&lt;c&gt;</C:text-match></C:prop-filter>"#,
                r#"<C:prop-filter name="UID"><C:text-match collation="i;ascii-casemap" negate-condition="yes">x</C:text-match></C:prop-filter>"#
            )
        );
        let single = Query::Or(vec![contains("LOCATION", "Zurich")]);
        assert!(calendar_filter(&single, ItemKind::Events).expect("filter").contains(">Zurich<"));
    }

    #[test]
    fn texts_beyond_ascii_are_left_to_the_core() {
        let umlaut = contains("SUMMARY", "Müller");
        assert_eq!(calendar_filter(&umlaut, ItemKind::Events), None);
        assert_eq!(addressbook_filter(&contains("FN", "Jürgen")), None);
        // Beside other conditions it is left out; the rest still narrows.
        let both = Query::And(vec![umlaut.clone(), contains("LOCATION", "Wien")]);
        let filter = calendar_filter(&both, ItemKind::Events).expect("filter");
        assert!(filter.contains(">Wien<") && !filter.contains("SUMMARY"), "{filter}");
        // An alternative holding one cannot be narrowed at all, nor can its negation.
        assert_eq!(addressbook_filter(&Query::Or(vec![contains("FN", "Ann"), contains("FN", "Jürgen")])), None);
        assert_eq!(addressbook_filter(&Query::Not(Box::new(contains("FN", "Jürgen")))), None);
    }

    #[test]
    fn address_book_filters() {
        assert_eq!(
            addressbook_filter(&Query::And(vec![contains("FN", "ann"), Query::Not(Box::new(contains("fn", "x")))]))
                .expect("filter"),
            concat!(
                r#"<CR:filter test="allof"><CR:prop-filter name="FN"><CR:text-match collation="i;ascii-casemap" match-type="contains">ann</CR:text-match></CR:prop-filter>"#,
                r#"<CR:prop-filter name="FN"><CR:text-match collation="i;ascii-casemap" match-type="contains" negate-condition="yes">x</CR:text-match></CR:prop-filter></CR:filter>"#
            )
        );
        let or = Query::Or(vec![contains("FN", "ann"), contains("EMAIL", "@b")]);
        assert_eq!(
            addressbook_filter(&or).expect("filter"),
            concat!(
                r#"<CR:filter test="anyof"><CR:prop-filter name="FN"><CR:text-match collation="i;ascii-casemap" match-type="contains">ann</CR:text-match></CR:prop-filter>"#,
                r#"<CR:prop-filter name="EMAIL"><CR:text-match collation="i;ascii-casemap" match-type="contains">@b</CR:text-match></CR:prop-filter></CR:filter>"#
            )
        );
        // An alternative next to other conditions cannot be said in one filter: it is dropped.
        let mixed = Query::And(vec![or.clone(), contains("ORG", "acme")]);
        assert!(!addressbook_filter(&mixed).expect("filter").contains("EMAIL"));
        // Not only on properties every vCard has; an Or with a non-text child is not expressible.
        assert_eq!(addressbook_filter(&Query::Not(Box::new(contains("EMAIL", "x")))), None);
        assert_eq!(addressbook_filter(&Query::Or(vec![contains("FN", "a"), Query::Unseen])), None);
    }
}
