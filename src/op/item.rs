//! What the item commands share: the selected folder must hold items; destinations exist, have
//! the same type and allow the operation (folder tags of draft 2.10.2). The syntax of UIDs is
//! `crate::command::arguments`.

use crate::error::{AgapError, AgapResult};
use crate::folder::{FolderEntry, FolderPath, FolderTree};
use crate::state::Selection;

/// The selected folder, which must hold items.
pub fn items_folder(selection: &Selection) -> AgapResult<&FolderEntry> {
    if !selection.folder.has_items() {
        return Err(AgapError::invalid(format!("{} holds no items", selection.path)));
    }
    Ok(&selection.folder)
}

/// The selected folder, which must hold messages (DATT, SPAM).
pub fn message_folder(selection: &Selection) -> AgapResult<&FolderEntry> {
    let folder = items_folder(selection)?;
    if folder.kind != crate::folder::FolderType::Mesg {
        return Err(AgapError::invalid(format!("{} holds no messages", selection.path)));
    }
    Ok(folder)
}

/// How a destination path may be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathForm {
    /// Only absolute paths (COPY, CPYF, MOVF: docs/interpretations.md, `RELATIVE-DEST`).
    Absolute,
    /// Relative to the selected folder as well (MOVE, FCPY, FMOV).
    AbsoluteOrRelative,
}

/// The destination of a copy or move: it exists and holds items of the same type.
pub fn destination<'a>(
    tree: &'a FolderTree,
    source: &FolderEntry,
    argument: &str,
    form: PathForm,
) -> AgapResult<&'a FolderEntry> {
    if form == PathForm::Absolute && !argument.starts_with('/') {
        return Err(AgapError::invalid(format!("INVALID Destination {argument}: the path must be absolute")));
    }
    let path = FolderPath::resolve(argument, Some(&source.path))?;
    let target = tree.get(&path).ok_or_else(|| AgapError::invalid(format!("INVALID Destination {path}")))?;
    if !target.has_items() || target.kind != source.kind {
        return Err(AgapError::invalid(format!(
            "INVALID Destination {path}: a {} folder cannot hold these items",
            target.kind
        )));
    }
    Ok(target)
}

/// Refuses a destination the user cannot store into (its rights filled in first).
pub fn check_target_allows(target: &FolderEntry) -> AgapResult<()> {
    if target.tags().contains(&"READ-ONLY") {
        return Err(AgapError::invalid(format!("{} is READ-ONLY", target.path)));
    }
    Ok(())
}

/// Refuses an operation a folder tag forbids on the source folder.
pub fn check_source_allows(source: &FolderEntry, tag: &str) -> AgapResult<()> {
    if source.tags().contains(&tag) {
        return Err(AgapError::invalid(format!("{} is {tag}", source.path)));
    }
    Ok(())
}
