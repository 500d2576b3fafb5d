//! SPAM UID reason? (draft 4.36): a report about a message. It sets no tag (4.36;
//! docs/interpretations.md, SPAM-TAG); the report is logged, and optionally the message goes to
//! JUNK (`mail.spam_report`).

use crate::account::Account;
use crate::codec::Reply;
use crate::config::SpamReport;
use crate::error::AgapResult;
use crate::gateway::Gateway;
use crate::state::Selection;

use super::transfer::{Transfer, run};

/// Records the report.
pub async fn handle(
    gateway: &Gateway,
    account: &Account,
    selection: &Selection,
    uid: u32,
    reason: &str,
) -> AgapResult<Reply> {
    let folder = super::item::message_folder(selection)?.clone();
    crate::items::Messages::of(gateway, account, &folder).await?.require(uid).await?;
    tracing::info!(user = %account.user, folder = %selection.path, uid, reason, "spam report");
    if gateway.config.mail.spam_report == SpamReport::MoveToJunk
        && folder.reserved != Some(crate::folder::ReservedFolder::Junk)
    {
        run(gateway, account, selection, Some(uid), "/JUNK", Transfer::Move, super::item::PathForm::Absolute).await?;
    }
    Ok(Reply::ok("OK Message added to the spam database"))
}
