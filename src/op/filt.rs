//! FILT folders (draft 2.11.6, 4.22, 4.34, 4.38, 4.39): a saved filter over other folders.
//!
//! STOR stores a `<FILTER>` (an invalid one leaves the previous definition in place); RETR
//! without a UID returns the definition as stored (docs/interpretations.md, FILT-READBACK), with a
//! UID is 511; FIND takes no filter (docs/interpretations.md, `FIND-FILT-110`: answered directly)
//! and lists `UID /path` for every match in the listed folders, in their order; STAT's TOTAL counts
//! the matches. The listed folders may be of any type that holds items (docs/interpretations.md,
//! FILT-ANY-TYPE). The definition lives upstream as an annotation of the FILT mailbox where the server
//! has METADATA, so every gateway instance sees it.

use std::collections::HashMap;

use crate::account::Account;
use crate::codec::Reply;
use crate::error::{AgapError, AgapResult};
use crate::filter::{FilterDefinition, read_definition};
use crate::folder::{FolderEntry, FolderPath};
use crate::gateway::Gateway;
use crate::ids;
use crate::state::Selection;

/// The definition as stored, if the folder has one.
async fn definition(gateway: &Gateway, account: &Account, folder: &FolderEntry) -> AgapResult<Option<String>> {
    account.filter_definition(gateway, folder).await
}

/// The definition's rules for items rendered under `root`: a rule's paths start at the root of
/// the items it is checked on (`/MESSAGE/...` finds nothing in an event), while tag and UID rules
/// apply to every type.
async fn rules_for(gateway: &Gateway, text: &str, root: &'static str) -> AgapResult<FilterDefinition> {
    Ok(read_definition(text.to_owned(), root, gateway.config.mail.max_item_size).await?.1)
}

/// The matches of the definition: (AGAP UID, folder path), folder by folder. Every listed folder
/// that holds items is searched, whatever its type, through the item layer.
async fn matches(gateway: &Gateway, account: &Account, folder: &FolderEntry) -> AgapResult<Vec<(String, FolderPath)>> {
    let Some(text) = definition(gateway, account, folder).await? else { return Ok(Vec::new()) };
    let listed = rules_for(gateway, &text, "MESSAGE").await?.folders;
    let tree = account.tree(gateway).await?;
    let mut rules_by_root: HashMap<&'static str, FilterDefinition> = HashMap::new();
    let mut found = Vec::new();
    for path in &listed {
        let path = FolderPath::resolve(path, None)?;
        // A listed folder removed since the filter was stored simply has no matches.
        let Some(searched) = tree.get(&path) else { continue };
        if !searched.has_items() {
            continue;
        }
        let items = crate::items::open(gateway, account, searched).await?;
        let root = items.root();
        if !rules_by_root.contains_key(root) {
            rules_by_root.insert(root, rules_for(gateway, &text, root).await?);
        }
        let rules = &rules_by_root[root].rules;
        for uid in items.matching(rules).await? {
            found.push((ids::format(u64::from(uid)), path.clone()));
        }
    }
    Ok(found)
}

/// FIND in a FILT folder.
pub async fn find(gateway: &Gateway, account: &Account, selection: &Selection) -> AgapResult<Reply> {
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
    let lines = match definition(gateway, account, &selection.folder).await? {
        Some(text) => text.lines().map(str::to_owned).collect(),
        None => Vec::new(),
    };
    Ok(Reply::ok("OK RETR completed").with_lines(lines))
}

/// STOR into a FILT folder: the new definition, checked against the folder tree first: every
/// listed folder exists and holds items of a type the gateway serves, and the rules read for
/// each of their types.
pub async fn store(gateway: &Gateway, account: &Account, selection: &Selection, text: String) -> AgapResult<Reply> {
    let (text, definition) = read_definition(text, "MESSAGE", gateway.config.mail.max_item_size).await?;
    let tree = account.tree(gateway).await?;
    let mut roots = Vec::new();
    for folder in &definition.folders {
        let path = FolderPath::resolve(folder, None)
            .map_err(|_| AgapError::invalid(format!("INVALID filter: folder {folder:?} is no absolute path")))?;
        let entry = tree
            .get(&path)
            .ok_or_else(|| AgapError::invalid(format!("INVALID filter: folder {path} does not exist")))?;
        if !entry.has_items() {
            return Err(AgapError::invalid(format!("INVALID filter: {path} is a {} folder", entry.kind)));
        }
        let root = crate::items::open(gateway, account, entry)
            .await
            .map_err(|error| AgapError::invalid(format!("INVALID filter: {path} cannot be searched: {error}")))?
            .root();
        if !roots.contains(&root) {
            roots.push(root);
        }
    }
    for root in roots {
        rules_for(gateway, &text, root).await?;
    }
    account.save_filter_definition(gateway, &selection.folder, &text).await?;
    Ok(Reply::ok("OK Filter stored"))
}
