//! The account's FILE folders: the directories of its home on the file server, walked down one
//! level at a time (PROPFIND Depth 1: servers commonly refuse Depth infinity), bounded in
//! number and depth (docs/files.md).

use agap_adapter_api::AdapterErrorKind;
use agap_adapter_api::files::FileAccount;
use futures_util::future::join_all;

use super::Account;
use crate::error::{AgapError, AgapResult};
use crate::files::{MAX_DEPTH, MAX_DIRECTORIES, MAX_ENTRIES};
use crate::folder::{
    DirectoryInfo, DirectoryRef, ELSEWHERE, FILESHARE, FolderEntry, FolderPath, FolderTree, FolderType, child_path,
    elsewhere_path, fileshare_path, may_hold,
};
use crate::gateway::Gateway;

/// Directories listed at once while walking: a level of many siblings costs a few round trips,
/// not one per directory, without flooding the server.
const CONCURRENT_LISTINGS: usize = 8;

impl Account {
    /// The file backend, for commands on FILE folders.
    pub fn files(&self) -> AgapResult<&dyn FileAccount> {
        self.files.as_deref().ok_or_else(|| AgapError::invalid("this gateway has no file server configured"))
    }

    /// The FILE folders, parents first. When the file server fails, the other folders stay
    /// usable: the tree is shown without FILE folders (logged), and commands on them answer 410.
    pub(super) async fn list_directories(&self) -> Vec<DirectoryInfo> {
        let Some(files) = &self.files else { return Vec::new() };
        match walk(files.as_ref()).await {
            Ok(found) => found,
            Err(error) => {
                tracing::warn!(user = %self.user, %error, "could not list the file share");
                Vec::new()
            }
        }
    }
}

/// The home as /FILESHARE and the directories below it, then those of [`ELSEWHERE`] in the root.
/// Only a failure to list the home is an error; a directory that cannot be listed is shown
/// without its subdirectories (logged).
async fn walk(files: &dyn FileAccount) -> AgapResult<Vec<DirectoryInfo>> {
    let home = DirectoryRef { href: files.home().await?, share: true };
    let listing = files.list_directory(&home.href, MAX_ENTRIES).await?;
    let mut found = vec![DirectoryInfo { path: fileshare_path(), directory: home.clone() }];
    let mut level: Vec<DirectoryInfo> = Vec::new();
    for entry in &listing.directories {
        let directory = DirectoryRef { href: entry.href.clone(), share: false };
        if entry.name == ELSEWHERE {
            level.extend(elsewhere(files, &directory).await);
            continue;
        }
        match child_path(&found[0].path, &home, &entry.name) {
            Some(path) => level.push(DirectoryInfo { path, directory }),
            None => tracing::warn!(href = %entry.href, "a directory whose name is no folder name; not shown"),
        }
    }
    let mut depth = 1;
    while !level.is_empty() {
        if found.len() + level.len() > MAX_DIRECTORIES {
            level.truncate(MAX_DIRECTORIES.saturating_sub(found.len()));
            tracing::warn!(limit = MAX_DIRECTORIES, "the file share holds more directories than are shown");
        }
        found.extend(level.iter().cloned());
        if depth >= MAX_DEPTH || found.len() >= MAX_DIRECTORIES {
            if depth >= MAX_DEPTH {
                tracing::warn!(limit = MAX_DEPTH, "the file share nests deeper than is shown");
            }
            break;
        }
        level = next_level(files, &level).await;
        depth += 1;
    }
    Ok(found)
}

/// The FILE folders kept outside /FILESHARE: the directories of [`ELSEWHERE`], each in the root.
async fn elsewhere(files: &dyn FileAccount, hidden: &DirectoryRef) -> Vec<DirectoryInfo> {
    match files.list_directory(&hidden.href, MAX_ENTRIES).await {
        Ok(listing) => listing
            .directories
            .into_iter()
            .filter_map(|entry| match elsewhere_path(&entry.name) {
                Some(path) => Some(DirectoryInfo { path, directory: DirectoryRef { href: entry.href, share: false } }),
                None => {
                    tracing::warn!(href = %entry.href, "a FILE folder whose name cannot be a root folder; not shown");
                    None
                }
            })
            .collect(),
        Err(error) => {
            tracing::warn!(href = %hidden.href, %error, "could not list the FILE folders outside /FILESHARE");
            Vec::new()
        }
    }
}

/// The subdirectories of every directory of `level`.
async fn next_level(files: &dyn FileAccount, level: &[DirectoryInfo]) -> Vec<DirectoryInfo> {
    let mut next = Vec::new();
    for chunk in level.chunks(CONCURRENT_LISTINGS) {
        let listings = join_all(chunk.iter().map(|info| files.list_directory(&info.directory.href, MAX_ENTRIES))).await;
        for (info, listing) in chunk.iter().zip(listings) {
            match listing {
                Ok(listing) => next.extend(children(&info.path, &info.directory, listing.directories)),
                Err(error) => {
                    tracing::warn!(href = %info.directory.href, %error, "could not list a directory; its subfolders are not shown");
                }
            }
        }
    }
    next
}

fn children<'a>(
    path: &'a FolderPath,
    parent: &'a DirectoryRef,
    directories: Vec<agap_adapter_api::files::DirectoryEntry>,
) -> impl Iterator<Item = DirectoryInfo> + 'a {
    directories.into_iter().filter_map(move |entry| match child_path(path, parent, &entry.name) {
        Some(path) => Some(DirectoryInfo { path, directory: DirectoryRef { href: entry.href, share: false } }),
        None => {
            tracing::warn!(href = %entry.href, "a directory whose name is no folder name; not shown");
            None
        }
    })
}

impl Account {
    /// Makes the FILE folder `path` (MKCOL): in the directory of its parent FILE folder, or, in
    /// the root, in [`ELSEWHERE`] (made first when missing). A folder of another type inside a
    /// FILE folder, and a FILE folder inside a folder of another type, are 511
    /// (docs/interpretations.md, FILE-SUBFOLDERS).
    pub async fn make_file_folder(
        &self,
        tree: &FolderTree,
        path: &FolderPath,
        kind: FolderType,
    ) -> AgapResult<DirectoryRef> {
        let parent_path = path.parent().ok_or_else(|| AgapError::invalid("Missing folder name"))?;
        let parent = tree.get(&parent_path);
        let parent_directory = parent.and_then(|parent| parent.directory.as_ref());
        if !may_hold(kind) && parent_directory.is_some() {
            return Err(AgapError::invalid(format!("{parent_path} is a FILE folder: it holds only FILE folders")));
        }
        let files = self.files()?;
        let parent_href = match parent_directory {
            Some(directory) => {
                if directory.share && path.name() == ELSEWHERE {
                    return Err(AgapError::invalid(format!("{ELSEWHERE} in /{FILESHARE} is the gateway's own")));
                }
                directory.href.clone()
            }
            None if parent_path.is_root() => {
                let home = files.home().await?;
                match files.make_directory(&home, ELSEWHERE).await {
                    Ok(href) => href,
                    Err(error) if error.kind() == AdapterErrorKind::AlreadyExists => format!("{home}{ELSEWHERE}/"),
                    Err(error) => return Err(error.into()),
                }
            }
            None => {
                return Err(AgapError::invalid(format!(
                    "{parent_path} is no FILE folder: FILE folders are made in the root, in /{FILESHARE} \
                     and in other FILE folders"
                )));
            }
        };
        match files.make_directory(&parent_href, path.name()).await {
            Ok(href) => Ok(DirectoryRef { href, share: false }),
            Err(error) if error.kind() == AdapterErrorKind::AlreadyExists => {
                Err(AgapError::invalid(format!("something named {:?} already exists on the file server", path.name())))
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Renames the FILE folder `folder` to `new_name` (MOVE of its directory, with what it holds);
    /// returns the directory's new ref. The UID maps of the folder and of those below it are
    /// forgotten: their files have new hrefs, and so new UIDs under a new UCID.
    pub async fn rename_file_folder(
        &self,
        gateway: &Gateway,
        tree: &FolderTree,
        folder: &FolderEntry,
        new_name: &str,
    ) -> AgapResult<DirectoryRef> {
        let directory = folder.directory.as_ref().ok_or_else(|| AgapError::internal("not a FILE folder"))?;
        let parent_href = parent_href(&directory.href)
            .ok_or_else(|| AgapError::invalid(format!("{} cannot be renamed", folder.path)))?;
        let href = match self.files()?.move_directory(&directory.href, parent_href, new_name).await {
            Ok(href) => href,
            Err(error) if error.kind() == AdapterErrorKind::AlreadyExists => {
                return Err(AgapError::invalid(format!(
                    "something named {new_name:?} already exists on the file server"
                )));
            }
            Err(error) => return Err(error.into()),
        };
        for moved in tree.folders().filter(|entry| entry.path.is_within(&folder.path)) {
            if let Some(directory) = &moved.directory {
                gateway.store.forget_item_map(&self.user, &directory.store_key()).await?;
            }
        }
        Ok(DirectoryRef { href, share: false })
    }

    /// Deletes the directory of a FILE folder with everything in it, and its UID map.
    pub async fn delete_file_folder(&self, gateway: &Gateway, directory: &DirectoryRef) -> AgapResult<()> {
        self.files()?.delete_directory(&directory.href).await?;
        gateway.store.forget_item_map(&self.user, &directory.store_key()).await?;
        Ok(())
    }
}

/// The href of the directory holding the directory `href` (which ends in '/').
fn parent_href(href: &str) -> Option<&str> {
    let trimmed = href.strip_suffix('/')?;
    let cut = trimmed.rfind('/')?;
    Some(&href[..=cut])
}

#[cfg(test)]
mod tests {
    use super::parent_href;

    #[test]
    fn the_parent_of_a_directory_is_its_href_less_the_last_segment() {
        assert_eq!(parent_href("/files/u/a%20b/"), Some("/files/u/"));
        assert_eq!(parent_href("/files/u/.agap/Docs/"), Some("/files/u/.agap/"));
        assert_eq!(parent_href("/"), None);
        assert_eq!(parent_href("/files/u/a"), None);
    }
}
