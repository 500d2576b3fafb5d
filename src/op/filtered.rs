//! What FIND, FTAG, FDEL, FMOV and FCPY share (draft 4.20-4.23, 4.25): the 110 that asks for
//! the filter, parsing it for the folder's items, and the reply that counts what was done
//! (200 for all, including none; 210 "n from m" when only some succeeded).

use crate::account::Account;
use crate::codec::{Reply, ReplyCode};
use crate::error::{AgapError, AgapResult};
use crate::filter::{Filter, matching_collection_items, parse_filter_blocking};
use crate::folder::{FolderEntry, FolderType};
use crate::gateway::Gateway;
use crate::items::CollectionItems;
use crate::mail_uids::Messages;
use crate::session::{Content, ContentKind, Selection};

use super::transfer::Transfer;

/// The 110 reply and the content collector for a filter.
pub fn ask_for_filter(gateway: &Gateway, kind: ContentKind) -> (Reply, Content) {
    let reply = Reply::new(ReplyCode::Continue, "OK SEND filter definition (end it with an empty line)");
    (reply, Content::new(kind, gateway.config.server.max_line_length * 256))
}

/// The filter's matches in `folder`, ascending.
pub async fn matching(
    gateway: &Gateway,
    account: &Account,
    folder: &FolderEntry,
    filter: &str,
) -> AgapResult<(Filter, Vec<u32>)> {
    if folder.collection.is_some() {
        let items = CollectionItems::of(gateway, account, folder)?;
        let filter = parse_filter_blocking(filter.to_owned(), items.root().to_owned()).await?;
        let uids = matching_collection_items(&items, &filter).await?;
        return Ok((filter, uids));
    }
    if folder.kind != FolderType::Mesg {
        return Err(AgapError::invalid(format!("filters on {} folders are not supported", folder.kind)));
    }
    let filter = parse_filter_blocking(filter.to_owned(), "MESSAGE".to_owned()).await?;
    let uids = Messages::of(gateway, account, folder).await?.matching(&filter).await?;
    Ok((filter, uids))
}

/// "(1 match)", "(3 matches)".
pub fn matches_text(count: usize) -> String {
    format!("({count} {})", if count == 1 { "match" } else { "matches" })
}

/// 200 when every match was handled, 210 when only some were.
pub fn outcome(verb: &str, done: usize, found: usize, what: &str) -> Reply {
    if done == found {
        Reply::ok(format!("OK {verb} completed {}", matches_text(found)))
    } else {
        Reply::new(ReplyCode::PartialOk, format!("OK {verb} completed (only {done} from {found} matches {what})"))
    }
}

/// Copies or moves the matches (FCPY, FMOV).
pub async fn transfer_matches(
    gateway: &Gateway,
    account: &Account,
    selection: &Selection,
    target: &FolderEntry,
    filter: String,
    transfer: Transfer,
) -> AgapResult<Reply> {
    let folder = super::item::items_folder(selection)?;
    let (_, uids) = matching(gateway, account, folder, &filter).await?;
    if uids.is_empty() {
        return Ok(outcome(transfer.verb_for_filter(), 0, 0, ""));
    }
    let what = if transfer == Transfer::Copy { "copied" } else { "moved" };
    if folder.collection.is_some() {
        let source = CollectionItems::of(gateway, account, folder)?;
        let destination = CollectionItems::of(gateway, account, target)?;
        let done = super::collection::transfer::many(&source, &destination, &uids, transfer).await?;
        return Ok(outcome(transfer.verb_for_filter(), done, uids.len(), what));
    }
    let messages = Messages::of(gateway, account, folder).await?;
    let pairs = match transfer {
        Transfer::Copy => messages.copy_to(Some(&uids), &target.upstream).await?,
        Transfer::Move => messages.move_to(Some(&uids), &target.upstream).await?,
    };
    // Servers without UIDPLUS report no pairs; the command then succeeded for all.
    let done = if pairs.is_empty() { uids.len() } else { pairs.len() };
    Ok(outcome(transfer.verb_for_filter(), done, uids.len(), what))
}
