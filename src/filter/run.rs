//! Finding the items of a folder that match a filter: the backend answers what it can, the core
//! checks the candidates on minimal fetches, streamed one item at a time (memory stays flat
//! with the folder's size).

use agap_adapter_api::mail::{MailAccount, MailboxName};
use agap_adapter_api::query::Query;

use crate::error::AgapResult;
use crate::format::Element;
use crate::format::message::{render_header_only, render_message};
use crate::ids;
use crate::items::{CollectionItems, FETCH_BATCH, wire_uid};
use crate::mail_uids::UidAliases;

use super::eval::{ItemView, matches};
use super::plan::{collection_query, fetch_needs, mail_query};
use super::tree::Filter;

/// The AGAP UIDs of the messages of `mailbox` that match `filter`, ascending; `aliases`
/// translates between them and IMAP UIDs (docs/interpretations.md, DATT-KEEPS-UID).
pub async fn matching_messages(
    mail: &dyn MailAccount,
    mailbox: &MailboxName,
    filter: &Filter,
    aliases: &UidAliases,
) -> AgapResult<Vec<u32>> {
    let query = aliases.imap_query(mail_query(filter));
    let needs = fetch_needs(filter);
    // A query the backend cannot narrow at all is not sent: every message is a candidate.
    let found = if query_is_open(&query) { None } else { Some(mail.search(mailbox, &query).await?) };
    if let Some(found) = &found
        && found.exact
    {
        return Ok(aliases.agap_uids(found.uids.iter().copied()));
    }
    let mut matching = Vec::new();
    let mut check = |item: agap_adapter_api::query::FetchedItem| {
        let tree = if needs.whole {
            render_message(&item.data)
        } else if needs.header_fields.is_empty() {
            None
        } else {
            Some(render_header_only(&item.data))
        };
        let agap_uid = aliases.agap_uid(item.uid);
        let uid = ids::format(u64::from(agap_uid));
        if matches(filter, &ItemView { uid: &uid, tags: &item.tags, tree: tree.as_ref() }) {
            matching.push(agap_uid);
        }
    };
    mail.visit_items(mailbox, found.as_ref().map(|f| f.uids.as_slice()), &needs, &mut check).await?;
    matching.sort_unstable();
    Ok(matching)
}

/// Whether the backend could narrow nothing down: only unknown conditions, joined in any way.
fn query_is_open(query: &Query) -> bool {
    match query {
        Query::Unknown => true,
        Query::And(children) => children.iter().all(query_is_open),
        Query::Or(children) => children.iter().any(query_is_open),
        Query::Not(child) => query_is_open(child),
        _ => false,
    }
}

/// The AGAP UIDs of the items of a calendar or contact folder that match `filter`, ascending.
/// The server narrows the candidates where it can (calendar-query, addressbook-query); the
/// candidates are then read in batches and checked on their renderings, so memory stays
/// bounded by one batch.
pub async fn matching_collection_items(items: &CollectionItems<'_>, filter: &Filter) -> AgapResult<Vec<u32>> {
    let query = collection_query(filter, items.kind());
    let complete = query_is_open(&query) || query == Query::All;
    let candidates = if complete {
        items.dav().list_items(items.id(), items.kind()).await?
    } else {
        items.dav().query_items(items.id(), items.kind(), &query).await?.items
    };
    let map = items.absorb(&candidates, &items.stored_map().await?, complete).await?;
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
    let mut check = |uid: u64, alarm: bool| match items.render(body, alarm) {
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
