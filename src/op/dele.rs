//! DELE UID (draft 4.17): removes that one message, never others marked deleted elsewhere.

use crate::account::Account;
use crate::codec::Reply;
use crate::error::AgapResult;
use crate::folder::FolderPath;
use crate::gateway::Gateway;

/// Deletes one item for good.
pub async fn handle(
    gateway: &Gateway,
    account: &Account,
    selected: &FolderPath,
    argument: Option<&str>,
) -> AgapResult<Reply> {
    let argument = super::require_argument("DELE", argument)?;
    let uid = super::item::parse_uid(argument)?;
    let (_, folder) = super::item::selected_items(gateway, account, selected).await?;
    super::item::check_source_allows(&folder, "NO-DELETE")?;
    super::item::require_message(account, &folder, uid, argument).await?;
    account.mail.expunge_messages(&folder.upstream, &[uid]).await?;
    Ok(Reply::ok("OK Message deleted"))
}
