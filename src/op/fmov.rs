//! FMOV path (draft 4.23): moves every match. The destination is checked before the filter is
//! asked for (Fig 92); it may be relative to the selected folder (Fig 83's FCPY SEND).

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
    let target = checked_destination(gateway, account, selection, destination, Transfer::Move).await?;
    Ok(super::filtered::ask_for_filter(gateway, ContentKind::Fmov(target)))
}

/// The destination of FMOV or FCPY, with the source's and the destination's tags enforced.
pub async fn checked_destination(
    gateway: &Gateway,
    account: &Account,
    selection: &Selection,
    destination: &str,
    transfer: Transfer,
) -> AgapResult<FolderEntry> {
    let source = super::item::items_folder(selection)?;
    super::item::check_source_allows(source, transfer.forbidding_tag())?;
    let tree = account.tree(gateway).await?;
    let target = account
        .with_rights(super::item::destination(&tree, source, destination, super::item::PathForm::AbsoluteOrRelative)?)
        .await?;
    super::item::check_target_allows(&target)?;
    Ok(target)
}

/// Moves the matches.
pub async fn finish(
    gateway: &Gateway,
    account: &Account,
    selection: &Selection,
    target: &FolderEntry,
    filter: String,
) -> AgapResult<Reply> {
    super::filtered::transfer_matches(gateway, account, selection, target, filter, Transfer::Move).await
}
