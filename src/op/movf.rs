//! MOVF path (draft 4.30): moves every item (not the subfolders) of the selected folder.

use crate::account::Account;
use crate::codec::Reply;
use crate::error::AgapResult;
use crate::gateway::Gateway;
use crate::state::Selection;

use super::item::PathForm;
use super::transfer::{Transfer, run};

/// Moves the folder's items.
pub async fn handle(
    gateway: &Gateway,
    account: &Account,
    selection: &Selection,
    destination: &str,
) -> AgapResult<Reply> {
    run(gateway, account, selection, None, destination, Transfer::Move, PathForm::Absolute).await
}
