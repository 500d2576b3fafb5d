//! Finding the items of a calendar or contact collection that match a filter.

use agap_adapter_api::collection::ItemRef;
use agap_adapter_api::query::Query;

use crate::error::AgapResult;
use crate::filter::{Filter, ItemView, collection_query, fetch_needs, matches, query_is_open};
use crate::format::Element;
use crate::ids;

use super::{CollectionItems, FETCH_BATCH};
use crate::items::wire_uid;

/// The AGAP UIDs of the items that match `filter`, ascending.
/// The server narrows the candidates where it can (calendar-query, addressbook-query); the
/// candidates are then read in batches and checked on their renderings, so memory stays
/// bounded by one batch.
pub(super) async fn matching_collection_items(items: &CollectionItems<'_>, filter: &Filter) -> AgapResult<Vec<u32>> {
    let query = collection_query(filter, items.kind());
    let complete = query_is_open(&query) || query == Query::All;
    let (candidates, map) = if complete {
        // Every item is a candidate: the map brought up to date (by what changed since the last
        // sync where the server can say) holds them all.
        let map = items.sync().await?;
        let every: Vec<ItemRef> =
            map.items.iter().map(|item| ItemRef { href: item.href.clone(), etag: item.etag.clone() }).collect();
        (every, map)
    } else {
        let found = items.dav().query_items(items.id(), items.kind(), &query).await?.items;
        let map = items.absorb(&found, &items.stored_map().await?, false).await?;
        (found, map)
    };
    let by_href: std::collections::HashMap<&str, &crate::store::MappedItem> =
        map.items.iter().map(|item| (item.href.as_str(), item)).collect();
    let needs = fetch_needs(filter);
    let mut matching = Vec::new();
    if *filter == Filter::All || (!needs.tags && !needs.whole && needs.header_fields.is_empty()) {
        // Only UIDs are read (or nothing): no item needs to be fetched.
        for candidate in &candidates {
            let Some(mapped) = by_href.get(candidate.href.as_str()) else { continue };
            for uid in std::iter::once(mapped.uid).chain(mapped.alarm_uid) {
                let text = ids::format(uid);
                if matches(filter, &ItemView { uid: &text, tags: &[], tree: None }) {
                    matching.push(wire_uid(uid));
                }
            }
        }
    } else {
        for batch in candidates.chunks(FETCH_BATCH) {
            let hrefs: Vec<String> = batch.iter().map(|item| item.href.clone()).collect();
            for data in items.dav().fetch_items(items.id(), items.kind(), &hrefs).await? {
                let Some(mapped) = by_href.get(data.item.href.as_str()) else { continue };
                check_resource(items, filter, mapped, &data.body, &mut matching);
            }
        }
    }
    matching.sort_unstable();
    matching.dedup();
    Ok(matching)
}

/// Checks a resource and its alarm. An alarm is checked inside a nameless wrapper, so that a
/// path below the folder's root (`/VEVENT/SUMMARY`) finds nothing in it while `/VALARM/...`
/// reaches the alarm.
fn check_resource(
    items: &CollectionItems<'_>,
    filter: &Filter,
    mapped: &crate::store::MappedItem,
    body: &[u8],
    matching: &mut Vec<u32>,
) {
    let mut check = |uid: u64, alarm: bool| match items.render_resource(body, alarm) {
        Ok(rendering) => {
            let tree = if alarm { Element::parent("", vec![rendering.tree]) } else { rendering.tree };
            let text = ids::format(uid);
            if matches(filter, &ItemView { uid: &text, tags: &rendering.tags, tree: Some(&tree) }) {
                matching.push(wire_uid(uid));
            }
        }
        Err(error) => tracing::warn!(href = %mapped.href, %error, "item cannot be rendered; it matches no filter"),
    };
    check(mapped.uid, false);
    if let Some(alarm_uid) = mapped.alarm_uid {
        check(alarm_uid, true);
    }
}
