//! The gateway's own store: only what cannot be read upstream (folder types of FOLD folders,
//! change counters, the UID map of calendar and contact collections, the AGAP UIDs of messages
//! that DATT replaced, the marks of collections on DAV servers that keep no dead properties),
//! and presence (PNFO), which every gateway instance on the store must see alike.
//! Behind a trait so that a shared PostgreSQL store can
//! serve several gateway instances.

mod presence;
mod sqlite;

use std::collections::HashMap;

use async_trait::async_trait;

pub use presence::{Availability, PresenceRecord, PresenceStore, PresenceText, SessionPresence};
pub use sqlite::SqliteStore;

use crate::error::AgapError;

/// A store failure; it reaches the client as an internal error (401).
#[derive(Debug, thiserror::Error)]
#[error("gateway store: {0}")]
pub struct StoreError(pub String);

impl From<StoreError> for AgapError {
    fn from(error: StoreError) -> Self {
        AgapError::internal(error)
    }
}

/// The result type of store operations.
pub type StoreResult<T> = Result<T, StoreError>;

/// One change id to bring up to date: `scope` names it (e.g. `fcid:Archive/2010`), and
/// `fingerprint` summarises the upstream state it stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observation {
    /// Which change id.
    pub scope: String,
    /// The state it now reflects.
    pub fingerprint: String,
}

/// One item of a collection's UID map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappedItem {
    /// The upstream href.
    pub href: String,
    /// The ETag last seen.
    pub etag: Option<String>,
    /// Its AGAP UID.
    pub uid: u64,
    /// The AGAP UID of its alarm (draft 2.11.2: a VALARM is an item of its own), if it has one.
    pub alarm_uid: Option<u64>,
}

/// What is upstream now for one item, as a map update reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemVersion {
    /// The upstream href.
    pub href: String,
    /// Its ETag.
    pub etag: Option<String>,
    /// Whether it carries an alarm.
    pub has_alarm: bool,
}

/// A collection's UID map.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemMap {
    /// Names this map: a new map (the store was lost, the collection is new) has a new one,
    /// which is what the folder's UCID follows.
    pub generation: String,
    /// The items, by ascending UID.
    pub items: Vec<MappedItem>,
}

/// A message whose AGAP UID is not its IMAP UID: the UID it had when DATT replaced it upstream
/// (docs/interpretations.md, DATT-KEEPS-UID).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageAlias {
    /// The UID clients know it by (an IMAP UID that no longer exists).
    pub agap_uid: u32,
    /// Where it is stored now.
    pub imap_uid: u32,
}

/// The message aliases of one mailbox.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MailboxAliases {
    /// The UID space (IMAP UIDVALIDITY) they belong to.
    pub uid_validity: u32,
    /// Names this set of aliases; part of the mailbox's UCID (see [`mailbox_ucid_fingerprint`]).
    pub generation: String,
    /// The aliases, by ascending AGAP UID.
    pub aliases: Vec<MessageAlias>,
}

/// The scope of a folder's UCID counter (see [`GatewayStore::observe`]).
pub fn ucid_scope(key: &str) -> String {
    format!("ucid:{key}")
}

/// What the UCID of a mailbox stands for: its UID space, and once the mailbox has had message
/// aliases in it, their generation, so that a store that lost them gives a new UCID
/// (docs/interpretations.md, DATT-KEEPS-UID).
pub fn mailbox_ucid_fingerprint(uid_validity: u32, alias_generation: Option<&str>) -> String {
    match alias_generation {
        None => uid_validity.to_string(),
        Some(generation) => format!("{uid_validity} aliases {generation}"),
    }
}

/// What the gateway remembers per account.
#[async_trait]
pub trait GatewayStore: PresenceStore + Send + Sync + std::fmt::Debug {
    /// Upstream keys of the account's mailboxes that were created with a type IMAP cannot hold
    /// (FOLD, FILT), with that type's name.
    async fn folder_kinds(&self, account: &str) -> StoreResult<HashMap<String, String>>;

    /// Records the type the mailbox `key` was created with.
    async fn remember_kind(&self, account: &str, key: &str, kind: &str) -> StoreResult<()>;

    /// The definition of the FILT folder `key`.
    async fn filter_definition(&self, account: &str, key: &str) -> StoreResult<Option<String>>;

    /// Replaces the definition of the FILT folder `key`.
    async fn save_filter_definition(&self, account: &str, key: &str, definition: &str) -> StoreResult<()>;

    /// Moves every record of `old_key` and below to `new_key` (after an upstream RENAME).
    async fn rename_subtree(&self, account: &str, old_key: &str, new_key: &str) -> StoreResult<()>;

    /// Forgets every record of `key` and below (after an upstream DELETE).
    async fn forget_subtree(&self, account: &str, key: &str) -> StoreResult<()>;

    /// Returns the change id of each observation, in order: unchanged while its fingerprint is
    /// unchanged, otherwise the larger of the previous value plus one and `now_ms`. Using the
    /// clock as a floor keeps ids growing even after the store was lost.
    async fn observe(&self, account: &str, observations: &[Observation], now_ms: u64) -> StoreResult<Vec<u64>>;

    /// The UID map of `collection` (empty, with an empty generation, if there is none yet).
    async fn item_map(&self, account: &str, collection: &str) -> StoreResult<ItemMap>;

    /// Brings the map of `collection` up to date atomically: items of `seen` not yet mapped get
    /// the next UIDs in the order given, mapped ones keep theirs (an alarm that appears gets a
    /// new UID, one that vanishes loses its), `removed` hrefs are dropped. Concurrent updates
    /// never hand out one UID twice. Returns the map afterwards.
    async fn update_item_map(
        &self,
        account: &str,
        collection: &str,
        seen: &[ItemVersion],
        removed: &[String],
        now_ms: u64,
    ) -> StoreResult<ItemMap>;

    /// The mapped item whose UID, or whose alarm's UID, is `uid`.
    async fn item_by_uid(&self, account: &str, collection: &str, uid: u64) -> StoreResult<Option<MappedItem>>;

    /// Forgets the map of `collection` (after the collection was deleted).
    async fn forget_item_map(&self, account: &str, collection: &str) -> StoreResult<()>;

    /// The sync-token (RFC 6578) the map of `collection` was last brought up to date with.
    async fn sync_token(&self, account: &str, collection: &str) -> StoreResult<Option<String>>;

    /// Keeps `token` as the one the map of `collection` is now up to date with (`None`: forget
    /// it; the next refresh lists the collection whole).
    async fn save_sync_token(&self, account: &str, collection: &str, token: Option<&str>) -> StoreResult<()>;

    /// The message aliases of mailbox `key`; `None` when it has no alias generation.
    async fn message_aliases(&self, account: &str, key: &str) -> StoreResult<Option<MailboxAliases>>;

    /// The alias generation of every mailbox of the account that has one: key to (UID space,
    /// generation).
    async fn message_alias_generations(&self, account: &str) -> StoreResult<HashMap<String, (u32, String)>>;

    /// Records atomically that the message known as `agap_uid`, stored as `current` in UID space
    /// `uid_validity`, is now stored as `new` (one hop: an earlier alias of `agap_uid` is
    /// replaced). Refused (false, nothing changed) unless `agap_uid` still names `current` and
    /// `new` is a larger IMAP UID no alias names: another session replaced the message meanwhile,
    /// or the server answered nonsense. The first alias of a UID space makes the mailbox's
    /// generation (dropping aliases of an earlier UID space) and carries the UCID counter over
    /// to the new fingerprint, so the UCID stays what clients know.
    async fn record_message_alias(
        &self,
        account: &str,
        key: &str,
        uid_validity: u32,
        agap_uid: u32,
        current: u32,
        new: u32,
    ) -> StoreResult<bool>;

    /// Gives mailbox `key` a new alias generation in `uid_validity`, which gives it a new UCID
    /// (for a replaced message whose new UID the server did not report).
    async fn renew_message_alias_generation(&self, account: &str, key: &str, uid_validity: u32) -> StoreResult<()>;

    /// Drops the aliases that point to any of `imap_uids` (those messages are gone).
    async fn drop_message_aliases(&self, account: &str, key: &str, imap_uids: &[u32]) -> StoreResult<()>;

    /// Forgets the aliases and the generation of mailbox `key` (its UID space is gone).
    async fn forget_message_aliases(&self, account: &str, key: &str) -> StoreResult<()>;

    /// The marks (`TYPE /path`) kept for collections of the account whose server keeps no dead
    /// property, by collection id.
    async fn collection_marks(&self, account: &str) -> StoreResult<HashMap<String, String>>;

    /// Records (or replaces) the mark of `collection`.
    async fn remember_collection_mark(&self, account: &str, collection: &str, mark: &str) -> StoreResult<()>;

    /// Forgets the marks of `collections` (deleted, or marked on the server itself now).
    async fn forget_collection_marks(&self, account: &str, collections: &[String]) -> StoreResult<()>;
}
