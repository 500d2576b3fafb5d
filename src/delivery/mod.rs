//! Delivery into other accounts (FSTO, draft 4.24): built from `[delivery]` at start-up. A
//! message goes through the mail server's LMTP service, as mail from outside does, topped with a
//! trace field naming the gateway and the sender ([`trace`]); a note, with the same field, into
//! the recipient's Notes mailbox through the IMAP master user ([`notes`]); an event, task,
//! journal or contact into the recipient's collection through a service account
//! ([`collections`]). Senders and
//! recipients are held to per-minute limits ([`rate`]). Who may deliver is decided at login
//! (AUTH STORING*), what and to whom here.

pub mod collections;
pub mod notes;
pub mod rate;
pub mod trace;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use agap_adapter_api::collection::CollectionBackend;
use agap_adapter_api::delivery::{MailDelivery, check_address};
use agap_adapter_api::mail::MailBackend;
use agap_adapter_api::{AdapterErrorKind, Credentials};
use agap_adapter_lmtp::{LmtpDelivery, LmtpSettings};

use crate::config::Config;
use crate::error::{AgapError, AgapResult};
use crate::folder::FolderType;
use crate::format::compose::{Defaults, compose_message};
use crate::format::note::{NoteDefaults, compose_note};
use crate::format::tree::Element;
use collections::{CollectionDelivery, Target};
use notes::{NoteDelivery, NotesTarget};
use rate::RateLimit;
use trace::{Sender, received_field};

/// Where an FSTO goes, found before its 110.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// The INBOX of this account, through the delivery agent.
    Inbox(String),
    /// The Notes mailbox of this account, through the master user.
    Notes(NotesTarget),
    /// A collection of the account.
    Collection(Target),
}

/// The gateway's way into other accounts.
pub struct Delivery {
    mail: Arc<dyn MailDelivery>,
    notes: Option<NoteDelivery>,
    collections: Option<CollectionDelivery>,
    per_sender: RateLimit,
    per_recipient: RateLimit,
    anonymous: bool,
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery").field("anonymous", &self.anonymous).finish_non_exhaustive()
    }
}

impl Delivery {
    /// The delivery of `[delivery]`, with collections on `collections` where a service account
    /// is configured; `None` without `lmtp`.
    pub fn from_config(
        config: &Config,
        mail: Arc<dyn MailBackend>,
        collections: Option<Arc<dyn CollectionBackend>>,
    ) -> anyhow::Result<Option<Self>> {
        let delivery = &config.delivery;
        let Some(address) = delivery.checked_lmtp()? else { return Ok(None) };
        let login = match (&delivery.lmtp_user, &delivery.lmtp_password) {
            (Some(user), Some(password)) => Some((user.clone(), password.expose().to_owned())),
            _ => None,
        };
        let lmtp = LmtpDelivery::new(LmtpSettings {
            address: address.to_owned(),
            client_name: config.server.name.clone(),
            login,
            timeout: Duration::from_secs(delivery.timeout_secs.max(1)),
        });
        let mut delivery = Self::with_agent(Arc::new(lmtp), config);
        if let (Some(master), Some(password)) = (&config.imap.master_user, &config.imap.master_password) {
            let master = (master.clone(), password.expose().to_owned());
            delivery.notes = Some(NoteDelivery::new(mail, master, &config.folders.notes));
        }
        if let (Some(backend), Some((user, password, principal))) = (collections, delivery_config_service(config)) {
            delivery.collections = Some(CollectionDelivery::new(backend, Credentials::new(user, password), principal));
        }
        Ok(Some(delivery))
    }

    /// A delivery through `mail`, with the limits of `config`.
    pub fn with_agent(mail: Arc<dyn MailDelivery>, config: &Config) -> Self {
        Self {
            mail,
            notes: None,
            collections: None,
            per_sender: RateLimit::new(config.delivery.per_sender_per_minute),
            per_recipient: RateLimit::new(config.delivery.per_recipient_per_minute),
            anonymous: config.delivery.anonymous,
        }
    }

    /// Finds where an FSTO of `folder_type` to `account` goes: the INBOX for MESG (the account
    /// checked with the delivery agent), the account's collection for the collection types when
    /// a service account is configured; 511 for any other type and for an unknown account.
    pub async fn destination(&self, folder_type: FolderType, account: &str) -> AgapResult<Destination> {
        if folder_type == FolderType::Mesg {
            self.check_account(account).await?;
            return Ok(Destination::Inbox(account.to_owned()));
        }
        if let (FolderType::Note, Some(notes)) = (folder_type, &self.notes) {
            // The delivery agent says whether the account exists: a master user's login on
            // behalf of any name may succeed, and a server that creates mailboxes at login
            // (Cyrus's autocreate) would create one.
            self.check_account(account).await?;
            return Ok(Destination::Notes(notes.open(account).await?));
        }
        match (folder_type.item_kind(), &self.collections) {
            (Some(kind), Some(collections)) => Ok(Destination::Collection(collections.find(account, kind).await?)),
            _ => Err(AgapError::invalid(format!(
                "INVALID folder type: this gateway does not deliver {folder_type} items"
            ))),
        }
    }

    /// Composes the `<NOTE>` `tree` as Apple Notes keeps notes (docs/notes.md), tops it with the
    /// trace field and appends it to `account`'s Notes mailbox. 511 for a note that cannot be
    /// composed or is over `max_size`.
    pub async fn deliver_note(
        &self,
        envelope: &Envelope<'_>,
        target: &NotesTarget,
        tree: Element,
        defaults: Defaults,
    ) -> AgapResult<()> {
        let notes = self.notes.as_ref().ok_or_else(|| AgapError::internal("a note target without a master user"))?;
        if !tree.name.eq_ignore_ascii_case("NOTE") {
            return Err(AgapError::invalid(format!("<{}> is not a note: FSTO NOTE takes <NOTE>", tree.name)));
        }
        let host = defaults.host.clone();
        let from = envelope.sender.envelope_address().to_owned();
        let note = compose_note(tree, &NoteDefaults { message: defaults, from, max_size: envelope.max_size }, None)?;
        let trace = received_field(&host, envelope.client, envelope.sender, envelope.account, &envelope.date);
        let delivered = with_trace(&trace, note, envelope.max_size)?;
        notes.deliver(target, &delivered).await
    }

    /// Delivers a calendar item or contact to its collection.
    pub async fn deliver_item(&self, target: &Target, tree: Element) -> AgapResult<()> {
        let collections = self
            .collections
            .as_ref()
            .ok_or_else(|| AgapError::internal("a collection target without a service account"))?;
        collections.deliver(target, tree).await
    }

    /// The folder types FSTO delivers.
    pub fn types(&self) -> Vec<FolderType> {
        let mut types = vec![FolderType::Mesg];
        if self.notes.is_some() {
            types.push(FolderType::Note);
        }
        if self.collections.is_some() {
            types.extend([FolderType::Cale, FolderType::Task, FolderType::Jrnl, FolderType::Addr]);
        }
        types
    }

    /// Whether anonymous STORING logins are accepted.
    pub fn allows_anonymous(&self) -> bool {
        self.anonymous
    }

    /// Checks that `account` can be a recipient at all and counts one delivery of `sender` to
    /// it against both limits; 511 for a name that cannot be an account (said as an unknown
    /// one), 410 past a limit.
    pub fn admit(&self, sender: &Sender, account: &str, now: Instant) -> AgapResult<()> {
        check_address(account).map_err(|_| unknown_account())?;
        let sender_key = sender.limit_key();
        if !self.per_sender.admit(&sender_key, now) {
            tracing::warn!(sender = %sender_key, "FSTO: per-sender limit reached");
            return Err(AgapError::rate_limited("too many deliveries from you"));
        }
        if !self.per_recipient.admit(&account.to_lowercase(), now) {
            self.per_sender.give_back(&sender_key, now);
            tracing::warn!(recipient = %account, "FSTO: per-recipient limit reached");
            return Err(AgapError::rate_limited("too many deliveries to this account"));
        }
        Ok(())
    }

    /// Whether `account` has a mailbox, asked of the delivery agent without delivering: 511
    /// "UNKNOWN account name" when not.
    async fn check_account(&self, account: &str) -> AgapResult<()> {
        self.mail.verify(account).await.map_err(|error| match error.kind() {
            AdapterErrorKind::NotFound => unknown_account(),
            _ => error.into(),
        })
    }

    /// Composes the `<MESSAGE>` `tree`, tops it with the trace field and delivers it to
    /// `account`. 511 for a message that cannot be composed, is over `max_size` or is refused
    /// by the recipient's server; 410 when that server cannot take it now.
    pub async fn deliver_message(&self, envelope: &Envelope<'_>, tree: Element, defaults: &Defaults) -> AgapResult<()> {
        if !tree.name.eq_ignore_ascii_case("MESSAGE") {
            return Err(AgapError::invalid(format!("<{}> is not a message: FSTO MESG takes <MESSAGE>", tree.name)));
        }
        let message = compose_message(tree, defaults)?;
        let trace = received_field(&defaults.host, envelope.client, envelope.sender, envelope.account, &envelope.date);
        let delivered = with_trace(&trace, message, envelope.max_size)?;
        self.mail.deliver(envelope.sender.envelope_address(), envelope.account, &delivered).await.map_err(|error| {
            match error.kind() {
                AdapterErrorKind::NotFound => unknown_account(),
                _ => error.into(),
            }
        })
    }
}

/// Who delivers what to whom, and within which bound.
#[derive(Debug)]
pub struct Envelope<'a> {
    /// The client's address, for the trace field.
    pub client: IpAddr,
    /// The logged-in sender.
    pub sender: &'a Sender,
    /// The recipient account, as FSTO named it.
    pub account: &'a str,
    /// The trace field's date (RFC 5322 date-time).
    pub date: String,
    /// The largest message delivered (`[mail] max_item_size`), trace field included.
    pub max_size: usize,
}

/// `message` with `trace` on top: 511 when the two are over `max_size`.
fn with_trace(trace: &str, message: Vec<u8>, max_size: usize) -> AgapResult<Vec<u8>> {
    if trace.len() + message.len() > max_size {
        return Err(AgapError::too_large(format!("the item is larger than {max_size} bytes")));
    }
    let mut delivered = Vec::with_capacity(trace.len() + message.len());
    delivered.extend_from_slice(trace.as_bytes());
    delivered.extend_from_slice(&message);
    Ok(delivered)
}

/// The service account of `[delivery]`: user, password and principal template, when all are set.
fn delivery_config_service(config: &Config) -> Option<(String, String, String)> {
    let delivery = &config.delivery;
    match (&delivery.dav_user, &delivery.dav_password, &delivery.dav_principal) {
        (Some(user), Some(password), Some(principal)) => {
            Some((user.clone(), password.expose().to_owned(), principal.clone()))
        }
        _ => None,
    }
}

/// Figure 95's reply, the same whatever the reason (no hint about which accounts exist).
fn unknown_account() -> AgapError {
    AgapError::invalid("UNKNOWN account name")
}
