//! CONF folders kept as annotations (docs/configuration.md; docs/interpretations.md,
//! CONF-UPSTREAM): making one is writing its record, deleting one removes its items' entries.

use super::{Account, CONF_FOLDER_ROOT, RECORD_ROOTS, record_entry, refuse_unreadable};
use crate::error::AgapResult;
use crate::folder::{FolderEntry, new_folder_id};
use crate::gateway::Gateway;
use crate::items::ConfigurationEntries;

impl Account {
    /// Makes a CONF folder kept as annotations under upstream key `key` (the name its mailbox
    /// would have had): stale records of the name go and the folder's record, with a new id, is
    /// written, in one write. A record that cannot be read is not overwritten: 401, nothing
    /// changed.
    pub async fn make_metadata_folder(&self, gateway: &Gateway, key: &str) -> AgapResult<()> {
        self.migrate_legacy_records().await?;
        let stale = self.upstream_records(&RECORD_ROOTS, Some(key)).await?;
        refuse_unreadable(&stale)?;
        let entry = record_entry(CONF_FOLDER_ROOT, key);
        let mut changes: Vec<(String, Option<String>)> = stale
            .into_iter()
            .filter(|record| !record.entry.eq_ignore_ascii_case(&entry))
            .map(|record| (record.entry, None))
            .collect();
        changes.push((entry, Some(new_folder_id())));
        self.mail.set_annotations(None, &changes).await?;
        Ok(gateway.store.forget_subtree(&self.user, key).await?)
    }

    /// Removes the items of a CONF folder kept as annotations (before its record goes).
    pub async fn remove_metadata_items(&self, gateway: &Gateway, folder: &FolderEntry) -> AgapResult<()> {
        ConfigurationEntries::of(gateway, self, folder)?.remove_all().await
    }
}
