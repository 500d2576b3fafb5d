//! MOVE UID path (draft 4.29): relative destinations are accepted (Fig 108).

use crate::account::Account;
use crate::codec::Reply;
use crate::error::AgapResult;
use crate::gateway::Gateway;
use crate::state::Selection;

use super::item::PathForm;
use super::transfer::{Transfer, run};

/// Moves one item (IMAP MOVE where offered).
pub async fn handle(
    gateway: &Gateway,
    account: &Account,
    selection: &Selection,
    uid: u32,
    destination: &str,
) -> AgapResult<Reply> {
    run(gateway, account, selection, Some(uid), destination, Transfer::Move, PathForm::AbsoluteOrRelative).await
}
