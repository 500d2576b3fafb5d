//! The items of FILE folders (draft 2.11.5): the files of a directory on the file server, each
//! rendered as `<FILE><NAME/><CONTENT/></FILE>` (src/format/file.rs). UIDs come from the store's
//! item map, as for collections, keyed by the directory (handed out in the order files are first
//! seen; a file replaced in place keeps its UID, a removed one loses it for good).
//!
//! Our readings (docs/files.md; docs/interpretations.md, FILE-STOR, FILE-RETR-UTF8, FILE-TAGS):
//! - STOR of a NAME the folder lacks creates the file (`If-None-Match: *`); of one it has,
//!   replaces it under the ETag just listed (`If-Match`), so that a change another client made
//!   in between is never overwritten (410, the client may try again);
//! - RETR sends CONTENT as base64, or as UTF-8 text with `RETR uid UTF-8`;
//! - tags are a dead property of the file, kept by the server (none where it keeps none).

mod matching;
mod tags;

use std::collections::{HashMap, HashSet};

use agap_adapter_api::AdapterErrorKind;
use agap_adapter_api::collection::{ItemRef, Precondition};
use agap_adapter_api::files::{DirectoryListing, FileAccount, FileEntry};
use agap_adapter_api::tags::{Tag, TagChange};
use async_trait::async_trait;

use super::{Chosen, ItemFolder, Stored, Transfer, Transferred, each, invalid_uid, wire_uid};
use crate::account::Account;
use crate::error::{AgapError, AgapResult};
use crate::files::MAX_ENTRIES;
use crate::filter::Filter;
use crate::folder::{DirectoryRef, FolderEntry, FolderType};
use crate::format::Element;
use crate::format::file::{FileEncoding, read_file, render_file};
use crate::format::part::PartPath;
use crate::gateway::Gateway;
use crate::store::{ItemMap, ItemVersion, MappedItem};

/// The part argument of RETR that asks for the content as UTF-8 text (docs/interpretations.md,
/// FILE-RETR-UTF8).
pub const UTF8_PART: &str = "UTF-8";

/// The files of one FILE folder, for one command.
#[derive(Debug, Clone, Copy)]
pub struct FileItems<'a> {
    gateway: &'a Gateway,
    account: &'a Account,
    files: &'a dyn FileAccount,
    directory: &'a DirectoryRef,
}

impl<'a> FileItems<'a> {
    /// The files of `folder`, which must be a FILE folder.
    pub fn of(gateway: &'a Gateway, account: &'a Account, folder: &'a FolderEntry) -> AgapResult<Self> {
        let directory = folder.directory.as_ref().ok_or_else(|| AgapError::internal("not a FILE folder"))?;
        Ok(Self { gateway, account, files: account.files()?, directory })
    }

    /// The directory's href.
    pub fn href(&self) -> &str {
        &self.directory.href
    }

    fn map_key(&self) -> String {
        self.directory.store_key()
    }

    /// The map as stored, without asking upstream.
    pub async fn stored_map(&self) -> AgapResult<ItemMap> {
        Ok(self.gateway.store.item_map(&self.account.user, &self.map_key()).await?)
    }

    /// The directory's files now (PROPFIND Depth 1), bounded by [`MAX_ENTRIES`].
    pub async fn listing(&self) -> AgapResult<DirectoryListing> {
        Ok(self.files.list_directory(self.href(), MAX_ENTRIES).await?)
    }

    /// Lists the directory and brings the map up to date with it.
    pub async fn sync(&self) -> AgapResult<(ItemMap, Vec<FileEntry>)> {
        let listing = self.listing().await?;
        let map = self.absorb(&listing.files).await?;
        Ok((map, listing.files))
    }

    /// Maps the files of a complete listing: new ones get UIDs, changed ones keep theirs,
    /// mapped ones missing from it are gone. No file is read.
    pub async fn absorb(&self, listed: &[FileEntry]) -> AgapResult<ItemMap> {
        let map = self.stored_map().await?;
        let known: HashMap<&str, &MappedItem> = map.items.iter().map(|item| (item.href.as_str(), item)).collect();
        let seen: Vec<ItemVersion> = listed
            .iter()
            .filter(|entry| known.get(entry.file.href.as_str()).is_none_or(|mapped| mapped.etag != entry.file.etag))
            .map(|entry| version(&entry.file))
            .collect();
        let present: HashSet<&str> = listed.iter().map(|entry| entry.file.href.as_str()).collect();
        let removed: Vec<String> = map
            .items
            .iter()
            .filter(|item| !present.contains(item.href.as_str()))
            .map(|item| item.href.clone())
            .collect();
        if seen.is_empty() && removed.is_empty() {
            return Ok(map);
        }
        self.update(&seen, &removed).await
    }

    async fn update(&self, seen: &[ItemVersion], removed: &[String]) -> AgapResult<ItemMap> {
        Ok(self
            .gateway
            .store
            .update_item_map(&self.account.user, &self.map_key(), seen, removed, self.gateway.now_ms())
            .await?)
    }

    /// Maps one file known to exist now; returns its UID.
    pub async fn record(&self, file: &ItemRef) -> AgapResult<u64> {
        let map = self.update(&[version(file)], &[]).await?;
        map.items
            .iter()
            .find(|item| item.href == file.href)
            .map(|item| item.uid)
            .ok_or_else(|| AgapError::internal("a stored file is missing from the UID map"))
    }

    /// Drops a file from the map (it is gone upstream).
    pub async fn forget(&self, href: &str) -> AgapResult<()> {
        self.update(&[], &[href.to_owned()]).await.map(|_| ())
    }

    /// The file with AGAP UID `uid`, as mapped; 511 when there is none.
    pub async fn locate(&self, uid: u32) -> AgapResult<MappedItem> {
        self.gateway
            .store
            .item_by_uid(&self.account.user, &self.map_key(), u64::from(uid))
            .await?
            .ok_or_else(|| invalid_uid(uid))
    }

    /// The name of a mapped file: the decoded last segment of its href.
    pub fn name_of(href: &str) -> AgapResult<String> {
        let segment = href.rsplit('/').next().unwrap_or_default();
        percent_encoding::percent_decode_str(segment)
            .decode_utf8()
            .map(|name| name.into_owned())
            .map_err(|_| AgapError::internal(format!("the file {href} has no UTF-8 name")))
    }

    /// The bytes of file `uid`; 511 when it is gone (it leaves the map), or larger than the
    /// item limit.
    async fn read(&self, uid: u32) -> AgapResult<(MappedItem, Vec<u8>)> {
        let mapped = self.locate(uid).await?;
        let limit = self.gateway.config.mail.max_item_size;
        match self.files.get_file(&mapped.href, limit).await {
            Ok(Some(data)) => Ok((mapped, data.body)),
            Ok(None) => {
                self.forget(&mapped.href).await?;
                Err(invalid_uid(uid))
            }
            Err(error) if error.kind() == AdapterErrorKind::TooLarge => {
                Err(AgapError::too_large(format!("file {uid} is larger than the gateway's limit of {limit} bytes")))
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Copies or moves file `uid` into `target`; returns its UID there.
    async fn transfer_one(&self, target: &FileItems<'_>, uid: u32, transfer: Transfer) -> AgapResult<u64> {
        let mapped = self.locate(uid).await?;
        let name = Self::name_of(&mapped.href)?;
        let placed = match transfer {
            Transfer::Copy => self.files.copy_file(&mapped.href, target.href(), &name).await,
            Transfer::Move => self.files.move_file(&mapped.href, target.href(), &name).await,
        };
        let placed = match placed {
            Ok(placed) => placed,
            Err(error) if error.kind() == AdapterErrorKind::NotFound && self.gone(&mapped.href).await? => {
                self.forget(&mapped.href).await?;
                return Err(invalid_uid(uid));
            }
            Err(error) if error.kind() == AdapterErrorKind::AlreadyExists => {
                return Err(AgapError::invalid(format!("a file named {name:?} is already in the destination")));
            }
            Err(error) => return Err(error.into()),
        };
        if transfer == Transfer::Move {
            self.forget(&mapped.href).await?;
        }
        target.record(&placed).await
    }

    /// Whether a mapped file is no longer upstream.
    async fn gone(&self, href: &str) -> AgapResult<bool> {
        Ok(!self.listing().await?.files.iter().any(|entry| entry.file.href == href))
    }
}

/// How the map records a file.
fn version(file: &ItemRef) -> ItemVersion {
    ItemVersion { href: file.href.clone(), etag: file.etag.clone(), has_alarm: false }
}

/// Whether RETR's part names only the NAME, which the href gives without a read.
fn names_only_the_name(part: &str) -> bool {
    PartPath::parse(part, "FILE")
        .is_ok_and(|path| path.index.is_none() && path.names.len() == 1 && path.names[0].eq_ignore_ascii_case("NAME"))
}

#[async_trait]
impl ItemFolder for FileItems<'_> {
    fn root(&self) -> &'static str {
        "FILE"
    }

    fn noun(&self) -> &'static str {
        FolderType::File.item_noun()
    }

    /// `part` [`UTF8_PART`] renders the content as UTF-8 text where it is; a part naming only
    /// the NAME reads nothing upstream.
    async fn render(&self, uid: u32, part: &str) -> AgapResult<Element> {
        if names_only_the_name(part) {
            let mapped = self.locate(uid).await?;
            return Ok(Element::parent("FILE", vec![Element::text("NAME", Self::name_of(&mapped.href)?)]));
        }
        let encoding = if part == UTF8_PART { FileEncoding::Utf8 } else { FileEncoding::Base64 };
        let (mapped, bytes) = self.read(uid).await?;
        Ok(render_file(&Self::name_of(&mapped.href)?, bytes, encoding))
    }

    async fn store(&self, tree: Element) -> AgapResult<Stored> {
        let (name, bytes) = read_file(tree, self.gateway.config.mail.max_item_size)?;
        let stored = match self.files.put_file(self.href(), &name, &bytes, &Precondition::Absent).await {
            Err(error) if error.kind() == AdapterErrorKind::AlreadyExists => {
                // Replaced in the version listed now: a change made meanwhile is never lost.
                let listing = self.listing().await?;
                let current =
                    listing.files.iter().find(|entry| entry.name == name).ok_or_else(|| {
                        AgapError::invalid(format!("{name:?} is taken by something that is not a file"))
                    })?;
                let precondition = match &current.file.etag {
                    Some(etag) => Precondition::Unchanged(etag.clone()),
                    None => Precondition::Any,
                };
                self.files.put_file(self.href(), &name, &bytes, &precondition).await?
            }
            // A directory of that name (the server refuses to write over it).
            Err(error) if error.kind() == AdapterErrorKind::Refused => {
                return Err(AgapError::invalid(format!("{name:?} cannot be written here: {}", error.reason())));
            }
            written => written?,
        };
        Ok(Stored { uid: self.record(&stored).await?, noun: self.noun() })
    }

    async fn delete(&self, uid: u32) -> AgapResult<&'static str> {
        let mapped = self.locate(uid).await?;
        let existed = self.files.delete_file(&mapped.href, None).await?;
        self.forget(&mapped.href).await?;
        if !existed {
            return Err(invalid_uid(uid));
        }
        Ok(self.noun())
    }

    async fn tags(&self, uid: u32) -> AgapResult<Vec<Tag>> {
        tags::get(self, uid).await
    }

    async fn change_tags(&self, uid: u32, change: &TagChange) -> AgapResult<()> {
        tags::change(self, uid, change).await
    }

    async fn transfer(&self, target: &FolderEntry, chosen: Chosen<'_>, transfer: Transfer) -> AgapResult<Transferred> {
        let target = FileItems::of(self.gateway, self.account, target)?;
        let uids: Vec<u32> = match chosen {
            Chosen::One(uid) => {
                let new_uid = self.transfer_one(&target, uid, transfer).await?;
                return Ok(Transferred { done: 1, asked: 1, new_uid: Some(new_uid) });
            }
            Chosen::Matches(uids) => uids.to_vec(),
            Chosen::All => self.sync().await?.0.items.iter().map(|item| wire_uid(item.uid)).collect(),
        };
        let done = each(transfer.verb_for_filter(), &uids, |uid| {
            let target = &target;
            async move { self.transfer_one(target, uid, transfer).await.map(|_| ()) }
        })
        .await?;
        Ok(Transferred { done, asked: uids.len(), new_uid: None })
    }

    async fn matching(&self, filter: &Filter) -> AgapResult<Vec<u32>> {
        matching::matching_files(self, filter).await
    }

    /// Lists the directory: TOTAL counts what is upstream now.
    async fn refresh(&self) -> AgapResult<()> {
        self.sync().await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_the_href_and_only_a_name_part_skips_the_read() {
        assert_eq!(FileItems::name_of("/files/u/a%20b%C3%BC.txt").expect("name"), "a bü.txt");
        assert!(FileItems::name_of("/files/u/%FF").is_err());
        assert!(names_only_the_name("/FILE/NAME"));
        assert!(names_only_the_name("name"));
        assert!(!names_only_the_name("/FILE/CONTENT"));
        assert!(!names_only_the_name(""));
        assert!(!names_only_the_name(UTF8_PART));
    }
}
