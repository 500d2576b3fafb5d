//! One user's mailboxes over IMAP: LIST, STATUS, CREATE, RENAME, DELETE (RFC 3501, 6154, 5258).

use std::sync::Arc;

use agap_adapter_api::mail::{
    Annotation, AnnotationDepth, AnnotationLimits, MAX_ANNOTATION_VALUE, MailAccount, MailCapabilities, MailboxInfo,
    MailboxName, MailboxStatus, MessageUids, SpecialUse,
};
use agap_adapter_api::query::{FetchNeeds, FetchedItem, Found, Query};
use agap_adapter_api::tags::{Tag, TagChange};
use agap_adapter_api::{AdapterError, AdapterErrorKind, AdapterResult};
use async_imap::imap_proto::{MailboxDatum, NameAttribute, Response, StatusAttribute};
use async_trait::async_trait;

use crate::connection::quote;
use crate::pool::{ServerFacts, UserPool};
use crate::{keywords, utf7};

/// The most mailboxes one account may have.
const MAX_MAILBOXES: usize = 100_000;

/// A handle on one user's account; it borrows pooled connections per operation.
#[derive(Debug)]
pub struct ImapAccount {
    pool: Arc<UserPool>,
}

impl ImapAccount {
    pub(crate) fn new(pool: Arc<UserPool>) -> Self {
        Self { pool }
    }

    pub(crate) fn pool(&self) -> &Arc<UserPool> {
        &self.pool
    }

    pub(crate) fn facts(&self) -> ServerFacts {
        self.pool.facts().unwrap_or(ServerFacts {
            delimiter: Some('/'),
            capabilities: Vec::new(),
            vendor_annotations: false,
        })
    }

    /// The wire form of a name: each level in modified UTF-7, joined by the server's separator.
    pub(crate) fn encode_name(&self, name: &MailboxName) -> AdapterResult<String> {
        let delimiter = self.facts().delimiter;
        if delimiter.is_none() && name.levels().len() > 1 {
            return Err(AdapterError::new(AdapterErrorKind::Refused, "the IMAP server has no folder hierarchy"));
        }
        let mut levels = Vec::with_capacity(name.levels().len());
        for level in name.levels() {
            if let Some(separator) = delimiter.filter(|separator| level.contains(*separator)) {
                return Err(AdapterError::new(
                    AdapterErrorKind::Refused,
                    format!(
                        "the IMAP server uses '{separator}' as its hierarchy separator; it cannot appear in a name"
                    ),
                ));
            }
            levels.push(utf7::encode(level));
        }
        Ok(levels.join(&delimiter.map(String::from).unwrap_or_default()))
    }

    fn decode_name(wire: &str, delimiter: Option<char>) -> Option<MailboxName> {
        let levels: Option<Vec<String>> = match delimiter {
            Some(separator) => wire.split(separator).map(utf7::decode).collect(),
            None => utf7::decode(wire).map(|level| vec![level]),
        };
        levels.map(MailboxName::new)
    }

    /// Subscription keeps mail clients that show only subscribed folders in step with AGAP;
    /// a server refusing it changes nothing for AGAP, so failures are only logged.
    async fn set_subscribed(&self, wire: &str, subscribed: bool) {
        let verb = if subscribed { "SUBSCRIBE" } else { "UNSUBSCRIBE" };
        let result = match self.pool.checkout().await {
            Ok(mut lease) => lease.execute(&format!("{verb} {}", quote(wire))).await,
            Err(error) => Err(error),
        };
        if let Err(error) = result {
            tracing::debug!(mailbox = wire, %error, "{verb} failed");
        }
    }
}

fn special_use_of(attribute: &NameAttribute<'_>) -> Option<SpecialUse> {
    match attribute {
        NameAttribute::Sent => Some(SpecialUse::Sent),
        NameAttribute::Drafts => Some(SpecialUse::Drafts),
        NameAttribute::Trash => Some(SpecialUse::Trash),
        NameAttribute::Junk => Some(SpecialUse::Junk),
        NameAttribute::Archive => Some(SpecialUse::Archive),
        NameAttribute::All => Some(SpecialUse::All),
        NameAttribute::Flagged => Some(SpecialUse::Flagged),
        // Some servers (Cyrus) spell special uses in lower case, which imap-proto leaves as extensions.
        NameAttribute::Extension(other) => match other.to_ascii_lowercase().as_str() {
            "\\sent" => Some(SpecialUse::Sent),
            "\\drafts" => Some(SpecialUse::Drafts),
            "\\trash" => Some(SpecialUse::Trash),
            "\\junk" => Some(SpecialUse::Junk),
            "\\archive" => Some(SpecialUse::Archive),
            "\\all" => Some(SpecialUse::All),
            "\\flagged" => Some(SpecialUse::Flagged),
            _ => None,
        },
        _ => None,
    }
}

fn is_unselectable(attribute: &NameAttribute<'_>) -> bool {
    match attribute {
        NameAttribute::NoSelect => true,
        NameAttribute::Extension(other) => other.eq_ignore_ascii_case("\\NonExistent"),
        _ => false,
    }
}

/// Refuses an annotation entry name that is not `/private/...` or `/shared/...` made of
/// non-empty components of visible ASCII: whatever the caller checked, nothing else reaches the
/// command line (nor `*` and `%`, which RFC 5464 reserves, nor quotes, which imap-proto reads
/// back differently).
fn check_entry_name(entry: &str) -> AdapterResult<()> {
    let rest = entry.strip_prefix("/private/").or_else(|| entry.strip_prefix("/shared/"));
    let valid = rest.is_some_and(|rest| {
        rest.split('/').all(|component| {
            !component.is_empty()
                && component.bytes().all(|b| (0x21..0x7f).contains(&b) && !matches!(b, b'*' | b'%' | b'"' | b'\\'))
        })
    });
    if valid {
        Ok(())
    } else {
        Err(AdapterError::new(AdapterErrorKind::Refused, format!("not a valid annotation entry name: {entry:?}")))
    }
}

fn special_use_atom(special_use: SpecialUse) -> &'static str {
    match special_use {
        SpecialUse::Sent => "\\Sent",
        SpecialUse::Drafts => "\\Drafts",
        SpecialUse::Trash => "\\Trash",
        SpecialUse::Junk => "\\Junk",
        SpecialUse::Archive => "\\Archive",
        SpecialUse::All => "\\All",
        SpecialUse::Flagged => "\\Flagged",
    }
}

#[async_trait]
impl MailAccount for ImapAccount {
    fn capabilities(&self) -> MailCapabilities {
        let facts = self.facts();
        MailCapabilities {
            special_use: facts.has("SPECIAL-USE"),
            create_special_use: facts.has("CREATE-SPECIAL-USE"),
            move_command: facts.has("MOVE"),
            uidplus: facts.has("UIDPLUS"),
            metadata: facts.has("METADATA") && facts.vendor_annotations,
        }
    }

    async fn list_mailboxes(&self) -> AdapterResult<Vec<MailboxInfo>> {
        let facts = self.facts();
        // RFC 6154 only guarantees special-use attributes with RETURN (SPECIAL-USE).
        let command = if facts.has("LIST-EXTENDED") && facts.has("SPECIAL-USE") {
            "LIST \"\" \"*\" RETURN (SPECIAL-USE)"
        } else {
            "LIST \"\" \"*\""
        };
        let mut mailboxes = Vec::new();
        let mut too_many = false;
        self.pool
            .checkout()
            .await?
            .execute_with(command, |response| {
                let Response::MailboxData(MailboxDatum::List(list)) = response else { return };
                if mailboxes.len() >= MAX_MAILBOXES {
                    too_many = true;
                    return;
                }
                let delimiter = list.delimiter.as_ref().and_then(|d| d.chars().next()).or(facts.delimiter);
                let Some(name) = Self::decode_name(&list.name, delimiter) else {
                    tracing::warn!(mailbox = %list.name, "mailbox name is not valid modified UTF-7; not shown");
                    return;
                };
                mailboxes.push(MailboxInfo {
                    name,
                    special_use: list.name_attributes.iter().find_map(special_use_of),
                    selectable: !list.name_attributes.iter().any(is_unselectable),
                });
            })
            .await?;
        if too_many {
            // Bounds what a server can make the gateway hold for one LIST; no real account
            // comes near it.
            return Err(AdapterError::new(
                AdapterErrorKind::Protocol,
                format!("IMAP server listed more than {MAX_MAILBOXES} mailboxes"),
            ));
        }
        Ok(mailboxes)
    }

    async fn mailbox_status(&self, name: &MailboxName) -> AdapterResult<MailboxStatus> {
        let mut statuses = self.mailbox_statuses(std::slice::from_ref(name)).await?;
        statuses.pop().ok_or_else(|| AdapterError::new(AdapterErrorKind::Protocol, "no STATUS answer"))
    }

    async fn mailbox_statuses(&self, names: &[MailboxName]) -> AdapterResult<Vec<MailboxStatus>> {
        let wires = names.iter().map(|name| self.encode_name(name)).collect::<AdapterResult<Vec<String>>>()?;
        let commands: Vec<String> =
            wires.iter().map(|wire| format!("STATUS {} (MESSAGES UIDNEXT UIDVALIDITY UNSEEN)", quote(wire))).collect();
        let mut statuses: Vec<Option<MailboxStatus>> = vec![None; names.len()];
        let outcomes = self
            .pool
            .checkout()
            .await?
            .execute_pipelined(&commands, |_, response| {
                // Attributed by the mailbox it names: servers need not answer pipelined commands
                // strictly in turn.
                let Response::MailboxData(MailboxDatum::Status { mailbox, status: attributes }) = response else {
                    return;
                };
                let named = |wire: &String| {
                    wire == mailbox || (wire.eq_ignore_ascii_case("INBOX") && mailbox.eq_ignore_ascii_case("INBOX"))
                };
                let Some(index) = wires.iter().position(named) else { return };
                let status = statuses[index].get_or_insert(MailboxStatus {
                    uid_validity: 0,
                    uid_next: 0,
                    messages: 0,
                    unseen: 0,
                });
                for attribute in attributes {
                    match *attribute {
                        StatusAttribute::Messages(n) => status.messages = n,
                        StatusAttribute::UidNext(n) => status.uid_next = n,
                        StatusAttribute::UidValidity(n) => status.uid_validity = n,
                        StatusAttribute::Unseen(n) => status.unseen = n,
                        _ => {}
                    }
                }
            })
            .await?;
        let mut result = Vec::with_capacity(names.len());
        for ((outcome, status), name) in outcomes.into_iter().zip(statuses).zip(names) {
            outcome?;
            result.push(status.ok_or_else(|| {
                AdapterError::new(AdapterErrorKind::Protocol, format!("no STATUS data for {name:?}"))
            })?);
        }
        Ok(result)
    }

    async fn create_mailbox(&self, name: &MailboxName, special_use: Option<SpecialUse>) -> AdapterResult<()> {
        let wire = self.encode_name(name)?;
        let command = match special_use {
            Some(special_use) if self.facts().has("CREATE-SPECIAL-USE") => {
                format!("CREATE {} (USE ({}))", quote(&wire), special_use_atom(special_use))
            }
            _ => format!("CREATE {}", quote(&wire)),
        };
        self.pool.checkout().await?.execute(&command).await?;
        self.set_subscribed(&wire, true).await;
        Ok(())
    }

    async fn hide_mailbox(&self, name: &MailboxName) -> AdapterResult<()> {
        self.set_subscribed(&self.encode_name(name)?, false).await;
        Ok(())
    }

    async fn annotations(&self, mailbox: Option<&MailboxName>, entries: &[&str]) -> AdapterResult<Vec<Annotation>> {
        let wire = match mailbox {
            Some(name) => self.encode_name(name)?,
            None => String::new(),
        };
        for entry in entries {
            check_entry_name(entry)?;
        }
        let names: Vec<String> = entries.iter().map(|entry| quote(entry)).collect();
        let command = format!("GETMETADATA (DEPTH infinity) {} ({})", quote(&wire), names.join(" "));
        let mut found = Vec::new();
        self.pool
            .checkout()
            .await?
            .execute_with(&command, |response| {
                if let Response::MailboxData(MailboxDatum::MetadataSolicited { values, .. }) = response {
                    found.extend(values.iter().filter_map(|metadata| {
                        let value = metadata.value.clone()?;
                        Some(Annotation { entry: metadata.entry.clone(), value })
                    }));
                }
            })
            .await?;
        Ok(found)
    }

    async fn bounded_annotations(
        &self,
        entries: &[&str],
        depth: AnnotationDepth,
        limits: AnnotationLimits,
    ) -> AdapterResult<Vec<Annotation>> {
        for entry in entries {
            check_entry_name(entry)?;
        }
        let names: Vec<String> = entries.iter().map(|entry| quote(entry)).collect();
        let depth = match depth {
            AnnotationDepth::Zero => "0",
            AnnotationDepth::One => "1",
        };
        // RFC 5464 4.2.1 and 4.2.2: the server leaves out longer values and deeper entries.
        let command = format!("GETMETADATA (MAXSIZE {} DEPTH {depth}) \"\" ({})", limits.max_value, names.join(" "));
        let mut found = Vec::new();
        let mut too_many = false;
        self.pool
            .checkout()
            .await?
            .execute_with(&command, |response| {
                let Response::MailboxData(MailboxDatum::MetadataSolicited { values, .. }) = response else { return };
                for metadata in values {
                    let Some(value) = &metadata.value else { continue };
                    // A server that ignores MAXSIZE: what it should have left out stays out.
                    if value.len() > limits.max_value {
                        continue;
                    }
                    if found.len() >= limits.max_entries {
                        too_many = true;
                        return;
                    }
                    found.push(Annotation { entry: metadata.entry.clone(), value: value.clone() });
                }
            })
            .await?;
        if too_many {
            return Err(AdapterError::new(
                AdapterErrorKind::Protocol,
                format!("the IMAP server sent more than {} annotations for one read", limits.max_entries),
            ));
        }
        Ok(found)
    }

    async fn set_annotations(
        &self,
        mailbox: Option<&MailboxName>,
        changes: &[(String, Option<String>)],
    ) -> AdapterResult<()> {
        if changes.is_empty() {
            return Ok(());
        }
        let wire = match mailbox {
            Some(name) => self.encode_name(name)?,
            None => String::new(),
        };
        let mut pairs = Vec::with_capacity(changes.len());
        for (entry, value) in changes {
            check_entry_name(entry)?;
            let value = match value {
                Some(value) if value.len() > MAX_ANNOTATION_VALUE => {
                    return Err(AdapterError::new(
                        AdapterErrorKind::TooLarge,
                        format!("an annotation value holds at most {MAX_ANNOTATION_VALUE} bytes"),
                    ));
                }
                Some(value) if value.bytes().all(|b| (0x20..0x7f).contains(&b)) => quote(value),
                Some(_) => {
                    return Err(AdapterError::new(
                        AdapterErrorKind::Refused,
                        "annotation values must be printable ASCII",
                    ));
                }
                None => "NIL".to_owned(),
            };
            pairs.push(format!("{} {value}", quote(entry)));
        }
        self.pool.checkout().await?.execute(&format!("SETMETADATA {} ({})", quote(&wire), pairs.join(" "))).await?;
        Ok(())
    }

    async fn mailbox_rights(&self, name: &MailboxName) -> AdapterResult<Option<String>> {
        if !self.facts().has("ACL") {
            return Ok(None);
        }
        let wire = self.encode_name(name)?;
        let mut rights = None;
        self.pool
            .checkout()
            .await?
            .execute_with(&format!("MYRIGHTS {}", quote(&wire)), |response| {
                if let Response::MyRights(found) = response {
                    rights = Some(found.rights.iter().map(|right| char::from(*right)).collect::<String>());
                }
            })
            .await?;
        Ok(rights)
    }

    async fn rename_mailbox(&self, from: &MailboxName, to: &MailboxName) -> AdapterResult<()> {
        let (old, new) = (self.encode_name(from)?, self.encode_name(to)?);
        let mut connection = self.pool.checkout().await?;
        connection.forget_selection();
        connection.execute(&format!("RENAME {} {}", quote(&old), quote(&new))).await?;
        drop(connection);
        self.set_subscribed(&old, false).await;
        self.set_subscribed(&new, true).await;
        Ok(())
    }

    async fn delete_mailbox(&self, name: &MailboxName) -> AdapterResult<()> {
        let wire = self.encode_name(name)?;
        let mut connection = self.pool.checkout().await?;
        connection.forget_selection();
        connection.execute(&format!("DELETE {}", quote(&wire))).await?;
        drop(connection);
        self.set_subscribed(&wire, false).await;
        Ok(())
    }

    async fn message_uids(&self, mailbox: &MailboxName) -> AdapterResult<MessageUids> {
        self.uids_of(mailbox).await
    }

    async fn search(&self, mailbox: &MailboxName, query: &Query) -> AdapterResult<Found> {
        self.search_in(mailbox, query).await
    }

    async fn visit_items(
        &self,
        mailbox: &MailboxName,
        uids: Option<&[u32]>,
        needs: &FetchNeeds,
        visit: &mut (dyn FnMut(FetchedItem) + Send),
    ) -> AdapterResult<()> {
        self.visit_items_of(mailbox, uids, needs, visit).await
    }

    async fn message_tags(&self, mailbox: &MailboxName, uid: u32) -> AdapterResult<Option<Vec<Tag>>> {
        let flags = self.flags_of(mailbox, uid).await?;
        Ok(flags.map(|flags| keywords::tags_of(&flags).into_iter().map(|(tag, _)| tag).collect()))
    }

    async fn change_message_tags(&self, mailbox: &MailboxName, uid: u32, change: &TagChange) -> AdapterResult<bool> {
        let Some(flags) = self.flags_of(mailbox, uid).await? else { return Ok(false) };
        let current = keywords::tags_of(&flags);
        let wanted = change.apply(&current.iter().map(|(tag, _)| tag.clone()).collect::<Vec<_>>());
        let remove: Vec<String> = current
            .iter()
            .filter(|(tag, _)| !wanted.contains(tag))
            .flat_map(|(_, carriers)| carriers.clone())
            .collect();
        let add: Vec<String> = wanted
            .iter()
            .filter(|tag| !current.iter().any(|(have, _)| have == *tag))
            .flat_map(keywords::flags_for)
            .collect();
        if add.is_empty() && remove.is_empty() {
            return Ok(true);
        }
        self.change_flags_of(mailbox, uid, &add, &remove).await
    }

    async fn fetch_message(&self, mailbox: &MailboxName, uid: u32, max_size: usize) -> AdapterResult<Option<Vec<u8>>> {
        self.fetch_of(mailbox, uid, max_size).await
    }

    async fn fetch_header_fields(
        &self,
        mailbox: &MailboxName,
        uid: u32,
        fields: &[String],
    ) -> AdapterResult<Option<Vec<u8>>> {
        self.header_fields_of(mailbox, uid, fields).await
    }

    async fn append_message(
        &self,
        mailbox: &MailboxName,
        message: &[u8],
        flags: &[String],
    ) -> AdapterResult<Option<u32>> {
        self.append_to(mailbox, message, flags).await
    }

    async fn replace_message(&self, mailbox: &MailboxName, uid: u32, message: &[u8]) -> AdapterResult<Option<u32>> {
        let Some(flags) = self.flags_of(mailbox, uid).await? else {
            return Err(AdapterError::new(AdapterErrorKind::NotFound, format!("no message with UID {uid}")));
        };
        // \Recent is the server's to set; \Deleted would hide the new version.
        let kept: Vec<String> = flags
            .into_iter()
            .filter(|f| !f.eq_ignore_ascii_case("\\Recent") && !f.eq_ignore_ascii_case("\\Deleted"))
            .collect();
        let new_uid = self.append_to(mailbox, message, &kept).await?;
        self.expunge_in(mailbox, &[uid]).await?;
        Ok(new_uid)
    }

    async fn expunge_messages(&self, mailbox: &MailboxName, uids: &[u32]) -> AdapterResult<()> {
        self.expunge_in(mailbox, uids).await
    }

    async fn copy_messages(
        &self,
        from: &MailboxName,
        uids: Option<&[u32]>,
        to: &MailboxName,
    ) -> AdapterResult<Vec<(u32, u32)>> {
        self.transfer(from, uids, to, false).await
    }

    async fn move_messages(
        &self,
        from: &MailboxName,
        uids: Option<&[u32]>,
        to: &MailboxName,
    ) -> AdapterResult<Vec<(u32, u32)>> {
        self.transfer(from, uids, to, true).await
    }
}

#[cfg(test)]
mod tests {
    use agap_adapter_api::Credentials;
    use agap_adapter_api::mail::MailBackend;

    use super::*;
    use crate::scripted::{scripted_server, scripted_server_with};
    use crate::{ImapBackend, ImapSettings};

    #[test]
    fn names_decode_level_by_level() {
        let name = ImapAccount::decode_name("Archiv/&AOQ-lter", Some('/')).expect("valid");
        assert_eq!(name.levels(), ["Archiv", "älter"]);
        let dotted = ImapAccount::decode_name("a.b", Some('.')).expect("valid");
        assert_eq!(dotted.levels(), ["a", "b"]);
        assert!(ImapAccount::decode_name("bad&", Some('/')).is_none());
    }

    #[test]
    fn lower_case_special_uses_are_recognised() {
        assert_eq!(special_use_of(&NameAttribute::Extension("\\sent".into())), Some(SpecialUse::Sent));
        assert_eq!(special_use_of(&NameAttribute::Sent), Some(SpecialUse::Sent));
        assert_eq!(special_use_of(&NameAttribute::Marked), None);
    }

    /// A bounded read from a scripted server that sends three annotations, one of them longer
    /// than MAXSIZE asked for.
    async fn bounded_read(max_entries: usize) -> (AdapterResult<Vec<Annotation>>, Vec<String>) {
        let (port, mut lines) = scripted_server_with("IMAP4rev1 METADATA", move |tag, command| {
            let data = if command.starts_with("GETMETADATA") {
                "* METADATA \"\" (/private/vendor/x/a \"1\" /private/vendor/x/b \"toolong\" /private/vendor/x/c \"22\")\r\n"
            } else if command.starts_with("LIST") {
                "* LIST () \"/\" \"\"\r\n"
            } else {
                ""
            };
            format!("{data}{tag} OK done\r\n")
        })
        .await;
        let backend = ImapBackend::new(ImapSettings { port, ..ImapSettings::default() });
        let account = backend.login(&Credentials::new("user", "password")).await.expect("login");
        let limits = AnnotationLimits { max_value: 3, max_entries };
        let found = account.bounded_annotations(&["/private/vendor/x"], AnnotationDepth::One, limits).await;
        let mut sent = Vec::new();
        while let Ok(line) = lines.try_recv() {
            sent.push(line);
        }
        (found, sent)
    }

    #[tokio::test]
    async fn bounded_reads_ask_for_the_bounds_and_keep_to_them_whatever_the_server_sends() {
        let (found, sent) = bounded_read(2).await;
        let found = found.expect("within bounds");
        let entries: Vec<(&str, &str)> = found.iter().map(|a| (a.entry.as_str(), a.value.as_str())).collect();
        assert_eq!(
            entries,
            [("/private/vendor/x/a", "1"), ("/private/vendor/x/c", "22")],
            "the long value is left out"
        );
        assert!(
            sent.iter().any(|line| line.ends_with("GETMETADATA (MAXSIZE 3 DEPTH 1) \"\" (\"/private/vendor/x\")")),
            "{sent:?}"
        );
        let (too_many, _) = bounded_read(1).await;
        assert_eq!(too_many.expect_err("more entries than allowed").kind(), AdapterErrorKind::Protocol);
    }

    /// Logs in to a scripted server announcing METADATA that answers SETMETADATA with `answer`.
    async fn metadata_capability_after(answer: &'static str) -> bool {
        let (port, _lines) = scripted_server_with("IMAP4rev1 METADATA", move |tag, command| {
            let reply = if command.starts_with("SETMETADATA") { answer } else { "OK done" };
            let listing = if command.starts_with("LIST") { "* LIST () \"/\" \"\"\r\n" } else { "" };
            format!("{listing}{tag} {reply}\r\n")
        })
        .await;
        let backend = ImapBackend::new(ImapSettings { port, ..ImapSettings::default() });
        let account = backend.login(&Credentials::new("user", "password")).await.expect("login");
        account.capabilities().metadata
    }

    #[tokio::test]
    async fn records_stay_upstream_only_where_the_server_lets_the_user_write_them() {
        assert!(metadata_capability_after("OK done").await);
        assert!(!metadata_capability_after("NO Permission denied").await, "Cyrus without a definition");
        assert!(!metadata_capability_after("BAD unknown entry").await);
    }

    #[tokio::test]
    async fn a_server_listing_more_mailboxes_than_any_account_has_is_refused() {
        let (port, _lines) = scripted_server(|tag, command| {
            let mut reply = String::new();
            if command.starts_with("LIST \"\" \"*\"") {
                for index in 0..=MAX_MAILBOXES {
                    reply.push_str(&format!("* LIST () \"/\" box{index}\r\n"));
                }
            } else if command.starts_with("LIST") {
                reply.push_str("* LIST (\\Noselect) \"/\" \"\"\r\n");
            }
            reply + &format!("{tag} OK done\r\n")
        })
        .await;
        let backend = ImapBackend::new(ImapSettings { port, ..ImapSettings::default() });
        let account = backend.login(&Credentials::new("user", "password")).await.expect("login");
        let refused = account.list_mailboxes().await.expect_err("too many");
        assert_eq!(refused.kind(), AdapterErrorKind::Protocol);
        assert!(refused.reason().contains(&MAX_MAILBOXES.to_string()), "{refused}");
    }

    #[tokio::test]
    async fn a_body_answered_nil_is_no_message() {
        let (port, _lines) = scripted_server(|tag, command| {
            let mut reply = String::new();
            if command.starts_with("LIST") {
                reply.push_str("* LIST (\\Noselect) \"/\" \"\"\r\n");
            } else if command.starts_with("SELECT") {
                reply.push_str("* 1 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n");
            } else if command.starts_with("UID FETCH 1 ") {
                reply.push_str("* 1 FETCH (UID 1 BODY[]<0> NIL)\r\n* 1 EXPUNGE\r\n");
            } else if command.starts_with("UID FETCH 2 ") {
                reply.push_str("* 1 FETCH (UID 2 BODY[]<0> {2}\r\nhi)\r\n");
            }
            reply + &format!("{tag} OK done\r\n")
        })
        .await;
        let backend = ImapBackend::new(ImapSettings { port, ..ImapSettings::default() });
        let account = backend.login(&Credentials::new("user", "password")).await.expect("login");
        let inbox = MailboxName::new(vec!["INBOX".to_owned()]);
        assert_eq!(account.fetch_message(&inbox, 1, 100).await.expect("answered"), None, "expunged elsewhere");
        assert_eq!(account.fetch_message(&inbox, 2, 100).await.expect("answered").as_deref(), Some(&b"hi"[..]));
    }

    #[test]
    fn entry_names_that_could_break_the_command_line_are_refused() {
        assert!(check_entry_name("/private/vendor/agap-gateway/folder/61/62").is_ok());
        assert!(check_entry_name("/shared/comment").is_ok());
        for bad in [
            "",
            "/private",
            "/private/",
            "/other/x",
            "/private/a//b",
            "/private/a/",
            "/private/a b",
            "/private/a\r\nz1 CREATE injected",
            "/private/a\0b",
            "/private/a*",
            "/private/a%",
            "/private/a\"b",
            "/private/\u{e4}",
        ] {
            assert!(check_entry_name(bad).is_err(), "{bad:?}");
        }
    }
}
