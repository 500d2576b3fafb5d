//! CPYF path (draft 4.15): copies every item (not the subfolders) of the selected folder.

use crate::account::Account;
use crate::codec::Reply;
use crate::error::AgapResult;
use crate::folder::FolderPath;
use crate::gateway::Gateway;

use super::item::PathForm;
use super::transfer::{Transfer, run};

/// Copies the folder's items.
pub async fn handle(
    gateway: &Gateway,
    account: &Account,
    selected: &FolderPath,
    argument: Option<&str>,
) -> AgapResult<Reply> {
    let destination = super::require_argument("CPYF", argument)?;
    run(gateway, account, selected, None, destination, Transfer::Copy, PathForm::Absolute).await
}
