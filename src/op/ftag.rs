//! FTAG tag_list (draft 4.25): changes the tags of every match. The tag list is checked before
//! the filter is asked for (Fig 99).

use agap_adapter_api::tags::TagChange;

use crate::account::Account;
use crate::codec::Reply;
use crate::error::AgapResult;
use crate::gateway::Gateway;
use crate::state::{Content, ContentKind, Selection};

/// Checks the tag list and the folder, then asks for the filter.
pub fn begin(gateway: &Gateway, selection: &Selection, change: TagChange) -> AgapResult<(Reply, Content)> {
    let folder = super::item::items_folder(selection)?;
    super::item::check_source_allows(folder, "READ-ONLY")?;
    Ok(super::filtered::ask_for_filter(gateway, ContentKind::Ftag(change)))
}

/// Tags the matches.
pub async fn finish(
    gateway: &Gateway,
    account: &Account,
    selection: &Selection,
    change: &TagChange,
    filter: String,
) -> AgapResult<Reply> {
    let folder = super::item::items_folder(selection)?;
    let items = crate::items::open(gateway, account, folder).await?;
    let (_, uids) = super::filtered::matching(items.as_ref(), &filter).await?;
    let done = items.change_tags_each(&uids, change).await?;
    Ok(super::filtered::outcome("FTAG", done, uids.len(), "tagged"))
}
