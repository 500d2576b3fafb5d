//! Settings of the IMAP adapter, filled from the gateway's configuration file.

use std::sync::Arc;
use std::time::Duration;

use tokio_rustls::rustls::ClientConfig;

/// How connections to the server are protected. The client configurations verify the server's
/// certificate against the roots they were built with.
#[derive(Debug, Clone)]
pub enum ImapSecurity {
    /// Plain TCP: credentials in clear. For a server on the same host or a trusted network only.
    Plain,
    /// TLS from the first byte (IMAPS, usually port 993).
    Tls(Arc<ClientConfig>),
    /// Plain TCP, then STARTTLS before LOGIN; a server refusing STARTTLS is an error.
    StartTls(Arc<ClientConfig>),
}

/// Where the IMAP server is and how the adapter treats its connections.
#[derive(Debug, Clone)]
pub struct ImapSettings {
    /// Host name or address of the IMAP server.
    pub host: String,
    /// Its port (143 for plain IMAP and STARTTLS, 993 for IMAPS).
    pub port: u16,
    /// TLS or not; the certificate must name `host` (a DNS name or an IP address).
    pub security: ImapSecurity,
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
    /// Bound on any single command, and on waiting for another login of the same user.
    pub command_timeout: Duration,
    /// The largest message the gateway reads (`[mail] max_item_size`): messages are fetched
    /// with partial FETCHes of one byte more, and a literal announced larger than that breaks
    /// the connection before it is buffered.
    pub max_item_size: usize,
    /// At most this many users have a pool at once (those logged in, those with a cached login
    /// or idle connections, and login attempts under way); unused pools make room for new ones,
    /// and past that a login is refused as unavailable.
    pub max_pools: usize,
}

impl ImapSettings {
    /// The largest literal a response may announce: what a partial FETCH of `max_item_size`
    /// plus one byte returns.
    pub fn max_literal(&self) -> usize {
        self.max_item_size.saturating_add(1)
    }
}

impl Default for ImapSettings {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 143,
            // No TLS configuration exists without reading a trust store, which is the
            // gateway's configuration's job (it defaults to STARTTLS).
            security: ImapSecurity::Plain,
            max_connections_per_user: 4,
            idle_connection_timeout: Duration::from_secs(60),
            login_cache_ttl: Duration::from_secs(300),
            connect_timeout: Duration::from_secs(10),
            command_timeout: Duration::from_secs(60),
            max_item_size: 25 * 1024 * 1024,
            max_pools: 10_000,
        }
    }
}
