//! FDEL (draft 4.21): deletes every match. The empty filter is refused (docs/interpretations.md,
//! FDEL-EMPTY: 4.21 calls it wrong), so a client cannot empty a folder by accident.

use crate::account::Account;
use crate::codec::Reply;
use crate::error::{AgapError, AgapResult};
use crate::filter::Filter;
use crate::gateway::Gateway;
use crate::state::{Content, ContentKind, Selection};

/// Checks the folder, then asks for the filter.
pub fn begin(gateway: &Gateway, selection: &Selection) -> AgapResult<(Reply, Content)> {
    let folder = super::item::items_folder(selection)?;
    super::item::check_source_allows(folder, "NO-DELETE")?;
    Ok(super::filtered::ask_for_filter(gateway, ContentKind::Fdel))
}

/// Deletes the matches with one expunge.
pub async fn finish(gateway: &Gateway, account: &Account, selection: &Selection, filter: String) -> AgapResult<Reply> {
    let folder = super::item::items_folder(selection)?;
    let items = crate::items::open(gateway, account, folder).await?;
    let (parsed, uids) = super::filtered::matching(items.as_ref(), &filter).await?;
    if parsed == Filter::All {
        return Err(AgapError::invalid("INVALID filter definition: FDEL needs a filter that is not empty"));
    }
    let done = items.delete_each(&uids).await?;
    Ok(super::filtered::outcome("FDEL", done, uids.len(), "deleted"))
}
