//! DELF (draft 4.18): deletes the selected folder and everything below it, bottom-up (IMAP
//! servers refuse to delete a mailbox that still has children). It cannot be undone
//! (AMBIGUITIES C: no copy to TRASH).

use agap_adapter_api::AdapterErrorKind;

use crate::account::Account;
use crate::codec::Reply;
use crate::error::{AgapError, AgapResult};
use crate::folder::{FolderPath, upstream_key};
use crate::gateway::Gateway;

/// Deletes the selected folder; the session then has no folder selected.
pub async fn handle(
    gateway: &Gateway,
    account: &Account,
    selected: &FolderPath,
    argument: Option<&str>,
) -> AgapResult<Reply> {
    super::expect_no_argument("DELF", argument)?;
    let tree = account.tree(gateway).await?;
    let entry = tree.selected(selected)?;
    if entry.reserved.is_some() {
        return Err(AgapError::invalid(format!("{selected} cannot be deleted")));
    }
    let mut doomed = tree.descendants_deepest_first(selected);
    doomed.push(entry);
    for folder in doomed {
        match account.mail.delete_mailbox(&folder.upstream).await {
            Ok(()) => {}
            // Parents a server never listed (and so were never mailboxes) are already gone.
            Err(error) if error.kind() == AdapterErrorKind::NotFound && !folder.selectable => {}
            Err(error) => return Err(error.into()),
        }
    }
    gateway.store.forget_subtree(&account.user, &upstream_key(&entry.upstream)).await?;
    Ok(Reply::ok(format!("OK Folder '{selected}' was deleted")))
}
