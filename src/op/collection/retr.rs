//! RETR on a collection folder: the rendering of a resource (or of its alarm), or one part.

use crate::account::Account;
use crate::codec::Reply;
use crate::error::AgapResult;
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
    let rendering = items.render(&data.body, located.alarm)?;
    crate::op::retr::reply(&rendering.tree, part, max_chars)
}
