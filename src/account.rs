//! An authenticated user's view of the account: the folder tree over the adapters and the
//! change ids (FCID, UCID; draft 2.6, 2.7) kept in the store.

use std::collections::HashMap;
use std::sync::Arc;

use agap_adapter_api::collection::{CollectionAccount, CollectionInfo};
use agap_adapter_api::mail::{MailAccount, MailboxName, MailboxStatus};
use sha2::{Digest, Sha256};

use crate::error::{AgapError, AgapResult};
use crate::folder::{
    FolderEntry, FolderPath, FolderTree, FolderType, ReservedCollection, ReservedNames, mark, placement, upstream_key,
};
use crate::gateway::Gateway;
use crate::ids;
use crate::store::Observation;

/// A logged-in account.
#[derive(Debug, Clone)]
pub struct Account {
    /// The user name given at login.
    pub user: String,
    /// The mail backend's handle.
    pub mail: Arc<dyn MailAccount>,
    /// The calendar and contact backend's handle, when one is configured.
    pub collections: Option<Arc<dyn CollectionAccount>>,
}

/// The change ids and counters of one folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderState {
    /// FCID.
    pub fcid: String,
    /// UCID and counters, for folders that hold items.
    pub items: Option<ItemCounts>,
}

/// The UCID and counters of a folder that holds items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemCounts {
    /// UCID.
    pub ucid: String,
    /// Number of items.
    pub total: u64,
    /// Number of unseen items (message folders).
    pub unseen: u64,
}

impl Account {
    /// The folder tree as the upstream servers show it now.
    pub async fn tree(&self, gateway: &Gateway) -> AgapResult<FolderTree> {
        let (mailboxes, collections) = tokio::join!(self.mail.list_mailboxes(), self.list_collections());
        let types = self.folder_types(gateway).await?;
        let mut tree = FolderTree::build(&mailboxes?, &types, &gateway.config.folders);
        tree.add_collections(&collections);
        Ok(tree)
    }

    /// The collection backend, for commands on CALE, TASK, JRNL and ADDR folders.
    pub fn collections(&self) -> AgapResult<&dyn CollectionAccount> {
        self.collections
            .as_deref()
            .ok_or_else(|| AgapError::invalid("this gateway has no calendar and contact server configured"))
    }

    /// The account's collections. When the DAV server fails, the mail folders stay usable: the
    /// tree is shown without collections (logged), and commands on them answer 410.
    async fn list_collections(&self) -> Vec<CollectionInfo> {
        let Some(collections) = &self.collections else { return Vec::new() };
        match collections.list_collections().await {
            Ok(list) => list,
            Err(error) => {
                tracing::warn!(user = %self.user, %error, "could not list calendars and address books");
                Vec::new()
            }
        }
    }

    /// Makes sure /CALENDAR, /TASK, /JOURNAL and /CONTACT exist (draft 2.9.4; AMBIGUITIES B.13):
    /// a collection marked for the folder; else the first unmarked collection of its kind, which
    /// gets the mark (the user's existing main calendar stays the main calendar); else a new one.
    async fn ensure_reserved_collections(&self) -> AgapResult<()> {
        let Some(collections) = &self.collections else { return Ok(()) };
        let existing = collections.list_collections().await?;
        for reserved in ReservedCollection::ALL {
            let path = reserved.path();
            let kind = reserved.kind();
            let marked = existing.iter().any(|info| {
                info.agap_mark.is_some()
                    && placement(info).is_some_and(|(at, marked_kind)| at == path && marked_kind == kind)
            });
            if marked {
                continue;
            }
            let adoptable =
                existing.iter().find(|info| info.agap_mark.is_none() && Some(info.kind) == kind.item_kind());
            let result = match (adoptable, kind.item_kind()) {
                (Some(info), _) => {
                    let name = info.display_name.clone().unwrap_or_else(|| reserved.display_name().to_owned());
                    collections.set_mark(&info.id, &mark(kind, &path), &name).await
                }
                (None, Some(items)) => {
                    collections.create_collection(items, &mark(kind, &path), reserved.display_name()).await.map(|_| ())
                }
                (None, None) => Ok(()),
            };
            if let Err(error) = result {
                tracing::warn!(user = %self.user, folder = reserved.agap_name(), %error, "could not set up reserved folder");
            }
        }
        Ok(())
    }

    /// Whether the mail server keeps the gateway's annotations (RFC 5464 METADATA): then folder
    /// types and filter definitions live upstream, are seen by every gateway instance and
    /// survive the loss of the gateway's store; otherwise the store keeps them.
    fn annotations_upstream(&self) -> bool {
        self.mail.capabilities().metadata
    }

    /// A map kept as a server annotation, by upstream key. Server annotations rather than
    /// mailbox ones: imap-proto 0.17 cannot parse a METADATA response naming a mailbox as an
    /// atom, as Dovecot does (RFC 5464 allows it).
    async fn upstream_map(&self, entry: &str) -> AgapResult<HashMap<String, String>> {
        let raw = self.mail.annotation(None, entry).await?;
        Ok(raw.and_then(|json| serde_json::from_str(&json).ok()).unwrap_or_default())
    }

    async fn write_upstream_map(&self, entry: &str, map: &HashMap<String, String>) -> AgapResult<()> {
        let value = if map.is_empty() {
            None
        } else {
            Some(ascii_json(&serde_json::to_value(map).map_err(AgapError::internal)?))
        };
        Ok(self.mail.set_annotation(None, entry, value.as_deref()).await?)
    }

    async fn upstream_types(&self) -> AgapResult<HashMap<String, String>> {
        self.upstream_map(TYPES_ENTRY).await
    }

    async fn write_upstream_types(&self, types: &HashMap<String, String>) -> AgapResult<()> {
        self.write_upstream_map(TYPES_ENTRY, types).await
    }

    /// Types of the mailboxes created as FOLD or FILT folders, by upstream key.
    pub async fn folder_types(&self, gateway: &Gateway) -> AgapResult<HashMap<String, FolderType>> {
        let raw = if self.annotations_upstream() {
            self.upstream_types().await?
        } else {
            gateway.store.folder_kinds(&self.user).await?
        };
        Ok(raw.into_iter().filter_map(|(key, kind)| kind.parse().ok().map(|kind| (key, kind))).collect())
    }

    /// Records the type of a mailbox created as a FOLD or FILT folder.
    pub async fn set_folder_type(&self, gateway: &Gateway, key: &str, kind: FolderType) -> AgapResult<()> {
        if self.annotations_upstream() {
            let mut types = self.upstream_types().await?;
            types.insert(key.to_owned(), kind.as_str().to_owned());
            self.write_upstream_types(&types).await
        } else {
            Ok(gateway.store.remember_kind(&self.user, key, kind.as_str()).await?)
        }
    }

    /// Moves the records of `old_key` and below to `new_key` (after a rename).
    pub async fn rename_folder_records(&self, gateway: &Gateway, old_key: &str, new_key: &str) -> AgapResult<()> {
        if self.annotations_upstream() {
            for entry in [TYPES_ENTRY, FILTERS_ENTRY] {
                let map = self.upstream_map(entry).await?;
                let moved = map
                    .into_iter()
                    .map(|(key, value)| match key.strip_prefix(old_key) {
                        Some(rest) if rest.is_empty() || rest.starts_with('/') => (format!("{new_key}{rest}"), value),
                        _ => (key, value),
                    })
                    .collect();
                self.write_upstream_map(entry, &moved).await?;
            }
        }
        Ok(gateway.store.rename_subtree(&self.user, old_key, new_key).await?)
    }

    /// Forgets the records of `key` and below (after a delete, or a failed create).
    pub async fn forget_folder_records(&self, gateway: &Gateway, key: &str) -> AgapResult<()> {
        if self.annotations_upstream() {
            for entry in [TYPES_ENTRY, FILTERS_ENTRY] {
                let mut map = self.upstream_map(entry).await?;
                let before = map.len();
                map.retain(|existing, _| !(existing == key || existing.starts_with(&format!("{key}/"))));
                if map.len() != before {
                    self.write_upstream_map(entry, &map).await?;
                }
            }
        }
        Ok(gateway.store.forget_subtree(&self.user, key).await?)
    }

    /// The stored definition of a FILT folder.
    pub async fn filter_definition(&self, gateway: &Gateway, folder: &FolderEntry) -> AgapResult<Option<String>> {
        if self.annotations_upstream() {
            Ok(self.upstream_map(FILTERS_ENTRY).await?.remove(&upstream_key(&folder.upstream)))
        } else {
            Ok(gateway.store.filter_definition(&self.user, &upstream_key(&folder.upstream)).await?)
        }
    }

    /// Replaces the definition of a FILT folder.
    pub async fn save_filter_definition(
        &self,
        gateway: &Gateway,
        folder: &FolderEntry,
        definition: &str,
    ) -> AgapResult<()> {
        if self.annotations_upstream() {
            let mut filters = self.upstream_map(FILTERS_ENTRY).await?;
            filters.insert(upstream_key(&folder.upstream), definition.to_owned());
            self.write_upstream_map(FILTERS_ENTRY, &filters).await
        } else {
            Ok(gateway.store.save_filter_definition(&self.user, &upstream_key(&folder.upstream), definition).await?)
        }
    }

    /// Creates the reserved folders the account lacks (draft 2.9.4; AMBIGUITIES B.13) and returns
    /// the tree. A server refusing is logged, not fatal: the account stays usable without them.
    pub async fn ensure_reserved_folders(&self, gateway: &Gateway) -> AgapResult<FolderTree> {
        if let Err(error) = self.ensure_reserved_collections().await {
            tracing::warn!(user = %self.user, %error, "could not set up the reserved calendar and contact folders");
        }
        let names = &gateway.config.folders;
        let mut mailboxes = self.mail.list_mailboxes().await?;
        let missing = FolderTree::missing_reserved(&mailboxes, names);
        for folder in &missing {
            let name = MailboxName::new(vec![names.default_name(*folder).to_owned()]);
            if let Err(error) = self.mail.create_mailbox(&name, folder.special_use()).await {
                tracing::warn!(user = %self.user, folder = folder.agap_name(), %error, "could not create reserved folder");
            }
        }
        if !missing.is_empty() {
            mailboxes = self.mail.list_mailboxes().await?;
        }
        let types = self.folder_types(gateway).await?;
        let mut tree = FolderTree::build(&mailboxes, &types, names);
        tree.add_collections(&self.list_collections().await);
        Ok(tree)
    }

    /// `folder` with the user's rights on it filled in (its tags then include READ-ONLY and the
    /// others that the rights imply).
    pub async fn with_rights(&self, folder: &FolderEntry) -> AgapResult<FolderEntry> {
        let mut folder = folder.clone();
        // Collections: DAV ACLs (RFC 3744) are not read; the server refuses what it forbids.
        if folder.selectable && folder.collection.is_none() {
            folder.rights = self.mail.mailbox_rights(&folder.upstream).await?;
        }
        Ok(folder)
    }

    /// FCID and UCID of `paths` (the root included when asked for), in one pass upstream and one
    /// in the store.
    pub async fn folder_states(
        &self,
        gateway: &Gateway,
        tree: &FolderTree,
        paths: &[FolderPath],
    ) -> AgapResult<Vec<FolderState>> {
        let with_items: Vec<&FolderEntry> =
            paths.iter().filter_map(|path| tree.get(path)).filter(|entry| entry.has_items()).collect();
        let mailboxes: Vec<&FolderEntry> =
            with_items.iter().copied().filter(|entry| entry.collection.is_none()).collect();
        let names: Vec<_> = mailboxes.iter().map(|entry| entry.upstream.clone()).collect();
        let statuses = self.mail.mailbox_statuses(&names).await?;
        let mut items_of: HashMap<&FolderPath, Upstream> =
            mailboxes.iter().map(|entry| &entry.path).zip(statuses.into_iter().map(Upstream::Mailbox)).collect();
        for entry in with_items.iter().filter(|entry| entry.collection.is_some()) {
            let items = crate::items::CollectionItems::of(gateway, self, entry)?;
            let mut map = items.stored_map().await?;
            // The CTag or sync-token stands for the content; without one, or before the first
            // listing (no map, no UCID yet), the listing itself.
            let listed = if map.generation.is_empty() || items.version().is_none() {
                map = items.sync().await?;
                true
            } else {
                false
            };
            items_of.insert(&entry.path, Upstream::Collection { map, version: items.version(), listed });
        }

        let mut observations = Vec::with_capacity(paths.len() * 2);
        for path in paths {
            let entry = tree.get(path);
            let key = entry.map(FolderEntry::store_key).unwrap_or_default();
            let upstream = items_of.get(path);
            observations.push(Observation {
                scope: format!("fcid:{key}"),
                fingerprint: fcid_fingerprint(tree, path, entry, upstream),
            });
            if let Some(upstream) = upstream {
                observations
                    .push(Observation { scope: format!("ucid:{key}"), fingerprint: upstream.ucid_fingerprint() });
            }
        }
        let values = gateway.store.observe(&self.user, &observations, gateway.now_ms()).await?;
        let mut values = values.into_iter();
        let mut states = Vec::with_capacity(paths.len());
        for path in paths {
            let fcid = ids::format(values.next().unwrap_or(0));
            let items = items_of.get(path).map(|upstream| {
                let (total, unseen) = upstream.counts();
                ItemCounts { ucid: ids::format(values.next().unwrap_or(0)), total, unseen }
            });
            states.push(FolderState { fcid, items });
        }
        Ok(states)
    }
}

/// What an item folder holds upstream.
enum Upstream {
    Mailbox(MailboxStatus),
    Collection {
        /// The UID map, as stored or just brought up to date (`listed`).
        map: crate::store::ItemMap,
        version: Option<String>,
        listed: bool,
    },
}

impl Upstream {
    /// What the UCID stands for: IMAP's UID space, or the generation of the UID map.
    fn ucid_fingerprint(&self) -> String {
        match self {
            Upstream::Mailbox(status) => status.uid_validity.to_string(),
            Upstream::Collection { map, .. } => map.generation.clone(),
        }
    }

    /// Total and unseen items. Every AGAP item of a collection counts, alarms included (as last
    /// mapped: STAT brings the map up to date first); none is "unseen" (NEW is reported for
    /// message folders only).
    fn counts(&self) -> (u64, u64) {
        match self {
            Upstream::Mailbox(status) => (u64::from(status.messages), u64::from(status.unseen)),
            Upstream::Collection { map, .. } => {
                let alarms = map.items.iter().filter(|item| item.alarm_uid.is_some()).count();
                (u64::try_from(map.items.len() + alarms).unwrap_or(u64::MAX), 0)
            }
        }
    }
}

/// Annotation (RFC 5464) holding the types of FOLD and FILT folders, by upstream key.
const TYPES_ENTRY: &str = "/private/vendor/agap-gateway/folder-types";
/// Annotation holding the definitions of FILT folders, by upstream key.
const FILTERS_ENTRY: &str = "/private/vendor/agap-gateway/filters";

/// JSON in printable ASCII (annotation values travel as IMAP quoted strings): characters
/// beyond ASCII as `\u` escapes.
fn ascii_json(value: &serde_json::Value) -> String {
    let json = value.to_string();
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

/// What an FCID stands for: the folder's items (added or removed: UIDNEXT and MESSAGES move;
/// a new UID space: UIDVALIDITY; for a collection, its UIDs) and the names and types of its
/// direct children, but not flags, nor anything deeper (draft 2.6).
fn fcid_fingerprint(
    tree: &FolderTree,
    path: &FolderPath,
    entry: Option<&FolderEntry>,
    upstream: Option<&Upstream>,
) -> String {
    let mut hasher = Sha256::new();
    match upstream {
        Some(Upstream::Mailbox(status)) => {
            hasher.update(format!("items {} {} {}\n", status.uid_validity, status.uid_next, status.messages));
        }
        Some(Upstream::Collection { map, version, listed }) => {
            hasher.update(format!("collection {}\n", map.generation));
            match version {
                Some(version) => hasher.update(format!("version {version}\n")),
                None if *listed => {
                    for item in &map.items {
                        hasher.update(format!("{} {:?} {:?}\n", item.uid, item.alarm_uid, item.etag));
                    }
                }
                None => {}
            }
        }
        None => {}
    }
    if let Some(entry) = entry {
        hasher.update(format!("kind {}\n", entry.kind));
    }
    for child in tree.children(path) {
        hasher.update(format!("child {} {}\n", child.kind, child.path.name()));
    }
    hasher.finalize().iter().map(|byte| format!("{byte:02x}")).collect()
}
