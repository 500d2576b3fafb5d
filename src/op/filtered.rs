//! What FIND, FTAG, FDEL, FMOV and FCPY share (draft 4.20-4.23, 4.25): the 110 that asks for
//! the filter, parsing it for the folder's items, and the reply that counts what was done
//! (200 for all, including none; 210 "n from m" when only some succeeded).

use crate::account::Account;
use crate::codec::{Reply, ReplyCode};
use crate::error::AgapResult;
use crate::filter::{Filter, parse_filter_blocking};
use crate::folder::FolderEntry;
use crate::gateway::Gateway;
use crate::items::{Chosen, ItemFolder, Transfer};
use crate::state::{Content, ContentKind, Selection};

/// The 110 reply and the content collector for a filter.
pub fn ask_for_filter(gateway: &Gateway, kind: ContentKind) -> (Reply, Content) {
    let reply = Reply::new(ReplyCode::Continue, "OK SEND filter definition (end it with an empty line)");
    (reply, Content::new(kind, gateway.config.server.max_line_length * 256))
}

/// The filter's matches in `items`, ascending.
pub async fn matching(items: &dyn ItemFolder, filter: &str) -> AgapResult<(Filter, Vec<u32>)> {
    let filter = parse_filter_blocking(filter.to_owned(), items.root().to_owned()).await?;
    let uids = items.matching(&filter).await?;
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
    let items = crate::items::open(gateway, account, folder).await?;
    let (_, uids) = matching(items.as_ref(), &filter).await?;
    if uids.is_empty() {
        return Ok(outcome(transfer.verb_for_filter(), 0, 0, ""));
    }
    let what = if transfer == Transfer::Copy { "copied" } else { "moved" };
    let transferred = items.transfer(target, Chosen::Matches(&uids), transfer).await?;
    Ok(outcome(transfer.verb_for_filter(), transferred.done, transferred.asked, what))
}
