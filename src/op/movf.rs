//! MOVF path (draft 4.30): moves every item (not the subfolders) of the selected folder.

use crate::account::Account;
use crate::codec::Reply;
use crate::error::AgapResult;
use crate::folder::FolderPath;
use crate::gateway::Gateway;

use super::item::PathForm;
use super::transfer::{Transfer, run};

/// Moves the folder's items.
pub async fn handle(
    gateway: &Gateway,
    account: &Account,
    selected: &FolderPath,
    argument: Option<&str>,
) -> AgapResult<Reply> {
    let destination = super::require_argument("MOVF", argument)?;
    run(gateway, account, selected, None, destination, Transfer::Move, PathForm::Absolute).await
}
