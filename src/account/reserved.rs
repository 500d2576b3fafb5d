//! The reserved folders (draft 2.9.4; docs/interpretations.md, RESERVED-FOLDERS) are made where
//! missing once per user per `[dav] listing_cache_secs`, by the first command of any of the
//! user's sessions that reads the folder tree, not at every login: a login then asks the
//! servers for nothing the session may never need (docs/interpretations.md, RESERVED-WHEN).

use std::sync::Arc;
use std::time::Duration;

use agap_adapter_api::mail::MailboxName;
use tokio::sync::OnceCell;

use super::Account;
use crate::error::AgapResult;
use crate::folder::{FolderTree, ReservedFolder, ReservedNames};
use crate::gateway::Gateway;

/// Users whose recent check is remembered at once; past it, a user is checked again sooner.
const MAX_REMEMBERED_USERS: u64 = 100_000;

/// The checks made recently, per user, shared by the user's sessions.
#[derive(Debug)]
pub struct ReservedChecks {
    /// `None` with a zero period: each session checks once.
    recent: Option<moka::sync::Cache<String, Arc<OnceCell<()>>>>,
}

impl ReservedChecks {
    /// Checks remembered for `period`.
    pub fn new(period: Duration) -> Self {
        let recent = (!period.is_zero())
            .then(|| moka::sync::Cache::builder().max_capacity(MAX_REMEMBERED_USERS).time_to_live(period).build());
        Self { recent }
    }

    /// The check of `user` for this period, shared by every session that asks within it (so
    /// that two sessions never make the same folder twice); `None` when each session checks.
    fn of(&self, user: &str) -> Option<Arc<OnceCell<()>>> {
        self.recent.as_ref().map(|recent| recent.get_with(user.to_owned(), || Arc::new(OnceCell::new())))
    }
}

impl Account {
    /// Makes the reserved folders the account lacks, unless that was done within the period
    /// (or, with no period, in this session). A failed check is not remembered: the next command
    /// tries again.
    pub(super) async fn set_up_reserved_folders_once(&self, gateway: &Gateway) -> AgapResult<()> {
        let check = gateway.reserved_checks.of(&self.user).unwrap_or_else(|| Arc::clone(&self.session_check));
        check.get_or_try_init(|| self.set_up_reserved_folders(gateway)).await.map(|_| ())
    }

    /// Creates the reserved folders the account lacks. A server refusing one is logged, not
    /// fatal: the account stays usable without it.
    async fn set_up_reserved_folders(&self, gateway: &Gateway) -> AgapResult<()> {
        if self.annotations_upstream()
            && let Err(error) = self.migrate_legacy_records().await
        {
            tracing::warn!(user = %self.user, %error, "could not move the shared folder records");
        }
        if let Err(error) = self.ensure_reserved_collections(gateway).await {
            tracing::warn!(user = %self.user, %error, "could not set up the reserved calendar and contact folders");
        }
        let names = &gateway.config.folders;
        let mailboxes = self.mail.list_mailboxes().await?;
        let mut missing = FolderTree::missing_reserved(&mailboxes, names);
        // Where annotations keep the configuration, no mailbox is made for it: /CONFIGURATION
        // is then annotations (docs/interpretations.md, CONF-UPSTREAM). A mailbox already there
        // is kept and used, so that no item vanishes when a server gains METADATA.
        if self.annotations_upstream() {
            missing.retain(|folder| *folder != ReservedFolder::Configuration);
        }
        for folder in &missing {
            let name = MailboxName::new(vec![names.default_name(*folder).to_owned()]);
            match self.mail.create_mailbox(&name, folder.special_use()).await {
                Ok(()) if folder.hidden() => self.mail.hide_mailbox(&name).await?,
                Ok(()) => {}
                Err(error) => {
                    tracing::warn!(user = %self.user, folder = folder.agap_name(), %error, "could not create reserved folder")
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_is_checked_once_per_period_and_each_session_without_one() {
        let shared = ReservedChecks::new(Duration::from_secs(60));
        let first = shared.of("alice").expect("a period");
        assert!(Arc::ptr_eq(&first, &shared.of("alice").expect("a period")), "one check for alice's sessions");
        assert!(!Arc::ptr_eq(&first, &shared.of("bob").expect("a period")));
        assert!(ReservedChecks::new(Duration::ZERO).of("alice").is_none(), "without a period each session checks");
    }

    #[test]
    fn a_check_is_forgotten_after_its_period() {
        let shared = ReservedChecks::new(Duration::from_millis(20));
        let first = shared.of("alice").expect("a period");
        first.set(()).expect("done");
        std::thread::sleep(Duration::from_millis(40));
        let next = shared.of("alice").expect("a period");
        assert!(next.get().is_none(), "checked again once the period is over");
    }
}
