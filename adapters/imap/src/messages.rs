//! Messages of one mailbox over IMAP: UID SEARCH, FETCH, STORE, APPEND, COPY, MOVE and an
//! EXPUNGE that removes only the messages asked for (RFC 3501, 4315, 6851).

use agap_adapter_api::mail::{MailboxName, MessageUids};
use agap_adapter_api::query::{FetchNeeds, FetchedItem, Found, Query};
use agap_adapter_api::{AdapterError, AdapterErrorKind, AdapterResult};
use async_imap::imap_proto::{AttributeValue, MailboxDatum, Response};

use crate::account::ImapAccount;
use crate::connection::{ImapConnection, UidPlus, quote};
use crate::keywords;
use crate::search::{SearchContext, translate};

/// A compact UID set: `1:3,7,9:10`.
pub fn uid_set(uids: &[u32]) -> String {
    let mut sorted = uids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut parts = Vec::new();
    let mut index = 0;
    while index < sorted.len() {
        let start = sorted[index];
        let mut end = start;
        while index + 1 < sorted.len() && sorted[index + 1] == end + 1 {
            index += 1;
            end = sorted[index];
        }
        parts.push(if start == end { start.to_string() } else { format!("{start}:{end}") });
        index += 1;
    }
    parts.join(",")
}

/// The length of a partial FETCH that tells a message of `max_size` bytes from a larger one.
fn partial_octets(max_size: usize) -> usize {
    max_size.saturating_add(1).min(u32::MAX as usize)
}

fn fetched_uid(attributes: &[AttributeValue<'_>]) -> Option<u32> {
    attributes.iter().find_map(|attribute| match attribute {
        AttributeValue::Uid(uid) => Some(*uid),
        _ => None,
    })
}

/// The (source, new) UID pairs of COPYUID answers, for the UIDs that were sent only: a server
/// naming others (or a range of four billion) cannot make the gateway hold more pairs than it
/// asked about.
fn copied_pairs(codes: &[UidPlus], sent: &[u32]) -> Vec<(u32, u32)> {
    let mut sent = sent.to_vec();
    sent.sort_unstable();
    sent.dedup();
    let mut pairs = Vec::new();
    for code in codes {
        if let UidPlus::Copied(from, to) = code {
            let named = from.iter().zip(to.iter()).take(sent.len());
            pairs.extend(named.filter(|(source, _)| sent.binary_search(source).is_ok()));
        }
    }
    pairs.truncate(sent.len());
    pairs
}

async fn search_all(connection: &mut ImapConnection) -> AdapterResult<Vec<u32>> {
    let mut uids = Vec::new();
    connection
        .execute_with("UID SEARCH ALL", |response| {
            if let Response::MailboxData(MailboxDatum::Search(found)) = response {
                uids.extend_from_slice(found);
            }
        })
        .await?;
    uids.sort_unstable();
    Ok(uids)
}

/// Fetches one body section of one message.
async fn fetch_section(connection: &mut ImapConnection, uid: u32, section: &str) -> AdapterResult<Option<Vec<u8>>> {
    let mut body = None;
    connection
        .execute_with(&format!("UID FETCH {uid} (UID {section})"), |response| {
            if let Response::Fetch(_, attributes) = response
                && fetched_uid(attributes) == Some(uid)
            {
                for attribute in attributes {
                    // NIL is what a server answers for a message another client expunged that
                    // this connection has not been told of yet (Dovecot, with EXPUNGEISSUED):
                    // no message, not an empty one.
                    if let AttributeValue::BodySection { data: Some(data), .. } = attribute {
                        body = Some(data.to_vec());
                    }
                }
            }
        })
        .await?;
    Ok(body)
}

fn mentions_tag_by_name(query: &Query) -> bool {
    match query {
        Query::Tag { value: None, .. } => true,
        Query::And(children) | Query::Or(children) => children.iter().any(mentions_tag_by_name),
        Query::Not(child) => mentions_tag_by_name(child),
        _ => false,
    }
}

impl ImapAccount {
    pub(crate) async fn search_in(&self, mailbox: &MailboxName, query: &Query) -> AdapterResult<Found> {
        let wire = self.encode_name(mailbox)?;
        let facts = self.facts();
        let decodes_headers = facts.has("I18NLEVEL=1") || facts.has("I18NLEVEL=2") || facts.has("IMAP4REV2");
        let key_for = |mailbox_flags: &[String]| translate(query, &SearchContext { mailbox_flags, decodes_headers });
        let collect = |uids: &mut Vec<u32>, response: &Response<'_>| {
            if let Response::MailboxData(MailboxDatum::Search(found)) = response {
                uids.extend_from_slice(found);
            }
        };
        let mut connection = self.pool().checkout().await?;
        let mut uids = Vec::new();
        let (key, exact, answered) = if mentions_tag_by_name(query) {
            // A tag by name needs the mailbox's current keyword list, which only SELECT reports.
            // The search goes out behind the SELECT with the key the connection's last keyword
            // list gives; it stands if the fresh list gives the same key (nearly always), and is
            // run again with the right one otherwise.
            let (guess, _) = key_for(connection.selected_flags());
            connection
                .reselect_then(&wire, Some(&format!("UID SEARCH {guess}")), |response| collect(&mut uids, response))
                .await?;
            let (key, exact) = key_for(connection.selected_flags());
            let answered = key == guess;
            if !answered {
                uids.clear();
            }
            (key, exact, answered)
        } else {
            connection.select(&wire).await?;
            let (key, exact) = key_for(connection.selected_flags());
            (key, exact, false)
        };
        if !answered {
            connection.execute_with(&format!("UID SEARCH {key}"), |response| collect(&mut uids, response)).await?;
        }
        uids.sort_unstable();
        uids.dedup();
        Ok(Found { uids, exact })
    }

    pub(crate) async fn visit_items_of(
        &self,
        mailbox: &MailboxName,
        uids: Option<&[u32]>,
        needs: &FetchNeeds,
        visit: &mut (dyn FnMut(FetchedItem) + Send),
    ) -> AdapterResult<()> {
        let sets: Vec<String> = match uids {
            None => vec!["1:*".to_owned()],
            Some([]) => return Ok(()),
            // Bounded command lines: scattered UIDs make long sets.
            Some(uids) => uids.chunks(5000).map(uid_set).collect(),
        };
        let wire = self.encode_name(mailbox)?;
        let mut connection = self.pool().checkout().await?;
        connection.select(&wire).await?;
        let mut items = vec!["UID".to_owned()];
        if needs.tags {
            items.push("FLAGS".into());
        }
        // Whole messages are read only up to the gateway's item limit (a partial FETCH of one
        // byte more, RFC 3501 6.4.5): a larger one cannot be checked and is skipped below, so a
        // single huge message costs the limit, not its size.
        let limit = self.pool().settings().max_item_size;
        if needs.whole {
            items.push(format!("BODY.PEEK[]<0.{}>", partial_octets(limit)));
        } else if !needs.header_fields.is_empty() {
            let names: Vec<String> = needs.header_fields.iter().map(|f| quote(f)).collect();
            items.push(format!("BODY.PEEK[HEADER.FIELDS ({})]", names.join(" ")));
        }
        let items = items.join(" ");
        for set in sets {
            connection
                .execute_with(&format!("UID FETCH {set} ({items})"), |response| {
                    let Response::Fetch(_, attributes) = response else { return };
                    let Some(uid) = fetched_uid(attributes) else { return };
                    let mut item = FetchedItem { uid, tags: Vec::new(), data: Vec::new() };
                    for attribute in attributes {
                        match attribute {
                            AttributeValue::Flags(flags) => {
                                let flags: Vec<String> = flags.iter().map(|f| f.to_string()).collect();
                                item.tags = keywords::tags_of(&flags).into_iter().map(|(tag, _)| tag).collect();
                            }
                            AttributeValue::BodySection { data, .. } => {
                                let data = data.as_deref().unwrap_or_default();
                                if needs.whole && data.len() > limit {
                                    tracing::warn!(
                                        uid,
                                        limit,
                                        "message larger than the item limit is not read; it matches no filter on its content"
                                    );
                                    return;
                                }
                                item.data = data.to_vec()
                            }
                            _ => {}
                        }
                    }
                    visit(item);
                })
                .await?;
        }
        Ok(())
    }

    pub(crate) async fn uids_of(&self, mailbox: &MailboxName) -> AdapterResult<MessageUids> {
        let wire = self.encode_name(mailbox)?;
        let mut connection = self.pool().checkout().await?;
        connection.select(&wire).await?;
        let uids = search_all(&mut connection).await?;
        Ok(MessageUids { uid_validity: connection.selected_validity(), uids })
    }

    pub(crate) async fn flags_of(&self, mailbox: &MailboxName, uid: u32) -> AdapterResult<Option<Vec<String>>> {
        let wire = self.encode_name(mailbox)?;
        let mut connection = self.pool().checkout().await?;
        connection.select(&wire).await?;
        let mut flags = None;
        connection
            .execute_with(&format!("UID FETCH {uid} (UID FLAGS)"), |response| {
                if let Response::Fetch(_, attributes) = response
                    && fetched_uid(attributes) == Some(uid)
                {
                    for attribute in attributes {
                        if let AttributeValue::Flags(found) = attribute {
                            flags = Some(found.iter().map(|flag| flag.to_string()).collect());
                        }
                    }
                }
            })
            .await?;
        Ok(flags)
    }

    pub(crate) async fn change_flags_of(
        &self,
        mailbox: &MailboxName,
        uid: u32,
        add: &[String],
        remove: &[String],
    ) -> AdapterResult<bool> {
        let wire = self.encode_name(mailbox)?;
        let mut connection = self.pool().checkout().await?;
        connection.select(&wire).await?;
        let mut commands = Vec::new();
        if !remove.is_empty() {
            commands.push(format!("UID STORE {uid} -FLAGS.SILENT ({})", remove.join(" ")));
        }
        if !add.is_empty() {
            commands.push(format!("UID STORE {uid} +FLAGS.SILENT ({})", add.join(" ")));
        }
        // Storing to a UID that does not exist is no error in IMAP: the FETCH tells. The stores
        // are .SILENT, so any FETCH data naming the UID shows that the message exists (servers
        // may send it before or after the stores' tagged answers).
        commands.push(format!("UID FETCH {uid} (UID)"));
        let mut found = false;
        let outcomes = connection
            .execute_pipelined(&commands, |_, response| {
                if let Response::Fetch(_, attributes) = response {
                    found |= fetched_uid(attributes) == Some(uid);
                }
            })
            .await?;
        for outcome in outcomes {
            outcome?;
        }
        Ok(found)
    }

    /// The message, read with a partial fetch (RFC 3501 6.4.5, `<0.n>`) of one byte more than
    /// `max_size`: a larger message is known to be too large without being read whole.
    pub(crate) async fn fetch_of(
        &self,
        mailbox: &MailboxName,
        uid: u32,
        max_size: usize,
    ) -> AdapterResult<Option<Vec<u8>>> {
        let wire = self.encode_name(mailbox)?;
        let mut connection = self.pool().checkout().await?;
        connection.select(&wire).await?;
        let octets = partial_octets(max_size);
        let message = fetch_section(&mut connection, uid, &format!("BODY.PEEK[]<0.{octets}>")).await?;
        match message {
            Some(bytes) if bytes.len() > max_size => Err(AdapterError::new(
                AdapterErrorKind::TooLarge,
                format!("message {uid} is larger than the gateway's limit of {max_size} bytes"),
            )),
            message => Ok(message),
        }
    }

    pub(crate) async fn header_fields_of(
        &self,
        mailbox: &MailboxName,
        uid: u32,
        fields: &[String],
    ) -> AdapterResult<Option<Vec<u8>>> {
        let wire = self.encode_name(mailbox)?;
        let mut connection = self.pool().checkout().await?;
        connection.select(&wire).await?;
        let names: Vec<String> = fields.iter().map(|field| quote(field)).collect();
        fetch_section(&mut connection, uid, &format!("BODY.PEEK[HEADER.FIELDS ({})]", names.join(" "))).await
    }

    pub(crate) async fn append_to(
        &self,
        mailbox: &MailboxName,
        message: &[u8],
        flags: &[String],
    ) -> AdapterResult<Option<u32>> {
        let wire = self.encode_name(mailbox)?;
        let mut connection = self.pool().checkout().await?;
        let codes = connection.append(&wire, flags, message).await?;
        Ok(codes.into_iter().find_map(|code| match code {
            UidPlus::Appended(uids) => uids.iter().next(),
            UidPlus::Copied(..) => None,
        }))
    }

    pub(crate) async fn expunge_in(&self, mailbox: &MailboxName, uids: &[u32]) -> AdapterResult<()> {
        if uids.is_empty() {
            return Ok(());
        }
        let wire = self.encode_name(mailbox)?;
        let set = uid_set(uids);
        let mut connection = self.pool().checkout().await?;
        connection.select(&wire).await?;
        if connection.has_capability("UIDPLUS") {
            connection.execute(&format!("UID STORE {set} +FLAGS.SILENT (\\Deleted)")).await?;
            connection.execute(&format!("UID EXPUNGE {set}")).await?;
            return Ok(());
        }
        // Without UID EXPUNGE a plain EXPUNGE would also remove what other clients marked
        // \Deleted: lift their marks for the moment and put them back afterwards.
        let mut others = Vec::new();
        connection
            .execute_with("UID SEARCH DELETED", |response| {
                if let Response::MailboxData(MailboxDatum::Search(found)) = response {
                    others.extend(found.iter().filter(|uid| !uids.contains(uid)));
                }
            })
            .await?;
        let others = uid_set(&others);
        if !others.is_empty() {
            connection.execute(&format!("UID STORE {others} -FLAGS.SILENT (\\Deleted)")).await?;
        }
        connection.execute(&format!("UID STORE {set} +FLAGS.SILENT (\\Deleted)")).await?;
        let expunged = connection.execute("EXPUNGE").await;
        if !others.is_empty() {
            connection.execute(&format!("UID STORE {others} +FLAGS.SILENT (\\Deleted)")).await?;
        }
        expunged.map(|_| ())
    }

    pub(crate) async fn transfer(
        &self,
        from: &MailboxName,
        uids: Option<&[u32]>,
        to: &MailboxName,
        remove_source: bool,
    ) -> AdapterResult<Vec<(u32, u32)>> {
        let (source, target) = (self.encode_name(from)?, self.encode_name(to)?);
        let mut connection = self.pool().checkout().await?;
        connection.select(&source).await?;
        let uids = match uids {
            Some(uids) => uids.to_vec(),
            None => search_all(&mut connection).await?,
        };
        if uids.is_empty() {
            return Ok(Vec::new());
        }
        let set = uid_set(&uids);
        if remove_source && connection.has_capability("MOVE") {
            let codes = connection.execute(&format!("UID MOVE {set} {}", quote(&target))).await?;
            return Ok(copied_pairs(&codes, &uids));
        }
        let codes = connection.execute(&format!("UID COPY {set} {}", quote(&target))).await?;
        drop(connection);
        if remove_source {
            self.expunge_in(from, &uids).await?;
        }
        Ok(copied_pairs(&codes, &uids))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connection::UidSet;
    use async_imap::imap_proto::rfc4315::UidSetMember;

    #[test]
    fn uid_sets_are_compact_and_sorted() {
        assert_eq!(uid_set(&[5, 1, 2, 3, 9, 10, 7, 3]), "1:3,5,7,9:10");
        assert_eq!(uid_set(&[42]), "42");
        assert_eq!(uid_set(&[]), "");
    }

    fn copied(from: &[UidSetMember], to: &[UidSetMember]) -> UidPlus {
        UidPlus::Copied(UidSet::of(from), UidSet::of(to))
    }

    #[test]
    fn copyuid_pairs_cover_only_the_uids_sent() {
        use UidSetMember::{Uid, UidRange};
        let honest = copied(&[UidRange(4..=6)], &[UidRange(100..=102)]);
        assert_eq!(copied_pairs(&[honest], &[6, 4, 5]), vec![(4, 100), (5, 101), (6, 102)]);
        // A server answering with four billion UIDs costs as many pairs as were sent.
        let hostile = copied(&[UidRange(1..=u32::MAX)], &[UidRange(1..=u32::MAX)]);
        assert_eq!(copied_pairs(&[hostile], &[2, 3]), vec![(2, 2)]);
        let unrelated = copied(&[Uid(9)], &[Uid(10)]);
        assert_eq!(copied_pairs(&[unrelated], &[1]), Vec::new());
    }
}
