//! RETR on a collection folder: the rendering of a resource (or of its alarm), or one part.

use crate::account::Account;
use crate::codec::Reply;
use crate::error::{AgapError, AgapResult};
use crate::folder::FolderEntry;
use crate::gateway::Gateway;
use crate::items::CollectionItems;

/// Sends the rendering of item `uid`, or the part `part` of it (empty: the whole item).
pub async fn handle(
    gateway: &Gateway,
    account: &Account,
    folder: &FolderEntry,
    uid: (u32, &str),
    part: &str,
    max_chars: usize,
) -> AgapResult<Reply> {
    let items = CollectionItems::of(gateway, account, folder)?;
    let (located, data) = items.fetch(uid.0, uid.1).await?;
    // The DAV client reads no item past this same limit (TooLarge); the check keeps the
    // rendering, a few times the size of the item, within a connection's bound, as for mail.
    let limit = gateway.config.mail.max_item_size;
    if data.body.len() > limit {
        return Err(AgapError::too_large(format!(
            "item {} is larger than the gateway's limit of {limit} bytes",
            uid.1
        )));
    }
    let rendering = items.render(&data.body, located.alarm)?;
    crate::op::retr::reply(rendering.tree, part, max_chars)
}
