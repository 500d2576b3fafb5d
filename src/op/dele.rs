//! DELE UID (draft 4.17): removes that one item (for messages, never others marked deleted
//! elsewhere; for an alarm, only the alarm: its item stays).

use crate::account::Account;
use crate::codec::Reply;
use crate::error::AgapResult;
use crate::gateway::Gateway;
use crate::state::Selection;

/// Deletes one item for good.
pub async fn handle(gateway: &Gateway, account: &Account, selection: &Selection, uid: u32) -> AgapResult<Reply> {
    let folder = super::item::items_folder(selection)?;
    super::item::check_source_allows(folder, "NO-DELETE")?;
    let what = crate::items::open(gateway, account, folder).await?.delete(uid).await?;
    Ok(Reply::ok(format!("OK {what} deleted")))
}
