//! MOVE UID path (draft 4.29): relative destinations are accepted (Fig 108).

use crate::account::Account;
use crate::codec::Reply;
use crate::error::AgapResult;
use crate::gateway::Gateway;
use crate::state::Selection;

use super::item::PathForm;
use super::transfer::{Transfer, run, uid_and_destination};

/// Moves one item (IMAP MOVE where offered).
pub async fn handle(
    gateway: &Gateway,
    account: &Account,
    selection: &Selection,
    argument: Option<&str>,
) -> AgapResult<Reply> {
    let (uid, destination) = uid_and_destination("MOVE", argument)?;
    run(gateway, account, selection, Some(uid), destination, Transfer::Move, PathForm::AbsoluteOrRelative).await
}
