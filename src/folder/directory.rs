//! FILE folders in the folder tree (draft 2.9.3, 2.9.4, 2.11.5; docs/interpretations.md,
//! FILESHARE and FILE-ELSEWHERE).
//!
//! The user's home on the file server is /FILESHARE, each directory below it a FILE folder at
//! the same relative path. A FILE folder made outside /FILESHARE (`MAKE FILE /Docs`) is a
//! directory of the hidden directory [`ELSEWHERE`] of the home, named by its root name; its
//! subdirectories are its subfolders. Unlike collections, a directory's place needs no mark: its
//! href says it.

use super::{FolderPath, FolderType, ReservedFolder, validate_name};

/// The AGAP name of the home.
pub const FILESHARE: &str = "FILESHARE";

/// The directory of the home holding the FILE folders made outside /FILESHARE, not shown under
/// /FILESHARE (docs/files.md says what other WebDAV clients see).
pub const ELSEWHERE: &str = ".agap";

/// The upstream directory behind a FILE folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryRef {
    /// Its href: the canonical absolute path of its URL, ending in '/'.
    pub href: String,
    /// True for the home itself (/FILESHARE).
    pub share: bool,
}

impl DirectoryRef {
    /// The key of its UID map and change counters in the store: apart from collection ids,
    /// which may be the same paths on another server.
    pub fn store_key(&self) -> String {
        format!("file:{}", self.href)
    }
}

/// A directory found upstream, with the folder it is shown as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryInfo {
    /// Where it is shown.
    pub path: FolderPath,
    /// What is behind it.
    pub directory: DirectoryRef,
}

/// The path of /FILESHARE.
pub fn fileshare_path() -> FolderPath {
    FolderPath::root().child(FILESHARE)
}

/// The path of the directory `name` found in `parent` (a FILE folder shown at `parent_path`);
/// `None` when `name` cannot be a folder name (or is the hidden [`ELSEWHERE`] of the home).
pub fn child_path(parent_path: &FolderPath, parent: &DirectoryRef, name: &str) -> Option<FolderPath> {
    if parent.share && name == ELSEWHERE {
        return None;
    }
    validate_name(name).ok()?;
    Some(parent_path.child(name))
}

/// The path of the directory `name` of [`ELSEWHERE`]: a FILE folder in the root, unless its
/// name is a reserved one.
pub fn elsewhere_path(name: &str) -> Option<FolderPath> {
    validate_name(name).ok()?;
    if ReservedFolder::is_reserved_root_name(name) {
        return None;
    }
    Some(FolderPath::root().child(name))
}

/// Whether a folder of `kind` may be made in a FILE folder: only FILE folders (a directory
/// holds no mailbox or collection; docs/interpretations.md, FILE-SUBFOLDERS).
pub fn may_hold(kind: FolderType) -> bool {
    kind == FolderType::File
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(text: &str) -> FolderPath {
        FolderPath::resolve(text, None).expect("path")
    }

    #[test]
    fn directories_keep_their_names_and_the_hidden_one_stays_hidden() {
        let home = DirectoryRef { href: "/files/u/".into(), share: true };
        let sub = DirectoryRef { href: "/files/u/a/".into(), share: false };
        assert_eq!(child_path(&fileshare_path(), &home, "a b"), Some(path("/FILESHARE/a b")));
        assert_eq!(child_path(&fileshare_path(), &home, ELSEWHERE), None);
        assert_eq!(child_path(&path("/FILESHARE/a"), &sub, ELSEWHERE), Some(path("/FILESHARE/a/.agap")));
        for bad in ["a*b", "what?", "back\\slash", "."] {
            assert_eq!(child_path(&fileshare_path(), &home, bad), None, "{bad}");
        }
        assert_eq!(elsewhere_path("Docs"), Some(path("/Docs")));
        assert_eq!(elsewhere_path("INBOX"), None);
        assert_eq!(elsewhere_path("FILESHARE"), None);
        assert_eq!(home.store_key(), "file:/files/u/");
    }
}
