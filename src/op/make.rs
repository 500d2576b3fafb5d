//! MAKE type path (draft 4.28).

use agap_adapter_api::AdapterErrorKind;
use agap_adapter_api::mail::MailboxName;

use crate::account::Account;
use crate::codec::Reply;
use crate::error::{AgapError, AgapResult};
use crate::folder::{FolderPath, FolderType, ReservedFolder, mark, upstream_key};
use crate::gateway::Gateway;

/// Creates a folder whose parent exists and accepts subfolders.
pub async fn handle(
    gateway: &Gateway,
    account: &Account,
    selected: Option<&FolderPath>,
    type_name: &str,
    path: &str,
) -> AgapResult<Reply> {
    let kind: FolderType =
        type_name.parse().map_err(|()| AgapError::invalid(format!("Unknown folder type {type_name}")))?;
    if !gateway.creatable_types().contains(&kind) {
        return Err(AgapError::invalid(format!("Folder type {kind} is not supported by this gateway")));
    }
    let path = FolderPath::resolve(path, selected)?;
    let parent = path.parent().ok_or_else(|| AgapError::invalid("Missing folder name"))?;
    if parent.is_root() && ReservedFolder::is_reserved_root_name(path.name()) {
        return Err(AgapError::invalid(format!("{} is a reserved folder name", path.name())));
    }
    let tree = account.tree(gateway).await?;
    if tree.exists(&path) {
        return Err(AgapError::invalid(format!("The folder {path} already exists")));
    }
    if !tree.exists(&parent) {
        return Err(AgapError::invalid(format!("The parent folder {parent} does not exist")));
    }
    if let Some(parent_folder) = tree.get(&parent)
        && !account.with_rights(parent_folder).await?.accepts_subfolders()
    {
        return Err(AgapError::invalid("The parent folder does not accept subfolders."));
    }
    if kind == FolderType::File || tree.get(&parent).is_some_and(|parent| parent.directory.is_some()) {
        if parent.is_root() && tree.upstream_name_taken(&MailboxName::new(vec![path.name().to_owned()])) {
            return Err(AgapError::invalid(format!("A mailbox named {:?} already exists upstream", path.name())));
        }
        account.make_file_folder(&tree, &path, kind).await?;
        return Ok(Reply::ok(format!("OK Folder {path} created")));
    }
    if let Some(items) = kind.item_kind() {
        // A collection: flat upstream, its place in the tree kept in its mark (NESTED-COLLECTIONS),
        // which also gives its type where the server ignores the component set asked for.
        account.create_collection(gateway, items, &mark(kind, &path), path.name()).await?;
        return Ok(Reply::ok(format!("OK Folder {path} created")));
    }
    let upstream = tree
        .upstream_name_for_child(&parent, path.name())
        .ok_or_else(|| AgapError::invalid(format!("The parent folder {parent} does not exist")))?;
    if tree.upstream_name_taken(&upstream) {
        return Err(AgapError::invalid(format!("A mailbox named {:?} already exists upstream", upstream)));
    }
    let key = upstream_key(&upstream);
    if kind == FolderType::Conf && tree.configuration_in_metadata() {
        // No mailbox: a record (docs/interpretations.md, CONF-UPSTREAM).
        account.make_metadata_folder(gateway, &key).await?;
        return Ok(Reply::ok(format!("OK Folder {path} created")));
    }
    // Records first, in one write: stale ones of the name go (a folder of that name deleted
    // behind the gateway's back must not lend its type to the new one), and a FOLD, FILT or NOTE
    // type is set. A record without a mailbox is harmless; a FOLD folder shown as MESG after a
    // failure between the two steps would not be.
    account.record_new_folder(gateway, &key, kind).await?;
    if let Err(error) = account.mail.create_mailbox(&upstream, None).await {
        // A mailbox that appeared meanwhile is another session's MAKE: its record stays.
        if error.kind() != AdapterErrorKind::AlreadyExists
            && let Err(forget) = account.forget_folder_records(gateway, &[key]).await
        {
            tracing::warn!(error = %forget, "could not forget the records of a folder that was not created");
        }
        return Err(error.into());
    }
    Ok(Reply::ok(format!("OK Folder {path} created")))
}
