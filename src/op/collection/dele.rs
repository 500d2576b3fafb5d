//! DELE (and FDEL) on a collection folder: a resource is deleted upstream; an alarm is cut out
//! of its parent, which stays.

use crate::codec::Reply;
use crate::error::AgapResult;
use crate::format::icalendar::detach_alarm;
use crate::items::CollectionItems;

/// Deletes item `uid`; the reply names what went.
pub async fn handle(items: &CollectionItems<'_>, uid: u32, text: &str) -> AgapResult<Reply> {
    let what = delete(items, uid, text).await?;
    Ok(Reply::ok(format!("OK {what} deleted")))
}

/// Deletes item `uid`; returns what it was ("Alarm", "Event", ...).
pub async fn delete(items: &CollectionItems<'_>, uid: u32, text: &str) -> AgapResult<&'static str> {
    let (located, data) = items.fetch(uid, text).await?;
    if located.alarm {
        let without = detach_alarm(&String::from_utf8_lossy(&data.body), items.kind())?;
        items.put(&data.item.href, &without, &super::unchanged_since_read(&data)).await?;
        return Ok("Alarm");
    }
    items.dav().delete_item(&data.item.href, data.item.etag.as_deref()).await?;
    items.forget(&data.item.href).await?;
    Ok(items.noun())
}
