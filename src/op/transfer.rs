//! COPY and MOVE of one item (draft 4.14, 4.29) and of a whole folder's items (CPYF 4.15,
//! MOVF 4.30) share their checks and their upstream calls here; the command files parse.

use crate::account::Account;
use crate::codec::{Reply, ReplyCode};
use crate::error::{AgapError, AgapResult};
use crate::gateway::Gateway;
use crate::ids;
use crate::items::{CollectionItems, wire_uid};
use crate::mail_uids::Messages;
use crate::session::Selection;

use super::item::{PathForm, check_source_allows, check_target_allows, destination, items_folder};

/// Copy or move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transfer {
    /// Keep the source.
    Copy,
    /// Remove the source.
    Move,
}

impl Transfer {
    /// The filter command of this kind.
    pub fn verb_for_filter(self) -> &'static str {
        match self {
            Transfer::Copy => "FCPY",
            Transfer::Move => "FMOV",
        }
    }

    /// The source folder tag that forbids it.
    pub fn forbidding_tag(self) -> &'static str {
        match self {
            Transfer::Copy => "NO-COPY",
            Transfer::Move => "NO-MOVE",
        }
    }
}

/// Copies or moves one item (`uid`) or all items (`None`) of the selected folder.
pub async fn run(
    gateway: &Gateway,
    account: &Account,
    selection: &Selection,
    uid: Option<(u32, &str)>,
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
    if source.collection.is_some() {
        let from = CollectionItems::of(gateway, account, &source)?;
        let to = CollectionItems::of(gateway, account, &target)?;
        return Ok(match uid {
            Some((uid, text)) => {
                let new_uid = super::collection::transfer::one(&from, &to, uid, text, transfer).await?;
                Reply::ok(format!("OK {verb} completed (UID {} in {})", ids::format(new_uid), target.path))
            }
            None => {
                let map = from.sync().await?;
                let uids: Vec<u32> = map.items.iter().map(|item| wire_uid(item.uid)).collect();
                let done = super::collection::transfer::many(&from, &to, &uids, transfer).await?;
                if done == uids.len() {
                    Reply::ok(format!("OK {verb} completed ({done} items)"))
                } else {
                    Reply::new(
                        ReplyCode::PartialOk,
                        format!("OK {verb} completed (only {done} from {} items)", uids.len()),
                    )
                }
            }
        });
    }
    let messages = Messages::of(gateway, account, &source).await?;
    if let Some((uid, text)) = uid {
        messages.require(uid, text).await?;
    }
    let uids = uid.map(|(uid, _)| vec![uid]);
    let pairs = match transfer {
        Transfer::Copy => messages.copy_to(uids.as_deref(), &target.upstream).await?,
        Transfer::Move => messages.move_to(uids.as_deref(), &target.upstream).await?,
    };
    Ok(match (uid, pairs.first()) {
        (Some(_), Some((_, new_uid))) => {
            Reply::ok(format!("OK {verb} completed (UID {} in {})", ids::format(u64::from(*new_uid)), target.path))
        }
        (None, _) => Reply::ok(format!("OK {verb} completed ({} items)", pairs.len())),
        _ => Reply::ok(format!("OK {verb} completed")),
    })
}

/// Splits `UID destination`.
pub fn uid_and_destination<'a>(verb: &str, argument: Option<&'a str>) -> AgapResult<(u32, &'a str, &'a str)> {
    let arguments = super::item::uid_arguments(verb, argument)?;
    if arguments.rest.is_empty() {
        return Err(AgapError::invalid(format!("{verb} needs a UID and a destination")));
    }
    Ok((arguments.uid, arguments.text, arguments.rest))
}
