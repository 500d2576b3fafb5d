//! Calendar and contact collections in the folder tree (draft 2.9.3, 2.9.4;
//! docs/interpretations.md, NESTED-COLLECTIONS).
//!
//! CalDAV and CardDAV collections are flat upstream; the AGAP tree above them is the gateway's.
//! A collection the gateway created (or renamed) carries a mark, `TYPE /path`. Where the server
//! keeps dead properties the mark is one on the collection, so that every gateway instance, and
//! this one after losing its store, shows it at the same place with the same type; where the
//! server keeps none (it says so by dropping the property), the gateway's store keeps the mark,
//! by collection (docs/calendars.md, "Where a collection's place is kept"). A collection without
//! a mark (made by another client, or whose stored mark was lost) is shown in the root under its
//! display name (or the last segment of its URL).

use std::collections::HashMap;

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
    /// Whether every member is one of its `items` (an address book), so that sync-collection
    /// (RFC 6578), which lists members of every kind, can keep the UID map. Not a calendar, even
    /// one whose supported-calendar-component-set names one component: RFC 4791 5.2.3 says the
    /// server refuses other components, and Radicale 3 keeps them all the same (they would
    /// become items of the wrong kind); calendars are listed with a calendar-query by component.
    pub holds_only_its_items: bool,
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

/// Where and as what a collection is shown: its mark when it has a valid one of a type the
/// collection can hold, else its display name (or last URL segment) in the root. `None` when no
/// valid AGAP path can be made.
pub fn placement(info: &CollectionInfo) -> Option<(FolderPath, FolderType)> {
    if let Some(marked) = info.agap_mark.as_deref().and_then(parse_mark)
        && marked.1.item_kind().is_some_and(|items| info.accepts.contains(&items))
    {
        return Some(marked);
    }
    let segment = info.id.trim_end_matches('/').rsplit('/').next().unwrap_or_default();
    let segment = percent_decoded(segment);
    let name = info.display_name.as_deref().map(str::trim).filter(|name| !name.is_empty()).unwrap_or(&segment);
    validate_name(name).ok()?;
    Some((FolderPath::root().child(name), FolderType::of_items(info.kind)))
}

/// The listing with the marks the store keeps filled in where the server keeps none, and the
/// collections whose stored marks are to be forgotten: gone upstream, or marked on the server
/// itself (the server's mark wins). The store must be read before the listing is made: a mark is
/// stored only after its collection exists, so one missing from a later listing is truly gone.
pub fn with_stored_marks(
    mut listing: Vec<CollectionInfo>,
    stored: &HashMap<String, String>,
) -> (Vec<CollectionInfo>, Vec<String>) {
    let mut stale: Vec<String> =
        stored.keys().filter(|id| !listing.iter().any(|info| info.id == **id)).cloned().collect();
    for info in &mut listing {
        match (&info.agap_mark, stored.get(&info.id)) {
            (None, Some(mark)) => info.agap_mark = Some(mark.clone()),
            (Some(_), Some(_)) => stale.push(info.id.clone()),
            _ => {}
        }
    }
    stale.sort();
    (listing, stale)
}

/// What a login does for one reserved collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReservedSetup<'a> {
    /// A collection is marked for it.
    Present,
    /// This unmarked collection becomes it (gets its mark).
    Adopt(&'a CollectionInfo),
    /// None exists: one is made.
    Create,
}

/// What to do for each reserved collection, given every collection with its mark (server or
/// store): nothing where one is marked for it; else adopt, first, an unmarked collection with the
/// display name the gateway gives that reserved collection and able to hold its items (the
/// gateway's own, whose mark was lost with the store of a server that keeps no dead properties),
/// then the first unmarked collection of its kind that bears no other reserved collection's
/// display name (the user's existing main calendar stays the main calendar); create one only when
/// there is none. A collection is adopted once at most.
pub fn reserved_setup(existing: &[CollectionInfo]) -> Vec<(ReservedCollection, ReservedSetup<'_>)> {
    let unmarked: Vec<&CollectionInfo> = existing.iter().filter(|info| info.agap_mark.is_none()).collect();
    let named = |info: &CollectionInfo, reserved: ReservedCollection| {
        info.display_name.as_deref().map(str::trim) == Some(reserved.display_name())
    };
    let mut setup: Vec<(ReservedCollection, ReservedSetup<'_>)> = ReservedCollection::ALL
        .into_iter()
        .map(|reserved| {
            let present = existing
                .iter()
                .any(|info| info.agap_mark.is_some() && placement(info) == Some((reserved.path(), reserved.kind())));
            (reserved, if present { ReservedSetup::Present } else { ReservedSetup::Create })
        })
        .collect();
    let mut taken: Vec<&str> = Vec::new();
    // By display name first, for all four, so that a later rule never takes another's own.
    for (reserved, action) in &mut setup {
        let Some(items) = reserved.kind().item_kind() else { continue };
        if *action != ReservedSetup::Create {
            continue;
        }
        let mut candidates: Vec<&CollectionInfo> = unmarked
            .iter()
            .copied()
            .filter(|info| {
                named(info, *reserved) && info.accepts.contains(&items) && !taken.contains(&info.id.as_str())
            })
            .collect();
        // One that holds only these items (the server kept the component asked for) first.
        candidates.sort_by_key(|info| info.kind != items);
        if let Some(info) = candidates.first() {
            taken.push(&info.id);
            *action = ReservedSetup::Adopt(info);
        }
    }
    for (reserved, action) in &mut setup {
        let Some(items) = reserved.kind().item_kind() else { continue };
        if *action != ReservedSetup::Create {
            continue;
        }
        let found = unmarked.iter().copied().find(|info| {
            info.kind == items
                && !taken.contains(&info.id.as_str())
                && !ReservedCollection::ALL.into_iter().any(|other| named(info, other))
        });
        if let Some(info) = found {
            taken.push(&info.id);
            *action = ReservedSetup::Adopt(info);
        }
    }
    setup
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
            accepts: vec![kind],
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
        let marked = CollectionInfo {
            accepts: vec![ItemKind::Events, ItemKind::Tasks],
            ..info("/u/x/", Some("Whatever"), Some("TASK /Work/Todo"), ItemKind::Events)
        };
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

    /// A calendar of a server that ignores the component set asked for: it accepts all three.
    fn any_calendar(id: &str, name: Option<&str>, mark: Option<&str>) -> CollectionInfo {
        CollectionInfo {
            accepts: vec![ItemKind::Events, ItemKind::Tasks, ItemKind::Journals],
            ..info(id, name, mark, ItemKind::Events)
        }
    }

    #[test]
    fn a_mark_of_a_type_the_collection_cannot_hold_is_ignored() {
        let events_only = info("/u/e/", Some("Events"), Some("TASK /Todo"), ItemKind::Events);
        assert_eq!(placement(&events_only), Some((path("/Events"), FolderType::Cale)));
        let any = any_calendar("/u/a/", Some("Todo"), Some("TASK /Work/Todo"));
        assert_eq!(placement(&any), Some((path("/Work/Todo"), FolderType::Task)), "the mark decides the type");
        let book = info("/u/b/", Some("Book"), Some("CALE /Book"), ItemKind::Contacts);
        assert_eq!(placement(&book), Some((path("/Book"), FolderType::Addr)));
    }

    #[test]
    fn stored_marks_fill_in_where_the_server_keeps_none_and_stale_ones_go() {
        let listing = vec![
            any_calendar("/u/a/", Some("Todo"), None),
            any_calendar("/u/b/", Some("B"), Some("CALE /Server")),
            any_calendar("/u/c/", Some("C"), None),
        ];
        let stored: HashMap<String, String> =
            [("/u/a/", "TASK /Work/Todo"), ("/u/b/", "CALE /Store"), ("/u/gone/", "JRNL /Gone")]
                .into_iter()
                .map(|(id, mark)| (id.to_owned(), mark.to_owned()))
                .collect();
        let (merged, stale) = with_stored_marks(listing, &stored);
        let marks: Vec<_> = merged.iter().map(|info| info.agap_mark.as_deref()).collect();
        assert_eq!(marks, [Some("TASK /Work/Todo"), Some("CALE /Server"), None], "the server's mark wins");
        assert_eq!(stale, ["/u/b/", "/u/gone/"]);
        assert_eq!(placement(&merged[0]), Some((path("/Work/Todo"), FolderType::Task)));
    }

    fn actions(existing: &[CollectionInfo]) -> Vec<(ReservedCollection, Option<String>, bool)> {
        reserved_setup(existing)
            .into_iter()
            .map(|(reserved, action)| match action {
                ReservedSetup::Present => (reserved, None, false),
                ReservedSetup::Adopt(info) => (reserved, Some(info.id.clone()), false),
                ReservedSetup::Create => (reserved, None, true),
            })
            .collect()
    }

    #[test]
    fn reserved_collections_are_found_by_mark_then_adopted_then_made() {
        use ReservedCollection::*;
        // All four marked (on the server or in the store): nothing to do.
        let marked = [
            info("/u/1/", Some("Calendar"), Some("CALE /CALENDAR"), ItemKind::Events),
            any_calendar("/u/2/", Some("Tasks"), Some("TASK /TASK")),
            any_calendar("/u/3/", Some("Journal"), Some("JRNL /JOURNAL")),
            info("/u/4/", Some("Contacts"), Some("ADDR /CONTACT"), ItemKind::Contacts),
        ];
        assert!(reserved_setup(&marked).iter().all(|(_, action)| *action == ReservedSetup::Present));

        // The store lost on a server without dead properties: the gateway's own collections are
        // found by their display names, whatever their components, before anything is made; a
        // user's calendar named like the reserved task list is not taken for the calendar.
        let lost = [
            any_calendar("/u/a/", Some("Tasks"), None),
            any_calendar("/u/b/", Some("Journal"), None),
            any_calendar("/u/c/", Some("Calendar"), None),
            any_calendar("/u/d/", Some("Plan"), None),
            info("/u/e/", Some("Contacts"), None, ItemKind::Contacts),
        ];
        assert_eq!(
            actions(&lost),
            [
                (Calendar, Some("/u/c/".into()), false),
                (Task, Some("/u/a/".into()), false),
                (Journal, Some("/u/b/".into()), false),
                (Contact, Some("/u/e/".into()), false),
            ]
        );

        // A fresh account with the server's default calendar and address book: those are
        // adopted, the rest made; a collection named like a reserved one but unable to hold its
        // items is left alone.
        let fresh = [
            any_calendar("/u/calendar/", None, None),
            info("/u/addressbook/", Some("addressbook"), None, ItemKind::Contacts),
            info("/u/x/", Some("Tasks"), None, ItemKind::Events),
        ];
        assert_eq!(
            actions(&fresh),
            [
                (Calendar, Some("/u/calendar/".into()), false),
                (Task, None, true),
                (Journal, None, true),
                (Contact, Some("/u/addressbook/".into()), false),
            ]
        );

        // Of two with the reserved name, the one holding only that kind goes first.
        let two = [any_calendar("/u/a/", Some("Tasks"), None), info("/u/b/", Some("Tasks"), None, ItemKind::Tasks)];
        assert_eq!(actions(&two)[1], (Task, Some("/u/b/".into()), false));
    }
}
