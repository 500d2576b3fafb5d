//! The items of CONF folders kept as private server annotations of the mail account (RFC 5464
//! METADATA) rather than messages: where the server lets the user write the gateway's entries
//! and the account has no configuration mailbox yet (docs/configuration.md;
//! docs/interpretations.md, CONF-UPSTREAM). Entry layout: [`layout`].
//!
//! UIDs come from the store's item map, keyed by the folder id (`conf:<id>`), as for files and
//! collections: handed out in the order items were made when first seen, never reused. A store
//! that is lost gives new UIDs (and a new UCID), never lost items. Items are never changed in
//! place (STOR makes a new one), so only tags change.

pub mod layout;
mod matching;

use std::collections::HashSet;

use agap_adapter_api::mail::{Annotation, AnnotationDepth, AnnotationLimits};
use agap_adapter_api::tags::{Tag, TagChange};
use async_trait::async_trait;

use super::{Chosen, ItemFolder, Stored, Transfer, Transferred, invalid_uid, transfer_by_rewriting};
use crate::account::Account;
use crate::error::{AgapError, AgapResult};
use crate::filter::Filter;
use crate::folder::{FolderEntry, FolderType};
use crate::format::Element;
use crate::format::configuration::{read_configuration, render_configuration};
use crate::gateway::Gateway;
use crate::store::{ItemMap, ItemVersion, MappedItem};

use layout::{ITEM_LIMITS, LISTING_LIMITS, ListedItem, ReadItem};
pub use layout::{ITEMS_ROOT, MAX_ITEMS, MAX_TAGS_VALUE};

/// The items of one CONF folder kept as annotations, for one command.
#[derive(Debug, Clone, Copy)]
pub struct ConfigurationEntries<'a> {
    gateway: &'a Gateway,
    account: &'a Account,
    folder: &'a FolderEntry,
    id: &'a str,
}

impl<'a> ConfigurationEntries<'a> {
    /// The items of `folder`, which must be a CONF folder kept as annotations.
    pub fn of(gateway: &'a Gateway, account: &'a Account, folder: &'a FolderEntry) -> AgapResult<Self> {
        let metadata =
            folder.metadata.as_ref().ok_or_else(|| AgapError::internal("not a CONF folder kept as annotations"))?;
        Ok(Self { gateway, account, folder, id: &metadata.id })
    }

    fn map_key(&self) -> String {
        self.folder.store_key()
    }

    async fn read(
        &self,
        entries: &[&str],
        depth: AnnotationDepth,
        limits: AnnotationLimits,
    ) -> AgapResult<Vec<Annotation>> {
        Ok(self.account.mail.bounded_annotations(entries, depth, limits).await?)
    }

    /// The folder's items now, in the order they were made (one DEPTH 1 read, tags included).
    pub async fn listing(&self) -> AgapResult<Vec<ListedItem>> {
        let found = self.read(&[&layout::folder_entry(self.id)], AnnotationDepth::One, LISTING_LIMITS).await?;
        Ok(layout::listed_items(self.id, &found))
    }

    /// Lists the items and brings the map up to date with them.
    pub async fn sync(&self) -> AgapResult<(ItemMap, Vec<ListedItem>)> {
        let listed = self.listing().await?;
        let map = self.gateway.store.item_map(&self.account.user, &self.map_key()).await?;
        let known: HashSet<&str> = map.items.iter().map(|item| item.href.as_str()).collect();
        let seen: Vec<ItemVersion> =
            listed.iter().filter(|item| !known.contains(item.id.as_str())).map(|item| version(&item.id)).collect();
        let present: HashSet<&str> = listed.iter().map(|item| item.id.as_str()).collect();
        let removed: Vec<String> = map
            .items
            .iter()
            .filter(|item| !present.contains(item.href.as_str()))
            .map(|item| item.href.clone())
            .collect();
        if seen.is_empty() && removed.is_empty() {
            return Ok((map, listed));
        }
        Ok((self.update(&seen, &removed).await?, listed))
    }

    async fn update(&self, seen: &[ItemVersion], removed: &[String]) -> AgapResult<ItemMap> {
        Ok(self
            .gateway
            .store
            .update_item_map(&self.account.user, &self.map_key(), seen, removed, self.gateway.now_ms())
            .await?)
    }

    /// The item with AGAP UID `uid`, as mapped; 511 when there is none.
    async fn locate(&self, uid: u32) -> AgapResult<MappedItem> {
        self.gateway
            .store
            .item_by_uid(&self.account.user, &self.map_key(), u64::from(uid))
            .await?
            .ok_or_else(|| invalid_uid(uid))
    }

    /// Item `uid` as upstream has it now; 511 when it is gone (it leaves the map).
    async fn read_item(&self, uid: u32) -> AgapResult<(MappedItem, ReadItem)> {
        let mapped = self.locate(uid).await?;
        let found = self.read(&[&layout::item_entry(self.id, &mapped.href)], AnnotationDepth::One, ITEM_LIMITS).await?;
        match layout::read_item(self.id, &mapped.href, &found) {
            Some(item) => Ok((mapped, item)),
            None => {
                self.update(&[], std::slice::from_ref(&mapped.href)).await?;
                Err(invalid_uid(uid))
            }
        }
    }

    /// The tags of item `uid` (its tags entry alone); 511 when it is gone.
    async fn read_tags(&self, uid: u32) -> AgapResult<(MappedItem, Vec<Tag>)> {
        let mapped = self.locate(uid).await?;
        let entry = layout::item_entry(self.id, &mapped.href);
        let found = self.read(&[&entry], AnnotationDepth::Zero, LISTING_LIMITS).await?;
        let tags = found
            .iter()
            .find(|annotation| annotation.entry.eq_ignore_ascii_case(&entry))
            .and_then(|annotation| layout::parse_tags_value(&annotation.value));
        match tags {
            Some(tags) => Ok((mapped, tags)),
            None => {
                self.update(&[], std::slice::from_ref(&mapped.href)).await?;
                Err(invalid_uid(uid))
            }
        }
    }

    /// Removes every entry of every item, one SETMETADATA per item (DELF: the folder goes).
    pub async fn remove_all(&self) -> AgapResult<()> {
        let (map, _) = self.sync().await?;
        for item in &map.items {
            match self.delete(super::wire_uid(item.uid)).await {
                Ok(_) => {}
                Err(error) if error.to_reply().code.number() == 511 => {}
                Err(error) => return Err(error),
            }
        }
        Ok(self.gateway.store.forget_item_map(&self.account.user, &self.map_key()).await?)
    }
}

/// How the map records an item: items never change in place, so they have no version.
fn version(id: &str) -> ItemVersion {
    ItemVersion { href: id.to_owned(), etag: None, has_alarm: false }
}

#[async_trait]
impl ItemFolder for ConfigurationEntries<'_> {
    fn root(&self) -> &'static str {
        "CONFIGURATION"
    }

    fn noun(&self) -> &'static str {
        FolderType::Conf.item_noun()
    }

    async fn render(&self, uid: u32, part: &str) -> AgapResult<Element> {
        if !part.is_empty() {
            crate::format::part::PartPath::parse(part, self.root())?;
        }
        let (_, item) = self.read_item(uid).await?;
        Ok(render_configuration(&item.entries))
    }

    /// One SETMETADATA writes the item's tags entry and every key: RFC 5464 4.3 has a server
    /// that refuses one of them change none, so an item is whole or absent.
    async fn store(&self, tree: Element) -> AgapResult<Stored> {
        if !tree.name.eq_ignore_ascii_case(self.root()) {
            return Err(AgapError::invalid(format!("<{}> does not fit a CONF folder", tree.name)));
        }
        let entries = read_configuration(tree)?;
        if self.listing().await?.len() >= MAX_ITEMS {
            return Err(AgapError::invalid(format!("a CONF folder holds at most {MAX_ITEMS} items")));
        }
        let id = layout::new_item_id(self.gateway.now_ms());
        let changes = layout::new_item_changes(self.id, &id, &entries, &[])?;
        self.account.mail.set_annotations(None, &changes).await?;
        let map = self.update(&[version(&id)], &[]).await?;
        let uid = map
            .items
            .iter()
            .find(|item| item.href == id)
            .map(|item| item.uid)
            .ok_or_else(|| AgapError::internal("a stored configuration is missing from the UID map"))?;
        Ok(Stored { uid, noun: self.noun() })
    }

    async fn delete(&self, uid: u32) -> AgapResult<&'static str> {
        let (mapped, item) = self.read_item(uid).await?;
        let changes: Vec<(String, Option<String>)> = item.entry_names.into_iter().map(|entry| (entry, None)).collect();
        self.account.mail.set_annotations(None, &changes).await?;
        self.update(&[], &[mapped.href]).await?;
        Ok(self.noun())
    }

    async fn tags(&self, uid: u32) -> AgapResult<Vec<Tag>> {
        Ok(self.read_tags(uid).await?.1)
    }

    async fn change_tags(&self, uid: u32, change: &TagChange) -> AgapResult<()> {
        let (mapped, current) = self.read_tags(uid).await?;
        let mut wanted = change.apply(&current);
        wanted.sort_by_key(ToString::to_string);
        let value = layout::tags_value(&wanted);
        if value.len() > MAX_TAGS_VALUE {
            return Err(AgapError::invalid(format!("an item's tags take at most {MAX_TAGS_VALUE} bytes here")));
        }
        let entry = layout::item_entry(self.id, &mapped.href);
        Ok(self.account.mail.set_annotations(None, &[(entry, Some(value))]).await?)
    }

    /// Into any CONF folder: each item is read and written anew there (a new item, tags too),
    /// then, for a move, removed here.
    async fn transfer(&self, target: &FolderEntry, chosen: Chosen<'_>, transfer: Transfer) -> AgapResult<Transferred> {
        let target = super::open(self.gateway, self.account, target).await?;
        transfer_by_rewriting(self, target.as_ref(), chosen, transfer).await
    }

    async fn matching(&self, filter: &Filter) -> AgapResult<Vec<u32>> {
        matching::matching_items(self, filter).await
    }

    /// Lists the items: TOTAL counts what is upstream now.
    async fn refresh(&self) -> AgapResult<()> {
        self.sync().await.map(|_| ())
    }
}
