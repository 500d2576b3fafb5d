//! STAG UID tag_list (draft 4.37, 4.2).

use agap_adapter_api::tags::TagChange;

use crate::account::Account;
use crate::codec::Reply;
use crate::error::AgapResult;
use crate::gateway::Gateway;
use crate::state::Selection;

/// Changes the tags of one item.
pub async fn handle(
    gateway: &Gateway,
    account: &Account,
    selection: &Selection,
    uid: u32,
    change: &TagChange,
) -> AgapResult<Reply> {
    let folder = super::item::items_folder(selection)?;
    super::item::check_source_allows(folder, "READ-ONLY")?;
    crate::items::open(gateway, account, folder).await?.change_tags(uid, change).await?;
    Ok(Reply::ok("OK STAG completed"))
}
