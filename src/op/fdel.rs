//! FDEL (draft 4.21): deletes every match. The empty filter is refused (docs/interpretations.md,
//! FDEL-EMPTY: 4.21 calls it wrong), so a client cannot empty a folder by accident.

use crate::account::Account;
use crate::codec::Reply;
use crate::error::{AgapError, AgapResult};
use crate::filter::Filter;
use crate::gateway::Gateway;
use crate::session::{Content, ContentKind, Selection};

/// Checks the folder, then asks for the filter.
pub fn begin(gateway: &Gateway, selection: &Selection, argument: Option<&str>) -> AgapResult<(Reply, Content)> {
    super::expect_no_argument("FDEL", argument)?;
    let folder = super::item::items_folder(selection)?;
    super::item::check_source_allows(folder, "NO-DELETE")?;
    Ok(super::filtered::ask_for_filter(gateway, ContentKind::Fdel))
}

/// Deletes the matches with one expunge.
pub async fn finish(gateway: &Gateway, account: &Account, selection: &Selection, filter: String) -> AgapResult<Reply> {
    let folder = super::item::items_folder(selection)?;
    let (parsed, uids) = super::filtered::matching(gateway, account, folder, &filter).await?;
    if parsed == Filter::All {
        return Err(AgapError::invalid("INVALID filter definition: FDEL needs a filter that is not empty"));
    }
    if folder.collection.is_some() {
        let items = crate::items::CollectionItems::of(gateway, account, folder)?;
        let mut done = 0;
        for uid in &uids {
            match super::collection::dele::delete(&items, *uid, &uid.to_string()).await {
                Ok(_) => done += 1,
                // An alarm whose item went before it, or an item another client removed.
                Err(error) if error.to_reply().code.number() == 511 => {}
                Err(error) if done == 0 => return Err(error),
                Err(error) => {
                    tracing::warn!(%error, "FDEL stopped early");
                    break;
                }
            }
        }
        return Ok(super::filtered::outcome("FDEL", done, uids.len(), "deleted"));
    }
    crate::mail_uids::Messages::of(gateway, account, folder).await?.expunge(&uids).await?;
    Ok(super::filtered::outcome("FDEL", uids.len(), uids.len(), "deleted"))
}
