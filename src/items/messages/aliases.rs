//! The translation between AGAP UIDs and IMAP UIDs of one mailbox (docs/interpretations.md,
//! DATT-KEEPS-UID): the pure part of [`super::Messages`].

use std::collections::BTreeMap;

use agap_adapter_api::query::Query;

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

    /// Whether `imap` is where an aliased message is stored now.
    pub fn is_alias_target(&self, imap: u32) -> bool {
        self.agap_of.contains_key(&imap)
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
