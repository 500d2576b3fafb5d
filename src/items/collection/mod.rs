//! The items of calendar, task, journal and contact folders (CALE, TASK, JRNL, ADDR): upstream
//! resources (href and ETag) mapped to AGAP UIDs through the store, fetched and rendered on
//! demand.
//!
//! Writes go upstream under the ETag just read (If-Match), so that a change another client made
//! in between is never overwritten: it fails with 410 and the client may try again.
//!
//! A resource is one AGAP item, and the alarm inside it (its main component's first VALARM,
//! draft 2.11.2) another. UIDs are handed out by the store in the order items are first seen;
//! an item changed upstream (new ETag) keeps its UID, a removed one loses it for good.

mod dele;
mod matching;
mod retr;
mod stor;
mod tags;
mod transfer;

use std::collections::HashMap;

use agap_adapter_api::collection::{CollectionAccount, ItemData, ItemKind, ItemRef, Precondition};
use agap_adapter_api::query::Query;
use agap_adapter_api::tags::{Tag, TagChange};

use async_trait::async_trait;

use super::{Chosen, ItemFolder, Stored, Transfer, Transferred, wire_uid};
use crate::account::Account;
use crate::error::{AgapError, AgapResult};
use crate::filter::Filter;
use crate::folder::{CollectionRef, FolderEntry};
use crate::format::icalendar::{has_alarm, render_calendar};
use crate::format::vcard::render_vcard;
use crate::format::{Content, Element};
use crate::gateway::Gateway;
use crate::store::{ItemMap, ItemVersion, MappedItem};

/// Items fetched per multiget: bounds one upstream answer, and the memory of a scan.
pub const FETCH_BATCH: usize = 200;

/// The items of one collection folder, for one command.
#[derive(Debug, Clone, Copy)]
pub struct CollectionItems<'a> {
    gateway: &'a Gateway,
    account: &'a Account,
    dav: &'a dyn CollectionAccount,
    collection: &'a CollectionRef,
}

/// Where an AGAP item lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// The resource's map entry.
    pub mapped: MappedItem,
    /// True for the alarm inside the resource, false for the resource itself.
    pub alarm: bool,
}

impl Located {
    /// The AGAP UID.
    pub fn uid(&self) -> u64 {
        match (self.alarm, self.mapped.alarm_uid) {
            (true, Some(alarm)) => alarm,
            _ => self.mapped.uid,
        }
    }
}

/// An item's AGAP view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendering {
    /// The XML tree RETR sends.
    pub tree: Element,
    /// Its AGAP tags (alarms have none).
    pub tags: Vec<Tag>,
}

impl<'a> CollectionItems<'a> {
    /// The items of `folder`, which must be a collection folder.
    pub fn of(gateway: &'a Gateway, account: &'a Account, folder: &'a FolderEntry) -> AgapResult<Self> {
        let collection =
            folder.collection.as_ref().ok_or_else(|| AgapError::internal("not a calendar or contact folder"))?;
        Ok(Self { gateway, account, dav: account.collections()?, collection })
    }

    /// What the items are.
    pub fn kind(&self) -> ItemKind {
        self.collection.items
    }

    /// The collection's upstream id.
    pub fn id(&self) -> &str {
        &self.collection.id
    }

    /// The backend.
    pub fn dav(&self) -> &'a dyn CollectionAccount {
        self.dav
    }

    /// The CTag or sync-token last listed.
    pub fn version(&self) -> Option<String> {
        self.collection.version.clone()
    }

    /// The map as stored, without asking upstream.
    pub async fn stored_map(&self) -> AgapResult<ItemMap> {
        Ok(self.gateway.store.item_map(&self.account.user, self.id()).await?)
    }

    /// Brings the map up to date with the collection: by what changed since the last sync where
    /// the server keeps sync-collection and every member is an item, else by listing it whole.
    pub async fn sync(&self) -> AgapResult<ItemMap> {
        if self.collection.holds_only_its_items
            && let Some(map) = self.sync_changes().await?
        {
            return Ok(map);
        }
        // The token first: whatever changes after it, the next sync from it reports.
        let token = match self.collection.holds_only_its_items {
            true => self.dav.current_sync_token(self.id()).await?,
            false => None,
        };
        let listing = self.dav.list_items(self.id(), self.kind()).await?;
        let map = self.absorb(&listing, &self.stored_map().await?, true).await?;
        if token.is_some() {
            // After the map: a token saved ahead of it could skip changes the map never got.
            self.gateway.store.save_sync_token(&self.account.user, self.id(), token.as_deref()).await?;
        }
        Ok(map)
    }

    /// sync-collection (RFC 6578) from the token kept with the map: only what changed since is
    /// listed and read. `None` without a kept token, or when the server no longer takes it (it
    /// is then forgotten): the caller lists the collection whole.
    async fn sync_changes(&self) -> AgapResult<Option<ItemMap>> {
        let store = &self.gateway.store;
        let user = &self.account.user;
        let map = self.stored_map().await?;
        if map.generation.is_empty() {
            return Ok(None);
        }
        let Some(kept) = store.sync_token(user, self.id()).await? else { return Ok(None) };
        let Some(changes) = self.dav.sync_changes(self.id(), Some(&kept)).await? else {
            store.save_sync_token(user, self.id(), None).await?;
            return Ok(None);
        };
        let mapped: std::collections::HashSet<&str> = map.items.iter().map(|item| item.href.as_str()).collect();
        let removed = changes.removed.iter().filter(|href| mapped.contains(href.as_str())).cloned().collect();
        let map = self.apply(&changes.changed, removed, &map).await?;
        store.save_sync_token(user, self.id(), Some(&changes.token)).await?;
        Ok(Some(map))
    }

    /// Maps the items of `listing`: new and changed ones are read (their alarms get UIDs
    /// too); with `complete`, mapped items missing from the listing are gone.
    pub async fn absorb(&self, listing: &[ItemRef], map: &ItemMap, complete: bool) -> AgapResult<ItemMap> {
        let removed: Vec<String> = if complete {
            let listed: std::collections::HashSet<&str> = listing.iter().map(|item| item.href.as_str()).collect();
            map.items.iter().filter(|item| !listed.contains(item.href.as_str())).map(|item| item.href.clone()).collect()
        } else {
            Vec::new()
        };
        self.apply(listing, removed, map).await
    }

    /// Maps the new and changed items of `listing` (read where their alarms must be known) and
    /// drops `removed` from the map.
    async fn apply(&self, listing: &[ItemRef], removed: Vec<String>, map: &ItemMap) -> AgapResult<ItemMap> {
        let known: HashMap<&str, &MappedItem> = map.items.iter().map(|item| (item.href.as_str(), item)).collect();
        let changed: Vec<&ItemRef> = listing
            .iter()
            .filter(|item| {
                item.etag.is_none() || known.get(item.href.as_str()).is_none_or(|mapped| mapped.etag != item.etag)
            })
            .collect();
        if changed.is_empty() && removed.is_empty() {
            return Ok(map.clone());
        }
        let mut seen = Vec::with_capacity(changed.len());
        if self.kind() == ItemKind::Contacts {
            seen.extend(changed.iter().map(|item| ItemVersion {
                href: item.href.clone(),
                etag: item.etag.clone(),
                has_alarm: false,
            }));
        } else {
            // Whether a changed event carries an alarm is only known from its body.
            for batch in changed.chunks(FETCH_BATCH) {
                let hrefs: Vec<String> = batch.iter().map(|item| item.href.clone()).collect();
                let mut fetched = self.dav.fetch_items(self.id(), self.kind(), &hrefs).await?;
                fetched.sort_by(|a, b| a.item.href.cmp(&b.item.href));
                seen.extend(fetched.iter().map(|data| self.version_of(data)));
                // A listed item the answer left out (larger than the item limit, say) still
                // exists: it keeps a UID, and reading it says why it cannot be read.
                let answered: std::collections::HashSet<&str> =
                    fetched.iter().map(|data| data.item.href.as_str()).collect();
                let unread = batch.iter().filter(|item| !answered.contains(item.href.as_str()));
                seen.extend(unread.map(|item| ItemVersion {
                    href: item.href.clone(),
                    etag: item.etag.clone(),
                    has_alarm: false,
                }));
            }
        }
        Ok(self
            .gateway
            .store
            .update_item_map(&self.account.user, self.id(), &seen, &removed, self.gateway.now_ms())
            .await?)
    }

    /// How the map records a fetched item.
    pub fn version_of(&self, data: &ItemData) -> ItemVersion {
        ItemVersion {
            href: data.item.href.clone(),
            etag: data.item.etag.clone(),
            has_alarm: self.has_alarm(&data.body),
        }
    }

    fn has_alarm(&self, body: &[u8]) -> bool {
        self.kind() != ItemKind::Contacts && has_alarm(&String::from_utf8_lossy(body), self.kind())
    }

    /// The item with AGAP UID `uid`, as mapped.
    pub async fn locate(&self, uid: u32) -> AgapResult<Option<Located>> {
        let mapped = self.gateway.store.item_by_uid(&self.account.user, self.id(), u64::from(uid)).await?;
        Ok(mapped.map(|mapped| {
            let alarm = mapped.uid != u64::from(uid);
            Located { mapped, alarm }
        }))
    }

    /// The item with AGAP UID `uid` and its resource as stored now; 511 when there is none
    /// (a resource removed upstream also leaves the map).
    pub async fn fetch(&self, uid: u32) -> AgapResult<(Located, ItemData)> {
        let invalid = || crate::items::invalid_uid(uid);
        let located = self.locate(uid).await?.ok_or_else(invalid)?;
        match self.dav.get_item(&located.mapped.href, self.kind()).await? {
            Some(data) => Ok((located, data)),
            None => {
                self.forget(&located.mapped.href).await?;
                Err(invalid())
            }
        }
    }

    /// Drops an item from the map (it is gone upstream).
    pub async fn forget(&self, href: &str) -> AgapResult<()> {
        let removed = [href.to_owned()];
        self.gateway.store.update_item_map(&self.account.user, self.id(), &[], &removed, self.gateway.now_ms()).await?;
        Ok(())
    }

    /// The AGAP view of a resource, or of its alarm.
    pub fn render_resource(&self, body: &[u8], alarm: bool) -> AgapResult<Rendering> {
        let text = String::from_utf8_lossy(body);
        let tags = |tags: &[String]| tags.iter().filter_map(|tag| Tag::parse(tag).ok()).collect::<Vec<_>>();
        if self.kind() == ItemKind::Contacts {
            let view = render_vcard(&text)?;
            return Ok(Rendering { tree: view.item, tags: tags(&view.tags) });
        }
        let view = render_calendar(&text, self.kind())?;
        if alarm {
            let alarm = view.alarm.ok_or_else(|| AgapError::invalid("the item no longer has this alarm"))?;
            return Ok(Rendering { tree: alarm.element, tags: Vec::new() });
        }
        Ok(Rendering { tree: view.item, tags: tags(&view.tags) })
    }

    /// The resource whose iCalendar or vCard UID is `item_uid`, if the collection has one.
    pub async fn find_by_item_uid(&self, item_uid: &str) -> AgapResult<Option<ItemData>> {
        let query = Query::FieldContains { field: "UID".into(), text: item_uid.to_owned() };
        let found = self.dav.query_items(self.id(), self.kind(), &query).await?;
        for batch in found.items.chunks(FETCH_BATCH) {
            let hrefs: Vec<String> = batch.iter().map(|item| item.href.clone()).collect();
            for data in self.dav.fetch_items(self.id(), self.kind(), &hrefs).await? {
                if item_uid_of(&data.body).as_deref() == Some(item_uid) {
                    return Ok(Some(data));
                }
            }
        }
        Ok(None)
    }

    /// A fresh href for a new resource in the collection.
    pub fn new_href(&self) -> String {
        new_item_href(self.id(), self.kind())
    }

    /// Writes a resource under `precondition` and maps it; returns its map entry.
    pub async fn put(&self, href: &str, body: &str, precondition: &Precondition) -> AgapResult<MappedItem> {
        let stored = self.dav.put_item(href, self.kind(), body.as_bytes(), precondition).await?;
        let data = ItemData { item: stored, body: body.as_bytes().to_vec() };
        self.record(&data).await
    }

    /// Maps one resource known to exist now.
    pub async fn record(&self, data: &ItemData) -> AgapResult<MappedItem> {
        let seen = [self.version_of(data)];
        let map = self
            .gateway
            .store
            .update_item_map(&self.account.user, self.id(), &seen, &[], self.gateway.now_ms())
            .await?;
        map.items
            .into_iter()
            .find(|item| item.href == data.item.href)
            .ok_or_else(|| AgapError::internal("a stored item is missing from the UID map"))
    }
}

/// A fresh resource name in `collection` for an item of `kind`: random, with the extension
/// servers recognise items by (Xandikos lists only `.ics` and `.vcf` resources).
pub fn new_item_href(collection: &str, kind: ItemKind) -> String {
    let extension = if kind == ItemKind::Contacts { "vcf" } else { "ics" };
    format!("{collection}{:016x}{:016x}.{extension}", rand::random::<u64>(), rand::random::<u64>())
}

#[async_trait]
impl ItemFolder for CollectionItems<'_> {
    fn root(&self) -> &'static str {
        match self.kind() {
            ItemKind::Events => "VEVENT",
            ItemKind::Tasks => "VTODO",
            ItemKind::Journals => "VJOURNAL",
            ItemKind::Contacts => "VCARD",
        }
    }

    fn noun(&self) -> &'static str {
        crate::folder::FolderType::of_items(self.kind()).item_noun()
    }

    /// The whole resource is read whatever the part: a part is extracted from the rendering.
    async fn render(&self, uid: u32, _part: &str) -> AgapResult<Element> {
        retr::render(self, uid).await
    }

    async fn store(&self, tree: Element) -> AgapResult<Stored> {
        stor::store(self, tree).await
    }

    async fn delete(&self, uid: u32) -> AgapResult<&'static str> {
        dele::delete(self, uid).await
    }

    async fn tags(&self, uid: u32) -> AgapResult<Vec<Tag>> {
        tags::get(self, uid).await
    }

    async fn change_tags(&self, uid: u32, change: &TagChange) -> AgapResult<()> {
        tags::change(self, uid, change).await
    }

    async fn transfer(&self, target: &FolderEntry, chosen: Chosen<'_>, transfer: Transfer) -> AgapResult<Transferred> {
        let target = CollectionItems::of(self.gateway, self.account, target)?;
        let uids: Vec<u32> = match chosen {
            Chosen::One(uid) => {
                let new_uid = transfer::one(self, &target, uid, transfer).await?;
                return Ok(Transferred { done: 1, asked: 1, new_uid: Some(new_uid) });
            }
            Chosen::Matches(uids) => uids.to_vec(),
            Chosen::All => self.sync().await?.items.iter().map(|item| wire_uid(item.uid)).collect(),
        };
        let done = transfer::many(self, &target, &uids, transfer).await?;
        Ok(Transferred { done, asked: uids.len(), new_uid: None })
    }

    async fn matching(&self, filter: &Filter) -> AgapResult<Vec<u32>> {
        matching::matching_collection_items(self, filter).await
    }

    /// Lists the collection: TOTAL counts what is upstream now.
    async fn refresh(&self) -> AgapResult<()> {
        self.sync().await.map(|_| ())
    }
}

/// The condition for rewriting an item just read.
fn unchanged_since_read(data: &ItemData) -> Precondition {
    match &data.item.etag {
        Some(etag) => Precondition::Unchanged(etag.clone()),
        None => Precondition::Any,
    }
}

/// The trimmed text of a child element, if it has one.
fn child_text(element: &Element, name: &str) -> Option<String> {
    match &element.child(name)?.content {
        Content::Text(text) => Some(text.trim().to_owned()).filter(|text| !text.is_empty()),
        _ => None,
    }
}

/// The UID property of an iCalendar or vCard text (the first one: the main component's, or
/// the card's), unfolded.
pub fn item_uid_of(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let unfolded = text.replace("\r\n ", "").replace("\r\n\t", "").replace("\n ", "").replace("\n\t", "");
    unfolded.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        let name = name.split(';').next()?.rsplit('.').next()?;
        name.eq_ignore_ascii_case("UID").then(|| value.trim().to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_uid_property_is_the_item_uid() {
        let ics = b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:abc\r\n -def\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        assert_eq!(item_uid_of(ics).as_deref(), Some("abc-def"));
        assert_eq!(item_uid_of(b"BEGIN:VCARD\nitem1.UID;VALUE=text:x\nEND:VCARD\n").as_deref(), Some("x"));
        assert_eq!(item_uid_of(b"BEGIN:VCARD\nFN:uid:no\nEND:VCARD\n"), None);
    }
}
