//! DELF (draft 4.18): deletes the selected folder and everything below it, bottom-up (IMAP
//! servers refuse to delete a mailbox that still has children). It cannot be undone
//! (docs/interpretations.md, DELF-TRASH: no copy to TRASH).

use agap_adapter_api::AdapterErrorKind;

use crate::account::Account;
use crate::codec::Reply;
use crate::error::{AgapError, AgapResult};
use crate::filter::Filter;
use crate::folder::{FolderEntry, FolderPath, upstream_key};
use crate::gateway::Gateway;

/// Deletes the selected folder; the session then has no folder selected.
pub async fn handle(gateway: &Gateway, account: &Account, selected: &FolderPath) -> AgapResult<Reply> {
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
        if entry.has_items() {
            let items = crate::items::open(gateway, account, &entry).await?;
            let all = items.matching(&Filter::All).await?;
            items.delete_each(&all).await?;
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
    // The records of what is gone go even when a later step fails, or a folder made later under
    // one of those names would inherit them.
    let mut deleted = Vec::new();
    let outcome = delete_all(gateway, account, &doomed, &mut deleted).await;
    let forgotten = match &outcome {
        // A FILE folder has no records (its subfolders are FILE folders too).
        Ok(()) if entry.directory.is_some() => Vec::new(),
        Ok(()) => vec![upstream_key(&entry.upstream)],
        Err(_) => deleted,
    };
    let forget = account.forget_folder_records(gateway, &forgotten).await;
    outcome?;
    if let Err(error) = forget {
        // The folder is gone; a record left behind is cleared by the next MAKE of its name.
        tracing::warn!(%error, "could not forget the records of a deleted folder");
    }
    Ok(Reply::ok(format!("OK Folder '{selected}' was deleted")))
}

/// Deletes `doomed` in order, noting in `deleted` the upstream key of each mailbox gone.
async fn delete_all(
    gateway: &Gateway,
    account: &Account,
    doomed: &[FolderEntry],
    deleted: &mut Vec<String>,
) -> AgapResult<()> {
    for folder in doomed {
        if let Some(directory) = &folder.directory {
            account.delete_file_folder(gateway, directory).await?;
            continue;
        }
        if folder.metadata.is_some() {
            // Its items' entries first: a record left by a failure still finds them.
            account.remove_metadata_items(gateway, folder).await?;
            deleted.push(upstream_key(&folder.upstream));
            continue;
        }
        if let Some(collection) = &folder.collection {
            account.collections()?.delete_collection(&collection.id).await?;
            account.forget_collection(gateway, &collection.id).await?;
            continue;
        }
        match account.mail.delete_mailbox(&folder.upstream).await {
            Ok(()) => {}
            // Parents a server never listed (and so were never mailboxes) are already gone.
            Err(error) if error.kind() == AdapterErrorKind::NotFound && !folder.selectable => {}
            Err(error) => return Err(error.into()),
        }
        deleted.push(upstream_key(&folder.upstream));
    }
    Ok(())
}
