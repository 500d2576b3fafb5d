//! CPYF path (draft 4.15): copies every item (not the subfolders) of the selected folder.

use crate::account::Account;
use crate::codec::Reply;
use crate::error::AgapResult;
use crate::gateway::Gateway;
use crate::state::Selection;

use super::item::PathForm;
use super::transfer::{Transfer, run};

/// Copies the folder's items.
pub async fn handle(
    gateway: &Gateway,
    account: &Account,
    selection: &Selection,
    destination: &str,
) -> AgapResult<Reply> {
    run(gateway, account, selection, None, destination, Transfer::Copy, PathForm::Absolute).await
}
