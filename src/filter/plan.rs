//! From a filter to what the backend can be asked (a `Query`) and what the core must fetch to
//! check the candidates itself.

use std::collections::BTreeSet;

use agap_adapter_api::collection::ItemKind;
use agap_adapter_api::query::{FetchNeeds, Query};

use super::tree::{Comparison, Filter};
use crate::format::content_line::TAGS_PROPERTY;

/// The query a mail backend can answer for `filter`, with UIDs as AGAP UIDs (the IMAP UIDs of
/// messages DATT never replaced; `items::messages` translates the rest).
pub fn mail_query(filter: &Filter) -> Query {
    match filter {
        Filter::All => Query::All,
        Filter::And(children) => Query::And(children.iter().map(mail_query).collect()),
        Filter::Or(children) => Query::Or(children.iter().map(mail_query).collect()),
        Filter::Not(child) => Query::Not(Box::new(mail_query(child))),
        Filter::Uid { from, to } => {
            // Decimal without leading zeros sorts in AGAP order as it does numerically; any
            // other bound is checked by the core.
            let number = |text: &str| text.parse::<u32>().ok().filter(|n| n.to_string() == text);
            match (number(from), number(to)) {
                (Some(from), Some(to)) => Query::Uids(vec![(from, to)]),
                _ => Query::Unknown,
            }
        }
        Filter::Tag { name, value } if name == "NEW" && value.is_none() => {
            Query::Or(vec![Query::Tag { name: name.clone(), value: None }, Query::Unseen])
        }
        Filter::Tag { name, value } => Query::Tag { name: name.clone(), value: value.clone() },
        Filter::Is { path, op: Comparison::Equal, value } => match path.header_field() {
            Some(field) if path.index.is_none() => match searchable_text(field, value) {
                Some(text) => Query::FieldContains { field: field.to_owned(), text },
                None => Query::Unknown,
            },
            _ => Query::Unknown,
        },
        Filter::Is { .. } | Filter::Regex { .. } => Query::Unknown,
    }
}

/// The query a calendar or contact backend can answer for `filter` (calendar-query,
/// addressbook-query). Everything is a superset the core checks: text matches are pushed only
/// for values the server sees as written (no escapes, no line breaks), tags as the text of the
/// X-AGAP-TAGS property that holds them, and comparisons on DTSTART of events as time ranges.
pub fn collection_query(filter: &Filter, kind: ItemKind) -> Query {
    match filter {
        Filter::All => Query::All,
        Filter::And(children) => Query::And(children.iter().map(|child| collection_query(child, kind)).collect()),
        Filter::Or(children) => Query::Or(children.iter().map(|child| collection_query(child, kind)).collect()),
        // The server's negation of a substring match is no superset of the exact negation.
        Filter::Not(_) | Filter::Uid { .. } | Filter::Regex { .. } => Query::Unknown,
        Filter::Tag { name, .. } if name == "NEW" => Query::Unknown,
        Filter::Tag { name, .. } => Query::FieldContains { field: TAGS_PROPERTY.into(), text: name.clone() },
        Filter::Is { path, op, value } => {
            let [property] = path.names.as_slice() else { return Query::Unknown };
            if path.index.is_some() {
                return Query::Unknown;
            }
            let property = property.to_ascii_uppercase();
            if kind == ItemKind::Events && property == "DTSTART" {
                return time_range(*op, value).unwrap_or(Query::Unknown);
            }
            let plain = !value.is_empty() && !value.contains(['\\', '\n', '\r']);
            if *op == Comparison::Equal && plain && SEARCHABLE_PROPERTIES.contains(&property.as_str()) {
                Query::FieldContains { field: property, text: value.clone() }
            } else {
                Query::Unknown
            }
        }
    }
}

/// Text properties whose rendering is their value as the server compares it.
const SEARCHABLE_PROPERTIES: [&str; 12] =
    ["SUMMARY", "DESCRIPTION", "LOCATION", "COMMENT", "UID", "FN", "NICKNAME", "EMAIL", "TITLE", "NOTE", "ROLE", "TEL"];

/// A time range holding every event whose DTSTART compares so with `value`
/// (`yyyy-mm-ddThh:mm:ssZ`): the event then overlaps the range (RFC 4791 9.9).
fn time_range(op: Comparison, value: &str) -> Option<Query> {
    let basic = basic_utc(value)?;
    let after = basic_utc_plus_one_second(value)?;
    Some(match op {
        Comparison::Equal => Query::TimeRange { start: Some(basic), end: Some(after) },
        Comparison::Greater | Comparison::GreaterOrEqual => Query::TimeRange { start: Some(basic), end: None },
        Comparison::Less | Comparison::LessOrEqual => Query::TimeRange { start: None, end: Some(after) },
        Comparison::NotEqual => return None,
    })
}

/// `yyyy-mm-ddThh:mm:ssZ` as RFC 5545's `yyyymmddThhmmssZ`.
fn basic_utc(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let shape_ok = bytes.len() == 20
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            10 => *b == b'T',
            13 | 16 => *b == b':',
            19 => *b == b'Z',
            _ => b.is_ascii_digit(),
        });
    shape_ok.then(|| value.chars().filter(|c| c.is_ascii_alphanumeric()).collect())
}

/// The instant one second after `value` in RFC 5545 form (so an equality becomes a range
/// that contains the instant; a zero-length event at it still overlaps).
fn basic_utc_plus_one_second(value: &str) -> Option<String> {
    let time = chrono::DateTime::parse_from_rfc3339(value).ok()?;
    Some((time + chrono::Duration::seconds(1)).with_timezone(&chrono::Utc).format("%Y%m%dT%H%M%SZ").to_string())
}

/// Text that certainly occurs in the server's view of a field whose rendering equals `value`.
/// Address fields are rendered from their parsed form (display names quoted), so only the
/// address itself is sure to be there.
fn searchable_text(field: &str, value: &str) -> Option<String> {
    const ADDRESS_FIELDS: [&str; 10] =
        ["from", "to", "cc", "bcc", "reply-to", "sender", "resent-from", "resent-to", "resent-cc", "resent-bcc"];
    let text = if ADDRESS_FIELDS.contains(&field.to_ascii_lowercase().as_str()) {
        match (value.find('<'), value.rfind('>')) {
            (Some(open), Some(close)) if open < close => value[open + 1..close].to_owned(),
            _ if value.contains('"') => return None,
            _ => value.to_owned(),
        }
    } else {
        value.to_owned()
    };
    (!text.trim().is_empty()).then_some(text)
}

fn collect_needs(filter: &Filter, needs: &mut FetchNeeds, fields: &mut BTreeSet<String>) {
    match filter {
        Filter::All | Filter::Uid { .. } => {}
        Filter::And(children) | Filter::Or(children) => {
            for child in children {
                collect_needs(child, needs, fields);
            }
        }
        Filter::Not(child) => collect_needs(child, needs, fields),
        Filter::Tag { .. } => needs.tags = true,
        Filter::Is { path, .. } | Filter::Regex { path, .. } => match path.header_field() {
            Some(field) => {
                fields.insert(field.to_ascii_lowercase());
            }
            None => needs.whole = true,
        },
    }
}

/// What checking `filter` on an item needs: tags, some header fields, or the whole item.
pub fn fetch_needs(filter: &Filter) -> FetchNeeds {
    let mut needs = FetchNeeds::default();
    let mut fields = BTreeSet::new();
    collect_needs(filter, &mut needs, &mut fields);
    if !needs.whole {
        needs.header_fields = fields.into_iter().collect();
    }
    needs
}

/// Whether the backend could narrow nothing down: only unknown conditions, joined in any way.
pub fn query_is_open(query: &Query) -> bool {
    match query {
        Query::Unknown => true,
        Query::And(children) => children.iter().all(query_is_open),
        Query::Or(children) => children.iter().any(query_is_open),
        Query::Not(child) => query_is_open(child),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::parse_filter;

    fn filter(text: &str) -> Filter {
        parse_filter(text.lines(), "MESSAGE").expect("valid")
    }

    #[test]
    fn what_a_calendar_backend_is_asked() {
        let parse = |text: &str| parse_filter(text.lines(), "VEVENT").expect("valid");
        let summary = Query::FieldContains { field: "SUMMARY".into(), text: "AGAP RFC Party".into() };
        assert_eq!(collection_query(&parse("IS /VEVENT/SUMMARY = 'AGAP RFC Party'"), ItemKind::Events), summary);
        assert_eq!(collection_query(&parse("IS /VEVENT/SUMMARY = 'a\\, b'"), ItemKind::Events), Query::Unknown);
        assert_eq!(
            collection_query(&parse("IS /VEVENT/DTSTART >= '2011-06-07T18:00:00Z'"), ItemKind::Events),
            Query::TimeRange { start: Some("20110607T180000Z".into()), end: None }
        );
        assert_eq!(
            collection_query(&parse("IS /VEVENT/DTSTART = '2011-06-07T23:59:59Z'"), ItemKind::Events),
            Query::TimeRange { start: Some("20110607T235959Z".into()), end: Some("20110608T000000Z".into()) }
        );
        assert_eq!(
            collection_query(&parse("TAG FLAG=Red"), ItemKind::Contacts),
            Query::FieldContains { field: "X-AGAP-TAGS".into(), text: "FLAG".into() }
        );
        assert_eq!(collection_query(&parse("UID 1:5"), ItemKind::Events), Query::Unknown);
    }

    #[test]
    fn what_the_backend_is_asked() {
        assert_eq!(mail_query(&filter("UID 5:9")), Query::Uids(vec![(5, 9)]));
        assert_eq!(mail_query(&filter("UID UIDx1:UIDx9")), Query::Unknown);
        assert_eq!(mail_query(&filter("UID 05")), Query::Unknown, "a leading zero is another AGAP UID");
        assert_eq!(
            mail_query(&filter("IS /MESSAGE/HEADER/Subject = 'x'")),
            Query::FieldContains { field: "Subject".into(), text: "x".into() }
        );
        assert_eq!(mail_query(&filter("IS /MESSAGE/HEADER/Subject < 'x'")), Query::Unknown);
        assert_eq!(
            mail_query(&filter("IS header/from = '\"Doe, J\" <j@x.org>'")),
            Query::FieldContains { field: "from".into(), text: "j@x.org".into() }
        );
        assert_eq!(mail_query(&filter("REGEX /MESSAGE/TEXT = 'x'")), Query::Unknown);
    }

    #[test]
    fn what_the_core_fetches() {
        assert_eq!(fetch_needs(&filter("UID 5")), FetchNeeds::default());
        let needs = fetch_needs(&filter("TAG SEEN REGEX header/Subject = 'x' IS header/FROM = 'y'"));
        assert_eq!(
            needs,
            FetchNeeds { tags: true, header_fields: vec!["from".into(), "subject".into()], whole: false }
        );
        assert!(fetch_needs(&filter("REGEX /MESSAGE/TEXT = 'x'")).whole);
    }
}
