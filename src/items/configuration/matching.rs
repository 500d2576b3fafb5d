//! Finding the items of a CONF folder kept as annotations that match a filter. The listing
//! answers UIDs and tags; only a filter that reads keys reads items, one at a time.

use std::collections::HashMap;

use super::ConfigurationEntries;
use crate::error::AgapResult;
use crate::filter::{Filter, ItemView, matches};
use crate::format::configuration::render_configuration;
use crate::ids;
use crate::items::wire_uid;

/// Whether checking `filter` reads the items' keys.
fn reads_keys(filter: &Filter) -> bool {
    match filter {
        Filter::All | Filter::Uid { .. } | Filter::Tag { .. } => false,
        Filter::And(children) | Filter::Or(children) => children.iter().any(reads_keys),
        Filter::Not(child) => reads_keys(child),
        Filter::Is { .. } | Filter::Regex { .. } => true,
    }
}

/// The AGAP UIDs of the items that match `filter`, ascending. An item gone meanwhile matches
/// nothing.
pub(super) async fn matching_items(items: &ConfigurationEntries<'_>, filter: &Filter) -> AgapResult<Vec<u32>> {
    let (map, listed) = items.sync().await?;
    let uids: HashMap<&str, u64> = map.items.iter().map(|item| (item.href.as_str(), item.uid)).collect();
    let reads_keys = reads_keys(filter);
    let mut matching = Vec::new();
    for item in &listed {
        let Some(uid) = uids.get(item.id.as_str()) else { continue };
        let tree = if reads_keys {
            match items.read_item(wire_uid(*uid)).await {
                Ok((_, read)) => Some(render_configuration(&read.entries)),
                Err(error) if error.to_reply().code.number() == 511 => continue,
                Err(error) => return Err(error),
            }
        } else {
            None
        };
        let text = ids::format(*uid);
        if matches(filter, &ItemView { uid: &text, tags: &item.tags, tree: tree.as_ref() }) {
            matching.push(wire_uid(*uid));
        }
    }
    matching.sort_unstable();
    Ok(matching)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::parse_filter;

    #[test]
    fn only_conditions_on_keys_read_items() {
        let parsed = |text: &str| parse_filter(text.lines(), "CONFIGURATION").expect("valid");
        assert!(!reads_keys(&Filter::All));
        assert!(!reads_keys(&parsed("TAG ROAMING")));
        assert!(reads_keys(&parsed("IS /CONFIGURATION/QUOTA = '1'")));
    }
}
