//! COPY UID path (draft 4.14): the destination must be absolute (Fig 65).

use crate::account::Account;
use crate::codec::Reply;
use crate::error::AgapResult;
use crate::gateway::Gateway;
use crate::state::Selection;

use super::item::PathForm;
use super::transfer::{Transfer, run};

/// Copies one item.
pub async fn handle(
    gateway: &Gateway,
    account: &Account,
    selection: &Selection,
    uid: u32,
    destination: &str,
) -> AgapResult<Reply> {
    run(gateway, account, selection, Some(uid), destination, Transfer::Copy, PathForm::Absolute).await
}
