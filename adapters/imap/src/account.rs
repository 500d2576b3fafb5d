//! One user's mailboxes over IMAP: LIST, STATUS, CREATE, RENAME, DELETE (RFC 3501, 6154, 5258).

use std::sync::Arc;

use agap_adapter_api::mail::{MailAccount, MailCapabilities, MailboxInfo, MailboxName, MailboxStatus, SpecialUse};
use agap_adapter_api::{AdapterError, AdapterErrorKind, AdapterResult};
use async_imap::imap_proto::{MailboxDatum, NameAttribute, Response, StatusAttribute};
use async_trait::async_trait;

use crate::connection::quote;
use crate::pool::{ServerFacts, UserPool};
use crate::utf7;

/// A handle on one user's account; it borrows pooled connections per operation.
#[derive(Debug)]
pub struct ImapAccount {
    pool: Arc<UserPool>,
}

impl ImapAccount {
    pub(crate) fn new(pool: Arc<UserPool>) -> Self {
        Self { pool }
    }

    fn facts(&self) -> ServerFacts {
        self.pool.facts().unwrap_or(ServerFacts { delimiter: Some('/'), capabilities: Vec::new() })
    }

    /// The wire form of a name: each level in modified UTF-7, joined by the server's separator.
    fn encode_name(&self, name: &MailboxName) -> AdapterResult<String> {
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
        self.pool
            .checkout()
            .await?
            .execute_with(command, |response| {
                let Response::MailboxData(MailboxDatum::List(list)) = response else { return };
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
        Ok(mailboxes)
    }

    async fn mailbox_status(&self, name: &MailboxName) -> AdapterResult<MailboxStatus> {
        let mut statuses = self.mailbox_statuses(std::slice::from_ref(name)).await?;
        statuses.pop().ok_or_else(|| AdapterError::new(AdapterErrorKind::Protocol, "no STATUS answer"))
    }

    async fn mailbox_statuses(&self, names: &[MailboxName]) -> AdapterResult<Vec<MailboxStatus>> {
        let commands = names
            .iter()
            .map(|name| Ok(format!("STATUS {} (MESSAGES UIDNEXT UIDVALIDITY UNSEEN)", quote(&self.encode_name(name)?))))
            .collect::<AdapterResult<Vec<String>>>()?;
        let mut statuses: Vec<Option<MailboxStatus>> = vec![None; names.len()];
        let outcomes = self
            .pool
            .checkout()
            .await?
            .execute_pipelined(&commands, |index, response| {
                let Response::MailboxData(MailboxDatum::Status { status: attributes, .. }) = response else {
                    return;
                };
                let Some(slot) = statuses.get_mut(index) else {
                    return;
                };
                let status = slot.get_or_insert(MailboxStatus { uid_validity: 0, uid_next: 0, messages: 0, unseen: 0 });
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

    async fn rename_mailbox(&self, from: &MailboxName, to: &MailboxName) -> AdapterResult<()> {
        let (old, new) = (self.encode_name(from)?, self.encode_name(to)?);
        self.pool.checkout().await?.execute(&format!("RENAME {} {}", quote(&old), quote(&new))).await?;
        self.set_subscribed(&old, false).await;
        self.set_subscribed(&new, true).await;
        Ok(())
    }

    async fn delete_mailbox(&self, name: &MailboxName) -> AdapterResult<()> {
        let wire = self.encode_name(name)?;
        self.pool.checkout().await?.execute(&format!("DELETE {}", quote(&wire))).await?;
        self.set_subscribed(&wire, false).await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
