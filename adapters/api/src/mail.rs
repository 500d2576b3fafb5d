//! The mail backend family: mailboxes (and, with later issues, messages) of one account.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;

use crate::query::{FetchNeeds, FetchedItem, Found, Query};
use crate::tags::{Tag, TagChange};
use crate::{AdapterError, AdapterResult, Credentials};

/// A mailbox name as a list of decoded UTF-8 hierarchy levels, independent of the upstream
/// server's hierarchy separator and name encoding (the adapter handles both).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MailboxName(Vec<String>);

impl MailboxName {
    /// A name from its hierarchy levels, outermost first.
    pub fn new(levels: Vec<String>) -> Self {
        Self(levels)
    }

    /// The hierarchy levels, outermost first.
    pub fn levels(&self) -> &[String] {
        &self.0
    }

    /// The innermost level.
    pub fn leaf(&self) -> &str {
        self.0.last().map(String::as_str).unwrap_or("")
    }

    /// The name of a child of this mailbox.
    pub fn child(&self, level: &str) -> Self {
        let mut levels = self.0.clone();
        levels.push(level.to_owned());
        Self(levels)
    }

    /// The same mailbox with its innermost level replaced.
    pub fn with_leaf(&self, level: &str) -> Self {
        let mut levels = self.0.clone();
        levels.pop();
        levels.push(level.to_owned());
        Self(levels)
    }

    /// Whether `self` lies strictly below `ancestor`.
    pub fn is_below(&self, ancestor: &MailboxName) -> bool {
        self.0.len() > ancestor.0.len() && self.0.starts_with(&ancestor.0)
    }

    /// Whether this is the user's INBOX (case-insensitive at the top level, RFC 3501 5.1).
    pub fn is_inbox(&self) -> bool {
        self.0.len() == 1 && self.0[0].eq_ignore_ascii_case("INBOX")
    }
}

impl fmt::Debug for MailboxName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0.join("/"))
    }
}

/// The RFC 6154 special uses the gateway cares about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SpecialUse {
    /// `\Sent`
    Sent,
    /// `\Drafts`
    Drafts,
    /// `\Trash`
    Trash,
    /// `\Junk`
    Junk,
    /// `\Archive`
    Archive,
    /// `\All`
    All,
    /// `\Flagged`
    Flagged,
}

/// One mailbox as the upstream LIST shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxInfo {
    /// Its name.
    pub name: MailboxName,
    /// Its special use, if the server announces one.
    pub special_use: Option<SpecialUse>,
    /// False for placeholders that only exist as parents (`\Noselect`, `\NonExistent`).
    pub selectable: bool,
}

/// The counters of one mailbox, as IMAP STATUS reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailboxStatus {
    /// IMAP UIDVALIDITY: the UID space of the mailbox.
    pub uid_validity: u32,
    /// IMAP UIDNEXT: grows whenever a message is added.
    pub uid_next: u32,
    /// Number of messages.
    pub messages: u32,
    /// Number of messages without `\Seen`.
    pub unseen: u32,
}

/// What the upstream mail server offers, as far as the gateway needs to know.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MailCapabilities {
    /// RFC 6154 SPECIAL-USE.
    pub special_use: bool,
    /// RFC 6154 CREATE-SPECIAL-USE.
    pub create_special_use: bool,
    /// RFC 6851 MOVE.
    pub move_command: bool,
    /// RFC 4315 UIDPLUS.
    pub uidplus: bool,
    /// RFC 5464 METADATA, and the server lets the user write the gateway's private server
    /// annotations (Cyrus, for one, refuses entries it has no definition for).
    pub metadata: bool,
}

/// One private annotation (RFC 5464) as the server holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Annotation {
    /// The entry name, `/private/...`.
    pub entry: String,
    /// The value.
    pub value: String,
}

/// How deep a bounded annotation read goes below the entries it names (RFC 5464 4.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnnotationDepth {
    /// The entries themselves only.
    Zero,
    /// The entries and their direct children.
    One,
}

/// What a bounded annotation read may make the gateway hold, whatever the server sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnnotationLimits {
    /// Values longer than this are left out by the server (RFC 5464 4.2.1 MAXSIZE) and, should
    /// it send them anyway, by the adapter.
    pub max_value: usize,
    /// More entries than this: the read fails (a protocol error), nothing is returned.
    pub max_entries: usize,
}

/// The longest annotation value a mail adapter writes: values travel as quoted strings, and
/// servers limit the length of a command line or argument (Dovecot's `imap_max_line_length`
/// is 64 KiB by default).
pub const MAX_ANNOTATION_VALUE: usize = 60_000;

/// The messages of a mailbox, by UID, in ascending order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageUids {
    /// The UID space they belong to.
    pub uid_validity: u32,
    /// The UIDs, ascending.
    pub uids: Vec<u32>,
}

/// Entry point of a mail backend: checks credentials and hands out account handles.
#[async_trait]
pub trait MailBackend: Send + Sync + fmt::Debug {
    /// Verifies `credentials` upstream and returns a handle on that account. The handle must not
    /// pin an upstream connection while the AGAP session is idle.
    async fn login(&self, credentials: &Credentials) -> AdapterResult<Arc<dyn MailAccount>>;
}

/// One authenticated mail account. Every method has an "unsupported" default so that adapters
/// implement what their server can do and the core advertises only that.
#[async_trait]
pub trait MailAccount: Send + Sync + fmt::Debug {
    /// What the upstream server offers.
    fn capabilities(&self) -> MailCapabilities;

    /// Every mailbox of the account.
    async fn list_mailboxes(&self) -> AdapterResult<Vec<MailboxInfo>> {
        Err(AdapterError::unsupported("listing mailboxes"))
    }

    /// The counters of one mailbox.
    async fn mailbox_status(&self, _name: &MailboxName) -> AdapterResult<MailboxStatus> {
        Err(AdapterError::unsupported("mailbox status"))
    }

    /// The counters of several mailboxes; adapters may batch the requests.
    async fn mailbox_statuses(&self, names: &[MailboxName]) -> AdapterResult<Vec<MailboxStatus>> {
        let mut statuses = Vec::with_capacity(names.len());
        for name in names {
            statuses.push(self.mailbox_status(name).await?);
        }
        Ok(statuses)
    }

    /// Creates a mailbox (its parent exists), marked with `special_use` where the server allows,
    /// and subscribed.
    async fn create_mailbox(&self, _name: &MailboxName, _special_use: Option<SpecialUse>) -> AdapterResult<()> {
        Err(AdapterError::unsupported("creating mailboxes"))
    }

    /// Unsubscribes a mailbox the user's mail clients need not show (RFC 3501 6.3.7); a server
    /// that refuses changes nothing for AGAP.
    async fn hide_mailbox(&self, _name: &MailboxName) -> AdapterResult<()> {
        Ok(())
    }

    /// The private annotations (RFC 5464) of a mailbox, or of the account for `None`, at and
    /// below each of `entries` (DEPTH infinity); entries without a value are left out.
    async fn annotations(&self, _mailbox: Option<&MailboxName>, _entries: &[&str]) -> AdapterResult<Vec<Annotation>> {
        Err(AdapterError::unsupported("annotations"))
    }

    /// The private server annotations at each of `entries` (and, for [`AnnotationDepth::One`],
    /// their direct children) within `limits`: values over `max_value` are left out, more than
    /// `max_entries` entries fail the read. Entries without a value are left out.
    async fn bounded_annotations(
        &self,
        _entries: &[&str],
        _depth: AnnotationDepth,
        _limits: AnnotationLimits,
    ) -> AdapterResult<Vec<Annotation>> {
        Err(AdapterError::unsupported("annotations"))
    }

    /// Sets each entry to its value, or removes it for `None`, in one command, which the server
    /// applies in full or not at all (RFC 5464 4.3). Values are printable ASCII of at most
    /// [`MAX_ANNOTATION_VALUE`] bytes; entry names are printable ASCII without `*` and `%`.
    async fn set_annotations(
        &self,
        _mailbox: Option<&MailboxName>,
        _changes: &[(String, Option<String>)],
    ) -> AdapterResult<()> {
        Err(AdapterError::unsupported("annotations"))
    }

    /// The logged-in user's rights on a mailbox as RFC 4314 letters (`lrswipkxte...`); `None`
    /// when the server has no access control lists (then everything is allowed).
    async fn mailbox_rights(&self, _name: &MailboxName) -> AdapterResult<Option<String>> {
        Ok(None)
    }

    /// Renames a mailbox and everything below it.
    async fn rename_mailbox(&self, _from: &MailboxName, _to: &MailboxName) -> AdapterResult<()> {
        Err(AdapterError::unsupported("renaming mailboxes"))
    }

    /// Deletes one mailbox that has no children left.
    async fn delete_mailbox(&self, _name: &MailboxName) -> AdapterResult<()> {
        Err(AdapterError::unsupported("deleting mailboxes"))
    }

    /// Every message of a mailbox.
    async fn message_uids(&self, _mailbox: &MailboxName) -> AdapterResult<MessageUids> {
        Err(AdapterError::unsupported("listing messages"))
    }

    /// A superset of the messages matching `query` (exact where the server could answer all
    /// of it). The default lists every message, exact only for `Query::All`.
    async fn search(&self, mailbox: &MailboxName, query: &Query) -> AdapterResult<Found> {
        let uids = self.message_uids(mailbox).await?.uids;
        Ok(Found { uids, exact: *query == Query::All })
    }

    /// What `needs` asks for, for each of `uids` that exists (every message for `None`),
    /// handed to `visit` one by one as the server sends them, so that memory stays flat however
    /// many there are.
    async fn visit_items(
        &self,
        _mailbox: &MailboxName,
        _uids: Option<&[u32]>,
        _needs: &FetchNeeds,
        _visit: &mut (dyn FnMut(FetchedItem) + Send),
    ) -> AdapterResult<()> {
        Err(AdapterError::unsupported("fetching for filters"))
    }

    /// The tags of one message, sorted; `None` if there is no such message.
    async fn message_tags(&self, _mailbox: &MailboxName, _uid: u32) -> AdapterResult<Option<Vec<Tag>>> {
        Err(AdapterError::unsupported("reading tags"))
    }

    /// Applies a tag change to one message, leaving whatever the server stores that is no AGAP
    /// tag alone; false if there is no such message.
    async fn change_message_tags(&self, _mailbox: &MailboxName, _uid: u32, _change: &TagChange) -> AdapterResult<bool> {
        Err(AdapterError::unsupported("changing tags"))
    }

    /// The whole message as stored (RFC 5322 bytes); `None` if there is no such message;
    /// [`AdapterErrorKind::TooLarge`](crate::AdapterErrorKind::TooLarge) if it is longer than
    /// `max_size` bytes, found without reading more than `max_size + 1` of them.
    async fn fetch_message(
        &self,
        _mailbox: &MailboxName,
        _uid: u32,
        _max_size: usize,
    ) -> AdapterResult<Option<Vec<u8>>> {
        Err(AdapterError::unsupported("fetching messages"))
    }

    /// Only the named header fields of a message, as header bytes; `None` if there is no such
    /// message.
    async fn fetch_header_fields(
        &self,
        _mailbox: &MailboxName,
        _uid: u32,
        _fields: &[String],
    ) -> AdapterResult<Option<Vec<u8>>> {
        Err(AdapterError::unsupported("fetching header fields"))
    }

    /// Stores a message with the given flags; returns its UID when the server reports it.
    async fn append_message(
        &self,
        _mailbox: &MailboxName,
        _message: &[u8],
        _flags: &[String],
    ) -> AdapterResult<Option<u32>> {
        Err(AdapterError::unsupported("storing messages"))
    }

    /// Replaces a message by a new version with the same flags (every flag, AGAP tag or not);
    /// returns the new UID when the server reports it, `Ok(None)` also if the old message is
    /// gone. The old message is removed only after the new one is stored.
    async fn replace_message(&self, _mailbox: &MailboxName, _uid: u32, _message: &[u8]) -> AdapterResult<Option<u32>> {
        Err(AdapterError::unsupported("replacing messages"))
    }

    /// Removes exactly these messages, never others marked deleted by another client.
    async fn expunge_messages(&self, _mailbox: &MailboxName, _uids: &[u32]) -> AdapterResult<()> {
        Err(AdapterError::unsupported("deleting messages"))
    }

    /// Copies messages (all of them for `None`); returns the (source, new) UID pairs the server
    /// reports.
    async fn copy_messages(
        &self,
        _from: &MailboxName,
        _uids: Option<&[u32]>,
        _to: &MailboxName,
    ) -> AdapterResult<Vec<(u32, u32)>> {
        Err(AdapterError::unsupported("copying messages"))
    }

    /// Moves messages (all of them for `None`); returns the (source, new) UID pairs the server
    /// reports.
    async fn move_messages(
        &self,
        _from: &MailboxName,
        _uids: Option<&[u32]>,
        _to: &MailboxName,
    ) -> AdapterResult<Vec<(u32, u32)>> {
        Err(AdapterError::unsupported("moving messages"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(levels: &[&str]) -> MailboxName {
        MailboxName::new(levels.iter().map(|l| l.to_string()).collect())
    }

    #[test]
    fn inbox_is_recognised_case_insensitively_only_at_the_top() {
        assert!(name(&["inbox"]).is_inbox());
        assert!(name(&["INBOX"]).is_inbox());
        assert!(!name(&["Archive", "INBOX"]).is_inbox());
    }

    #[test]
    fn below_means_strictly_below() {
        assert!(name(&["a", "b"]).is_below(&name(&["a"])));
        assert!(!name(&["a"]).is_below(&name(&["a"])));
        assert!(!name(&["ab", "c"]).is_below(&name(&["a"])));
    }

    #[test]
    fn with_leaf_keeps_the_parent() {
        assert_eq!(name(&["a", "b"]).with_leaf("c"), name(&["a", "c"]));
        assert_eq!(name(&["a"]).child("b"), name(&["a", "b"]));
    }
}
