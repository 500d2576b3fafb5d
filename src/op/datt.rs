//! DATT UID AttNum (draft 4.16): deletes one attachment (numbered from 1 as in RETR). The
//! message is replaced upstream by a version without it, with the same flags, and keeps its UID
//! (docs/interpretations.md, DATT-KEEPS-UID). 0 or a non-number is 511
//! (docs/interpretations.md, DATT-ZERO, Fig 71), past the last attachment 521; nothing changes
//! then.

use crate::account::Account;
use crate::codec::Reply;
use crate::error::{AgapError, AgapResult};
use crate::format::datt::{Removal, remove_attachment};
use crate::gateway::Gateway;
use crate::ids;
use crate::items::messages::{Messages, Replaced};
use crate::state::Selection;

/// Removes the attachment.
pub async fn handle(
    gateway: &Gateway,
    account: &Account,
    selection: &Selection,
    uid: u32,
    number: usize,
) -> AgapResult<Reply> {
    let folder = super::item::message_folder(selection)?.clone();
    super::item::check_source_allows(&folder, "READ-ONLY")?;
    let messages = Messages::of(gateway, account, &folder).await?;
    let raw = messages.fetch(uid, gateway.config.mail.max_item_size).await?;
    let new = match remove_attachment(&raw, number, &messages.compose_defaults()) {
        Removal::Removed(new) => new,
        Removal::NoSuchAttachment(count) => {
            return Err(AgapError::not_found(format!("There are not so many attachments ({count})")));
        }
        Removal::Unparseable => return Err(AgapError::invalid(format!("message {uid} cannot be parsed"))),
    };
    Ok(match messages.replace(uid, &new).await? {
        Replaced::KeepsUid => Reply::ok("OK Attachment deleted"),
        Replaced::NewUid(Some(new_uid)) => {
            Reply::ok(format!("OK Attachment deleted; the message has the new UID {}", ids::format(u64::from(new_uid))))
        }
        Replaced::NewUid(None) => Reply::ok("OK Attachment deleted; the message has a new UID"),
    })
}
