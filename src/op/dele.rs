//! DELE UID (draft 4.17): removes that one message, never others marked deleted elsewhere.

use crate::account::Account;
use crate::codec::Reply;
use crate::error::AgapResult;
use crate::gateway::Gateway;
use crate::session::Selection;

/// Deletes one item for good.
pub async fn handle(
    gateway: &Gateway,
    account: &Account,
    selection: &Selection,
    argument: Option<&str>,
) -> AgapResult<Reply> {
    let argument = super::require_argument("DELE", argument)?;
    let uid = super::item::parse_uid(argument)?;
    let folder = super::item::items_folder(selection)?.clone();
    super::item::check_source_allows(&folder, "NO-DELETE")?;
    if folder.collection.is_some() {
        let items = crate::items::CollectionItems::of(gateway, account, &folder)?;
        return super::collection::dele::handle(&items, uid, argument).await;
    }
    let messages = crate::mail_uids::Messages::of(gateway, account, &folder).await?;
    messages.require(uid, argument).await?;
    messages.expunge(&[uid]).await?;
    Ok(Reply::ok("OK Message deleted"))
}
