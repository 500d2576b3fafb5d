//! COPY, MOVE, CPYF, MOVF, FCPY and FMOV between collection folders of one type (another type
//! is refused with 511 before this). Upstream this is WebDAV COPY or MOVE (the adapter falls
//! back to GET, PUT and DELETE); an alarm travels with its item and cannot go alone. A copy
//! into a server that keeps iCalendar UIDs unique per user gets a fresh UID.

use agap_adapter_api::AdapterErrorKind;
use agap_adapter_api::collection::{ItemKind, Precondition};

use super::CollectionItems;
use crate::error::{AgapError, AgapResult};
use crate::format::icalendar::with_fresh_uid;
use crate::items::Transfer;

/// Copies or moves item `uid` into `target`; returns its AGAP UID there.
pub(super) async fn one(
    source: &CollectionItems<'_>,
    target: &CollectionItems<'_>,
    uid: u32,
    transfer: Transfer,
) -> AgapResult<u64> {
    let (located, data) = source.fetch(uid).await?;
    if located.alarm {
        return Err(AgapError::invalid(format!("{uid} is an alarm: it moves and copies with the item it belongs to")));
    }
    let href = &data.item.href;
    let placed = match transfer {
        Transfer::Copy => match source.dav().copy_item(href, source.kind(), target.id()).await {
            // The server keeps the UID unique beyond the target: the copy becomes an item of
            // its own, with a fresh iCalendar UID (docs/interpretations.md, COPY-FRESH-UID).
            Err(error) if error.kind() == AdapterErrorKind::UidInUse && source.kind() != ItemKind::Contacts => {
                tracing::debug!(%error, "the server keeps UIDs unique per user; copying with a fresh UID");
                let (body, _) = with_fresh_uid(&String::from_utf8_lossy(&data.body), source.kind())?;
                return Ok(target.put(&target.new_href(), &body, &Precondition::Absent).await?.uid);
            }
            placed => placed?,
        },
        // A moved item stays the same item: its UID stays too, and a server refusing it so
        // answers 511 (COPY-FRESH-UID).
        Transfer::Move => source.dav().move_item(href, source.kind(), target.id()).await?,
    };
    if transfer == Transfer::Move {
        source.forget(href).await?;
    }
    let mapped = target.record(&agap_adapter_api::collection::ItemData { item: placed, body: data.body }).await?;
    Ok(mapped.uid)
}

/// Copies or moves the items `uids`; returns how many went. An alarm counts as done when its
/// item is among them (it goes along), as not done otherwise. Stops at the first failure after
/// some succeeded, which the caller reports as 210.
pub(super) async fn many(
    source: &CollectionItems<'_>,
    target: &CollectionItems<'_>,
    uids: &[u32],
    transfer: Transfer,
) -> AgapResult<usize> {
    let mut resources = Vec::new();
    let mut alarms = Vec::new();
    for uid in uids {
        match source.locate(*uid).await? {
            Some(located) if located.alarm => alarms.push(located.mapped.uid),
            Some(_) => resources.push(*uid),
            None => {}
        }
    }
    let mut done = 0;
    for uid in &resources {
        match one(source, target, *uid, transfer).await {
            Ok(_) => done += 1 + alarms.iter().filter(|parent| **parent == u64::from(*uid)).count(),
            Err(error) if done == 0 => return Err(error),
            Err(error) => {
                tracing::warn!(%error, "copy or move between collections stopped early");
                break;
            }
        }
    }
    Ok(done)
}
