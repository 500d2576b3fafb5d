//! GTAG UID (draft 4.26): the item's tags, one per line.

use crate::account::Account;
use crate::codec::Reply;
use crate::error::AgapResult;
use crate::gateway::Gateway;
use crate::session::Selection;

/// Lists the tags of one item.
pub async fn handle(
    gateway: &Gateway,
    account: &Account,
    selection: &Selection,
    argument: Option<&str>,
) -> AgapResult<Reply> {
    let argument = super::require_argument("GTAG", argument)?;
    let uid = super::item::parse_uid(argument)?;
    let folder = super::item::items_folder(selection)?.clone();
    if folder.collection.is_some() {
        let items = crate::items::CollectionItems::of(gateway, account, &folder)?;
        let tags = super::collection::tags::get(&items, uid, argument).await?;
        return Ok(Reply::ok("OK GTAG completed").with_lines(tags.iter().map(ToString::to_string).collect()));
    }
    let tags = crate::mail_uids::Messages::of(gateway, account, &folder).await?.tags(uid, argument).await?;
    Ok(Reply::ok("OK GTAG completed").with_lines(tags.iter().map(ToString::to_string).collect()))
}
