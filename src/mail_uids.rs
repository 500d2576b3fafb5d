//! The AGAP UIDs of messages (docs/interpretations.md, DATT-KEEPS-UID). A message's AGAP UID is
//! its IMAP UID, except for a message DATT replaced upstream (APPEND of the new version, expunge
//! of the old): it keeps the UID it had, through an alias in the store that points, in one hop,
//! to where the message is stored now. The IMAP UID an alias points to is never shown.
//!
//! Every command that names or lists message UIDs goes through [`Messages`], so that the
//! translation between the two happens here and nowhere else; [`UidAliases`] is the pure part.

use std::collections::BTreeMap;

use agap_adapter_api::mail::MailboxName;
use agap_adapter_api::query::Query;
use agap_adapter_api::tags::{Tag, TagChange};

use crate::account::Account;
use crate::error::{AgapError, AgapResult};
use crate::filter::{Filter, matching_messages};
use crate::folder::FolderEntry;
use crate::gateway::Gateway;
use crate::store::MessageAlias;

/// Past this many ranges a translated UID condition is left to the core to check on each
/// candidate: a server's command line is bounded.
const MAX_QUERY_RANGES: usize = 500;

/// The aliases of one mailbox in its current UID space, both ways.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UidAliases {
    /// AGAP UID to IMAP UID.
    imap_of: BTreeMap<u32, u32>,
    /// IMAP UID to AGAP UID.
    agap_of: BTreeMap<u32, u32>,
}

impl UidAliases {
    /// The translation of these aliases.
    pub fn new(aliases: &[MessageAlias]) -> Self {
        let mut translation = Self::default();
        for alias in aliases {
            translation.imap_of.insert(alias.agap_uid, alias.imap_uid);
            translation.agap_of.insert(alias.imap_uid, alias.agap_uid);
        }
        translation
    }

    /// True when every AGAP UID is its IMAP UID.
    pub fn is_empty(&self) -> bool {
        self.imap_of.is_empty()
    }

    /// The IMAP UID of the message with AGAP UID `uid`; `None` when no message can have that
    /// UID (it is where an aliased message is stored, which is shown under its alias only).
    pub fn imap_uid(&self, uid: u32) -> Option<u32> {
        match self.imap_of.get(&uid) {
            Some(imap) => Some(*imap),
            None if self.agap_of.contains_key(&uid) => None,
            None => Some(uid),
        }
    }

    /// The AGAP UID of the message stored as `imap`.
    pub fn agap_uid(&self, imap: u32) -> u32 {
        self.agap_of.get(&imap).copied().unwrap_or(imap)
    }

    /// The AGAP UIDs of messages stored as `imap`, ascending (aliases keep the older, smaller
    /// UID, so translated UIDs move to where the message first arrived).
    pub fn agap_uids(&self, imap: impl IntoIterator<Item = u32>) -> Vec<u32> {
        let mut uids: Vec<u32> = imap.into_iter().map(|uid| self.agap_uid(uid)).collect();
        if !self.is_empty() {
            uids.sort_unstable();
        }
        uids
    }

    /// Where the aliases point whose AGAP UIDs are not among `listed` (ascending AGAP UIDs of
    /// every message of the mailbox): those messages are gone.
    pub fn targets_missing_from(&self, listed: &[u32]) -> Vec<u32> {
        self.imap_of.iter().filter(|(agap, _)| listed.binary_search(agap).is_err()).map(|(_, imap)| *imap).collect()
    }

    /// `query` with its UID conditions (AGAP UIDs) turned into IMAP UIDs: for every message that
    /// exists, the translated condition holds exactly when the original holds for its AGAP UID,
    /// so exact answers stay exact (under `Not` too). A translation too long to send becomes
    /// `Unknown` (the core then checks the candidates by their AGAP UIDs).
    pub fn imap_query(&self, query: Query) -> Query {
        if self.is_empty() {
            return query;
        }
        match query {
            Query::And(children) => Query::And(children.into_iter().map(|child| self.imap_query(child)).collect()),
            Query::Or(children) => Query::Or(children.into_iter().map(|child| self.imap_query(child)).collect()),
            Query::Not(child) => Query::Not(Box::new(self.imap_query(*child))),
            Query::Uids(ranges) => match self.imap_ranges(&ranges) {
                Some(translated) => Query::Uids(translated),
                None => Query::Unknown,
            },
            other => other,
        }
    }

    /// The IMAP UID set of the messages whose AGAP UIDs lie in `ranges` (inclusive), as sorted,
    /// disjoint ranges; `None` past [`MAX_QUERY_RANGES`].
    fn imap_ranges(&self, ranges: &[(u32, u32)]) -> Option<Vec<(u32, u32)>> {
        let mut pieces: Vec<(u32, u32)> = Vec::new();
        for &(from, to) in ranges.iter().filter(|(from, to)| from <= to) {
            let inside = |uid: u32| (from..=to).contains(&uid);
            // The range itself, less the places of aliased messages whose UIDs lie outside it.
            let mut start = Some(from);
            for (&imap, &agap) in self.agap_of.range(from..=to) {
                if inside(agap) {
                    continue;
                }
                if let Some(start) = start
                    && start < imap
                {
                    pieces.push((start, imap - 1));
                }
                start = imap.checked_add(1);
            }
            if let Some(start) = start
                && start <= to
            {
                pieces.push((start, to));
            }
            // Aliased messages whose UIDs lie inside it, wherever they are stored.
            pieces.extend(self.imap_of.range(from..=to).map(|(_, &imap)| (imap, imap)));
            if pieces.len() > MAX_QUERY_RANGES * 2 {
                return None;
            }
        }
        let merged = merge(pieces);
        (merged.len() <= MAX_QUERY_RANGES).then_some(merged)
    }
}

/// Sorted, disjoint ranges covering the same UIDs as `pieces`.
fn merge(mut pieces: Vec<(u32, u32)>) -> Vec<(u32, u32)> {
    pieces.sort_unstable();
    let mut merged: Vec<(u32, u32)> = Vec::with_capacity(pieces.len());
    for (from, to) in pieces {
        match merged.last_mut() {
            Some(last) if from <= last.1.saturating_add(1) => last.1 = last.1.max(to),
            _ => merged.push((from, to)),
        }
    }
    merged
}

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
        Ok(Self { gateway, account, mailbox, key, aliases })
    }

    /// The translation in force.
    pub fn aliases(&self) -> &UidAliases {
        &self.aliases
    }

    /// The IMAP UID of `uid`; 511 when no message can have it.
    fn imap_uid(&self, uid: u32, text: &str) -> AgapResult<u32> {
        self.aliases.imap_uid(uid).ok_or_else(|| invalid_uid(text))
    }

    /// Drops the aliases pointing to `imap` (those messages are gone upstream).
    async fn forget_targets(&self, imap: &[u32]) -> AgapResult<()> {
        let aliased: Vec<u32> = imap.iter().copied().filter(|uid| self.aliases.agap_of.contains_key(uid)).collect();
        if !aliased.is_empty() {
            self.gateway.store.drop_message_aliases(&self.account.user, &self.key, &aliased).await?;
        }
        Ok(())
    }

    /// 511 for a message upstream no longer has; its alias, if any, goes.
    async fn missing(&self, imap: u32, text: &str) -> AgapError {
        if let Err(error) = self.forget_targets(&[imap]).await {
            tracing::warn!(%error, "could not drop the alias of a message that is gone");
        }
        invalid_uid(text)
    }

    /// The whole message (RFC 5322 bytes), at most `max_size` bytes; 511 when there is none.
    pub async fn fetch(&self, uid: u32, text: &str, max_size: usize) -> AgapResult<Vec<u8>> {
        let imap = self.imap_uid(uid, text)?;
        match self.account.mail.fetch_message(self.mailbox, imap, max_size).await? {
            Some(message) => Ok(message),
            None => Err(self.missing(imap, text).await),
        }
    }

    /// The named header fields of a message; 511 when there is none.
    pub async fn header_fields(&self, uid: u32, text: &str, fields: &[String]) -> AgapResult<Vec<u8>> {
        let imap = self.imap_uid(uid, text)?;
        match self.account.mail.fetch_header_fields(self.mailbox, imap, fields).await? {
            Some(header) => Ok(header),
            None => Err(self.missing(imap, text).await),
        }
    }

    /// The tags of a message; 511 when there is none (IMAP ignores unknown UIDs silently).
    pub async fn tags(&self, uid: u32, text: &str) -> AgapResult<Vec<Tag>> {
        let imap = self.imap_uid(uid, text)?;
        match self.account.mail.message_tags(self.mailbox, imap).await? {
            Some(tags) => Ok(tags),
            None => Err(self.missing(imap, text).await),
        }
    }

    /// Checks that the message exists (511 otherwise).
    pub async fn require(&self, uid: u32, text: &str) -> AgapResult<()> {
        self.tags(uid, text).await.map(|_| ())
    }

    /// Changes the tags of a message; false when there is none.
    pub async fn change_tags(&self, uid: u32, change: &TagChange) -> AgapResult<bool> {
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
    pub async fn replace(&self, uid: u32, text: &str, message: &[u8]) -> AgapResult<Replaced> {
        let current = self.imap_uid(uid, text)?;
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

    /// The AGAP UIDs of the messages that match `filter`, ascending. The empty filter lists
    /// every message, which also drops the aliases of messages gone meanwhile.
    pub async fn matching(&self, filter: &Filter) -> AgapResult<Vec<u32>> {
        let uids = matching_messages(self.account.mail.as_ref(), self.mailbox, filter, &self.aliases).await?;
        if *filter == Filter::All {
            self.forget_targets(&self.aliases.targets_missing_from(&uids)).await?;
        }
        Ok(uids)
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

fn invalid_uid(text: &str) -> AgapError {
    AgapError::invalid(format!("INVALID UID {text}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aliases(pairs: &[(u32, u32)]) -> UidAliases {
        let list: Vec<MessageAlias> =
            pairs.iter().map(|&(agap_uid, imap_uid)| MessageAlias { agap_uid, imap_uid }).collect();
        UidAliases::new(&list)
    }

    #[test]
    fn an_alias_keeps_the_old_uid_and_hides_the_new_one() {
        let translation = aliases(&[(5, 12)]);
        assert_eq!(translation.imap_uid(5), Some(12));
        assert_eq!(translation.imap_uid(12), None, "the place of an aliased message has no UID of its own");
        assert_eq!(translation.imap_uid(7), Some(7));
        assert_eq!(translation.agap_uid(12), 5);
        assert_eq!(translation.agap_uid(7), 7);
        assert_eq!(translation.agap_uids([3, 7, 12, 13]), [3, 5, 7, 13], "arrival order");
        assert_eq!(UidAliases::default().agap_uids([3, 1]), [3, 1], "no aliases, no work");
    }

    #[test]
    fn missing_targets_are_those_whose_uid_was_not_listed() {
        let translation = aliases(&[(5, 12), (6, 13)]);
        assert_eq!(translation.targets_missing_from(&[1, 5, 7]), [13]);
        assert_eq!(translation.targets_missing_from(&[5, 6]), Vec::<u32>::new());
    }

    #[test]
    fn uid_ranges_translate_exactly() {
        // 5 is stored as 12 (inside 5:10 by its UID), 2 as 9 (a place inside 5:10 that is
        // not its UID), 8 as 20 (outside 5:10 but its UID is inside).
        let translation = aliases(&[(5, 12), (2, 9), (8, 20)]);
        let translated = translation.imap_query(Query::Uids(vec![(5, 10)]));
        assert_eq!(translated, Query::Uids(vec![(5, 8), (10, 10), (12, 12), (20, 20)]));
        // Every existing message is inside exactly when its AGAP UID is.
        let Query::Uids(set) = translated else { unreachable!() };
        let in_set = |imap: u32| set.iter().any(|(from, to)| (*from..=*to).contains(&imap));
        for imap in [1, 3, 4, 6, 7, 9, 10, 11, 12, 13, 20, 21] {
            let agap = translation.agap_uid(imap);
            assert_eq!(in_set(imap), (5..=10).contains(&agap), "IMAP {imap} (AGAP {agap})");
        }
        assert_eq!(
            translation.imap_query(Query::Uids(vec![(2, 2)])),
            Query::Uids(vec![(2, 2), (9, 9)]),
            "a single UID reaches its message (the old place is empty and harmless)"
        );
        assert_eq!(translation.imap_query(Query::Uids(vec![(9, 9)])), Query::Uids(vec![]), "a hidden place");
        assert_eq!(
            translation.imap_query(Query::Not(Box::new(Query::Uids(vec![(1, 4)])))),
            Query::Not(Box::new(Query::Uids(vec![(1, 4), (9, 9)])))
        );
        assert_eq!(aliases(&[]).imap_query(Query::Uids(vec![(5, 10)])), Query::Uids(vec![(5, 10)]));
        assert_eq!(translation.imap_query(Query::Uids(vec![(0, 3)])), Query::Uids(vec![(0, 3), (9, 9)]));
    }

    #[test]
    fn ranges_at_the_edges_of_the_uid_space() {
        let translation = aliases(&[(1, u32::MAX)]);
        assert_eq!(translation.imap_query(Query::Uids(vec![(2, u32::MAX)])), Query::Uids(vec![(2, u32::MAX - 1)]));
        assert_eq!(translation.imap_query(Query::Uids(vec![(1, 1)])), Query::Uids(vec![(1, 1), (u32::MAX, u32::MAX)]));
        assert_eq!(translation.imap_query(Query::Uids(vec![(u32::MAX, u32::MAX)])), Query::Uids(vec![]));
        assert_eq!(translation.imap_query(Query::Uids(vec![(9, 3)])), Query::Uids(vec![]), "an empty range");
    }

    #[test]
    fn a_translation_too_long_to_send_is_left_to_the_core() {
        let many: Vec<(u32, u32)> = (0..2000).map(|n| (1_000_000 + n, 10 + 2 * n)).collect();
        let translation = aliases(&many);
        assert_eq!(translation.imap_query(Query::Uids(vec![(1, 5000)])), Query::Unknown);
        assert_eq!(
            translation.imap_query(Query::And(vec![Query::Uids(vec![(1, 5)]), Query::Unseen])),
            Query::And(vec![Query::Uids(vec![(1, 5)]), Query::Unseen]),
            "small ranges stay exact"
        );
    }
}
