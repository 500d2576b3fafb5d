//! An authenticated user's view of the account: the folder tree over the adapters and the
//! change ids (FCID, UCID; draft 2.6, 2.7) kept in the store.

use std::collections::HashMap;
use std::sync::Arc;

use agap_adapter_api::mail::{MailAccount, MailboxName, MailboxStatus};
use sha2::{Digest, Sha256};

use crate::error::{AgapError, AgapResult};
use crate::folder::{FolderEntry, FolderPath, FolderTree, FolderType, ReservedNames, upstream_key};
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
}

/// The change ids and counters of one folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderState {
    /// FCID.
    pub fcid: String,
    /// UCID and the upstream counters, for folders that hold items.
    pub items: Option<(String, MailboxStatus)>,
}

impl Account {
    /// The folder tree as the upstream servers show it now.
    pub async fn tree(&self, gateway: &Gateway) -> AgapResult<FolderTree> {
        let mailboxes = self.mail.list_mailboxes().await?;
        let types = self.folder_types(gateway).await?;
        Ok(FolderTree::build(&mailboxes, &types, &gateway.config.folders))
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
        Ok(FolderTree::build(&mailboxes, &types, names))
    }

    /// `folder` with the user's rights on it filled in (its tags then include READ-ONLY and the
    /// others that the rights imply).
    pub async fn with_rights(&self, folder: &FolderEntry) -> AgapResult<FolderEntry> {
        let mut folder = folder.clone();
        if folder.selectable {
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
        let names: Vec<_> = with_items.iter().map(|entry| entry.upstream.clone()).collect();
        let statuses = self.mail.mailbox_statuses(&names).await?;
        let status_of: HashMap<&FolderPath, MailboxStatus> =
            with_items.iter().map(|entry| &entry.path).zip(statuses).collect();

        let mut observations = Vec::with_capacity(paths.len() * 2);
        for path in paths {
            let key = tree.get(path).map(|entry| upstream_key(&entry.upstream)).unwrap_or_default();
            let status = status_of.get(path);
            observations
                .push(Observation { scope: format!("fcid:{key}"), fingerprint: fcid_fingerprint(tree, path, status) });
            if let Some(status) = status {
                observations
                    .push(Observation { scope: format!("ucid:{key}"), fingerprint: status.uid_validity.to_string() });
            }
        }
        let values = gateway.store.observe(&self.user, &observations, gateway.now_ms()).await?;
        let mut values = values.into_iter();
        let mut states = Vec::with_capacity(paths.len());
        for path in paths {
            let fcid = ids::format(values.next().unwrap_or(0));
            let items = status_of.get(path).map(|status| (ids::format(values.next().unwrap_or(0)), *status));
            states.push(FolderState { fcid, items });
        }
        Ok(states)
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
/// a new UID space: UIDVALIDITY) and the names and types of its direct children, but not
/// flags, nor anything deeper (draft 2.6).
fn fcid_fingerprint(tree: &FolderTree, path: &FolderPath, status: Option<&MailboxStatus>) -> String {
    let mut hasher = Sha256::new();
    if let Some(status) = status {
        hasher.update(format!("items {} {} {}\n", status.uid_validity, status.uid_next, status.messages));
    }
    for child in tree.children(path) {
        hasher.update(format!("child {} {}\n", child.kind, child.path.name()));
    }
    hasher.finalize().iter().map(|byte| format!("{byte:02x}")).collect()
}
