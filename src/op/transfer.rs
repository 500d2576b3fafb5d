//! COPY and MOVE of one item (draft 4.14, 4.29) and of a whole folder's items (CPYF 4.15,
//! MOVF 4.30) share their checks and their upstream calls here; the command files parse.

use crate::account::Account;
use crate::codec::{Reply, ReplyCode};
use crate::error::AgapResult;
use crate::gateway::Gateway;
use crate::ids;
use crate::items::Chosen;
pub use crate::items::Transfer;
use crate::state::Selection;

use super::item::{PathForm, check_source_allows, check_target_allows, destination, items_folder};

/// Copies or moves one item (`uid`) or all items (`None`) of the selected folder.
pub async fn run(
    gateway: &Gateway,
    account: &Account,
    selection: &Selection,
    uid: Option<u32>,
    destination_argument: &str,
    transfer: Transfer,
    form: PathForm,
) -> AgapResult<Reply> {
    let source = items_folder(selection)?.clone();
    let tree = account.tree(gateway).await?;
    let target = account.with_rights(destination(&tree, &source, destination_argument, form)?).await?;
    check_target_allows(&target)?;
    check_source_allows(&source, transfer.forbidding_tag())?;
    let verb = match (transfer, uid.is_some()) {
        (Transfer::Copy, true) => "COPY",
        (Transfer::Move, true) => "MOVE",
        (Transfer::Copy, false) => "CPYF",
        (Transfer::Move, false) => "MOVF",
    };
    let chosen = match uid {
        Some(uid) => Chosen::One(uid),
        None => Chosen::All,
    };
    let transferred = crate::items::open(gateway, account, &source).await?.transfer(&target, chosen, transfer).await?;
    Ok(match (uid, transferred.new_uid) {
        (Some(_), Some(new_uid)) => {
            Reply::ok(format!("OK {verb} completed (UID {} in {})", ids::format(new_uid), target.path))
        }
        (Some(_), None) => Reply::ok(format!("OK {verb} completed")),
        (None, _) if transferred.done == transferred.asked => {
            Reply::ok(format!("OK {verb} completed ({} items)", transferred.done))
        }
        (None, _) => Reply::new(
            ReplyCode::PartialOk,
            format!("OK {verb} completed (only {} from {} items)", transferred.done, transferred.asked),
        ),
    })
}
