//! The change ids (FCID, UCID; draft 2.6, 2.7) and counts of item folders, for STAT, CHNG and
//! LIST: computed for many folders in one pass upstream and one in the store.

use std::collections::HashMap;

use agap_adapter_api::mail::MailboxStatus;
use sha2::{Digest, Sha256};

use super::{CollectionItems, ConfigurationEntries, FileItems};
use crate::account::Account;
use crate::error::AgapResult;
use crate::folder::{FolderEntry, FolderPath, FolderTree};
use crate::gateway::Gateway;
use crate::ids;
use crate::store::{Observation, mailbox_ucid_fingerprint, ucid_scope};

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

/// FCID and UCID of `paths` (the root included when asked for), in one pass upstream and one
/// in the store.
pub async fn folder_states(
    gateway: &Gateway,
    account: &Account,
    tree: &FolderTree,
    paths: &[FolderPath],
) -> AgapResult<Vec<FolderState>> {
    let with_items: Vec<&FolderEntry> =
        paths.iter().filter_map(|path| tree.get(path)).filter(|entry| entry.has_items()).collect();
    let mailboxes: Vec<&FolderEntry> = with_items.iter().copied().filter(|entry| entry.is_mailbox()).collect();
    let names: Vec<_> = mailboxes.iter().map(|entry| entry.upstream.clone()).collect();
    let statuses = account.mail.mailbox_statuses(&names).await?;
    let generations = if mailboxes.is_empty() {
        HashMap::new()
    } else {
        gateway.store.message_alias_generations(&account.user).await?
    };
    let mut items_of: HashMap<&FolderPath, Upstream> = mailboxes
        .iter()
        .zip(statuses)
        .map(|(entry, status)| {
            // The generation of message aliases in this UID space (docs/interpretations.md,
            // DATT-KEEPS-UID).
            let alias_generation = generations
                .get(&entry.store_key())
                .filter(|(uid_validity, _)| *uid_validity == status.uid_validity)
                .map(|(_, generation)| generation.clone());
            (&entry.path, Upstream::Mailbox { status, alias_generation })
        })
        .collect();
    for entry in with_items.iter().filter(|entry| entry.collection.is_some()) {
        let items = CollectionItems::of(gateway, account, entry)?;
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
    // Annotations have no version either: the listing (the item ids) stands for the content.
    for entry in with_items.iter().filter(|entry| entry.metadata.is_some()) {
        let (map, _) = ConfigurationEntries::of(gateway, account, entry)?.sync().await?;
        items_of.insert(&entry.path, Upstream::Collection { map, version: None, listed: true });
    }
    // A directory has no CTag: its listing (the ETags of its files) stands for its content.
    for entry in with_items.iter().filter(|entry| entry.directory.is_some()) {
        let (map, _) = FileItems::of(gateway, account, entry)?.sync().await?;
        items_of.insert(&entry.path, Upstream::Collection { map, version: None, listed: true });
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
            observations.push(Observation { scope: ucid_scope(&key), fingerprint: upstream.ucid_fingerprint() });
        }
    }
    let values = gateway.store.observe(&account.user, &observations, gateway.now_ms()).await?;
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

/// What an item folder holds upstream.
enum Upstream {
    Mailbox {
        status: MailboxStatus,
        /// The generation of the mailbox's message aliases, once it has had some.
        alias_generation: Option<String>,
    },
    Collection {
        /// The UID map, as stored or just brought up to date (`listed`).
        map: crate::store::ItemMap,
        version: Option<String>,
        listed: bool,
    },
}

impl Upstream {
    /// What the UCID stands for: IMAP's UID space (and the message aliases kept for it), or the
    /// generation of the UID map.
    fn ucid_fingerprint(&self) -> String {
        match self {
            Upstream::Mailbox { status, alias_generation } => {
                mailbox_ucid_fingerprint(status.uid_validity, alias_generation.as_deref())
            }
            Upstream::Collection { map, .. } => map.generation.clone(),
        }
    }

    /// Total and unseen items. Every AGAP item of a collection counts, alarms included (as last
    /// mapped: STAT brings the map up to date first); none is "unseen" (NEW is reported for
    /// message folders only).
    fn counts(&self) -> (u64, u64) {
        match self {
            Upstream::Mailbox { status, .. } => (u64::from(status.messages), u64::from(status.unseen)),
            Upstream::Collection { map, .. } => {
                let alarms = map.items.iter().filter(|item| item.alarm_uid.is_some()).count();
                (u64::try_from(map.items.len() + alarms).unwrap_or(u64::MAX), 0)
            }
        }
    }
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
        Some(Upstream::Mailbox { status, .. }) => {
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
