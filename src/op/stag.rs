//! STAG UID tag_list (draft 4.37, 4.2).

pub use crate::command::arguments::parse_tag_list;

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
    argument: Option<&str>,
) -> AgapResult<Reply> {
    let super::item::UidArguments { uid, rest: list } = super::item::uid_arguments("STAG", argument)?;
    let change = parse_tag_list(list)?;
    let folder = super::item::items_folder(selection)?;
    super::item::check_source_allows(folder, "READ-ONLY")?;
    crate::items::open(gateway, account, folder).await?.change_tags(uid, &change).await?;
    Ok(Reply::ok("OK STAG completed"))
}
