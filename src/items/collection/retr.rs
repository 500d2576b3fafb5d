//! RETR on a collection: the rendering of a resource, or of its alarm.

use super::CollectionItems;
use crate::error::{AgapError, AgapResult};
use crate::format::Element;

/// The rendering of item `uid`.
pub(super) async fn render(items: &CollectionItems<'_>, uid: u32) -> AgapResult<Element> {
    let (located, data) = items.fetch(uid).await?;
    // The DAV client reads no item past this same limit (TooLarge); the check keeps the
    // rendering, a few times the size of the item, within a connection's bound, as for mail.
    let limit = items.gateway.config.mail.max_item_size;
    if data.body.len() > limit {
        return Err(AgapError::too_large(format!("item {uid} is larger than the gateway's limit of {limit} bytes")));
    }
    Ok(items.render_resource(&data.body, located.alarm)?.tree)
}
