//! NAME new_name (draft 4.31): renames the selected folder, which stays selected.

use crate::account::Account;
use crate::codec::Reply;
use crate::error::{AgapError, AgapResult};
use crate::folder::{FolderEntry, FolderPath, ReservedFolder, mark, upstream_key, validate_name};
use crate::gateway::Gateway;

/// Renames the selected folder within its parent; returns the reply and the renamed folder.
pub async fn handle(
    gateway: &Gateway,
    account: &Account,
    selected: &FolderPath,
    new_name: &str,
) -> AgapResult<(Reply, FolderEntry)> {
    if new_name.contains('/') {
        return Err(AgapError::invalid("The argument must not be a path"));
    }
    validate_name(new_name)?;
    let tree = account.tree(gateway).await?;
    let entry = &account.with_rights(tree.selected(selected)?).await?;
    if entry.is_reserved() {
        return Err(AgapError::invalid("The folder cannot be renamed (reserved name)"));
    }
    if entry.tags().contains(&"NO-RENAME") {
        return Err(AgapError::invalid(format!("{selected} is NO-RENAME")));
    }
    let new_path = selected.with_name(new_name);
    if new_path == *selected {
        return Ok((Reply::ok(format!("OK {selected} --> {new_path}")), entry.clone()));
    }
    if new_path.levels().len() == 1 && ReservedFolder::is_reserved_root_name(new_name) {
        return Err(AgapError::invalid(format!("{new_name} is a reserved folder name")));
    }
    if tree.exists(&new_path) {
        return Err(AgapError::invalid(format!("The folder {new_path} already exists")));
    }
    let new_upstream = entry.upstream.with_leaf(new_name);
    if tree.upstream_name_taken(&new_upstream) {
        return Err(AgapError::invalid(format!("A mailbox named {:?} already exists upstream", new_upstream)));
    }
    if entry.directory.is_some() {
        let directory = account.rename_file_folder(gateway, &tree, entry, new_name).await?;
        let renamed = FolderEntry {
            path: new_path.clone(),
            upstream: new_upstream,
            directory: Some(Box::new(directory)),
            ..entry.clone()
        };
        return Ok((Reply::ok(format!("OK {selected} --> {new_path}")), renamed));
    }
    // Mailboxes at and below the folder are renamed by IMAP; collections there (flat upstream,
    // docs/interpretations.md, NESTED-COLLECTIONS) get new marks. A folder may be either, or a
    // parent of both.
    // A CONF folder kept as annotations is its record alone: its items are named by its id,
    // which the rename keeps (docs/interpretations.md, CONF-UPSTREAM).
    if tree.has_mailbox_within(&entry.upstream) || entry.metadata.is_some() {
        account.check_records_replaceable(&upstream_key(&new_upstream)).await?;
        if entry.metadata.is_none() {
            account.mail.rename_mailbox(&entry.upstream, &new_upstream).await?;
        }
        let moved =
            account.rename_folder_records(gateway, &upstream_key(&entry.upstream), &upstream_key(&new_upstream)).await;
        if entry.metadata.is_some() {
            moved?;
        } else if let Err(error) = moved {
            // The rename happened upstream; at worst FOLD folders below show as MESG.
            tracing::error!(%error, "could not move folder records after a rename");
        }
    }
    for folder in tree.folders().filter(|folder| folder.path.is_within(selected)) {
        let Some(collection) = &folder.collection else { continue };
        let moved = FolderPath::from_levels(
            new_path.levels().iter().chain(&folder.path.levels()[selected.levels().len()..]).cloned().collect(),
        );
        account.mark_collection(gateway, &collection.id, &mark(folder.kind, &moved), moved.name()).await?;
    }
    let renamed = FolderEntry { path: new_path.clone(), upstream: new_upstream, ..entry.clone() };
    Ok((Reply::ok(format!("OK {selected} --> {new_path}")), renamed))
}
