//! Finding the messages of a mailbox that match a filter: the server answers what it can (IMAP
//! SEARCH), the core checks the candidates on minimal fetches, streamed one message at a time
//! (memory stays flat with the mailbox's size).

use agap_adapter_api::mail::{MailAccount, MailboxName};

use crate::error::AgapResult;
use crate::filter::{Filter, ItemView, mail_query, matches, query_is_open};
use crate::format::message::render_header_only;
use crate::ids;

use super::aliases::UidAliases;
use super::form::MailForm;

/// The AGAP UIDs of the messages of `mailbox` (rendered in `form`) that match `filter`,
/// ascending; `aliases` translates between them and IMAP UIDs (docs/interpretations.md,
/// DATT-KEEPS-UID).
pub async fn matching_messages(
    mail: &dyn MailAccount,
    mailbox: &MailboxName,
    form: MailForm,
    filter: &Filter,
    aliases: &UidAliases,
    max_size: usize,
) -> AgapResult<Vec<u32>> {
    // Header conditions narrow notes too (a note's SUBJECT is its Subject): the server's
    // answer is then a superset, checked on each candidate's rendering.
    let query = aliases.imap_query(mail_query(filter));
    let needs = form.fetch_needs(filter);
    // A query the backend cannot narrow at all is not sent: every message is a candidate.
    let found = if query_is_open(&query) { None } else { Some(mail.search(mailbox, &query).await?) };
    if let Some(found) = &found
        && found.exact
    {
        return Ok(aliases.agap_uids(found.uids.iter().copied()));
    }
    let mut matching = Vec::new();
    let mut check = |item: agap_adapter_api::query::FetchedItem| {
        let tree = if needs.whole {
            form.render(&item.data, max_size)
        } else if needs.header_fields.is_empty() {
            None
        } else {
            Some(render_header_only(&item.data))
        };
        let agap_uid = aliases.agap_uid(item.uid);
        let uid = ids::format(u64::from(agap_uid));
        if matches(filter, &ItemView { uid: &uid, tags: &item.tags, tree: tree.as_ref() }) {
            matching.push(agap_uid);
        }
    };
    mail.visit_items(mailbox, found.as_ref().map(|f| f.uids.as_slice()), &needs, &mut check).await?;
    matching.sort_unstable();
    Ok(matching)
}
