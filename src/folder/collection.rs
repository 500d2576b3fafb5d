//! Calendar and contact collections in the folder tree (draft 2.9.3, 2.9.4;
//! docs/interpretations.md, NESTED-COLLECTIONS).
//!
//! CalDAV and CardDAV collections are flat upstream; the AGAP tree above them is the gateway's.
//! A collection the gateway created (or renamed) carries a mark, a dead property holding
//! `TYPE /path`, so that every gateway instance, and this one after losing its store, shows it
//! at the same place with the same type. A collection made by another client has no mark and is
//! shown in the root under its display name (or the last segment of its URL).

use agap_adapter_api::collection::{CollectionInfo, ItemKind};

use super::{FolderPath, FolderType, validate_name};

/// A reserved folder served by the collection backend (draft 2.9.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReservedCollection {
    /// The main calendar.
    Calendar,
    /// The main task list.
    Task,
    /// The main journal.
    Journal,
    /// The main contact list.
    Contact,
}

impl ReservedCollection {
    /// All of them, in the order they are created.
    pub const ALL: [ReservedCollection; 4] = [Self::Calendar, Self::Task, Self::Journal, Self::Contact];

    /// The AGAP name in the root.
    pub fn agap_name(self) -> &'static str {
        match self {
            Self::Calendar => "CALENDAR",
            Self::Task => "TASK",
            Self::Journal => "JOURNAL",
            Self::Contact => "CONTACT",
        }
    }

    /// The folder type.
    pub fn kind(self) -> FolderType {
        match self {
            Self::Calendar => FolderType::Cale,
            Self::Task => FolderType::Task,
            Self::Journal => FolderType::Jrnl,
            Self::Contact => FolderType::Addr,
        }
    }

    /// The display name of a collection created for it.
    pub fn display_name(self) -> &'static str {
        match self {
            Self::Calendar => "Calendar",
            Self::Task => "Tasks",
            Self::Journal => "Journal",
            Self::Contact => "Contacts",
        }
    }

    /// The path it is shown at.
    pub fn path(self) -> FolderPath {
        FolderPath::root().child(self.agap_name())
    }

    /// The reserved folder at `path`, if any.
    pub fn at(path: &FolderPath) -> Option<Self> {
        Self::ALL.into_iter().find(|reserved| reserved.path() == *path)
    }
}

/// The upstream collection behind a folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectionRef {
    /// Its upstream id (URL path).
    pub id: String,
    /// What its items are.
    pub items: ItemKind,
    /// Changes with its content (CTag or sync-token).
    pub version: Option<String>,
    /// Which reserved folder it is, if any.
    pub reserved: Option<ReservedCollection>,
}

impl FolderType {
    /// The items of a folder of this type kept in a collection; `None` for types the collection
    /// backend does not serve.
    pub fn item_kind(self) -> Option<ItemKind> {
        match self {
            Self::Cale => Some(ItemKind::Events),
            Self::Task => Some(ItemKind::Tasks),
            Self::Jrnl => Some(ItemKind::Journals),
            Self::Addr => Some(ItemKind::Contacts),
            _ => None,
        }
    }

    /// The folder type showing collections of `kind`.
    pub fn of_items(kind: ItemKind) -> Self {
        match kind {
            ItemKind::Events => Self::Cale,
            ItemKind::Tasks => Self::Task,
            ItemKind::Journals => Self::Jrnl,
            ItemKind::Contacts => Self::Addr,
        }
    }
}

/// The mark of a collection shown as a `kind` folder at `path`.
pub fn mark(kind: FolderType, path: &FolderPath) -> String {
    format!("{kind} {path}")
}

/// Where and as what a collection is shown: its mark when it has a valid one, else its display
/// name (or last URL segment) in the root. `None` when no valid AGAP path can be made.
pub fn placement(info: &CollectionInfo) -> Option<(FolderPath, FolderType)> {
    if let Some(marked) = info.agap_mark.as_deref().and_then(parse_mark) {
        return Some(marked);
    }
    let segment = info.id.trim_end_matches('/').rsplit('/').next().unwrap_or_default();
    let segment = percent_decoded(segment);
    let name = info.display_name.as_deref().map(str::trim).filter(|name| !name.is_empty()).unwrap_or(&segment);
    validate_name(name).ok()?;
    Some((FolderPath::root().child(name), FolderType::of_items(info.kind)))
}

fn parse_mark(mark: &str) -> Option<(FolderPath, FolderType)> {
    let (kind, path) = mark.trim().split_once(' ')?;
    let kind: FolderType = kind.parse().ok()?;
    kind.item_kind()?;
    if !path.starts_with('/') {
        return None;
    }
    let path = FolderPath::resolve(path, None).ok()?;
    (!path.is_root()).then_some((path, kind))
}

/// `%xx` sequences decoded where they form UTF-8; anything else kept as written.
fn percent_decoded(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let hex = bytes.get(index + 1..index + 3).and_then(|pair| std::str::from_utf8(pair).ok());
        match (bytes[index], hex.and_then(|pair| u8::from_str_radix(pair, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                index += 3;
            }
            (byte, _) => {
                out.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| segment.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(id: &str, name: Option<&str>, mark: Option<&str>, kind: ItemKind) -> CollectionInfo {
        CollectionInfo {
            id: id.into(),
            kind,
            display_name: name.map(String::from),
            agap_mark: mark.map(String::from),
            version: None,
        }
    }

    fn path(text: &str) -> FolderPath {
        FolderPath::resolve(text, None).expect("path")
    }

    #[test]
    fn a_mark_decides_path_and_type() {
        let marked = info("/u/x/", Some("Whatever"), Some("TASK /Work/Todo"), ItemKind::Events);
        assert_eq!(placement(&marked), Some((path("/Work/Todo"), FolderType::Task)));
        assert_eq!(mark(FolderType::Task, &path("/Work/Todo")), "TASK /Work/Todo");
    }

    #[test]
    fn foreign_collections_go_to_the_root_by_name() {
        let named = info("/u/abc/", Some("Family"), None, ItemKind::Contacts);
        assert_eq!(placement(&named), Some((path("/Family"), FolderType::Addr)));
        let unnamed = info("/u/My%20Cal/", None, Some("MESG /nonsense"), ItemKind::Events);
        assert_eq!(placement(&unnamed), Some((path("/My Cal"), FolderType::Cale)), "an invalid mark is ignored");
        assert_eq!(placement(&info("/u/a*b/", None, None, ItemKind::Events)), None);
    }

    #[test]
    fn reserved_collections_sit_in_the_root() {
        assert_eq!(ReservedCollection::at(&path("/TASK")), Some(ReservedCollection::Task));
        assert_eq!(ReservedCollection::at(&path("/Work/TASK")), None);
        assert_eq!(ReservedCollection::Contact.kind(), FolderType::Addr);
    }
}
