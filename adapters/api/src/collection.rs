//! The collection backend family: calendars, task lists, journals (CalDAV) and address books
//! (CardDAV) of one account. Items are upstream resources named by href and versioned by ETag;
//! the core maps them to AGAP UIDs and renders their bodies (iCalendar, vCard) itself.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;

use crate::query::Query;
use crate::{AdapterError, AdapterResult, Credentials};

/// What the items of a collection are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ItemKind {
    /// iCalendar VEVENT resources.
    Events,
    /// iCalendar VTODO resources.
    Tasks,
    /// iCalendar VJOURNAL resources.
    Journals,
    /// vCard resources.
    Contacts,
}

impl ItemKind {
    /// The iCalendar component of calendar items; `None` for contacts.
    pub fn component(self) -> Option<&'static str> {
        match self {
            Self::Events => Some("VEVENT"),
            Self::Tasks => Some("VTODO"),
            Self::Journals => Some("VJOURNAL"),
            Self::Contacts => None,
        }
    }

    /// The media type of one item's body.
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Contacts => "text/vcard; charset=utf-8",
            _ => "text/calendar; charset=utf-8",
        }
    }
}

/// One collection as the server shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectionInfo {
    /// Its upstream id: the absolute path of its URL, ending in `/`.
    pub id: String,
    /// What it holds. A calendar accepting several components is shown once, for the first of
    /// VEVENT, VTODO, VJOURNAL it accepts, unless the gateway marked it otherwise.
    pub kind: ItemKind,
    /// Every kind of item it accepts: for a calendar, the components of its
    /// supported-calendar-component-set (all three when the server names none; a server may
    /// also ignore the set asked for at creation and accept them all).
    pub accepts: Vec<ItemKind>,
    /// `DAV:displayname`.
    pub display_name: Option<String>,
    /// The gateway's mark as the server keeps it (a dead property): the AGAP type and path the
    /// collection was created or renamed under, as `TYPE /path`. `None` on collections made by
    /// other clients, and on every collection of a server that keeps no dead properties (the
    /// gateway's store holds the mark then).
    pub agap_mark: Option<String>,
    /// Changes whenever an item is added, changed or removed (CTag or sync-token); `None` when
    /// the server offers neither.
    pub version: Option<String>,
}

/// Whether the server kept the gateway's mark on a collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkOutcome {
    /// The mark is on the collection, read back as written.
    Kept,
    /// The server refused the mark or dropped it (it keeps no dead properties); the display
    /// name was set all the same.
    NotKept,
}

/// An item's name and version.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ItemRef {
    /// The absolute path of its URL.
    pub href: String,
    /// Its strong ETag as the server sent it (quotes included), when the server sent one.
    pub etag: Option<String>,
}

/// An item with its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemData {
    /// Name and version.
    pub item: ItemRef,
    /// The iCalendar or vCard bytes as stored.
    pub body: Vec<u8>,
}

/// The condition a write is made under (RFC 7232).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precondition {
    /// Only if nothing exists at the href (`If-None-Match: *`).
    Absent,
    /// Only if the item still has this ETag (`If-Match`).
    Unchanged(String),
    /// Unconditionally.
    Any,
}

/// The answer to a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundItems {
    /// Candidates, sorted by href.
    pub items: Vec<ItemRef>,
    /// True when the candidates are exactly the matches.
    pub exact: bool,
}

/// Entry point of a collection backend.
#[async_trait]
pub trait CollectionBackend: Send + Sync + fmt::Debug {
    /// A handle on the account of `credentials` (already checked by the login backend). The
    /// handle may discover the account's homes lazily, on first use.
    async fn open(&self, credentials: &Credentials) -> AdapterResult<Arc<dyn CollectionAccount>>;

    /// A handle on `user`'s collections reached with `credentials` of another account (a
    /// service account with rights on them), through `user`'s principal: `principal_template`
    /// with `{user}` replaced by the user name as one path segment. A principal the server does
    /// not know is `NotFound` at first use.
    async fn open_other(
        &self,
        _credentials: &Credentials,
        _principal_template: &str,
        _user: &str,
    ) -> AdapterResult<Arc<dyn CollectionAccount>> {
        Err(AdapterError::unsupported("reaching another account's collections"))
    }
}

/// One account's collections. Every method has an "unsupported" default.
#[async_trait]
pub trait CollectionAccount: Send + Sync + fmt::Debug {
    /// Every calendar and address book of the account. A backend may answer with a listing it
    /// made a short while ago for the same user and credentials (see `forget_listing`).
    async fn list_collections(&self) -> AdapterResult<Vec<CollectionInfo>> {
        Err(AdapterError::unsupported("listing collections"))
    }

    /// Makes the next `list_collections` of this user ask the server, for a command that must
    /// see what the server holds now (changes made by other clients included).
    fn forget_listing(&self) {}

    /// Creates a collection for `kind` items with the gateway's `mark` and a display name
    /// (MKCALENDAR, or extended MKCOL for address books), and reads it back: the answer's
    /// `agap_mark` is `None` when the server did not keep the mark, and its `accepts` says
    /// whether it kept the component asked for. A collection whose mark alone was refused is
    /// kept and returned so; one that could not be made as asked otherwise is removed.
    async fn create_collection(
        &self,
        _kind: ItemKind,
        _mark: &str,
        _display_name: &str,
    ) -> AdapterResult<CollectionInfo> {
        Err(AdapterError::unsupported("creating collections"))
    }

    /// Replaces the gateway's mark (PROPPATCH), with the display name, and reads it back. A
    /// refused mark is no error (the display name is still set): the answer says whether the
    /// server kept it.
    async fn set_mark(&self, _collection: &str, _mark: &str, _display_name: &str) -> AdapterResult<MarkOutcome> {
        Err(AdapterError::unsupported("renaming collections"))
    }

    /// Deletes a collection and its items.
    async fn delete_collection(&self, _collection: &str) -> AdapterResult<()> {
        Err(AdapterError::unsupported("deleting collections"))
    }

    /// Name and ETag of every item of `kind` in the collection.
    async fn list_items(&self, _collection: &str, _kind: ItemKind) -> AdapterResult<Vec<ItemRef>> {
        Err(AdapterError::unsupported("listing items"))
    }

    /// A superset of the items matching `query` (calendar-query, addressbook-query), exact where
    /// the server answered all of it. The default lists every item, exact only for `Query::All`.
    async fn query_items(&self, collection: &str, kind: ItemKind, query: &Query) -> AdapterResult<FoundItems> {
        let items = self.list_items(collection, kind).await?;
        Ok(FoundItems { items, exact: *query == Query::All })
    }

    /// The bodies of these items (calendar-multiget, addressbook-multiget), in any order; items
    /// that no longer exist are left out.
    async fn fetch_items(&self, _collection: &str, _kind: ItemKind, _hrefs: &[String]) -> AdapterResult<Vec<ItemData>> {
        Err(AdapterError::unsupported("fetching items"))
    }

    /// One item (GET); `None` if it does not exist.
    async fn get_item(&self, _href: &str, _kind: ItemKind) -> AdapterResult<Option<ItemData>> {
        Err(AdapterError::unsupported("fetching items"))
    }

    /// Writes an item at `href` (PUT) under `precondition`; returns its new name and ETag. A
    /// failed `Unchanged` is `AdapterErrorKind::Conflict`, a failed `Absent` `AlreadyExists`.
    async fn put_item(
        &self,
        _href: &str,
        _kind: ItemKind,
        _body: &[u8],
        _precondition: &Precondition,
    ) -> AdapterResult<ItemRef> {
        Err(AdapterError::unsupported("storing items"))
    }

    /// Deletes an item (only in the version `etag`, when given); false if it did not exist.
    async fn delete_item(&self, _href: &str, _etag: Option<&str>) -> AdapterResult<bool> {
        Err(AdapterError::unsupported("deleting items"))
    }

    /// Copies an item into another collection under the same resource name (COPY, or GET and
    /// PUT where the server lacks COPY); returns the new item.
    async fn copy_item(&self, _href: &str, _kind: ItemKind, _to_collection: &str) -> AdapterResult<ItemRef> {
        Err(AdapterError::unsupported("copying items"))
    }

    /// Moves an item into another collection (MOVE, or GET, PUT and DELETE); returns the new
    /// item.
    async fn move_item(&self, _href: &str, _kind: ItemKind, _to_collection: &str) -> AdapterResult<ItemRef> {
        Err(AdapterError::unsupported("moving items"))
    }

    /// The collection's DAV:sync-token now (RFC 6578 4: what a sync-collection would answer
    /// with), so that a listing made after it can be followed by a sync from it; `None` when the
    /// server keeps none.
    async fn current_sync_token(&self, _collection: &str) -> AdapterResult<Option<String>> {
        Ok(None)
    }

    /// What changed since `token` (RFC 6578 sync-collection; the initial sync for `None`);
    /// `Ok(None)` when the server has no sync-collection or no longer knows the token.
    async fn sync_changes(&self, _collection: &str, _token: Option<&str>) -> AdapterResult<Option<SyncChanges>> {
        Ok(None)
    }
}

/// The answer to a sync-collection report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncChanges {
    /// The token to ask with next time.
    pub token: String,
    /// Items added or changed (all of them on an initial sync).
    pub changed: Vec<ItemRef>,
    /// Hrefs of items removed.
    pub removed: Vec<String>,
}
