//! An authenticated user's view of the account: the folder tree over the adapters and the
//! change ids (FCID, UCID; draft 2.6, 2.7) kept in the store.

use std::collections::HashMap;
use std::sync::Arc;

use agap_adapter_api::mail::{MailAccount, MailboxName, MailboxStatus};
use sha2::{Digest, Sha256};

use crate::error::AgapResult;
use crate::folder::{FolderEntry, FolderPath, FolderTree, ReservedNames, upstream_key};
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
        let folds = gateway.store.fold_keys(&self.user).await?;
        Ok(FolderTree::build(&mailboxes, &folds, &gateway.config.folders))
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
        let folds = gateway.store.fold_keys(&self.user).await?;
        Ok(FolderTree::build(&mailboxes, &folds, names))
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
