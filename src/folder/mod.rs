//! Folders as AGAP sees them (draft 2.9): names, paths, types, reserved folders, and the tree
//! built from what the upstream servers list.

mod collection;
mod directory;
mod kind;
mod metadata;
mod path;
mod reserved;
mod rights;
mod tree;

pub use collection::{
    CollectionRef, ReservedCollection, ReservedSetup, mark, placement, reserved_setup, with_stored_marks,
};
pub use directory::{
    DirectoryInfo, DirectoryRef, ELSEWHERE, FILESHARE, child_path, elsewhere_path, fileshare_path, may_hold,
};
pub use kind::FolderType;
pub use metadata::{
    MetadataFolder, MetadataFolderInfo, RESERVED_FOLDER_ID, configuration_path, is_folder_id, new_folder_id,
};
pub use path::{FolderPath, ListPattern, validate_name};
pub use reserved::ReservedFolder;
pub use rights::tags_from_rights;
pub use tree::{FolderEntry, FolderTree, ReservedNames, upstream_key};
