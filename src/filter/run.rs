//! Finding the items of a folder that match a filter: the backend answers what it can, the core
//! checks the candidates on minimal fetches, streamed one item at a time (memory stays flat
//! with the folder's size).

use agap_adapter_api::mail::{MailAccount, MailboxName};
use agap_adapter_api::query::Query;

use crate::error::AgapResult;
use crate::format::message::{render_header_only, render_message};
use crate::ids;

use super::eval::{ItemView, matches};
use super::plan::{fetch_needs, mail_query};
use super::tree::Filter;

/// The UIDs of the messages of `mailbox` that match `filter`, ascending.
pub async fn matching_messages(mail: &dyn MailAccount, mailbox: &MailboxName, filter: &Filter) -> AgapResult<Vec<u32>> {
    let query = mail_query(filter);
    let needs = fetch_needs(filter);
    // A query the backend cannot narrow at all is not sent: every message is a candidate.
    let found = if query_is_open(&query) { None } else { Some(mail.search(mailbox, &query).await?) };
    if let Some(found) = &found
        && found.exact
    {
        return Ok(found.uids.clone());
    }
    let mut matching = Vec::new();
    let mut check = |item: agap_adapter_api::query::FetchedItem| {
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
    };
    mail.visit_items(mailbox, found.as_ref().map(|f| f.uids.as_slice()), &needs, &mut check).await?;
    matching.sort_unstable();
    Ok(matching)
}

/// Whether the backend could narrow nothing down: only unknown conditions, joined in any way.
fn query_is_open(query: &Query) -> bool {
    match query {
        Query::Unknown => true,
        Query::And(children) => children.iter().all(query_is_open),
        Query::Or(children) => children.iter().any(query_is_open),
        Query::Not(child) => query_is_open(child),
        _ => false,
    }
}
