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
    let entry = account.with_rights(tree.selected(selected)?).await?;
    if entry.is_reserved() {
        return Err(AgapError::invalid(format!("{selected} cannot be deleted")));
    }
    // Draft 2.10.2: NO-DELETE keeps folder and content; NO-DELF keeps the folder only.
    let tags = entry.tags();
    if tags.contains(&"NO-DELETE") {
        return Err(AgapError::invalid(format!("{selected} is NO-DELETE: nothing was deleted")));
    }
    if tags.contains(&"NO-DELF") {
        if entry.has_items() && entry.collection.is_none() {
            let uids = account.mail.message_uids(&entry.upstream).await?.uids;
            account.mail.expunge_messages(&entry.upstream, &uids).await?;
        }
        return Ok(Reply::ok(format!("OK The content of '{selected}' was deleted; the folder is NO-DELF and stays")));
    }
    // Every folder below must be deletable before the first one goes: nothing half-done.
    let mut doomed = Vec::new();
    for folder in tree.descendants_deepest_first(selected) {
        let folder = account.with_rights(folder).await?;
        if let Some(tag) = folder.tags().into_iter().find(|tag| matches!(*tag, "NO-DELF" | "NO-DELETE")) {
            return Err(AgapError::invalid(format!("{} is {tag}: nothing was deleted", folder.path)));
        }
        doomed.push(folder);
    }
    doomed.push(entry.clone());
    for folder in &doomed {
        if let Some(collection) = &folder.collection {
            account.collections()?.delete_collection(&collection.id).await?;
            gateway.store.forget_item_map(&account.user, &collection.id).await?;
            continue;
        }
        match account.mail.delete_mailbox(&folder.upstream).await {
            Ok(()) => {}
            // Parents a server never listed (and so were never mailboxes) are already gone.
            Err(error) if error.kind() == AdapterErrorKind::NotFound && !folder.selectable => {}
            Err(error) => return Err(error.into()),
        }
    }
    account.forget_folder_records(gateway, &upstream_key(&entry.upstream)).await?;
    Ok(Reply::ok(format!("OK Folder '{selected}' was deleted")))
}
