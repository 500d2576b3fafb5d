//! FILT folders (draft 2.11.6, 4.22, 4.34, 4.38, 4.39): a saved filter over other folders.
//!
//! STOR stores a `<FILTER>` (an invalid one leaves the previous definition in place); RETR
//! without a UID returns the definition as stored (docs/interpretations.md, FILT-READBACK), with a
//! UID is 511; FIND takes no filter (docs/interpretations.md, `FIND-FILT-110`: answered directly)
//! and lists `UID /path` for every match in the listed folders, in their order; STAT's TOTAL counts
//! the matches. The definition lives upstream as an annotation of the FILT mailbox where the server
//! has METADATA, so every gateway instance sees it.

use crate::account::Account;
use crate::codec::Reply;
use crate::error::{AgapError, AgapResult};
use crate::filter::{FilterDefinition, read_definition};
use crate::folder::{FolderEntry, FolderPath, FolderType};
use crate::gateway::Gateway;
use crate::ids;
use crate::items::{ItemFolder, Messages};
use crate::session::Selection;

async fn definition(
    gateway: &Gateway,
    account: &Account,
    folder: &FolderEntry,
) -> AgapResult<Option<(String, FilterDefinition)>> {
    let Some(text) = account.filter_definition(gateway, folder).await? else { return Ok(None) };
    Ok(Some(read_definition(text, "MESSAGE", gateway.config.mail.max_item_size).await?))
}

/// The matches of the definition: (AGAP UID, folder path), folder by folder.
async fn matches(gateway: &Gateway, account: &Account, folder: &FolderEntry) -> AgapResult<Vec<(String, FolderPath)>> {
    let Some((_, definition)) = definition(gateway, account, folder).await? else { return Ok(Vec::new()) };
    let tree = account.tree(gateway).await?;
    let mut found = Vec::new();
    for path in &definition.folders {
        let path = FolderPath::resolve(path, None)?;
        // A listed folder removed since the filter was stored simply has no matches.
        let Some(searched) = tree.get(&path) else { continue };
        if searched.kind != FolderType::Mesg || !searched.selectable {
            continue;
        }
        for uid in Messages::of(gateway, account, searched).await?.matching(&definition.rules).await? {
            found.push((ids::format(u64::from(uid)), path.clone()));
        }
    }
    Ok(found)
}

/// FIND in a FILT folder.
pub async fn find(
    gateway: &Gateway,
    account: &Account,
    selection: &Selection,
    argument: Option<&str>,
) -> AgapResult<Reply> {
    super::expect_no_argument("FIND", argument)?;
    let found = matches(gateway, account, &selection.folder).await?;
    let lines: Vec<String> = found.iter().map(|(uid, path)| format!("{uid} {path}")).collect();
    Ok(Reply::ok(format!("OK FIND completed {}", super::filtered::matches_text(lines.len()))).with_lines(lines))
}

/// STAT's TOTAL of a FILT folder.
pub async fn total(gateway: &Gateway, account: &Account, folder: &FolderEntry) -> AgapResult<usize> {
    Ok(matches(gateway, account, folder).await?.len())
}

/// RETR in a FILT folder.
pub async fn retr(
    gateway: &Gateway,
    account: &Account,
    selection: &Selection,
    argument: Option<&str>,
) -> AgapResult<Reply> {
    if argument.is_some() {
        return Err(AgapError::invalid("RETR with UID is not allowed for a FILT folder"));
    }
    let lines = match account.filter_definition(gateway, &selection.folder).await? {
        Some(text) => text.lines().map(str::to_owned).collect(),
        None => Vec::new(),
    };
    Ok(Reply::ok("OK RETR completed").with_lines(lines))
}

/// STOR into a FILT folder: the new definition, checked against the folder tree first.
pub async fn store(gateway: &Gateway, account: &Account, selection: &Selection, text: String) -> AgapResult<Reply> {
    let (text, definition) = read_definition(text, "MESSAGE", gateway.config.mail.max_item_size).await?;
    let tree = account.tree(gateway).await?;
    for folder in &definition.folders {
        let path = FolderPath::resolve(folder, None)
            .map_err(|_| AgapError::invalid(format!("INVALID filter: folder {folder:?} is no absolute path")))?;
        let entry = tree
            .get(&path)
            .ok_or_else(|| AgapError::invalid(format!("INVALID filter: folder {path} does not exist")))?;
        if matches!(entry.kind, FolderType::Filt | FolderType::Fold) {
            return Err(AgapError::invalid(format!("INVALID filter: {path} is a {} folder", entry.kind)));
        }
    }
    account.save_filter_definition(gateway, &selection.folder, &text).await?;
    Ok(Reply::ok("OK Filter stored"))
}
