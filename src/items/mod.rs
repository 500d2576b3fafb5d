//! The item layer: one folder of items, whatever its type and wherever it lives upstream. The
//! item commands (RETR, STOR, DELE, GTAG, STAG, COPY, MOVE, CPYF, MOVF, FIND and the F*
//! commands) work on an [`ItemFolder`] and never ask which backend is behind it.
//!
//! Implementations: [`messages::Messages`] (MESG, NOTE and CONF folders: IMAP mailboxes),
//! [`collection::CollectionItems`] (CALE, TASK, JRNL and ADDR folders: CalDAV and CardDAV
//! collections), [`files::FileItems`] (FILE folders: directories of a WebDAV file server) and
//! [`configuration::ConfigurationEntries`] (CONF folders kept as IMAP METADATA entries).
//! [`state`] computes the change ids and counts of many folders in one pass.

pub mod collection;
pub mod configuration;
pub mod files;
pub mod messages;
pub mod state;

use std::fmt;

use agap_adapter_api::tags::{Tag, TagChange};
use async_trait::async_trait;

use crate::account::Account;
use crate::error::{AgapError, AgapResult};
use crate::filter::Filter;
use crate::folder::{FolderEntry, FolderType};
use crate::format::Element;
use crate::gateway::Gateway;

pub use collection::CollectionItems;
pub use configuration::ConfigurationEntries;
pub use files::FileItems;
pub use messages::Messages;
pub use state::{FolderState, ItemCounts, folder_states};

/// What STOR stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// Its AGAP UID.
    pub uid: u64,
    /// What it is ("Message", "Event", "Alarm", ...).
    pub noun: &'static str,
}

/// Copy or move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transfer {
    /// Keep the source.
    Copy,
    /// Remove the source.
    Move,
}

impl Transfer {
    /// The filter command of this kind.
    pub fn verb_for_filter(self) -> &'static str {
        match self {
            Transfer::Copy => "FCPY",
            Transfer::Move => "FMOV",
        }
    }

    /// The source folder tag that forbids it.
    pub fn forbidding_tag(self) -> &'static str {
        match self {
            Transfer::Copy => "NO-COPY",
            Transfer::Move => "NO-MOVE",
        }
    }
}

/// Which items a copy or move takes.
#[derive(Debug, Clone, Copy)]
pub enum Chosen<'a> {
    /// One item (COPY, MOVE): it must exist.
    One(u32),
    /// The matches of a filter (FCPY, FMOV): those gone meanwhile are not done.
    Matches(&'a [u32]),
    /// Every item of the folder (CPYF, MOVF).
    All,
}

/// What a copy or move did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transferred {
    /// Items copied or moved.
    pub done: usize,
    /// Items asked for.
    pub asked: usize,
    /// The new UID of the one item, where the server reports it.
    pub new_uid: Option<u64>,
}

/// One folder of items.
#[async_trait]
pub trait ItemFolder: Send + Sync + fmt::Debug {
    /// The root element of the items' renderings: what STOR takes, and where filter paths start.
    fn root(&self) -> &'static str;

    /// What a reply calls one item.
    fn noun(&self) -> &'static str;

    /// The rendering of item `uid` (UIDs are canonical decimal numbers, so replies name them by
    /// their number). `part` is the part the client asked for (empty: all of
    /// it): an implementation may read only what that part needs, and checks its syntax before
    /// going upstream; the caller extracts the part.
    async fn render(&self, uid: u32, part: &str) -> AgapResult<Element>;

    /// Stores a new item, or a new version of one (STOR).
    async fn store(&self, tree: Element) -> AgapResult<Stored>;

    /// Deletes item `uid` for good (511 when there is none); returns what it was.
    async fn delete(&self, uid: u32) -> AgapResult<&'static str>;

    /// Deletes the items `uids` (FDEL); returns how many went. Items gone meanwhile are not
    /// counted.
    async fn delete_each(&self, uids: &[u32]) -> AgapResult<usize> {
        each("FDEL", uids, |uid| async move { self.delete(uid).await.map(|_| ()) }).await
    }

    /// The tags of item `uid`, sorted.
    async fn tags(&self, uid: u32) -> AgapResult<Vec<Tag>>;

    /// Changes the tags of item `uid` (511 when there is none).
    async fn change_tags(&self, uid: u32, change: &TagChange) -> AgapResult<()>;

    /// Changes the tags of the items `uids` (FTAG); returns how many were changed.
    async fn change_tags_each(&self, uids: &[u32], change: &TagChange) -> AgapResult<usize> {
        each("FTAG", uids, |uid| async move { self.change_tags(uid, change).await }).await
    }

    /// Copies or moves items into `target`, a folder of the same type (checked by the caller).
    async fn transfer(&self, target: &FolderEntry, chosen: Chosen<'_>, transfer: Transfer) -> AgapResult<Transferred>;

    /// The UIDs of the items that match `filter` (parsed for [`Self::root`]), ascending.
    async fn matching(&self, filter: &Filter) -> AgapResult<Vec<u32>>;

    /// Brings what the folder's counts stand on up to date with upstream (STAT's TOTAL).
    async fn refresh(&self) -> AgapResult<()>;
}

/// The items of `folder`, which must hold items of a type the gateway serves.
pub async fn open<'a>(
    gateway: &'a Gateway,
    account: &'a Account,
    folder: &'a FolderEntry,
) -> AgapResult<Box<dyn ItemFolder + 'a>> {
    if folder.collection.is_some() {
        return Ok(Box::new(CollectionItems::of(gateway, account, folder)?));
    }
    if folder.directory.is_some() {
        return Ok(Box::new(FileItems::of(gateway, account, folder)?));
    }
    if folder.metadata.is_some() {
        return Ok(Box::new(ConfigurationEntries::of(gateway, account, folder)?));
    }
    match folder.kind {
        FolderType::Mesg | FolderType::Note | FolderType::Conf => {
            Ok(Box::new(Messages::of(gateway, account, folder).await?))
        }
        other => Err(AgapError::invalid(format!("{other} folders are not supported"))),
    }
}

/// Copies or moves items between two folders of one type kept differently upstream (a CONF
/// folder of messages and one of annotations, or two of annotations): each item is rendered,
/// stored anew in `target` with its tags, then, for a move, deleted from `source`. A failure
/// after the store leaves the item in both folders, never in neither.
pub async fn transfer_by_rewriting(
    source: &(dyn ItemFolder + '_),
    target: &(dyn ItemFolder + '_),
    chosen: Chosen<'_>,
    transfer: Transfer,
) -> AgapResult<Transferred> {
    let rewrite = |uid: u32| async move {
        let tree = source.render(uid, "").await?;
        let tags = source.tags(uid).await?;
        let stored = target.store(tree).await?;
        if !tags.is_empty() {
            target.change_tags(wire_uid(stored.uid), &TagChange::Set(tags)).await?;
        }
        if transfer == Transfer::Move {
            source.delete(uid).await?;
        }
        Ok::<u64, AgapError>(stored.uid)
    };
    let uids = match chosen {
        Chosen::One(uid) => {
            let new_uid = rewrite(uid).await?;
            return Ok(Transferred { done: 1, asked: 1, new_uid: Some(new_uid) });
        }
        Chosen::Matches(uids) => uids.to_vec(),
        Chosen::All => source.matching(&Filter::All).await?,
    };
    let done = each(transfer.verb_for_filter(), &uids, |uid| async move { rewrite(uid).await.map(|_| ()) }).await?;
    Ok(Transferred { done, asked: uids.len(), new_uid: None })
}

/// The AGAP UID of a store number (collections hand out small numbers; the item commands take
/// The reply to a UID that names no item of the folder (draft 6.4: 511 "INVALID UID").
pub fn invalid_uid(uid: u32) -> AgapError {
    AgapError::invalid(format!("INVALID UID {uid}"))
}

/// 32-bit UIDs, as IMAP's).
pub fn wire_uid(uid: u64) -> u32 {
    u32::try_from(uid).unwrap_or(u32::MAX)
}

/// Runs `operation` on each of `uids` in turn; returns how many succeeded. A UID whose item
/// is gone (511: another client removed it, or an alarm went with its item) is skipped; any
/// other failure ends the run, as an error when nothing was done yet, else with the count so
/// far (the command then answers 210).
pub async fn each<F, Fut>(verb: &str, uids: &[u32], mut operation: F) -> AgapResult<usize>
where
    F: FnMut(u32) -> Fut + Send,
    Fut: Future<Output = AgapResult<()>> + Send,
{
    let mut done = 0;
    for uid in uids {
        match operation(*uid).await {
            Ok(()) => done += 1,
            Err(error) if error.to_reply().code.number() == 511 => {}
            Err(error) if done == 0 => return Err(error),
            Err(error) => {
                tracing::warn!(%error, verb, "stopped early");
                break;
            }
        }
    }
    Ok(done)
}
