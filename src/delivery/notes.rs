//! FSTO of notes: into the recipient's Notes mailbox (docs/notes.md), appended through the IMAP
//! master user (`[imap] master_user`) on the recipient's behalf, since LMTP delivers into the
//! INBOX only (docs/interpretations.md, FSTO-TYPES). The note carries the same trace field as a
//! delivered message.

use std::sync::Arc;

use agap_adapter_api::mail::{MailAccount, MailBackend, MailboxName};
use agap_adapter_api::{AdapterErrorKind, Credentials};

use crate::error::{AgapError, AgapResult};

/// A recipient's account, opened by the master user when the FSTO was accepted: the note goes
/// through that same login.
#[derive(Debug, Clone)]
pub struct NotesTarget {
    /// The recipient.
    pub account: String,
    mail: Arc<dyn MailAccount>,
}

/// Two targets are the same recipient (the opened account is how, not where).
impl PartialEq for NotesTarget {
    fn eq(&self, other: &Self) -> bool {
        self.account == other.account
    }
}

impl Eq for NotesTarget {}

/// The master user and the mailbox notes live in.
#[derive(Debug)]
pub struct NoteDelivery {
    mail: Arc<dyn MailBackend>,
    master: (String, String),
    mailbox: MailboxName,
}

impl NoteDelivery {
    /// Delivery through `mail` as `master`, into the mailbox named `notes` of each account.
    pub fn new(mail: Arc<dyn MailBackend>, master: (String, String), notes: &str) -> Self {
        Self { mail, master, mailbox: MailboxName::new(vec![notes.to_owned()]) }
    }

    /// The recipient's mailbox account, opened by the master user: an account the server does
    /// not know is 511 "UNKNOWN account name" (the master user's login on its behalf fails).
    pub async fn open(&self, account: &str) -> AgapResult<NotesTarget> {
        let credentials = Credentials::on_behalf(account, &self.master.0, &self.master.1);
        let mail = self.mail.login(&credentials).await.map_err(|error| match error.kind() {
            AdapterErrorKind::AuthenticationFailed | AdapterErrorKind::NotFound => super::unknown_account(),
            _ => AgapError::from(error),
        })?;
        Ok(NotesTarget { account: account.to_owned(), mail })
    }

    /// Appends the note `message` (trace field included) to the recipient's Notes mailbox,
    /// creating the mailbox where the recipient has none yet.
    pub async fn deliver(&self, target: &NotesTarget, message: &[u8]) -> AgapResult<()> {
        let mailbox = &target.mail;
        if mailbox.append_message(&self.mailbox, message, &[]).await.is_ok() {
            return Ok(());
        }
        // Servers say "no such mailbox" in more than one way ([TRYCREATE], a plain NO): make
        // it (one made meanwhile is fine) and try once more, which then tells the real error.
        match mailbox.create_mailbox(&self.mailbox, None).await {
            Ok(()) => {}
            Err(error) if error.kind() == AdapterErrorKind::AlreadyExists => {}
            Err(error) => return Err(AgapError::from(error)),
        }
        mailbox.append_message(&self.mailbox, message, &[]).await?;
        Ok(())
    }
}
