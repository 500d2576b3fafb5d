//! Settings of the IMAP adapter, filled from the gateway's configuration file.

use std::time::Duration;

/// Where the IMAP server is and how the adapter treats its connections.
#[derive(Debug, Clone)]
pub struct ImapSettings {
    /// Host name or address of the IMAP server.
    pub host: String,
    /// Its port (143 for plain IMAP).
    pub port: u16,
    /// At most this many IMAP connections per user, shared by all of the user's AGAP sessions.
    /// Servers cap connections per user and client address (Dovecot: 10 by default), and the
    /// gateway is one client address for all of its users.
    pub max_connections_per_user: usize,
    /// Pooled connections unused for this long are logged out.
    pub idle_connection_timeout: Duration,
    /// A password that logged in upstream successfully is accepted again for this long without
    /// a new upstream LOGIN (kept as a salted hash). Zero disables the cache.
    pub login_cache_ttl: Duration,
    /// Bound on connecting and on the server's greeting.
    pub connect_timeout: Duration,
    /// Bound on any single command.
    pub command_timeout: Duration,
}

impl Default for ImapSettings {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 143,
            max_connections_per_user: 4,
            idle_connection_timeout: Duration::from_secs(60),
            login_cache_ttl: Duration::from_secs(300),
            connect_timeout: Duration::from_secs(10),
            command_timeout: Duration::from_secs(60),
        }
    }
}
