//! FSTO of events, tasks, journals and contacts: into the recipient's collection of that kind,
//! reached with a service account that has rights on users' collections (`[delivery] dav_user`),
//! through the recipient's principal (docs/interpretations.md, FSTO-TYPES and FSTO-TARGET).

use std::sync::Arc;

use agap_adapter_api::collection::{CollectionAccount, CollectionBackend, CollectionInfo, ItemKind, Precondition};
use agap_adapter_api::{AdapterErrorKind, Credentials};

use crate::error::{AgapError, AgapResult};
use crate::folder::{FolderType, ReservedCollection, placement};
use crate::format::Element;
use crate::format::icalendar::{CalendarInput, calendar_from_xml, read_calendar_input};
use crate::format::vcard::vcard_from_xml;
use crate::items::collection::new_item_href;

/// The service account and where it finds a user's principal.
#[derive(Debug)]
pub struct CollectionDelivery {
    backend: Arc<dyn CollectionBackend>,
    service: Credentials,
    principal_template: String,
}

/// The collection an FSTO writes into, found before its 110.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The recipient account.
    pub account: String,
    /// What the item is.
    pub kind: ItemKind,
    /// The collection's upstream id.
    pub collection: String,
}

impl CollectionDelivery {
    /// Delivery with `service` on `backend`; `principal_template` names a user's principal with
    /// `{user}`.
    pub fn new(backend: Arc<dyn CollectionBackend>, service: Credentials, principal_template: String) -> Self {
        Self { backend, service, principal_template }
    }

    async fn open(&self, account: &str) -> AgapResult<Arc<dyn CollectionAccount>> {
        Ok(self.backend.open_other(&self.service, &self.principal_template, account).await?)
    }

    /// The recipient's collection for `kind`: 511 "UNKNOWN account name" when the server knows
    /// no such principal, 511 when the account has no collection of that kind.
    pub async fn find(&self, account: &str, kind: ItemKind) -> AgapResult<Target> {
        let collections = self.open(account).await?.list_collections().await.map_err(|error| match error.kind() {
            AdapterErrorKind::NotFound => super::unknown_account(),
            _ => error.into(),
        })?;
        let collection = choose(&collections, kind).ok_or_else(|| {
            AgapError::invalid(format!("{account} has no {} folder to deliver into", FolderType::of_items(kind)))
        })?;
        Ok(Target { account: account.to_owned(), kind, collection })
    }

    /// Composes the item `tree` and writes it as a new resource of the target collection.
    pub async fn deliver(&self, target: &Target, tree: Element) -> AgapResult<()> {
        let body = compose(tree, target.kind)?;
        let href = new_item_href(&target.collection, target.kind);
        let dav = self.open(&target.account).await?;
        match dav.put_item(&href, target.kind, body.as_bytes(), &Precondition::Absent).await {
            Ok(_) => Ok(()),
            Err(error) if matches!(error.kind(), AdapterErrorKind::AlreadyExists | AdapterErrorKind::UidInUse) => {
                Err(AgapError::invalid("an item with this UID is already in the recipient's folder"))
            }
            Err(error) => Err(error.into()),
        }
    }
}

/// The upstream text of an item FSTO delivers: the item itself, never an alarm alone (it
/// belongs to an item of the recipient the sender cannot name).
fn compose(tree: Element, kind: ItemKind) -> AgapResult<String> {
    match kind {
        ItemKind::Contacts => {
            if !tree.name.eq_ignore_ascii_case("VCARD") {
                return Err(AgapError::invalid(format!("<{}> does not fit an ADDR folder", tree.name)));
            }
            Ok(vcard_from_xml(&tree, None)?.0)
        }
        kind => match read_calendar_input(tree, kind)? {
            CalendarInput::Item(item) => Ok(calendar_from_xml(&item, kind, None)?.0),
            CalendarInput::Alarm(_) => Err(AgapError::invalid("FSTO delivers items: an alarm goes with its item")),
        },
    }
}

/// FSTO-TARGET: the collection shown as the reserved folder of `kind` (by its mark, or by the
/// display name the gateway gives it), else the first one that takes `kind` as its own, else
/// the first that accepts it at all (in the order of their ids, so every instance picks the same).
fn choose(collections: &[CollectionInfo], kind: ItemKind) -> Option<String> {
    let reserved = ReservedCollection::ALL.into_iter().find(|reserved| reserved.kind().item_kind() == Some(kind))?;
    let mut accepting: Vec<&CollectionInfo> = collections.iter().filter(|info| info.accepts.contains(&kind)).collect();
    accepting.sort_by(|a, b| a.id.cmp(&b.id));
    let is_reserved = |info: &&&CollectionInfo| {
        placement(info).is_some_and(|(path, _)| path == reserved.path() && info.agap_mark.is_some())
            || info.display_name.as_deref() == Some(reserved.display_name())
    };
    let chosen = accepting
        .iter()
        .find(is_reserved)
        .or_else(|| accepting.iter().find(|info| info.kind == kind))
        .or_else(|| accepting.first())?;
    Some(chosen.id.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collection(id: &str, kind: ItemKind, accepts: &[ItemKind], name: &str, mark: Option<&str>) -> CollectionInfo {
        CollectionInfo {
            id: id.into(),
            kind,
            accepts: accepts.to_vec(),
            display_name: Some(name.into()),
            agap_mark: mark.map(str::to_owned),
            version: None,
        }
    }

    #[test]
    fn the_reserved_collection_wins_then_the_kind_then_any_that_accepts() {
        use ItemKind::*;
        let all = [Events, Tasks, Journals];
        let listing = vec![
            collection("/c/a/", Events, &all, "Work", None),
            collection("/c/b/", Events, &all, "Mine", Some("CALE /CALENDAR")),
            collection("/c/t/", Tasks, &[Tasks], "Todo", None),
            collection("/c/x/", Contacts, &[Contacts], "Contacts", None),
        ];
        assert_eq!(choose(&listing, Events).as_deref(), Some("/c/b/"));
        assert_eq!(choose(&listing, Tasks).as_deref(), Some("/c/t/"));
        assert_eq!(choose(&listing, Journals).as_deref(), Some("/c/a/"), "a calendar that accepts journals");
        assert_eq!(choose(&listing, Contacts).as_deref(), Some("/c/x/"));
        let by_name =
            vec![collection("/c/a/", Events, &all, "Work", None), collection("/c/z/", Events, &all, "Calendar", None)];
        assert_eq!(choose(&by_name, Events).as_deref(), Some("/c/z/"), "found again by its display name");
        assert_eq!(choose(&listing[3..], Events), None);
    }

    #[test]
    fn an_alarm_alone_or_another_type_is_refused() {
        let alarm = Element::parent("VALARM", vec![Element::text("ACTION", "DISPLAY")]);
        assert!(compose(alarm, ItemKind::Events).is_err());
        let card = Element::parent("VCARD", vec![Element::text("FN", "x")]);
        assert!(compose(card, ItemKind::Events).is_err());
    }
}
