//! The gateway's own store: only what cannot be read upstream (folder types of FOLD folders,
//! change counters; the DAV UID map later). Behind a trait so that a shared PostgreSQL store can
//! serve several gateway instances.

mod sqlite;

use std::collections::HashMap;

use async_trait::async_trait;

pub use sqlite::SqliteStore;

use crate::error::AgapError;

/// A store failure; it reaches the client as an internal error (401).
#[derive(Debug, thiserror::Error)]
#[error("gateway store: {0}")]
pub struct StoreError(pub String);

impl From<StoreError> for AgapError {
    fn from(error: StoreError) -> Self {
        AgapError::internal(error)
    }
}

/// The result type of store operations.
pub type StoreResult<T> = Result<T, StoreError>;

/// One change id to bring up to date: `scope` names it (e.g. `fcid:Archive/2010`), and
/// `fingerprint` summarises the upstream state it stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observation {
    /// Which change id.
    pub scope: String,
    /// The state it now reflects.
    pub fingerprint: String,
}

/// What the gateway remembers per account.
#[async_trait]
pub trait GatewayStore: Send + Sync + std::fmt::Debug {
    /// Upstream keys of the account's mailboxes that were created with a type IMAP cannot hold
    /// (FOLD, FILT), with that type's name.
    async fn folder_kinds(&self, account: &str) -> StoreResult<HashMap<String, String>>;

    /// Records the type the mailbox `key` was created with.
    async fn remember_kind(&self, account: &str, key: &str, kind: &str) -> StoreResult<()>;

    /// The definition of the FILT folder `key`.
    async fn filter_definition(&self, account: &str, key: &str) -> StoreResult<Option<String>>;

    /// Replaces the definition of the FILT folder `key`.
    async fn save_filter_definition(&self, account: &str, key: &str, definition: &str) -> StoreResult<()>;

    /// Moves every record of `old_key` and below to `new_key` (after an upstream RENAME).
    async fn rename_subtree(&self, account: &str, old_key: &str, new_key: &str) -> StoreResult<()>;

    /// Forgets every record of `key` and below (after an upstream DELETE).
    async fn forget_subtree(&self, account: &str, key: &str) -> StoreResult<()>;

    /// Returns the change id of each observation, in order: unchanged while its fingerprint is
    /// unchanged, otherwise the larger of the previous value plus one and `now_ms`. Using the
    /// clock as a floor keeps ids growing even after the store was lost.
    async fn observe(&self, account: &str, observations: &[Observation], now_ms: u64) -> StoreResult<Vec<u64>>;
}
