//! The account's folder tree, built fresh from the upstream mailbox list for each command that
//! needs it, so that changes made by other clients are always seen.
//!
//! Mapping rules (documented for users in docs/folders.md):
//! - the reserved folders are found by role (INBOX; RFC 6154 special use; else a root mailbox
//!   with the configured default name) and shown in the root under their AGAP names, their
//!   upstream children below them;
//! - every other mailbox keeps its own path; unselectable upstream placeholders are FOLD
//!   folders, as are mailboxes the gateway created with MAKE FOLD (recorded in its store);
//! - a mailbox whose path cannot be an AGAP path (a name with `/ \ * ?` or control characters,
//!   or a root name that is reserved in AGAP but not mapped) is not shown, with a log warning.

use std::collections::{BTreeMap, HashMap, HashSet};

use agap_adapter_api::collection::CollectionInfo;
use agap_adapter_api::mail::{MailboxInfo, MailboxName};

use super::{
    CollectionRef, DirectoryInfo, DirectoryRef, FolderPath, FolderType, MetadataFolder, MetadataFolderInfo,
    RESERVED_FOLDER_ID, ReservedCollection, ReservedFolder, configuration_path, placement, validate_name,
};

/// Names given to reserved mailboxes the gateway has to create upstream.
pub trait ReservedNames {
    /// The upstream name of `folder` when no mailbox has its role.
    fn default_name(&self, folder: ReservedFolder) -> &str;
}

/// One folder of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderEntry {
    /// Its AGAP path.
    pub path: FolderPath,
    /// Its type.
    pub kind: FolderType,
    /// The upstream mailbox behind it; for a collection folder, its path levels (no mailbox).
    pub upstream: MailboxName,
    /// The calendar or address book behind it, for CALE, TASK, JRNL and ADDR folders.
    pub collection: Option<CollectionRef>,
    /// The directory behind it, for FILE folders.
    /// (Boxed: most folders have none, and every session holds its selected folder.)
    pub directory: Option<Box<DirectoryRef>>,
    /// The annotations behind it, for CONF folders kept as METADATA entries (no mailbox; boxed
    /// as the directory is).
    pub metadata: Option<Box<MetadataFolder>>,
    /// Which reserved folder it is, if any.
    pub reserved: Option<ReservedFolder>,
    /// False for upstream placeholders that cannot hold messages.
    pub selectable: bool,
    /// The user's rights on it (RFC 4314 letters), once asked for; `None`: not asked, or the
    /// server has no access control (everything allowed).
    pub rights: Option<String>,
}

impl FolderEntry {
    /// Tags the server sets on the folder (draft 2.10.2).
    pub fn tags(&self) -> Vec<&'static str> {
        let mut tags = if self.is_reserved() { vec!["RESERVED"] } else { Vec::new() };
        // Draft 2.9.4 names the main calendar, contact list, journal and task list PUBLIC, and
        // FILESHARE.
        if self.collection.as_ref().is_some_and(|collection| collection.reserved.is_some()) || self.is_fileshare() {
            tags.push("PUBLIC");
        }
        if let Some(rights) = &self.rights {
            tags.extend(super::tags_from_rights(rights));
        }
        tags
    }

    /// Whether MAKE may create folders inside it.
    pub fn accepts_subfolders(&self) -> bool {
        if self.tags().iter().any(|tag| matches!(*tag, "NO-FOLDERS" | "READ-ONLY")) {
            return false;
        }
        match self.reserved {
            Some(reserved) => reserved.accepts_subfolders(),
            // Draft 2.9.2: FILESHARE "holds ordinary files" and may have subfolders.
            None if self.is_fileshare() => true,
            // A folder of annotations has no mailbox a child mailbox could sit below.
            None if self.metadata.is_some() => false,
            None => self.kind != FolderType::Filt && !self.is_reserved(),
        }
    }

    /// Whether it is one of the reserved folders of draft 2.9.4.
    pub fn is_reserved(&self) -> bool {
        self.reserved.is_some()
            || self.collection.as_ref().is_some_and(|collection| collection.reserved.is_some())
            || self.is_fileshare()
    }

    /// Whether it is /FILESHARE, the home on the file server.
    pub fn is_fileshare(&self) -> bool {
        self.directory.as_ref().is_some_and(|directory| directory.share)
    }

    /// The key under which the store keeps facts about it (change counters, records).
    pub fn store_key(&self) -> String {
        match (&self.collection, &self.directory, &self.metadata) {
            (Some(collection), _, _) => format!("dav:{}", collection.id),
            (None, Some(directory), _) => directory.store_key(),
            (None, None, Some(metadata)) => metadata.store_key(),
            (None, None, None) => upstream_key(&self.upstream),
        }
    }

    /// Whether a mailbox is behind it (not a collection, a directory or annotations).
    pub fn is_mailbox(&self) -> bool {
        self.collection.is_none() && self.directory.is_none() && self.metadata.is_none()
    }

    /// Whether STAT reports item counters: an item folder backed by a real mailbox.
    pub fn has_items(&self) -> bool {
        self.kind.holds_items() && self.selectable
    }
}

/// The key under which the gateway store remembers facts about an upstream mailbox.
pub fn upstream_key(name: &MailboxName) -> String {
    name.levels().join("/")
}

/// All folders of an account.
#[derive(Debug, Clone, Default)]
pub struct FolderTree {
    entries: BTreeMap<FolderPath, FolderEntry>,
    upstream_names: HashSet<MailboxName>,
}

impl FolderTree {
    /// The reserved folders that have no upstream mailbox yet.
    pub fn missing_reserved(mailboxes: &[MailboxInfo], names: &dyn ReservedNames) -> Vec<ReservedFolder> {
        let roles = Self::reserved_mailboxes(mailboxes, names);
        ReservedFolder::ALL.into_iter().filter(|folder| !roles.contains_key(folder)).collect()
    }

    fn reserved_mailboxes(
        mailboxes: &[MailboxInfo],
        names: &dyn ReservedNames,
    ) -> HashMap<ReservedFolder, MailboxName> {
        let mut by_depth: Vec<&MailboxInfo> = mailboxes.iter().filter(|m| m.selectable).collect();
        by_depth.sort_by(|a, b| a.name.levels().len().cmp(&b.name.levels().len()).then_with(|| a.name.cmp(&b.name)));
        let mut roles = HashMap::new();
        for folder in ReservedFolder::ALL {
            let found = if folder == ReservedFolder::Inbox {
                by_depth.iter().find(|m| m.name.is_inbox())
            } else {
                let by_role =
                    folder.special_use().and_then(|role| by_depth.iter().find(|m| m.special_use == Some(role)));
                by_role.or_else(|| {
                    let default = names.default_name(folder);
                    by_depth.iter().find(|m| m.name.levels() == [default])
                })
            };
            if let Some(mailbox) = found {
                roles.insert(folder, mailbox.name.clone());
            }
        }
        roles
    }

    /// Builds the tree from the upstream list; `types` are the types of the mailboxes the
    /// gateway created as FOLD, FILT or NOTE folders, by upstream key.
    pub fn build(mailboxes: &[MailboxInfo], types: &HashMap<String, FolderType>, names: &dyn ReservedNames) -> Self {
        let roles = Self::reserved_mailboxes(mailboxes, names);
        let mut entries = BTreeMap::new();
        for mailbox in mailboxes {
            let owner = roles
                .iter()
                .filter(|(_, base)| mailbox.name == **base || mailbox.name.is_below(base))
                .max_by_key(|(_, base)| base.levels().len());
            let (reserved, levels) = match owner {
                Some((folder, base)) => {
                    let mut levels = vec![folder.agap_name().to_owned()];
                    levels.extend_from_slice(&mailbox.name.levels()[base.levels().len()..]);
                    let is_itself = mailbox.name == *base;
                    (is_itself.then_some(*folder), levels)
                }
                None => {
                    let levels = mailbox.name.levels().to_vec();
                    if levels.first().is_some_and(|root| ReservedFolder::is_reserved_root_name(root)) {
                        tracing::warn!(mailbox = ?mailbox.name, "mailbox name collides with a reserved AGAP folder; not shown");
                        continue;
                    }
                    (None, levels)
                }
            };
            if levels.is_empty() || levels.iter().any(|level| validate_name(level).is_err()) {
                tracing::warn!(mailbox = ?mailbox.name, "mailbox name is not a valid AGAP path; not shown");
                continue;
            }
            let kind = match (reserved, types.get(&upstream_key(&mailbox.name))) {
                (Some(folder), _) => folder.kind(),
                (None, Some(recorded)) => *recorded,
                (None, None) if mailbox.selectable => FolderType::Mesg,
                (None, None) => FolderType::Fold,
            };
            let path = FolderPath::from_levels(levels);
            if entries.contains_key(&path) {
                tracing::warn!(mailbox = ?mailbox.name, %path, "two mailboxes map to one AGAP path; showing the first");
                continue;
            }
            entries.insert(
                path.clone(),
                FolderEntry {
                    path,
                    kind,
                    upstream: mailbox.name.clone(),
                    reserved,
                    selectable: mailbox.selectable,
                    rights: None,
                    collection: None,
                    directory: None,
                    metadata: None,
                },
            );
        }
        Self::add_missing_parents(&mut entries);
        Self { entries, upstream_names: mailboxes.iter().map(|m| m.name.clone()).collect() }
    }

    /// The entry of INBOX, as `build` makes it from the mailbox INBOX, which every IMAP server
    /// has (RFC 9051 5.1): what a login selects without listing anything.
    pub fn inbox() -> FolderEntry {
        let inbox = ReservedFolder::Inbox;
        FolderEntry {
            path: FolderPath::root().child(inbox.agap_name()),
            kind: inbox.kind(),
            upstream: MailboxName::new(vec![inbox.agap_name().to_owned()]),
            collection: None,
            directory: None,
            metadata: None,
            reserved: Some(inbox),
            selectable: true,
            rights: None,
        }
    }

    /// Adds the calendar and contact collections where their marks (or names) place them
    /// (docs/interpretations.md, NESTED-COLLECTIONS). A collection whose place is taken, or that
    /// claims a reserved name without being that reserved folder, is not shown, with a log warning.
    pub fn add_collections(&mut self, collections: &[CollectionInfo]) {
        let mut sorted: Vec<&CollectionInfo> = collections.iter().collect();
        // Marked collections first, so that a foreign one never takes a marked one's place.
        sorted.sort_by_key(|info| (info.agap_mark.is_none(), info.id.clone()));
        for info in sorted {
            let Some((path, kind)) = placement(info) else {
                tracing::warn!(collection = %info.id, "collection has no valid AGAP name; not shown");
                continue;
            };
            let Some(items) = kind.item_kind() else { continue };
            let reserved = ReservedCollection::at(&path).filter(|reserved| reserved.kind() == kind);
            let root_name_reserved = path.parent().is_some_and(|parent| parent.is_root())
                && ReservedFolder::is_reserved_root_name(path.name());
            if (root_name_reserved && reserved.is_none()) || (reserved.is_some() && info.agap_mark.is_none()) {
                tracing::warn!(collection = %info.id, %path, "collection name collides with a reserved AGAP folder; not shown");
                continue;
            }
            if self.entries.contains_key(&path) {
                tracing::warn!(collection = %info.id, %path, "two upstream objects map to one AGAP path; showing the first");
                continue;
            }
            let entry = FolderEntry {
                path: path.clone(),
                kind,
                upstream: MailboxName::new(path.levels().to_vec()),
                collection: Some(CollectionRef {
                    id: info.id.clone(),
                    items,
                    version: info.version.clone(),
                    reserved,
                    holds_only_its_items: items == agap_adapter_api::collection::ItemKind::Contacts
                        && info.accepts == [items],
                }),
                directory: None,
                metadata: None,
                reserved: None,
                selectable: true,
                rights: None,
            };
            self.entries.insert(path, entry);
        }
        Self::add_missing_parents(&mut self.entries);
    }

    /// Adds the FILE folders (parents before children, as the file server's walk finds them). A
    /// directory whose place a mailbox or collection takes, or whose parent is not shown, is not
    /// shown, with a log warning.
    pub fn add_directories(&mut self, directories: &[DirectoryInfo]) {
        for info in directories {
            let path = &info.path;
            if self.entries.contains_key(path) {
                tracing::warn!(directory = %info.directory.href, %path, "two upstream objects map to one AGAP path; showing the first");
                continue;
            }
            let parent_shown = path.parent().is_some_and(|parent| {
                parent.is_root() || self.entries.get(&parent).is_some_and(|entry| entry.directory.is_some())
            });
            if !parent_shown {
                tracing::warn!(directory = %info.directory.href, %path, "the parent of a directory is not shown; not shown");
                continue;
            }
            let entry = FolderEntry {
                path: path.clone(),
                kind: FolderType::File,
                upstream: MailboxName::new(path.levels().to_vec()),
                collection: None,
                directory: Some(Box::new(info.directory.clone())),
                metadata: None,
                reserved: None,
                selectable: true,
                rights: None,
            };
            self.entries.insert(path.clone(), entry);
        }
    }

    /// Adds the CONF folders kept as annotations (docs/configuration.md): the reserved
    /// /CONFIGURATION when `reserved_home` and no mailbox has its role, and each recorded one
    /// inside the folder whose upstream name its key lies in, as MAKE names it (in the root for
    /// a one-level key). Added last: a record whose place anything else takes, or whose parent
    /// is not shown, is not shown, with a log warning.
    pub fn add_metadata_folders(&mut self, records: &[MetadataFolderInfo], reserved_home: bool) {
        let home = configuration_path();
        if reserved_home && !self.entries.contains_key(&home) {
            self.entries.insert(
                home.clone(),
                FolderEntry {
                    upstream: MailboxName::new(home.levels().to_vec()),
                    path: home,
                    kind: FolderType::Conf,
                    collection: None,
                    directory: None,
                    metadata: Some(Box::new(MetadataFolder { id: RESERVED_FOLDER_ID.to_owned() })),
                    reserved: Some(ReservedFolder::Configuration),
                    selectable: true,
                    rights: None,
                },
            );
        }
        for record in records {
            let levels: Vec<String> = record.key.split('/').map(str::to_owned).collect();
            let Some((leaf, parent_levels)) = levels.split_last() else { continue };
            let parent = if parent_levels.is_empty() {
                Some(FolderPath::root())
            } else {
                self.entries
                    .values()
                    .find(|entry| entry.metadata.is_none() && entry.upstream.levels() == parent_levels)
                    .map(|entry| entry.path.clone())
            };
            let reserved_name = parent_levels.is_empty() && ReservedFolder::is_reserved_root_name(leaf);
            let Some(parent) = parent.filter(|_| validate_name(leaf).is_ok() && !reserved_name) else {
                tracing::warn!(key = %record.key, "a CONF folder record has no place in the tree; not shown");
                continue;
            };
            let path = parent.child(leaf);
            if self.entries.contains_key(&path) {
                tracing::warn!(key = %record.key, %path, "two upstream objects map to one AGAP path; showing the first");
                continue;
            }
            let entry = FolderEntry {
                path: path.clone(),
                kind: FolderType::Conf,
                upstream: MailboxName::new(levels),
                collection: None,
                directory: None,
                metadata: Some(Box::new(MetadataFolder { id: record.id.clone() })),
                reserved: None,
                selectable: true,
                rights: None,
            };
            self.entries.insert(path, entry);
        }
    }

    /// Whether the account keeps its configuration as annotations: /CONFIGURATION is (else
    /// it is a mailbox, and MAKE CONF makes mailboxes too).
    pub fn configuration_in_metadata(&self) -> bool {
        self.get(&configuration_path()).is_some_and(|entry| entry.metadata.is_some())
    }

    /// Servers need not list the parents of a nested mailbox; AGAP paths need them.
    fn add_missing_parents(entries: &mut BTreeMap<FolderPath, FolderEntry>) {
        let mut missing = Vec::new();
        for entry in entries.values() {
            let mut upstream = entry.upstream.clone();
            let mut path = entry.path.clone();
            while let Some(parent) = path.parent() {
                if parent.is_root() || entries.contains_key(&parent) {
                    break;
                }
                upstream = MailboxName::new(upstream.levels()[..upstream.levels().len() - 1].to_vec());
                missing.push(FolderEntry {
                    path: parent.clone(),
                    kind: FolderType::Fold,
                    upstream: upstream.clone(),
                    reserved: None,
                    selectable: false,
                    rights: None,
                    collection: None,
                    directory: None,
                    metadata: None,
                });
                path = parent;
            }
        }
        for entry in missing {
            entries.entry(entry.path.clone()).or_insert(entry);
        }
    }

    /// The folder at `path` (never the root, which is not a folder one can select).
    pub fn get(&self, path: &FolderPath) -> Option<&FolderEntry> {
        self.entries.get(path)
    }

    /// The selected folder, which another client may have removed in the meantime (511).
    pub fn selected(&self, path: &FolderPath) -> crate::error::AgapResult<&FolderEntry> {
        self.get(path)
            .ok_or_else(|| crate::error::AgapError::invalid(format!("the selected folder {path} no longer exists")))
    }

    /// Whether `path` is the root or an existing folder.
    pub fn exists(&self, path: &FolderPath) -> bool {
        path.is_root() || self.entries.contains_key(path)
    }

    /// The direct children of `path`, in path order.
    pub fn children<'a>(&'a self, path: &'a FolderPath) -> impl Iterator<Item = &'a FolderEntry> + 'a {
        self.entries.values().filter(move |entry| entry.path.is_child_of(path))
    }

    /// Everything strictly below `path`, deepest first (the order in which to delete).
    pub fn descendants_deepest_first(&self, path: &FolderPath) -> Vec<&FolderEntry> {
        let mut below: Vec<&FolderEntry> =
            self.entries.values().filter(|entry| entry.path != *path && entry.path.is_within(path)).collect();
        below.sort_by(|a, b| b.path.levels().len().cmp(&a.path.levels().len()).then_with(|| a.path.cmp(&b.path)));
        below
    }

    /// Every folder, in path order.
    pub fn folders(&self) -> impl Iterator<Item = &FolderEntry> {
        self.entries.values()
    }

    /// The upstream name a new folder `name` inside `parent` gets.
    pub fn upstream_name_for_child(&self, parent: &FolderPath, name: &str) -> Option<MailboxName> {
        if parent.is_root() {
            return Some(MailboxName::new(vec![name.to_owned()]));
        }
        self.get(parent).map(|entry| entry.upstream.child(name))
    }

    /// Whether an upstream mailbox has this name or lies below it.
    pub fn has_mailbox_within(&self, name: &MailboxName) -> bool {
        self.upstream_names.iter().any(|existing| existing == name || existing.is_below(name))
    }

    /// Whether any upstream mailbox, shown or not, already has this name.
    pub fn upstream_name_taken(&self, name: &MailboxName) -> bool {
        self.upstream_names.iter().any(|existing| existing == name || (existing.is_inbox() && name.is_inbox()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use agap_adapter_api::mail::SpecialUse;

    struct Defaults;
    impl ReservedNames for Defaults {
        fn default_name(&self, folder: ReservedFolder) -> &str {
            match folder {
                ReservedFolder::Inbox => "INBOX",
                ReservedFolder::Sent => "Sent",
                ReservedFolder::Draft => "Drafts",
                ReservedFolder::Trash => "Trash",
                ReservedFolder::Junk => "Junk",
                ReservedFolder::Outbox => "Outbox",
                ReservedFolder::Note => "Notes",
                ReservedFolder::Configuration => "AGAP-Configuration",
            }
        }
    }

    fn mailbox(path: &str, special_use: Option<SpecialUse>, selectable: bool) -> MailboxInfo {
        MailboxInfo { name: MailboxName::new(path.split('/').map(String::from).collect()), special_use, selectable }
    }

    fn agap(path: &str) -> FolderPath {
        FolderPath::resolve(path, None).expect("valid")
    }

    fn sample() -> Vec<MailboxInfo> {
        vec![
            mailbox("INBOX", None, true),
            mailbox("Gesendet", Some(SpecialUse::Sent), true),
            mailbox("Drafts", None, true),
            mailbox("Trash", Some(SpecialUse::Trash), true),
            mailbox("Trash/old", None, true),
            mailbox("Archive", None, false),
            mailbox("Archive/2010", None, true),
            mailbox("Deep/a/b", None, true),
            mailbox("SENT", None, true),
            mailbox("bad*name", None, true),
        ]
    }

    #[test]
    fn the_inbox_of_a_login_is_the_one_the_tree_shows() {
        let tree = FolderTree::build(&sample(), &HashMap::new(), &Defaults);
        assert_eq!(tree.get(&agap("/INBOX")), Some(&FolderTree::inbox()));
    }

    #[test]
    fn reserved_folders_are_found_by_role_then_by_default_name() {
        let tree = FolderTree::build(&sample(), &HashMap::new(), &Defaults);
        let sent = tree.get(&agap("/SENT")).expect("sent");
        assert_eq!(sent.upstream.levels(), ["Gesendet"]);
        assert_eq!(sent.reserved, Some(ReservedFolder::Sent));
        assert_eq!(tree.get(&agap("/DRAFT")).expect("draft").upstream.levels(), ["Drafts"]);
        assert_eq!(tree.get(&agap("/INBOX")).expect("inbox").tags(), ["RESERVED"]);
        assert_eq!(
            FolderTree::missing_reserved(&sample(), &Defaults),
            [ReservedFolder::Junk, ReservedFolder::Outbox, ReservedFolder::Note, ReservedFolder::Configuration]
        );
        let mut with_notes = sample();
        with_notes.push(mailbox("Notes", None, true));
        let tree = FolderTree::build(&with_notes, &HashMap::new(), &Defaults);
        let notes = tree.get(&agap("/NOTE")).expect("notes");
        assert_eq!((notes.kind, notes.reserved), (FolderType::Note, Some(ReservedFolder::Note)));
    }

    #[test]
    fn children_of_reserved_mailboxes_follow_them() {
        let tree = FolderTree::build(&sample(), &HashMap::new(), &Defaults);
        let old = tree.get(&agap("/TRASH/old")).expect("child of trash");
        assert_eq!(old.upstream.levels(), ["Trash", "old"]);
        assert_eq!(old.reserved, None);
    }

    #[test]
    fn unmappable_and_colliding_names_are_hidden() {
        let tree = FolderTree::build(&sample(), &HashMap::new(), &Defaults);
        assert!(tree.get(&agap("/Gesendet")).is_none());
        assert_eq!(tree.folders().filter(|e| e.path.to_string() == "/SENT").count(), 1);
        assert_eq!(
            tree.get(&agap("/SENT")).expect("sent").upstream.levels(),
            ["Gesendet"],
            "not the plain SENT mailbox"
        );
        assert!(tree.folders().all(|e| !e.path.to_string().contains('*')));
        assert!(tree.upstream_name_taken(&MailboxName::new(vec!["SENT".into()])), "hidden names still block MAKE");
    }

    #[test]
    fn placeholders_and_missing_parents_are_fold_folders() {
        let mut folds = HashMap::new();
        folds.insert("Archive/2010".to_owned(), FolderType::Fold);
        let tree = FolderTree::build(&sample(), &folds, &Defaults);
        assert_eq!(tree.get(&agap("/Archive")).expect("placeholder").kind, FolderType::Fold);
        assert_eq!(tree.get(&agap("/Archive/2010")).expect("recorded").kind, FolderType::Fold);
        let synthesized = tree.get(&agap("/Deep/a")).expect("synthesized parent");
        assert_eq!(
            (synthesized.kind, synthesized.upstream.levels()),
            (FolderType::Fold, &["Deep".to_string(), "a".to_string()][..])
        );
        assert!(tree.exists(&agap("/Deep")));
        assert_eq!(tree.get(&agap("/Deep/a/b")).expect("leaf").kind, FolderType::Mesg);
    }

    #[test]
    fn directories_are_file_folders_and_fileshare_is_reserved_public_and_takes_subfolders() {
        let mut tree = FolderTree::build(&sample(), &HashMap::new(), &Defaults);
        let directory = |path: &str, href: &str, share: bool| DirectoryInfo {
            path: agap(path),
            directory: DirectoryRef { href: href.into(), share },
        };
        tree.add_directories(&[
            directory("/FILESHARE", "/f/u/", true),
            directory("/FILESHARE/a", "/f/u/a/", false),
            directory("/Docs", "/f/u/.agap/Docs/", false),
            directory("/Archive", "/f/u/.agap/Archive/", false),
            directory("/Nowhere/x", "/f/u/.agap/Nowhere/x/", false),
        ]);
        let share = tree.get(&agap("/FILESHARE")).expect("fileshare");
        assert_eq!((share.kind, share.tags()), (FolderType::File, vec!["RESERVED", "PUBLIC"]));
        assert!(share.is_reserved() && share.accepts_subfolders() && share.has_items());
        assert_eq!(share.store_key(), "file:/f/u/");
        let a = tree.get(&agap("/FILESHARE/a")).expect("a");
        assert!(!a.is_reserved() && a.tags().is_empty() && a.accepts_subfolders());
        assert_eq!(tree.get(&agap("/Docs")).expect("docs").kind, FolderType::File);
        assert_eq!(tree.get(&agap("/Archive")).expect("the mailbox wins").kind, FolderType::Fold);
        assert!(tree.get(&agap("/Nowhere/x")).is_none(), "no parent shown");
    }

    #[test]
    fn conf_folders_kept_as_annotations_sit_where_their_keys_say_and_take_no_subfolders() {
        let record = |key: &str, id: &str| MetadataFolderInfo { key: key.into(), id: id.into() };
        let mut tree = FolderTree::build(&sample(), &HashMap::new(), &Defaults);
        tree.add_metadata_folders(
            &[
                record("Settings", "00000000000000a1"),
                record("Trash/Phone", "00000000000000a2"),
                record("Archive/2010/x", "00000000000000a3"),
                record("INBOX", "00000000000000a4"),
                record("Nowhere/x", "00000000000000a5"),
                record("NOTE", "00000000000000a6"),
            ],
            true,
        );
        let home = tree.get(&agap("/CONFIGURATION")).expect("the reserved one");
        assert_eq!((home.kind, home.reserved), (FolderType::Conf, Some(ReservedFolder::Configuration)));
        assert_eq!(home.store_key(), "conf:configuration");
        assert!(tree.configuration_in_metadata());
        let settings = tree.get(&agap("/Settings")).expect("in the root");
        assert_eq!((settings.kind, settings.store_key()), (FolderType::Conf, "conf:00000000000000a1".to_owned()));
        assert!(!settings.accepts_subfolders() && settings.has_items() && !settings.is_mailbox());
        assert_eq!(
            tree.get(&agap("/TRASH/Phone")).expect("below a reserved mailbox").upstream.levels(),
            ["Trash", "Phone"]
        );
        assert!(tree.get(&agap("/Archive/2010/x")).is_some());
        assert_eq!(tree.get(&agap("/INBOX")).expect("the mailbox wins").kind, FolderType::Mesg);
        assert!(tree.get(&agap("/Nowhere/x")).is_none() && tree.get(&agap("/Nowhere")).is_none(), "no parent shown");
        assert!(tree.get(&agap("/NOTE")).is_none(), "a reserved root name");
        // A configuration mailbox keeps the account on messages.
        let mut with_mailbox = sample();
        with_mailbox.push(mailbox("AGAP-Configuration", None, true));
        let mut tree = FolderTree::build(&with_mailbox, &HashMap::new(), &Defaults);
        tree.add_metadata_folders(&[], true);
        assert!(!tree.configuration_in_metadata());
        assert!(tree.get(&agap("/CONFIGURATION")).expect("the mailbox").is_mailbox());
    }

    #[test]
    fn descendants_come_deepest_first() {
        let tree = FolderTree::build(&sample(), &HashMap::new(), &Defaults);
        let order: Vec<String> =
            tree.descendants_deepest_first(&agap("/Deep")).iter().map(|e| e.path.to_string()).collect();
        assert_eq!(order, ["/Deep/a/b", "/Deep/a"]);
        let children: Vec<String> = tree.children(&FolderPath::root()).map(|e| e.path.to_string()).collect();
        assert!(children.contains(&"/INBOX".to_string()) && children.contains(&"/Archive".to_string()));
        assert!(!children.contains(&"/Archive/2010".to_string()));
    }
}
