//! The file backend family: the directories and files of one account on a WebDAV file server
//! (RFC 4918), behind AGAP FILE folders (draft 2.11.5). Directories and files are upstream
//! resources named by href (the absolute path of their URL, directories ending in `/`) and
//! versioned by ETag, as collection items are; the core names new ones by their AGAP name,
//! which the adapter checks ([`check_name`]) and percent-encodes before any request.

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use async_trait::async_trait;

use crate::collection::{ItemRef, Precondition};
use crate::{AdapterError, AdapterErrorKind, AdapterResult, Credentials};

/// The longest name accepted, in bytes of UTF-8: what the common file systems hold (ext4, XFS,
/// Btrfs, NTFS in UTF-16 units), so that a name the gateway accepts can be stored upstream.
pub const MAX_NAME_BYTES: usize = 255;

/// Refuses (`Refused`) a name that cannot be one resource name: empty, `.` or `..`, holding `/`,
/// a control character, or longer than [`MAX_NAME_BYTES`]. Every method that takes a name checks
/// it before any request, so a hostile name never reaches the server.
pub fn check_name(name: &str) -> AdapterResult<()> {
    let why = if name.is_empty() {
        Some("is empty")
    } else if name == "." || name == ".." {
        Some("is a dot segment")
    } else if name.contains('/') {
        Some("holds '/'")
    } else if name.chars().any(char::is_control) {
        Some("holds a control character")
    } else if name.len() > MAX_NAME_BYTES {
        Some("is too long")
    } else {
        None
    };
    match why {
        Some(why) => Err(AdapterError::new(
            AdapterErrorKind::Refused,
            format!("the file name {:?} {why}", name.chars().take(64).collect::<String>()),
        )),
        None => Ok(()),
    }
}

/// The opaque part of an ETag, without the weak indicator: `W/"x"` and `"x"` give `"x"`.
pub fn etag_opaque(etag: &str) -> &str {
    etag.strip_prefix("W/").unwrap_or(etag)
}

/// Whether two ETags name the same version by the weak comparison of RFC 9110 8.8.3.2 (the
/// opaque tags match, weak or not). A server whose ETags derive from the modification time (Apache
/// mod_dav_fs) sends a weak one within a second of a change and the strong one after: both are
/// the same version.
pub fn same_version(a: &str, b: &str) -> bool {
    etag_opaque(a) == etag_opaque(b)
}

/// A file in a directory listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    /// Name and version: the canonical absolute path of its URL and its ETag as the server sent
    /// it (quotes and any `W/` included), when it sent one.
    pub file: ItemRef,
    /// The decoded last segment of the href.
    pub name: String,
    /// `DAV:getcontentlength`, when the server gave a valid one.
    pub size: Option<u64>,
    /// `DAV:getlastmodified`, when the server gave a valid HTTP-date.
    pub modified: Option<SystemTime>,
    /// The gateway's tag property (see [`FileAccount::set_file_tags`]) as the server keeps it,
    /// when it has one: the core reads it, the adapter only carries it.
    pub tags: Option<String>,
}

/// A directory in a directory listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryEntry {
    /// The canonical absolute path of its URL, ending in `/`.
    pub href: String,
    /// The decoded last segment of the href.
    pub name: String,
    /// `DAV:getlastmodified`, when the server gave a valid HTTP-date.
    pub modified: Option<SystemTime>,
}

/// The members of one directory (Depth 1), each list sorted by href.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DirectoryListing {
    /// Its files.
    pub files: Vec<FileEntry>,
    /// Its subdirectories.
    pub directories: Vec<DirectoryEntry>,
}

/// A file with its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileData {
    /// Name and version.
    pub file: ItemRef,
    /// The bytes as stored.
    pub body: Vec<u8>,
}

/// Entry point of a file backend.
#[async_trait]
pub trait FileBackend: Send + Sync + fmt::Debug {
    /// A handle on the account of `credentials` (already checked by the login backend). The
    /// handle may find the account's home lazily, on first use.
    async fn open(&self, credentials: &Credentials) -> AdapterResult<Arc<dyn FileAccount>>;
}

/// One account's directories and files. Hrefs the core passes must lie in the account's home
/// (a `Refused` error otherwise, before any request); names are checked with [`check_name`].
/// Every method has an "unsupported" default.
#[async_trait]
pub trait FileAccount: Send + Sync + fmt::Debug {
    /// The href of the account's home directory: the share root (AGAP's /FILESHARE).
    async fn home(&self) -> AdapterResult<String> {
        Err(AdapterError::unsupported("file shares"))
    }

    /// The files and subdirectories directly in `directory` (PROPFIND Depth 1). More than
    /// `max_entries` members is `TooLarge`, never a partial listing; members the server names
    /// outside the directory are left out.
    async fn list_directory(&self, _directory: &str, _max_entries: usize) -> AdapterResult<DirectoryListing> {
        Err(AdapterError::unsupported("listing directories"))
    }

    /// A file's content (GET); `None` if it does not exist. A file larger than `max_size` bytes
    /// is `TooLarge`, and is not read past that size.
    async fn get_file(&self, _href: &str, _max_size: usize) -> AdapterResult<Option<FileData>> {
        Err(AdapterError::unsupported("reading files"))
    }

    /// Writes the file `name` in `directory` (PUT) under `precondition`; returns its name and new
    /// ETag. A failed `Unchanged` is `Conflict`, a failed `Absent` `AlreadyExists`; a directory
    /// that does not exist is `NotFound`.
    async fn put_file(
        &self,
        _directory: &str,
        _name: &str,
        _body: &[u8],
        _precondition: &Precondition,
    ) -> AdapterResult<ItemRef> {
        Err(AdapterError::unsupported("storing files"))
    }

    /// Deletes a file (only in the version `etag`, when given: `Conflict` otherwise); false if
    /// it did not exist.
    async fn delete_file(&self, _href: &str, _etag: Option<&str>) -> AdapterResult<bool> {
        Err(AdapterError::unsupported("deleting files"))
    }

    /// Makes the directory `name` in `parent` (MKCOL); returns its href. `AlreadyExists` when
    /// something has that name, `NotFound` when `parent` does not exist (MKCOL makes no parents).
    async fn make_directory(&self, _parent: &str, _name: &str) -> AdapterResult<String> {
        Err(AdapterError::unsupported("making directories"))
    }

    /// Deletes a directory with everything in it; false if it did not exist. The home itself is
    /// refused.
    async fn delete_directory(&self, _href: &str) -> AdapterResult<bool> {
        Err(AdapterError::unsupported("deleting directories"))
    }

    /// Moves a file to `name` in `directory` (MOVE, never overwriting: `AlreadyExists`); returns
    /// the new ref.
    async fn move_file(&self, _href: &str, _directory: &str, _name: &str) -> AdapterResult<ItemRef> {
        Err(AdapterError::unsupported("moving files"))
    }

    /// Copies a file to `name` in `directory` (COPY, never overwriting); returns the new ref.
    async fn copy_file(&self, _href: &str, _directory: &str, _name: &str) -> AdapterResult<ItemRef> {
        Err(AdapterError::unsupported("copying files"))
    }

    /// Moves a directory with its content to `name` in `parent` (never overwriting, never into
    /// itself); returns its new href.
    async fn move_directory(&self, _href: &str, _parent: &str, _name: &str) -> AdapterResult<String> {
        Err(AdapterError::unsupported("moving directories"))
    }

    /// Copies a directory with its content to `name` in `parent` (COPY Depth infinity, never
    /// overwriting, never into itself); returns the copy's href.
    async fn copy_directory(&self, _href: &str, _parent: &str, _name: &str) -> AdapterResult<String> {
        Err(AdapterError::unsupported("copying directories"))
    }

    /// The gateway's tag property of a file (a dead property, RFC 4918 4.1), `None` when it has
    /// none; `NotFound` when the file does not exist.
    async fn file_tags(&self, _href: &str) -> AdapterResult<Option<String>> {
        Err(AdapterError::unsupported("file tags"))
    }

    /// Sets the gateway's tag property of a file (`None` or empty: removes it). False when the
    /// server keeps no such property (it refused it, or dropped it); `NotFound` when the file
    /// does not exist.
    async fn set_file_tags(&self, _href: &str, _tags: Option<&str>) -> AdapterResult<bool> {
        Err(AdapterError::unsupported("file tags"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_are_no_single_segment_are_refused() {
        for good in ["a.txt", "with space", "ünïcödé ✓", "100%", "a%2Fb", "..a", "a..", "#?&", " "] {
            assert_eq!(check_name(good), Ok(()), "{good:?}");
        }
        for bad in ["", ".", "..", "a/b", "/", "a\nb", "a\0", "tab\t", "\u{7f}", "\u{85}"] {
            let error = check_name(bad).expect_err(bad);
            assert_eq!(error.kind(), AdapterErrorKind::Refused, "{bad:?}");
        }
        assert!(check_name(&"é".repeat(127)).is_ok());
        assert!(check_name(&"é".repeat(128)).is_err(), "256 bytes");
        // The reason is bounded and shows control characters escaped.
        let reason = check_name(&format!("\u{1b}[31m{}", "x".repeat(10_000))).expect_err("long").reason().to_owned();
        assert!(reason.len() < 120 && !reason.contains('\u{1b}'), "{reason}");
    }

    #[test]
    fn weak_and_strong_forms_are_the_same_version() {
        assert!(same_version("W/\"5-abc\"", "\"5-abc\""));
        assert!(same_version("\"5-abc\"", "\"5-abc\""));
        assert!(!same_version("\"5-abc\"", "\"5-abd\""));
        assert_eq!(etag_opaque("W/\"x\""), "\"x\"");
    }
}
