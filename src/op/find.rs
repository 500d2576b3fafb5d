//! FIND (draft 4.22): after 110, a filter (4.3.1) up to the empty line; the UIDs that match, in
//! AGAP order. The empty filter matches every item (7.5).

use crate::account::Account;
use crate::codec::Reply;
use crate::error::AgapResult;
use crate::gateway::Gateway;
use crate::ids;
use crate::state::{Content, ContentKind, Selection};

/// Accepts FIND and asks for the filter.
pub fn begin(gateway: &Gateway, selection: &Selection) -> AgapResult<(Reply, Content)> {
    super::item::items_folder(selection)?;
    Ok(super::filtered::ask_for_filter(gateway, ContentKind::Find))
}

/// Lists the matches.
pub async fn finish(gateway: &Gateway, account: &Account, selection: &Selection, filter: String) -> AgapResult<Reply> {
    let folder = super::item::items_folder(selection)?;
    let items = crate::items::open(gateway, account, folder).await?;
    let (_, uids) = super::filtered::matching(items.as_ref(), &filter).await?;
    let text = format!("OK FIND completed {}", super::filtered::matches_text(uids.len()));
    // Four bytes per match until its line is written, rather than a string per match.
    Ok(Reply::ok(text).with_line_stream(uids.into_iter().map(|uid| ids::format(u64::from(uid)))))
}
