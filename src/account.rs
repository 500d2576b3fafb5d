//! An authenticated user's view of the account: the folder tree over the adapters, and the
//! gateway's records of folders (types and filter definitions IMAP cannot tell, collection
//! marks) upstream where the servers allow, in the store otherwise.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use agap_adapter_api::collection::CollectionAccount;
use agap_adapter_api::files::FileAccount;
use agap_adapter_api::mail::{Annotation, MAX_ANNOTATION_VALUE, MailAccount};
use agap_adapter_api::{AdapterError, AdapterErrorKind};

use crate::error::{AgapError, AgapResult};
use crate::folder::{FolderEntry, FolderTree, FolderType, MetadataFolderInfo, is_folder_id, upstream_key};
use crate::gateway::Gateway;

mod collections;
mod configuration;
mod files;
mod reserved;

pub use reserved::ReservedChecks;

/// A logged-in account.
#[derive(Debug, Clone)]
pub struct Account {
    /// The user name given at login.
    pub user: String,
    /// The mail backend's handle.
    pub mail: Arc<dyn MailAccount>,
    /// The calendar and contact backend's handle, when one is configured.
    pub collections: Option<Arc<dyn CollectionAccount>>,
    /// The file backend's handle, when `[files] url` is set.
    pub files: Option<Arc<dyn FileAccount>>,
    /// Whether this session made the reserved folders, where no period is set
    /// (`ReservedChecks`).
    session_check: Arc<tokio::sync::OnceCell<()>>,
}

impl Account {
    /// An account over the backends' handles of `user`.
    pub fn new(
        user: String,
        mail: Arc<dyn MailAccount>,
        collections: Option<Arc<dyn CollectionAccount>>,
        files: Option<Arc<dyn FileAccount>>,
    ) -> Self {
        Self { user, mail, collections, files, session_check: Arc::default() }
    }

    /// The folder tree as the upstream servers show it, the list of collections as listed
    /// within `[dav] listing_cache_secs` (see `fresh_tree`). The reserved folders are made
    /// first where that is due (`ReservedChecks`).
    pub async fn tree(&self, gateway: &Gateway) -> AgapResult<FolderTree> {
        if let Err(error) = self.set_up_reserved_folders_once(gateway).await {
            tracing::warn!(user = %self.user, %error, "could not check the reserved folders");
        }
        let (mailboxes, collections, directories) =
            tokio::join!(self.mail.list_mailboxes(), self.list_collections(gateway), self.list_directories());
        let (types, metadata_folders) = self.folder_records(gateway).await?;
        let mut tree = FolderTree::build(&mailboxes?, &types, &gateway.config.folders);
        tree.add_collections(&collections);
        tree.add_directories(&directories);
        tree.add_metadata_folders(&metadata_folders, self.annotations_upstream());
        Ok(tree)
    }

    /// As `tree`, with the collections listed now: for the commands that report changes (CHNG,
    /// STAT), which must see what other clients did.
    pub async fn fresh_tree(&self, gateway: &Gateway) -> AgapResult<FolderTree> {
        if let Some(collections) = &self.collections {
            collections.forget_listing();
        }
        self.tree(gateway).await
    }

    /// The collection backend, for commands on CALE, TASK, JRNL and ADDR folders.
    pub fn collections(&self) -> AgapResult<&dyn CollectionAccount> {
        self.collections
            .as_deref()
            .ok_or_else(|| AgapError::invalid("this gateway has no calendar and contact server configured"))
    }

    /// Whether the mail server keeps the gateway's annotations (RFC 5464 METADATA): then folder
    /// types and filter definitions live upstream, are seen by every gateway instance and
    /// survive the loss of the gateway's store; otherwise the store keeps them.
    fn annotations_upstream(&self) -> bool {
        self.mail.capabilities().metadata
    }

    /// The records kept upstream at and below `key` (every record without one) under each of
    /// `roots`. Server annotations rather than mailbox ones: imap-proto 0.17 cannot parse a
    /// METADATA response naming a mailbox as an atom, as Dovecot does (RFC 5464 allows it).
    async fn upstream_records(&self, roots: &[&str], key: Option<&str>) -> AgapResult<Vec<Annotation>> {
        let entries: Vec<String> = roots
            .iter()
            .map(|root| match key {
                Some(key) => record_entry(root, key),
                None => (*root).to_owned(),
            })
            .collect();
        let entries: Vec<&str> = entries.iter().map(String::as_str).collect();
        Ok(self.mail.annotations(None, &entries).await?)
    }

    /// Moves the records of the two shared maps that earlier versions kept into per-folder
    /// entries, removing the maps in the same command (all or nothing upstream). A map that does
    /// not parse is never overwritten: this refuses (and so does every write that calls it) until
    /// someone repairs or removes it.
    async fn migrate_legacy_records(&self) -> AgapResult<()> {
        let legacy: Vec<Annotation> = self
            .mail
            .annotations(None, &[LEGACY_TYPES_ENTRY, LEGACY_FILTERS_ENTRY])
            .await?
            .into_iter()
            .filter(|found| {
                [LEGACY_TYPES_ENTRY, LEGACY_FILTERS_ENTRY].iter().any(|e| found.entry.eq_ignore_ascii_case(e))
            })
            .collect();
        if legacy.is_empty() {
            return Ok(());
        }
        let existing: HashSet<String> = self
            .upstream_records(&[TYPE_ROOT, DEFINITION_ROOT], None)
            .await?
            .into_iter()
            .map(|record| record.entry.to_ascii_lowercase())
            .collect();
        let mut changes = Vec::new();
        for map in &legacy {
            let Ok(records) = serde_json::from_str::<HashMap<String, String>>(&map.value) else {
                tracing::error!(user = %self.user, entry = %map.entry, "the folder records kept upstream do not parse; refusing to change any");
                return Err(unreadable_record(&map.entry));
            };
            let types = map.entry.eq_ignore_ascii_case(LEGACY_TYPES_ENTRY);
            for (key, value) in records {
                let (entry, value) = if types {
                    match parse_recorded_type(&value) {
                        Some(kind) => (record_entry(TYPE_ROOT, &key), kind.as_str().to_owned()),
                        None => {
                            tracing::warn!(user = %self.user, %key, %value, "dropped a folder type no folder can have");
                            continue;
                        }
                    }
                } else {
                    (record_entry(DEFINITION_ROOT, &key), encode_definition(&value))
                };
                // A per-folder entry is newer than the map: keep it.
                if !existing.contains(&entry.to_ascii_lowercase()) {
                    changes.push((entry, Some(value)));
                }
            }
            changes.push((map.entry.clone(), None));
        }
        self.mail.set_annotations(None, &changes).await?;
        tracing::info!(user = %self.user, "moved the shared folder records into per-folder annotations");
        Ok(())
    }

    /// Types of the mailboxes created as FOLD, FILT, NOTE or CONF folders, by upstream key, and
    /// the CONF folders kept as annotations (one read of both). A record that cannot be read is
    /// left out (a mailbox then shows as MESG) and logged; writes refuse to touch it.
    pub async fn folder_records(
        &self,
        gateway: &Gateway,
    ) -> AgapResult<(HashMap<String, FolderType>, Vec<MetadataFolderInfo>)> {
        if !self.annotations_upstream() {
            let raw = gateway.store.folder_kinds(&self.user).await?;
            let types =
                raw.into_iter().filter_map(|(key, kind)| parse_recorded_type(&kind).map(|kind| (key, kind))).collect();
            return Ok((types, Vec::new()));
        }
        let mut types = HashMap::new();
        let mut metadata_folders = Vec::new();
        for record in self.upstream_records(&[TYPE_ROOT, CONF_FOLDER_ROOT], None).await? {
            if let Some(key) = record_key(TYPE_ROOT, &record.entry)
                && let Some(kind) = parse_recorded_type(&record.value)
            {
                types.insert(key, kind);
            } else if let Some(key) = record_key(CONF_FOLDER_ROOT, &record.entry)
                && is_folder_id(&record.value)
                && !key.is_empty()
            {
                metadata_folders.push(MetadataFolderInfo { key, id: record.value.to_ascii_lowercase() });
            } else {
                tracing::warn!(user = %self.user, entry = %record.entry, "a folder record kept upstream cannot be read");
            }
        }
        metadata_folders.sort_by(|a, b| a.key.cmp(&b.key));
        Ok((types, metadata_folders))
    }

    /// Before a mailbox named `key` is created: clears whatever records the name still has (of
    /// a folder deleted behind the gateway's back, or by a DELF that failed halfway) and records
    /// the type of a FOLD, FILT, NOTE or CONF folder, in one write. A record that cannot be read is not
    /// overwritten: 401, nothing changed.
    pub async fn record_new_folder(&self, gateway: &Gateway, key: &str, kind: FolderType) -> AgapResult<()> {
        let recorded = is_recorded_type(kind).then(|| kind.as_str());
        if self.annotations_upstream() {
            self.migrate_legacy_records().await?;
            let stale = self.upstream_records(&RECORD_ROOTS, Some(key)).await?;
            refuse_unreadable(&stale)?;
            let entry = record_entry(TYPE_ROOT, key);
            let mut changes: Vec<(String, Option<String>)> = stale
                .into_iter()
                .filter(|record| recorded.is_none() || !record.entry.eq_ignore_ascii_case(&entry))
                .map(|record| (record.entry, None))
                .collect();
            if let Some(kind) = recorded {
                changes.push((entry, Some(kind.to_owned())));
            }
            self.mail.set_annotations(None, &changes).await?;
        }
        gateway.store.forget_subtree(&self.user, key).await?;
        if let Some(kind) = recorded
            && !self.annotations_upstream()
        {
            gateway.store.remember_kind(&self.user, key, kind).await?;
        }
        Ok(())
    }

    /// Refuses before a rename onto `key` when records there cannot be read (the rename would
    /// replace them).
    pub async fn check_records_replaceable(&self, key: &str) -> AgapResult<()> {
        if self.annotations_upstream() {
            self.migrate_legacy_records().await?;
            refuse_unreadable(&self.upstream_records(&RECORD_ROOTS, Some(key)).await?)?;
        }
        Ok(())
    }

    /// Moves the records of `old_key` and below to `new_key` (after a rename), replacing stale
    /// ones there, in one write. Values move as they are, readable or not.
    pub async fn rename_folder_records(&self, gateway: &Gateway, old_key: &str, new_key: &str) -> AgapResult<()> {
        if self.annotations_upstream() {
            self.migrate_legacy_records().await?;
            let roots = RECORD_ROOTS;
            let moving = self.upstream_records(&roots, Some(old_key)).await?;
            let stale = self.upstream_records(&roots, Some(new_key)).await?;
            let mut changes = Vec::new();
            let mut written = HashSet::new();
            for record in moving {
                let Some(moved) = roots.iter().find_map(|root| rebase_entry(&record.entry, root, old_key, new_key))
                else {
                    continue;
                };
                written.insert(moved.to_ascii_lowercase());
                changes.push((moved, Some(record.value)));
                changes.push((record.entry, None));
            }
            for record in stale {
                if !written.contains(&record.entry.to_ascii_lowercase()) {
                    changes.push((record.entry, None));
                }
            }
            self.mail.set_annotations(None, &changes).await?;
        }
        Ok(gateway.store.rename_subtree(&self.user, old_key, new_key).await?)
    }

    /// Forgets the records of each of `keys` and below (after a delete, or a failed create), in
    /// one write. Records that cannot be read go too: their folders are gone.
    pub async fn forget_folder_records(&self, gateway: &Gateway, keys: &[String]) -> AgapResult<()> {
        if self.annotations_upstream() && !keys.is_empty() {
            let entries: Vec<String> =
                keys.iter().flat_map(|key| RECORD_ROOTS.map(|root| record_entry(root, key))).collect();
            let entries: Vec<&str> = entries.iter().map(String::as_str).collect();
            let mut seen = HashSet::new();
            let changes: Vec<(String, Option<String>)> = self
                .mail
                .annotations(None, &entries)
                .await?
                .into_iter()
                .filter(|record| seen.insert(record.entry.to_ascii_lowercase()))
                .map(|record| (record.entry, None))
                .collect();
            self.mail.set_annotations(None, &changes).await?;
        }
        for key in keys {
            gateway.store.forget_subtree(&self.user, key).await?;
        }
        Ok(())
    }

    /// The stored definition of a FILT folder; 401 when the record cannot be read.
    pub async fn filter_definition(&self, gateway: &Gateway, folder: &FolderEntry) -> AgapResult<Option<String>> {
        let key = upstream_key(&folder.upstream);
        if !self.annotations_upstream() {
            return Ok(gateway.store.filter_definition(&self.user, &key).await?);
        }
        let entry = record_entry(DEFINITION_ROOT, &key);
        let records = self.mail.annotations(None, &[&entry]).await?;
        match records.into_iter().find(|record| record.entry.eq_ignore_ascii_case(&entry)) {
            Some(record) => decode_definition(&record.value).map(Some).ok_or_else(|| unreadable_record(&record.entry)),
            None => Ok(None),
        }
    }

    /// Replaces the definition of a FILT folder: 511 past [`MAX_ANNOTATION_VALUE`] bytes as
    /// kept, 401 when the current record cannot be read; nothing changes in either case.
    pub async fn save_filter_definition(
        &self,
        gateway: &Gateway,
        folder: &FolderEntry,
        definition: &str,
    ) -> AgapResult<()> {
        let key = upstream_key(&folder.upstream);
        // The same bound for the store, so that a definition kept there could move upstream.
        let value = encode_definition(definition);
        if value.len() > MAX_ANNOTATION_VALUE {
            return Err(AgapError::too_large(format!(
                "The filter definition takes {} bytes as kept; a FILT folder keeps at most {MAX_ANNOTATION_VALUE}",
                value.len()
            )));
        }
        if !self.annotations_upstream() {
            return Ok(gateway.store.save_filter_definition(&self.user, &key, definition).await?);
        }
        self.migrate_legacy_records().await?;
        let entry = record_entry(DEFINITION_ROOT, &key);
        let current = self.mail.annotations(None, &[&entry]).await?;
        let current: Vec<Annotation> =
            current.into_iter().filter(|record| record.entry.eq_ignore_ascii_case(&entry)).collect();
        refuse_unreadable(&current)?;
        Ok(self.mail.set_annotations(None, &[(entry, Some(value))]).await?)
    }

    /// `folder` with the user's rights on it filled in (its tags then include READ-ONLY and the
    /// others that the rights imply).
    pub async fn with_rights(&self, folder: &FolderEntry) -> AgapResult<FolderEntry> {
        let mut folder = folder.clone();
        // Collections: DAV ACLs (RFC 3744) are not read; the server refuses what it forbids.
        if folder.selectable && folder.is_mailbox() {
            folder.rights = self.mail.mailbox_rights(&folder.upstream).await?;
        }
        Ok(folder)
    }
}

/// Root of the per-folder type records (RFC 5464 server annotations): the record of the
/// mailbox `a/b` is `<root>/<hex a>/<hex b>`, so that a folder's records and those below it are
/// one DEPTH infinity read, and writers of different folders never touch the same entry.
const TYPE_ROOT: &str = "/private/vendor/agap-gateway/folder";
/// Root of the per-folder filter definitions, laid out like [`TYPE_ROOT`].
const DEFINITION_ROOT: &str = "/private/vendor/agap-gateway/filter";
/// Root of the records of CONF folders kept as annotations (no mailbox), laid out like
/// [`TYPE_ROOT`]; the value is the folder's id (src/folder/metadata.rs).
const CONF_FOLDER_ROOT: &str = "/private/vendor/agap-gateway/conf-folder";
/// Every root of per-folder records: what a new folder clears, a rename moves and a delete
/// removes.
const RECORD_ROOTS: [&str; 3] = [TYPE_ROOT, DEFINITION_ROOT, CONF_FOLDER_ROOT];
/// The map of every folder type that earlier versions kept in one annotation.
const LEGACY_TYPES_ENTRY: &str = "/private/vendor/agap-gateway/folder-types";
/// The map of every filter definition that earlier versions kept in one annotation.
const LEGACY_FILTERS_ENTRY: &str = "/private/vendor/agap-gateway/filters";

/// The entry of the record of `key` under `root`: one component per level, in hex (levels may
/// hold any character, entry names only a few), `-` for an empty level.
fn record_entry(root: &str, key: &str) -> String {
    let mut entry = root.to_owned();
    for level in key.split('/') {
        entry.push('/');
        if level.is_empty() {
            entry.push('-');
        }
        for byte in level.bytes() {
            entry.push_str(&format!("{byte:02x}"));
        }
    }
    entry
}

/// The key a record entry under `root` stands for; `None` when the entry is not one.
fn record_key(root: &str, entry: &str) -> Option<String> {
    let rest = entry.get(..root.len()).filter(|head| head.eq_ignore_ascii_case(root)).map(|_| &entry[root.len()..])?;
    let rest = rest.strip_prefix('/')?;
    let mut levels = Vec::new();
    for component in rest.split('/') {
        if component == "-" {
            levels.push(String::new());
            continue;
        }
        if component.is_empty() || component.len() % 2 != 0 {
            return None;
        }
        let bytes: Option<Vec<u8>> = (0..component.len())
            .step_by(2)
            .map(|at| component.get(at..at + 2).and_then(|pair| u8::from_str_radix(pair, 16).ok()))
            .collect();
        levels.push(String::from_utf8(bytes?).ok()?);
    }
    Some(levels.join("/"))
}

/// The entry `entry` (a record of `old_key` or below, under `root`) moves to under `new_key`.
fn rebase_entry(entry: &str, root: &str, old_key: &str, new_key: &str) -> Option<String> {
    let old = record_entry(root, old_key);
    let head = entry.get(..old.len()).filter(|head| head.eq_ignore_ascii_case(&old))?;
    let rest = &entry[head.len()..];
    (rest.is_empty() || rest.starts_with('/')).then(|| format!("{}{rest}", record_entry(root, new_key)))
}

/// Whether folders of `kind` need a record: the types of mailboxes that cannot be told from IMAP
/// alone (a mailbox is a MESG folder unless recorded otherwise).
fn is_recorded_type(kind: FolderType) -> bool {
    matches!(kind, FolderType::Fold | FolderType::Filt | FolderType::Note | FolderType::Conf)
}

/// The types a record may hold.
fn parse_recorded_type(value: &str) -> Option<FolderType> {
    value.parse().ok().filter(|kind| is_recorded_type(*kind))
}

/// A definition as kept: a JSON string in printable ASCII (annotation values travel as IMAP
/// quoted strings), characters beyond ASCII as `\u` escapes.
fn encode_definition(definition: &str) -> String {
    let json = serde_json::Value::String(definition.to_owned()).to_string();
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

fn decode_definition(value: &str) -> Option<String> {
    serde_json::from_str(value).ok()
}

/// Whether a record found upstream holds what the gateway writes there.
fn is_readable(record: &Annotation) -> bool {
    if let Some(key) = record_key(TYPE_ROOT, &record.entry) {
        return !key.is_empty() && parse_recorded_type(&record.value).is_some();
    }
    if let Some(key) = record_key(CONF_FOLDER_ROOT, &record.entry) {
        return !key.is_empty() && is_folder_id(&record.value);
    }
    record_key(DEFINITION_ROOT, &record.entry).is_some() && decode_definition(&record.value).is_some()
}

/// 401 for a record the gateway cannot read and so will not overwrite.
fn unreadable_record(entry: &str) -> AgapError {
    AdapterError::new(
        AdapterErrorKind::Protocol,
        format!(
            "the folder record {entry} kept on the mail server cannot be read; nothing was changed \
             (it must be repaired or removed there)"
        ),
    )
    .into()
}

fn refuse_unreadable(records: &[Annotation]) -> AgapResult<()> {
    match records.iter().find(|record| !is_readable(record)) {
        Some(record) => Err(unreadable_record(&record.entry)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_entries_round_trip_any_key_and_nest_like_the_folders() {
        for key in ["INBOX", "a/b", "Caf\u{e9}/\"x*%\r\n\"", "a//b", "/", "\u{1f600}"] {
            let entry = record_entry(TYPE_ROOT, key);
            assert!(
                entry[TYPE_ROOT.len()..].bytes().all(|b| b.is_ascii_hexdigit() || b == b'/' || b == b'-'),
                "{entry}"
            );
            assert_eq!(record_key(TYPE_ROOT, &entry).as_deref(), Some(key));
            assert_eq!(record_key(TYPE_ROOT, &entry.to_ascii_uppercase()).as_deref(), Some(key));
        }
        assert_eq!(record_entry(TYPE_ROOT, "a/b"), format!("{TYPE_ROOT}/61/62"));
        assert!(record_entry(TYPE_ROOT, "a/b").starts_with(&format!("{}/", record_entry(TYPE_ROOT, "a"))));
        for bad in ["", "/private/vendor/agap-gateway/folderx/61", "/private/vendor/agap-gateway/folder/6", "/x"] {
            assert_eq!(record_key(TYPE_ROOT, bad), None, "{bad}");
        }
        assert_eq!(record_key(TYPE_ROOT, &format!("{TYPE_ROOT}/zz")), None);
        assert_eq!(record_key(TYPE_ROOT, &format!("{TYPE_ROOT}/ff")), None, "not UTF-8");
    }

    #[test]
    fn renamed_records_move_with_their_subtree_only() {
        let within = record_entry(DEFINITION_ROOT, "a/b/c");
        assert_eq!(rebase_entry(&within, DEFINITION_ROOT, "a/b", "a/z"), Some(record_entry(DEFINITION_ROOT, "a/z/c")));
        let sibling = record_entry(DEFINITION_ROOT, "a/bc");
        assert_eq!(rebase_entry(&sibling, DEFINITION_ROOT, "a/b", "a/z"), None);
    }

    #[test]
    fn definitions_are_kept_as_printable_ascii_and_read_back() {
        let definition = "<FILTER>\n<RULES>\"\u{e4}\u{1f600}\\</RULES>\n</FILTER>";
        let kept = encode_definition(definition);
        assert!(kept.bytes().all(|b| (0x20..0x7f).contains(&b)), "{kept}");
        assert_eq!(decode_definition(&kept).as_deref(), Some(definition));
        assert_eq!(decode_definition("{\"not\": \"a string\"}"), None);
        assert_eq!(decode_definition("garbage"), None);
    }

    #[test]
    fn only_what_the_gateway_writes_is_readable() {
        let record = |entry: String, value: &str| Annotation { entry, value: value.to_owned() };
        assert!(is_readable(&record(record_entry(TYPE_ROOT, "a"), "FILT")));
        assert!(!is_readable(&record(record_entry(TYPE_ROOT, "a"), "MESG")));
        assert!(!is_readable(&record(record_entry(TYPE_ROOT, "a"), "{garbage")));
        assert!(!is_readable(&record(format!("{TYPE_ROOT}/xyz"), "FOLD")));
        assert!(is_readable(&record(record_entry(DEFINITION_ROOT, "a"), &encode_definition("<FILTER/>"))));
        assert!(!is_readable(&record(record_entry(DEFINITION_ROOT, "a"), "<FILTER/>")));
    }
}
