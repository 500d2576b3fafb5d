//! GTAG, STAG and FTAG on a collection folder. Tags live in the item itself, in an
//! `X-AGAP-TAGS` property (docs/calendars.md says why not CATEGORIES), so every gateway
//! instance and every copy of the item sees them. An alarm has no tags of its own.

use agap_adapter_api::collection::ItemKind;
use agap_adapter_api::tags::{Tag, TagChange};

use super::CollectionItems;
use crate::error::{AgapError, AgapResult};
use crate::format::icalendar::set_calendar_tags;
use crate::format::vcard::set_vcard_tags;

/// The tags of item `uid`, sorted.
pub(super) async fn get(items: &CollectionItems<'_>, uid: u32) -> AgapResult<Vec<Tag>> {
    let (located, data) = items.fetch(uid).await?;
    let mut tags = items.render_resource(&data.body, located.alarm)?.tags;
    tags.sort_by_key(ToString::to_string);
    Ok(tags)
}

/// Applies `change` to item `uid`, rewriting only the tag property upstream (the rest of the
/// item keeps its bytes).
pub(super) async fn change(items: &CollectionItems<'_>, uid: u32, change: &TagChange) -> AgapResult<()> {
    let (located, data) = items.fetch(uid).await?;
    if located.alarm {
        return Err(AgapError::invalid(format!("{uid} is an alarm: alarms carry no tags, tag the item it belongs to")));
    }
    let current = items.render_resource(&data.body, false)?.tags;
    let wanted: Vec<String> = change.apply(&current).iter().map(ToString::to_string).collect();
    let body = String::from_utf8_lossy(&data.body);
    let rewritten = match items.kind() {
        ItemKind::Contacts => set_vcard_tags(&body, &wanted)?,
        kind => set_calendar_tags(&body, kind, &wanted)?,
    };
    items.put(&data.item.href, &rewritten, &super::unchanged_since_read(&data)).await?;
    Ok(())
}
