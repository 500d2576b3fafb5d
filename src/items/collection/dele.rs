//! DELE (and FDEL) on a collection folder: a resource is deleted upstream; an alarm is cut out
//! of its parent, which stays.

use super::CollectionItems;
use crate::error::AgapResult;
use crate::format::icalendar::detach_alarm;
use crate::items::ItemFolder;

/// Deletes item `uid`; returns what it was ("Alarm", "Event", ...).
pub(super) async fn delete(items: &CollectionItems<'_>, uid: u32) -> AgapResult<&'static str> {
    let invalid = || crate::items::invalid_uid(uid);
    let located = items.locate(uid).await?.ok_or_else(invalid)?;
    if located.alarm {
        let (_, data) = items.fetch(uid).await?;
        let without = detach_alarm(&String::from_utf8_lossy(&data.body), items.kind())?;
        items.put(&data.item.href, &without, &super::unchanged_since_read(&data)).await?;
        return Ok("Alarm");
    }
    // The whole resource goes: it is not read first, so an item too large to read (or to
    // render) can still be deleted.
    let href = &located.mapped.href;
    let existed = items.dav().delete_item(href, None).await?;
    items.forget(href).await?;
    if !existed {
        return Err(invalid());
    }
    Ok(items.noun())
}
