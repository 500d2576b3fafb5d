//! GTAG UID (draft 4.26): the item's tags, one per line.

use crate::account::Account;
use crate::codec::Reply;
use crate::error::{AgapError, AgapResult};
use crate::session::Selection;

/// Lists the tags of one item.
pub async fn handle(account: &Account, selection: &Selection, argument: Option<&str>) -> AgapResult<Reply> {
    let argument = super::require_argument("GTAG", argument)?;
    let uid = super::item::parse_uid(argument)?;
    let folder = super::item::items_folder(selection)?.clone();
    let tags = account.mail.message_tags(&folder.upstream, uid).await?;
    let tags = tags.ok_or_else(|| AgapError::invalid(format!("INVALID UID {argument}")))?;
    Ok(Reply::ok("OK GTAG completed").with_lines(tags.iter().map(ToString::to_string).collect()))
}
