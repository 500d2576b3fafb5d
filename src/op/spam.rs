//! SPAM UID reason? (draft 4.36): a report about a message. It sets no tag (4.36, AMBIGUITIES
//! C); the report is logged, and optionally the message goes to JUNK (`mail.spam_report`).

use crate::account::Account;
use crate::codec::Reply;
use crate::config::SpamReport;
use crate::error::{AgapError, AgapResult};
use crate::folder::FolderPath;
use crate::gateway::Gateway;

use super::transfer::{Transfer, run};

/// Records the report.
pub async fn handle(
    gateway: &Gateway,
    account: &Account,
    selected: &FolderPath,
    argument: Option<&str>,
) -> AgapResult<Reply> {
    let argument = super::require_argument("SPAM", argument)?;
    let (uid_text, reason) = argument.split_once(' ').unwrap_or((argument, ""));
    let uid = super::item::parse_uid(uid_text)?;
    if reason.chars().any(char::is_control) {
        return Err(AgapError::invalid("invalid reason"));
    }
    let (_, folder) = super::item::selected_items(gateway, account, selected).await?;
    super::item::require_message(account, &folder, uid, uid_text).await?;
    tracing::info!(user = %account.user, folder = %selected, uid, reason, "spam report");
    if gateway.config.mail.spam_report == SpamReport::MoveToJunk && selected.to_string() != "/JUNK" {
        run(
            gateway,
            account,
            selected,
            Some((uid, uid_text)),
            "/JUNK",
            Transfer::Move,
            super::item::PathForm::Absolute,
        )
        .await?;
    }
    Ok(Reply::ok("OK Message added to the spam database"))
}
