//! From a filter to what the backend can be asked (a `Query`) and what the core must fetch to
//! check the candidates itself.

use std::collections::BTreeSet;

use agap_adapter_api::query::{FetchNeeds, Query};

use super::tree::{Comparison, Filter};

/// The query a mail backend can answer for `filter` (message UIDs are IMAP UIDs in decimal).
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::parse_filter;

    fn filter(text: &str) -> Filter {
        parse_filter(&text.lines().map(str::to_owned).collect::<Vec<_>>(), "MESSAGE").expect("valid")
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
