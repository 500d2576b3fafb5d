//! GTAG UID (draft 4.26): the item's tags, one per line.

use crate::account::Account;
use crate::codec::Reply;
use crate::error::AgapResult;
use crate::gateway::Gateway;
use crate::state::Selection;

/// Lists the tags of one item.
pub async fn handle(gateway: &Gateway, account: &Account, selection: &Selection, uid: u32) -> AgapResult<Reply> {
    let folder = super::item::items_folder(selection)?;
    let tags = crate::items::open(gateway, account, folder).await?.tags(uid).await?;
    Ok(Reply::ok("OK GTAG completed").with_lines(tags.iter().map(ToString::to_string).collect()))
}
