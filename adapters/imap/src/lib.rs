//! IMAP adapter of the AGAP gateway: the `MailBackend` over any RFC 3501 server.
//!
//! Mailbox names travel in modified UTF-7 with the server's own hierarchy separator; connections
//! come from a bounded per-user pool (see `pool`), so an idle AGAP session holds none.

mod account;
mod bounded;
mod connection;
mod keywords;
mod messages;
mod pool;
#[cfg(test)]
mod scripted;
mod search;
mod settings;
mod transport;
mod utf7;

use std::sync::Arc;

use agap_adapter_api::mail::{MailAccount, MailBackend};
use agap_adapter_api::{AdapterResult, Credentials};
use async_trait::async_trait;

pub use account::ImapAccount;
pub use settings::{ImapSecurity, ImapSettings};
pub use transport::{BoxedImapStream, ImapStream};

/// The pieces that turn the core's values into IMAP command text, public for the fuzz target of
/// the IMAP boundary: whatever they are given, a line break never reaches the server.
pub mod wire {
    pub use crate::bounded::ResponseScanner;
    pub use crate::connection::{check_command_line, quote};
    pub use crate::keywords::flags_for;
    pub use crate::search::{SearchContext, translate};
    pub use crate::utf7::encode as encode_mailbox_level;
}

/// The IMAP mail backend: one per gateway, shared by every session.
#[derive(Debug)]
pub struct ImapBackend {
    pools: Arc<pool::Pools>,
}

impl ImapBackend {
    /// A backend for the server in `settings`. Must be called inside a tokio runtime (it starts
    /// the task that closes idle connections).
    pub fn new(settings: ImapSettings) -> Self {
        Self { pools: pool::Pools::new(Arc::new(settings)) }
    }

    /// How many users have a connection pool: those logged in, those whose cached login or idle
    /// connections have not expired, and login attempts under way.
    pub fn pooled_users(&self) -> usize {
        self.pools.count()
    }
}

#[async_trait]
impl MailBackend for ImapBackend {
    async fn login(&self, credentials: &Credentials) -> AdapterResult<Arc<dyn MailAccount>> {
        let pool = self.pools.login(credentials).await?;
        Ok(Arc::new(ImapAccount::new(pool)))
    }
}
