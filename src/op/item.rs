//! What the item commands share: the selected folder must hold items, UIDs have AGAP syntax and
//! name an upstream message, destinations exist, have the same type and allow the operation
//! (folder tags of draft 2.10.2).

use crate::error::{AgapError, AgapResult};
use crate::folder::{FolderEntry, FolderPath, FolderTree};
use crate::ids;
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

/// An AGAP UID in the gateway's form: a decimal 32-bit number without leading zeros (for
/// messages, the IMAP UID unless `items::messages` says otherwise).
pub fn parse_uid(text: &str) -> AgapResult<u32> {
    let invalid = || AgapError::invalid(format!("INVALID UID {text}"));
    if !ids::is_valid(text) || text.starts_with('0') {
        return Err(invalid());
    }
    text.parse::<u32>().ok().filter(|uid| *uid > 0).ok_or_else(invalid)
}

/// An item command's arguments: the UID (checked) and the rest of the line (empty when there is
/// none). A missing argument is 510 (docs/interpretations.md,
/// `NOARG-510-511`).
#[derive(Debug, Clone, Copy)]
pub struct UidArguments<'a> {
    /// The UID (canonical decimal: replies name it by its number).
    pub uid: u32,
    /// What follows the UID.
    pub rest: &'a str,
}

/// Splits `UID rest`.
pub fn uid_arguments<'a>(verb: &str, argument: Option<&'a str>) -> AgapResult<UidArguments<'a>> {
    let argument = super::require_argument(verb, argument)?;
    let (text, rest) = argument.split_once(' ').unwrap_or((argument, ""));
    Ok(UidArguments { uid: parse_uid(text)?, rest })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uids_must_be_imap_uids_in_agap_syntax() {
        assert_eq!(parse_uid("42").expect("valid"), 42);
        for bad in ["", "0", "042", "-1", "UIDx1234", "4294967296", "1 2"] {
            assert!(parse_uid(bad).is_err(), "{bad:?}");
        }
    }
}
