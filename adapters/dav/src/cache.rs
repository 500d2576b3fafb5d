//! What a DAV backend keeps per user between that user's sessions, so that a login costs no DAV
//! request once the user is known: the discovered homes (until one answers 404: it moved), and
//! for a short, configured time the list of collections with their CTags.
//!
//! Both are bounded (users, bytes) and keyed by the DAV user name; a listing is served only to a
//! login that proves the same credentials as the one that made it, so that nothing of an account
//! reaches a session the server did not accept.

use std::sync::Arc;
use std::time::Duration;

use agap_adapter_api::collection::CollectionInfo;
use agap_adapter_api::{Credentials, CredentialsProof};

use crate::account::AccountHomes;

/// Users whose discovered homes are kept at once.
const MAX_CACHED_HOMES: u64 = 100_000;

/// How long discovered homes are trusted without asking again.
const HOMES_TTL: Duration = Duration::from_secs(600);

/// Bytes of collection listings kept at once, over all users (an estimate: see `weight`).
const MAX_LISTING_BYTES: u64 = 64 * 1024 * 1024;

/// A user's collections as last listed, and who listed them.
#[derive(Debug, Clone)]
struct Listing {
    proof: CredentialsProof,
    collections: Arc<Vec<CollectionInfo>>,
}

/// The per-user caches of one backend; clones share them.
#[derive(Debug, Clone)]
pub(crate) struct UserCaches {
    homes: moka::sync::Cache<String, AccountHomes>,
    /// `None`: every listing asks the server.
    listings: Option<moka::sync::Cache<String, Listing>>,
}

impl UserCaches {
    /// Caches whose listings live `listing_ttl` (zero: listings are not kept).
    pub(crate) fn new(listing_ttl: Duration) -> Self {
        let homes = moka::sync::Cache::builder().max_capacity(MAX_CACHED_HOMES).time_to_live(HOMES_TTL).build();
        let listings = (!listing_ttl.is_zero()).then(|| {
            moka::sync::Cache::builder()
                .max_capacity(MAX_LISTING_BYTES)
                .weigher(|user: &String, listing: &Listing| weight(user, listing))
                .time_to_live(listing_ttl)
                .build()
        });
        Self { homes, listings }
    }

    pub(crate) fn homes(&self, user: &str) -> Option<AccountHomes> {
        self.homes.get(user)
    }

    pub(crate) fn remember_homes(&self, user: &str, homes: AccountHomes) {
        self.homes.insert(user.to_owned(), homes);
    }

    /// Forgets the homes of `user` and their listing (a home answered 404: it moved).
    pub(crate) fn forget_homes(&self, user: &str) {
        self.homes.invalidate(user);
        self.forget_listing(user);
    }

    /// The collections of the user of `credentials` as listed within the time to live by a
    /// login with the same credentials.
    pub(crate) fn listing(&self, credentials: &Credentials) -> Option<Arc<Vec<CollectionInfo>>> {
        let listing = self.listings.as_ref()?.get(credentials.user())?;
        listing.proof.matches(credentials).then_some(listing.collections)
    }

    pub(crate) fn remember_listing(&self, credentials: &Credentials, collections: Arc<Vec<CollectionInfo>>) {
        if let Some(listings) = &self.listings {
            let listing = Listing { proof: CredentialsProof::of(credentials), collections };
            listings.insert(credentials.user().to_owned(), listing);
        }
    }

    /// Forgets the listing of `user`: a collection was made, renamed or removed through the
    /// gateway, or a command needs what the server holds now.
    pub(crate) fn forget_listing(&self, user: &str) {
        if let Some(listings) = &self.listings {
            listings.invalidate(user);
        }
    }
}

/// About the bytes a listing holds: its strings and a fixed cost per entry.
fn weight(user: &str, listing: &Listing) -> u32 {
    let strings: usize = listing
        .collections
        .iter()
        .map(|info| {
            info.id.len()
                + info.display_name.as_deref().map_or(0, str::len)
                + info.agap_mark.as_deref().map_or(0, str::len)
                + info.version.as_deref().map_or(0, str::len)
                + 128
        })
        .sum();
    u32::try_from(user.len() + strings + 128).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use agap_adapter_api::collection::ItemKind;

    use super::*;

    fn collections(id: &str) -> Arc<Vec<CollectionInfo>> {
        Arc::new(vec![CollectionInfo {
            id: id.to_owned(),
            kind: ItemKind::Events,
            accepts: vec![ItemKind::Events],
            display_name: None,
            agap_mark: None,
            version: Some("1".to_owned()),
        }])
    }

    #[test]
    fn a_listing_is_served_only_to_the_credentials_that_made_it() {
        let caches = UserCaches::new(Duration::from_secs(60));
        let alice = Credentials::new("alice", "right");
        caches.remember_listing(&alice, collections("/cal/a/"));
        assert_eq!(caches.listing(&alice).map(|found| found[0].id.clone()).as_deref(), Some("/cal/a/"));
        assert!(caches.listing(&Credentials::new("alice", "wrong")).is_none(), "a wrong password sees nothing");
        assert!(caches.listing(&Credentials::new("bob", "right")).is_none());
        caches.forget_listing("alice");
        assert!(caches.listing(&alice).is_none());
    }

    #[test]
    fn no_listing_is_kept_with_a_zero_time_to_live_and_a_moved_home_forgets_it() {
        let alice = Credentials::new("alice", "right");
        let uncached = UserCaches::new(Duration::ZERO);
        uncached.remember_listing(&alice, collections("/cal/a/"));
        assert!(uncached.listing(&alice).is_none());
        let caches = UserCaches::new(Duration::from_secs(60));
        caches.remember_listing(&alice, collections("/cal/a/"));
        caches.remember_homes("alice", AccountHomes { calendar: None, addressbook: None });
        caches.forget_homes("alice");
        assert!(caches.listing(&alice).is_none() && caches.homes("alice").is_none());
    }

    #[test]
    fn listings_are_bounded_in_bytes() {
        let caches = UserCaches::new(Duration::from_secs(60));
        // 2,000 users with a listing of about 64 KiB each: twice the bound.
        let big: Arc<Vec<CollectionInfo>> = Arc::new(
            (0..256).map(|n| CollectionInfo { id: format!("/cal/{n:0>120}/"), ..collections("")[0].clone() }).collect(),
        );
        for n in 0..2_000 {
            caches.remember_listing(&Credentials::new(format!("user{n}"), "pw"), Arc::clone(&big));
        }
        let listings = caches.listings.as_ref().expect("listings kept");
        listings.run_pending_tasks();
        assert!(listings.weighted_size() <= MAX_LISTING_BYTES, "{} bytes kept", listings.weighted_size());
        assert!(listings.entry_count() < 2_000);
    }
}
