//! FIND (draft 4.22): after 110, the filter lines up to an empty line; the UIDs that match.
//! This release evaluates the empty filter (every item, 7.5); the filter language of 4.3.1
//! follows with its own release, until then any rule is 511.

use crate::account::Account;
use crate::codec::{Reply, ReplyCode};
use crate::error::{AgapError, AgapResult};
use crate::gateway::Gateway;
use crate::ids;
use crate::session::{Content, ContentKind, Selection};

/// Accepts FIND and asks for the filter.
pub async fn begin(gateway: &Gateway, selection: &Selection, argument: Option<&str>) -> AgapResult<(Reply, Content)> {
    super::expect_no_argument("FIND", argument)?;
    super::item::items_folder(selection)?;
    let reply = Reply::new(ReplyCode::Continue, "OK SEND filter definition (end it with an empty line)");
    Ok((reply, Content::new(ContentKind::Find, gateway.config.server.max_line_length * 256)))
}

/// Evaluates the filter.
pub async fn finish(account: &Account, selection: &Selection, filter: Vec<String>) -> AgapResult<Reply> {
    if filter.iter().any(|line| !line.trim().is_empty()) {
        return Err(AgapError::invalid("INVALID filter definition: only the empty filter is supported yet"));
    }
    let folder = super::item::items_folder(selection)?.clone();
    let found = account.mail.message_uids(&folder.upstream).await?;
    let lines: Vec<String> = found.uids.iter().map(|uid| ids::format(u64::from(*uid))).collect();
    let count = lines.len();
    Ok(Reply::ok(format!("OK FIND completed ({count} {})", if count == 1 { "match" } else { "matches" }))
        .with_lines(lines))
}
