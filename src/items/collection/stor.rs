//! STOR into a collection (draft 4.39, examples 7.10 and 7.11).
//!
//! Our readings (docs/calendars.md):
//! - an item whose iCalendar or vCard UID is already in the folder replaces that resource (the
//!   AGAP protocol has no other way to change an item) and keeps its AGAP UID, as any item
//!   changed upstream does; otherwise a new resource is created (`If-None-Match: *`);
//! - a VALARM is attached to the item named by its RELATED-TO, replacing that item's alarm (one
//!   per item, draft 2.11.2); the reply gives the alarm's AGAP UID.

use agap_adapter_api::collection::{ItemKind, Precondition};

use super::CollectionItems;
use crate::error::{AgapError, AgapResult};
use crate::format::Element;
use crate::format::icalendar::{CalendarInput, alarm_parent_uid, attach_alarm, calendar_from_xml, read_calendar_input};
use crate::format::vcard::vcard_from_xml;
use crate::items::ItemFolder;
use crate::items::Stored;

/// Stores `tree`; returns the AGAP UID and what was stored ("Event", "Alarm", ...).
pub(super) async fn store(items: &CollectionItems<'_>, tree: Element) -> AgapResult<Stored> {
    let (tree, alarm) = match items.kind() {
        ItemKind::Contacts => {
            if !tree.name.eq_ignore_ascii_case("VCARD") {
                return Err(AgapError::invalid(format!("<{}> does not fit an ADDR folder", tree.name)));
            }
            (tree, false)
        }
        kind => match read_calendar_input(tree, kind)? {
            CalendarInput::Item(item) => (item, false),
            CalendarInput::Alarm(alarm) => (alarm, true),
        },
    };
    if alarm {
        let parent_uid = alarm_parent_uid(&tree)?;
        let parent = items
            .find_by_item_uid(&parent_uid)
            .await?
            .ok_or_else(|| AgapError::invalid(format!("the RELATED-TO item {parent_uid} is not in this folder")))?;
        let body = attach_alarm(&String::from_utf8_lossy(&parent.body), items.kind(), &tree)?;
        let mapped = items.put(&parent.item.href, &body, &super::unchanged_since_read(&parent)).await?;
        let uid = mapped.alarm_uid.ok_or_else(|| AgapError::internal("the stored alarm is not in its item"))?;
        return Ok(Stored { uid, noun: "Alarm" });
    }
    let previous = match super::child_text(&tree, "UID") {
        Some(item_uid) => items.find_by_item_uid(&item_uid).await?,
        None => None,
    };
    let previous_text = previous.as_ref().map(|data| String::from_utf8_lossy(&data.body).into_owned());
    let (body, _) = match items.kind() {
        ItemKind::Contacts => vcard_from_xml(&tree, previous_text.as_deref())?,
        kind => calendar_from_xml(&tree, kind, previous_text.as_deref())?,
    };
    let mapped = match &previous {
        Some(previous) => items.put(&previous.item.href, &body, &super::unchanged_since_read(previous)).await?,
        None => items.put(&items.new_href(), &body, &Precondition::Absent).await?,
    };
    Ok(Stored { uid: mapped.uid, noun: items.noun() })
}
