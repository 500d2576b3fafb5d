//! FCPY path (draft 4.20): copies every match; the destination is checked first (Fig 83).

use crate::account::Account;
use crate::codec::Reply;
use crate::error::AgapResult;
use crate::folder::FolderEntry;
use crate::gateway::Gateway;
use crate::state::{Content, ContentKind, Selection};

use super::transfer::Transfer;

/// Checks source and destination, then asks for the filter.
pub async fn begin(
    gateway: &Gateway,
    account: &Account,
    selection: &Selection,
    destination: &str,
) -> AgapResult<(Reply, Content)> {
    let target = super::fmov::checked_destination(gateway, account, selection, destination, Transfer::Copy).await?;
    Ok(super::filtered::ask_for_filter(gateway, ContentKind::Fcpy(target)))
}

/// Copies the matches.
pub async fn finish(
    gateway: &Gateway,
    account: &Account,
    selection: &Selection,
    target: &FolderEntry,
    filter: String,
) -> AgapResult<Reply> {
    super::filtered::transfer_matches(gateway, account, selection, target, filter, Transfer::Copy).await
}
