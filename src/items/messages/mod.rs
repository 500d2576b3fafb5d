//! The AGAP UIDs of messages (docs/interpretations.md, DATT-KEEPS-UID). A message's AGAP UID is
//! its IMAP UID, except for a message DATT replaced upstream (APPEND of the new version, expunge
//! of the old): it keeps the UID it had, through an alias in the store that points, in one hop,
//! to where the message is stored now. The IMAP UID an alias points to is never shown.
//!
//! Every command that names or lists message UIDs goes through [`Messages`], so that the
//! translation between the two happens here and nowhere else; [`UidAliases`] is the pure part.

mod aliases;
mod form;
mod matching;

use agap_adapter_api::mail::MailboxName;
use agap_adapter_api::tags::{Tag, TagChange};

pub use aliases::UidAliases;
pub use form::MailForm;
use matching::matching_messages;

use async_trait::async_trait;

use super::{Chosen, ItemFolder, Stored, Transfer, Transferred};
use crate::account::Account;
use crate::error::{AgapError, AgapResult};
use crate::filter::Filter;
use crate::folder::FolderEntry;
use crate::format::Element;
use crate::format::compose::{Defaults, compose_message};
use crate::format::configuration::compose_configuration;
use crate::format::message::render_header_only;
use crate::format::note::{NoteDefaults, compose_note};
use crate::format::part::PartPath;
use crate::gateway::Gateway;

/// What became of the UID of a message DATT replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replaced {
    /// It keeps its AGAP UID.
    KeepsUid,
    /// It could not keep it (another session replaced it at the same moment, or the server
    /// reported no usable UID): it has this new UID, or one the server did not report, and the
    /// folder a new UCID.
    NewUid(Option<u32>),
}

/// The messages of one mail folder, under their AGAP UIDs, for one command.
#[derive(Debug)]
pub struct Messages<'a> {
    gateway: &'a Gateway,
    account: &'a Account,
    mailbox: &'a MailboxName,
    form: MailForm,
    key: String,
    aliases: UidAliases,
}

impl<'a> Messages<'a> {
    /// The messages of `folder`, with the aliases of its current UID space. Only a mailbox
    /// that has aliases costs an upstream STATUS (for its UIDVALIDITY); aliases of another UID
    /// space are forgotten.
    pub async fn of(gateway: &'a Gateway, account: &'a Account, folder: &'a FolderEntry) -> AgapResult<Self> {
        let key = folder.store_key();
        let mailbox = &folder.upstream;
        let aliases = match gateway.store.message_aliases(&account.user, &key).await? {
            Some(stored) if !stored.aliases.is_empty() => {
                let status = account.mail.mailbox_status(mailbox).await?;
                if status.uid_validity == stored.uid_validity {
                    UidAliases::new(&stored.aliases)
                } else {
                    gateway.store.forget_message_aliases(&account.user, &key).await?;
                    UidAliases::default()
                }
            }
            _ => UidAliases::default(),
        };
        let form = MailForm::of(folder.kind)
            .ok_or_else(|| AgapError::internal(format!("a {} folder holds no messages", folder.kind)))?;
        Ok(Self { gateway, account, mailbox, form, key, aliases })
    }

    /// What a message composed now gets where its source says nothing (Date, Message-ID).
    pub fn compose_defaults(&self) -> Defaults {
        self.gateway.compose_defaults()
    }

    /// The translation in force.
    pub fn aliases(&self) -> &UidAliases {
        &self.aliases
    }

    /// The IMAP UID of `uid`; 511 when no message can have it.
    fn imap_uid(&self, uid: u32) -> AgapResult<u32> {
        self.aliases.imap_uid(uid).ok_or_else(|| invalid_uid(uid))
    }

    /// Drops the aliases pointing to `imap` (those messages are gone upstream).
    async fn forget_targets(&self, imap: &[u32]) -> AgapResult<()> {
        let aliased: Vec<u32> = imap.iter().copied().filter(|uid| self.aliases.is_alias_target(*uid)).collect();
        if !aliased.is_empty() {
            self.gateway.store.drop_message_aliases(&self.account.user, &self.key, &aliased).await?;
        }
        Ok(())
    }

    /// 511 for a message upstream no longer has; its alias, if any, goes.
    async fn missing(&self, imap: u32, uid: u32) -> AgapError {
        if let Err(error) = self.forget_targets(&[imap]).await {
            tracing::warn!(%error, "could not drop the alias of a message that is gone");
        }
        invalid_uid(uid)
    }

    /// The whole message (RFC 5322 bytes), at most `max_size` bytes; 511 when there is none.
    pub async fn fetch(&self, uid: u32, max_size: usize) -> AgapResult<Vec<u8>> {
        let imap = self.imap_uid(uid)?;
        match self.account.mail.fetch_message(self.mailbox, imap, max_size).await? {
            Some(message) => Ok(message),
            None => Err(self.missing(imap, uid).await),
        }
    }

    /// The named header fields of a message; 511 when there is none.
    pub async fn header_fields(&self, uid: u32, fields: &[String]) -> AgapResult<Vec<u8>> {
        let imap = self.imap_uid(uid)?;
        match self.account.mail.fetch_header_fields(self.mailbox, imap, fields).await? {
            Some(header) => Ok(header),
            None => Err(self.missing(imap, uid).await),
        }
    }

    /// The tags of a message; 511 when there is none (IMAP ignores unknown UIDs silently).
    pub async fn message_tags(&self, uid: u32) -> AgapResult<Vec<Tag>> {
        let imap = self.imap_uid(uid)?;
        match self.account.mail.message_tags(self.mailbox, imap).await? {
            Some(tags) => Ok(tags),
            None => Err(self.missing(imap, uid).await),
        }
    }

    /// Checks that the message exists (511 otherwise).
    pub async fn require(&self, uid: u32) -> AgapResult<()> {
        self.message_tags(uid).await.map(|_| ())
    }

    /// Changes the tags of a message; false when there is none.
    pub async fn change_message_tags(&self, uid: u32, change: &TagChange) -> AgapResult<bool> {
        let Some(imap) = self.aliases.imap_uid(uid) else { return Ok(false) };
        let changed = self.account.mail.change_message_tags(self.mailbox, imap, change).await?;
        if !changed {
            self.forget_targets(&[imap]).await?;
        }
        Ok(changed)
    }

    /// Removes exactly these messages (UIDs no message has are left out).
    pub async fn expunge(&self, uids: &[u32]) -> AgapResult<()> {
        let imap = self.imap_uids(uids);
        self.account.mail.expunge_messages(self.mailbox, &imap).await?;
        self.forget_targets(&imap).await
    }

    /// Copies messages (every one for `None`) to `to`; returns the new UIDs there, in pairs
    /// (AGAP UID here, UID there) as far as the server reports them. A new copy is a new item
    /// with a new UID of its own.
    pub async fn copy_to(&self, uids: Option<&[u32]>, to: &MailboxName) -> AgapResult<Vec<(u32, u32)>> {
        let imap = uids.map(|uids| self.imap_uids(uids));
        let pairs = self.account.mail.copy_messages(self.mailbox, imap.as_deref(), to).await?;
        Ok(self.translate_pairs(pairs))
    }

    /// Moves messages (every one for `None`) to `to`, as [`Self::copy_to`]; their aliases here go.
    pub async fn move_to(&self, uids: Option<&[u32]>, to: &MailboxName) -> AgapResult<Vec<(u32, u32)>> {
        let imap = uids.map(|uids| self.imap_uids(uids));
        let pairs = self.account.mail.move_messages(self.mailbox, imap.as_deref(), to).await?;
        match &imap {
            Some(imap) => self.forget_targets(imap).await?,
            None => self.prune().await?,
        }
        Ok(self.translate_pairs(pairs))
    }

    /// Replaces a message by a new version (DATT) that keeps its AGAP UID: the alias is
    /// recorded once the server has the new version and the old one is gone.
    pub async fn replace(&self, uid: u32, message: &[u8]) -> AgapResult<Replaced> {
        let current = self.imap_uid(uid)?;
        let uid_validity = self.account.mail.mailbox_status(self.mailbox).await?.uid_validity;
        let new = self.account.mail.replace_message(self.mailbox, current, message).await?;
        let store = &self.gateway.store;
        let user = &self.account.user;
        if let Some(new) = new
            && store.record_message_alias(user, &self.key, uid_validity, uid, current, new).await?
        {
            return Ok(Replaced::KeepsUid);
        }
        // The message has a UID its clients do not know while the UID space stays: the UCID
        // must change (draft 2.7).
        tracing::warn!(user = %user, uid, ?new, "a replaced message could not keep its UID; the folder gets a new UCID");
        store.renew_message_alias_generation(user, &self.key, uid_validity).await?;
        Ok(Replaced::NewUid(new))
    }

    /// Drops the aliases of messages that are gone.
    async fn prune(&self) -> AgapResult<()> {
        if self.aliases.is_empty() {
            return Ok(());
        }
        let listed = self.account.mail.message_uids(self.mailbox).await?.uids;
        let listed = self.aliases.agap_uids(listed);
        self.forget_targets(&self.aliases.targets_missing_from(&listed)).await
    }

    fn imap_uids(&self, uids: &[u32]) -> Vec<u32> {
        uids.iter().filter_map(|uid| self.aliases.imap_uid(*uid)).collect()
    }

    fn translate_pairs(&self, pairs: Vec<(u32, u32)>) -> Vec<(u32, u32)> {
        pairs.into_iter().map(|(source, new)| (self.aliases.agap_uid(source), new)).collect()
    }
}

fn invalid_uid(uid: u32) -> AgapError {
    AgapError::invalid(format!("INVALID UID {uid}"))
}

#[async_trait]
impl ItemFolder for Messages<'_> {
    fn root(&self) -> &'static str {
        self.form.root()
    }

    fn noun(&self) -> &'static str {
        self.form.kind().item_noun()
    }

    /// A mail header part is fetched alone upstream (IMAP BODY.PEEK[HEADER.FIELDS (...)]), not
    /// the whole message.
    async fn render(&self, uid: u32, part: &str) -> AgapResult<Element> {
        let part = if part.is_empty() { None } else { Some(PartPath::parse(part, self.root())?) };
        if self.form == MailForm::Message
            && let Some(field) = part.as_ref().and_then(PartPath::header_field)
        {
            return Ok(render_header_only(&self.header_fields(uid, &[field.to_owned()]).await?));
        }
        let max_size = self.gateway.config.mail.max_item_size;
        let raw = self.fetch(uid, max_size).await?;
        self.form.render(&raw, max_size).ok_or_else(|| AgapError::invalid(format!("message {uid} cannot be parsed")))
    }

    async fn store(&self, tree: Element) -> AgapResult<Stored> {
        if !tree.name.eq_ignore_ascii_case(self.root()) {
            return Err(AgapError::invalid(format!("<{}> does not fit a {} folder", tree.name, self.form.kind())));
        }
        let defaults = self.compose_defaults();
        // The tree may be as large as the message: composing consumes it, so the two are not
        // held side by side, nor the tree while the message goes upstream.
        let message = match self.form {
            MailForm::Message => compose_message(tree, &defaults)?,
            MailForm::Note => {
                let max_size = self.gateway.config.mail.max_item_size;
                let from = if self.account.user.contains('@') { self.account.user.clone() } else { String::new() };
                compose_note(tree, &NoteDefaults { message: defaults, from, max_size }, None)?
            }
            MailForm::Configuration => compose_configuration(tree, &defaults)?,
        };
        let uid = self.account.mail.append_message(self.mailbox, &message, &[]).await?;
        let uid = uid.ok_or_else(|| AgapError::internal("the IMAP server did not report the new UID"))?;
        Ok(Stored { uid: u64::from(uid), noun: self.noun() })
    }

    async fn delete(&self, uid: u32) -> AgapResult<&'static str> {
        self.require(uid).await?;
        self.expunge(&[uid]).await?;
        Ok(self.noun())
    }

    /// One expunge for all of them.
    async fn delete_each(&self, uids: &[u32]) -> AgapResult<usize> {
        self.expunge(uids).await?;
        Ok(uids.len())
    }

    async fn tags(&self, uid: u32) -> AgapResult<Vec<Tag>> {
        self.message_tags(uid).await
    }

    async fn change_tags(&self, uid: u32, change: &TagChange) -> AgapResult<()> {
        match self.change_message_tags(uid, change).await? {
            true => Ok(()),
            false => Err(invalid_uid(uid)),
        }
    }

    async fn transfer(&self, target: &FolderEntry, chosen: Chosen<'_>, transfer: Transfer) -> AgapResult<Transferred> {
        let uids: Option<Vec<u32>> = match chosen {
            Chosen::One(uid) => {
                self.require(uid).await?;
                Some(vec![uid])
            }
            Chosen::Matches(uids) => Some(uids.to_vec()),
            Chosen::All => None,
        };
        let pairs = match transfer {
            Transfer::Copy => self.copy_to(uids.as_deref(), &target.upstream).await?,
            Transfer::Move => self.move_to(uids.as_deref(), &target.upstream).await?,
        };
        Ok(match chosen {
            Chosen::One(_) => Transferred { done: 1, asked: 1, new_uid: pairs.first().map(|(_, new)| u64::from(*new)) },
            // Servers without UIDPLUS report no pairs; the command then succeeded for all.
            Chosen::Matches(uids) => Transferred {
                done: if pairs.is_empty() { uids.len() } else { pairs.len() },
                asked: uids.len(),
                new_uid: None,
            },
            Chosen::All => Transferred { done: pairs.len(), asked: pairs.len(), new_uid: None },
        })
    }

    /// The empty filter lists every message, which also drops the aliases of messages gone
    /// meanwhile.
    async fn matching(&self, filter: &Filter) -> AgapResult<Vec<u32>> {
        let uids = matching_messages(
            self.account.mail.as_ref(),
            self.mailbox,
            self.form,
            filter,
            &self.aliases,
            self.gateway.config.mail.max_item_size,
        )
        .await?;
        if *filter == Filter::All {
            self.forget_targets(&self.aliases.targets_missing_from(&uids)).await?;
        }
        Ok(uids)
    }

    /// STATUS answers the counts: nothing to bring up to date.
    async fn refresh(&self) -> AgapResult<()> {
        Ok(())
    }
}
