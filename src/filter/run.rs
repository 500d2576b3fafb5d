//! Finding the items of a folder that match a filter: the backend answers what it can, the core
//! checks the candidates on minimal fetches, in bounded batches (memory stays flat with the
//! folder's size).

use agap_adapter_api::mail::{MailAccount, MailboxName};

use crate::error::AgapResult;
use crate::format::message::{render_header_only, render_message};
use crate::ids;

use super::eval::{ItemView, matches};
use super::plan::{fetch_needs, mail_query};
use super::tree::Filter;

/// Candidates checked per fetch.
const BATCH: usize = 500;

/// The UIDs of the messages of `mailbox` that match `filter`, ascending.
pub async fn matching_messages(mail: &dyn MailAccount, mailbox: &MailboxName, filter: &Filter) -> AgapResult<Vec<u32>> {
    let found = mail.search(mailbox, &mail_query(filter)).await?;
    if found.exact {
        return Ok(found.uids);
    }
    let needs = fetch_needs(filter);
    let mut matching = Vec::new();
    for batch in found.uids.chunks(BATCH) {
        let items = mail.fetch_items(mailbox, batch, &needs).await?;
        for item in items {
            let tree = if needs.whole {
                render_message(&item.data)
            } else if needs.header_fields.is_empty() {
                None
            } else {
                Some(render_header_only(&item.data))
            };
            let uid = ids::format(u64::from(item.uid));
            if matches(filter, &ItemView { uid: &uid, tags: &item.tags, tree: tree.as_ref() }) {
                matching.push(item.uid);
            }
        }
    }
    Ok(matching)
}
