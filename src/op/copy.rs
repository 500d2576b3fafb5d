//! COPY UID path (draft 4.14): the destination must be absolute (Fig 65).

use crate::account::Account;
use crate::codec::Reply;
use crate::error::AgapResult;
use crate::folder::FolderPath;
use crate::gateway::Gateway;

use super::item::PathForm;
use super::transfer::{Transfer, run, uid_and_destination};

/// Copies one item.
pub async fn handle(
    gateway: &Gateway,
    account: &Account,
    selected: &FolderPath,
    argument: Option<&str>,
) -> AgapResult<Reply> {
    let (uid, text, destination) = uid_and_destination("COPY", argument)?;
    run(gateway, account, selected, Some((uid, text)), destination, Transfer::Copy, PathForm::Absolute).await
}
