//! A bounded pool of IMAP connections per user, shared by all of that user's AGAP sessions.
//!
//! Servers cap simultaneous connections per user and client address, and every AGAP session of
//! a user comes from the gateway's one address; so sessions borrow a connection per operation
//! and never hold one while idle. Upstream LOGINs of one user are serialised, and a password that
//! logged in recently is recognised by a salted hash instead of a new LOGIN.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use agap_adapter_api::{AdapterError, AdapterErrorKind, AdapterResult, Credentials};
use async_imap::imap_proto::{MailboxDatum, Response};
use rand::RngExt;
use sha2::{Digest, Sha256};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::connection::ImapConnection;
use crate::settings::ImapSettings;

/// Facts about the server learnt on the first connection of a user.
#[derive(Debug, Clone)]
pub struct ServerFacts {
    /// The hierarchy separator (RFC 3501 6.3.8); `None` for a flat server.
    pub delimiter: Option<char>,
    /// Capabilities, upper case.
    pub capabilities: Vec<String>,
}

impl ServerFacts {
    /// Whether the server advertised `capability` (upper case).
    pub fn has(&self, capability: &str) -> bool {
        self.capabilities.iter().any(|c| c == capability)
    }
}

/// A password proven upstream, kept only as a salted SHA-256.
#[derive(Debug)]
struct ProvenPassword {
    salt: [u8; 16],
    digest: [u8; 32],
    proven_at: Instant,
}

impl ProvenPassword {
    fn digest(salt: &[u8; 16], password: &str) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update(salt);
        hasher.update(password.as_bytes());
        hasher.finalize().into()
    }

    fn new(password: &str) -> Self {
        let salt: [u8; 16] = rand::rng().random();
        Self { digest: Self::digest(&salt, password), salt, proven_at: Instant::now() }
    }

    fn matches(&self, password: &str, ttl: Duration) -> bool {
        if self.proven_at.elapsed() > ttl {
            return false;
        }
        let candidate = Self::digest(&self.salt, password);
        // Constant-time comparison: no early exit on the first differing byte.
        candidate.iter().zip(self.digest.iter()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    }
}

/// The connections of one user.
#[derive(Debug)]
pub struct UserPool {
    settings: Arc<ImapSettings>,
    permits: Arc<Semaphore>,
    idle: Mutex<Vec<ImapConnection>>,
    /// Serialises upstream LOGINs of this user; never held while waiting for anything but a
    /// connection permit, and never taken by `checkout`.
    login_gate: tokio::sync::Mutex<()>,
    proven: Mutex<Option<ProvenPassword>>,
    /// The credentials of the latest successful login, to open further pooled connections.
    credentials: Mutex<Option<Credentials>>,
    facts: Mutex<Option<ServerFacts>>,
}

/// A connection borrowed from a pool; it goes back when dropped unless it broke.
#[derive(Debug)]
pub struct Lease {
    connection: Option<ImapConnection>,
    pool: Arc<UserPool>,
    _permit: OwnedSemaphorePermit,
}

impl std::ops::Deref for Lease {
    type Target = ImapConnection;
    fn deref(&self) -> &ImapConnection {
        // Present from construction until drop.
        #[allow(clippy::unwrap_used)]
        self.connection.as_ref().unwrap()
    }
}

impl std::ops::DerefMut for Lease {
    fn deref_mut(&mut self) -> &mut ImapConnection {
        #[allow(clippy::unwrap_used)]
        self.connection.as_mut().unwrap()
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(mut connection) = self.connection.take().filter(|connection| !connection.is_broken()) {
            connection.last_used = Instant::now();
            if let Ok(mut idle) = self.pool.idle.lock() {
                idle.push(connection);
            }
        }
    }
}

impl UserPool {
    fn new(settings: Arc<ImapSettings>) -> Self {
        let permits = Arc::new(Semaphore::new(settings.max_connections_per_user.max(1)));
        Self {
            settings,
            permits,
            idle: Mutex::new(Vec::new()),
            login_gate: tokio::sync::Mutex::new(()),
            proven: Mutex::new(None),
            credentials: Mutex::new(None),
            facts: Mutex::new(None),
        }
    }

    /// Checks `credentials`: a recently proven password is accepted at once, anything else logs in
    /// upstream (and that connection joins the pool). Wrong passwords wait for each other, never
    /// for the pool nor delay a right one that is already proven.
    pub async fn authenticate(self: &Arc<Self>, credentials: &Credentials) -> AdapterResult<()> {
        if self.is_proven(credentials) {
            return Ok(());
        }
        let _gate = self.login_gate.lock().await;
        if self.is_proven(credentials) {
            return Ok(());
        }
        let permit = self.acquire_permit().await?;
        let mut connection = ImapConnection::open(&self.settings, credentials).await?;
        self.learn_facts(&mut connection).await?;
        if let Ok(mut proven) = self.proven.lock() {
            *proven = Some(ProvenPassword::new(&proof(credentials)));
        }
        if let Ok(mut stored) = self.credentials.lock() {
            *stored = Some(credentials.clone());
        }
        drop(Lease { connection: Some(connection), pool: Arc::clone(self), _permit: permit });
        Ok(())
    }

    fn is_proven(&self, credentials: &Credentials) -> bool {
        let ttl = self.settings.login_cache_ttl;
        let proof = proof(credentials);
        self.proven.lock().is_ok_and(|proven| proven.as_ref().is_some_and(|p| p.matches(&proof, ttl)))
    }

    async fn acquire_permit(&self) -> AdapterResult<OwnedSemaphorePermit> {
        let acquire = Arc::clone(&self.permits).acquire_owned();
        match tokio::time::timeout(self.settings.command_timeout, acquire).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(AdapterError::new(
                AdapterErrorKind::Unavailable,
                "all IMAP connections of this user are busy; retry later",
            )),
        }
    }

    async fn learn_facts(&self, connection: &mut ImapConnection) -> AdapterResult<()> {
        if self.facts().is_some() {
            return Ok(());
        }
        let mut delimiter = None;
        connection
            .execute_with("LIST \"\" \"\"", |response| {
                if let Response::MailboxData(MailboxDatum::List(list)) = response {
                    delimiter = list.delimiter.as_ref().and_then(|d| d.chars().next());
                }
            })
            .await?;
        let capabilities = [
            "SPECIAL-USE",
            "CREATE-SPECIAL-USE",
            "LIST-EXTENDED",
            "MOVE",
            "UIDPLUS",
            "METADATA",
            "CONDSTORE",
            "ACL",
            "I18NLEVEL=1",
            "I18NLEVEL=2",
            "IMAP4REV2",
        ]
        .into_iter()
        .filter(|c| connection.has_capability(c))
        .map(String::from)
        .collect();
        if let Ok(mut facts) = self.facts.lock() {
            *facts = Some(ServerFacts { delimiter, capabilities });
        }
        Ok(())
    }

    /// The adapter's settings.
    pub fn settings(&self) -> &ImapSettings {
        &self.settings
    }

    /// What the first connection learnt about the server.
    pub fn facts(&self) -> Option<ServerFacts> {
        self.facts.lock().ok().and_then(|facts| facts.clone())
    }

    /// Borrows a connection, opening one if none is idle and the user is under the limit.
    pub async fn checkout(self: &Arc<Self>) -> AdapterResult<Lease> {
        let permit = self.acquire_permit().await?;
        let reusable = {
            let mut idle = self.idle.lock().map_err(|_| poisoned())?;
            let mut found = None;
            while let Some(connection) = idle.pop() {
                if connection.last_used.elapsed() < self.settings.idle_connection_timeout {
                    found = Some(connection);
                    break;
                }
                tokio::spawn(connection.logout());
            }
            found
        };
        let connection = match reusable {
            Some(connection) => connection,
            None => {
                let credentials = self.credentials.lock().ok().and_then(|stored| stored.clone()).ok_or_else(|| {
                    AdapterError::new(AdapterErrorKind::AuthenticationFailed, "no upstream login for this user")
                })?;
                let mut connection = ImapConnection::open(&self.settings, &credentials).await?;
                self.learn_facts(&mut connection).await?;
                connection
            }
        };
        Ok(Lease { connection: Some(connection), pool: Arc::clone(self), _permit: permit })
    }

    /// Logs out connections idle for longer than the timeout.
    fn close_expired(&self) {
        let expired: Vec<ImapConnection> = match self.idle.lock() {
            Ok(mut idle) => {
                let timeout = self.settings.idle_connection_timeout;
                let (keep, expired) = idle.drain(..).partition(|c| c.last_used.elapsed() < timeout);
                *idle = keep;
                expired
            }
            Err(_) => Vec::new(),
        };
        for connection in expired {
            tokio::spawn(connection.logout());
        }
    }
}

/// What the proven-login cache remembers: the password together with who proved it, so that a
/// master user's password never passes for the user's own (nor the other way round).
fn proof(credentials: &Credentials) -> String {
    match credentials.master() {
        Some(master) => format!("master\0{master}\0{}", credentials.password()),
        None => format!("user\0{}", credentials.password()),
    }
}

fn poisoned() -> AdapterError {
    AdapterError::new(AdapterErrorKind::Protocol, "connection pool lock poisoned")
}

/// All users' pools.
#[derive(Debug)]
pub struct Pools {
    settings: Arc<ImapSettings>,
    by_user: Mutex<HashMap<String, Arc<UserPool>>>,
}

impl Pools {
    /// Creates the pools and a background task closing idle connections.
    pub fn new(settings: Arc<ImapSettings>) -> Arc<Self> {
        let pools = Arc::new(Self { settings, by_user: Mutex::new(HashMap::new()) });
        let weak: Weak<Self> = Arc::downgrade(&pools);
        let period = (pools.settings.idle_connection_timeout / 2).max(Duration::from_millis(500));
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let mut ticker = tokio::time::interval(period);
                loop {
                    ticker.tick().await;
                    let Some(pools) = weak.upgrade() else { break };
                    let all: Vec<Arc<UserPool>> =
                        pools.by_user.lock().map(|m| m.values().cloned().collect()).unwrap_or_default();
                    for pool in all {
                        pool.close_expired();
                    }
                }
            });
        }
        pools
    }

    /// The pool of `user`, created on first use.
    pub fn for_user(&self, user: &str) -> AdapterResult<Arc<UserPool>> {
        let mut by_user = self.by_user.lock().map_err(|_| poisoned())?;
        Ok(Arc::clone(
            by_user.entry(user.to_owned()).or_insert_with(|| Arc::new(UserPool::new(Arc::clone(&self.settings)))),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proven_password_matches_only_itself_and_only_while_fresh() {
        let proven = ProvenPassword::new("correct horse");
        assert!(proven.matches("correct horse", Duration::from_secs(60)));
        assert!(!proven.matches("correct horsf", Duration::from_secs(60)));
        assert!(!proven.matches("", Duration::from_secs(60)));
        assert!(!proven.matches("correct horse", Duration::ZERO));
    }

    #[test]
    fn the_salt_differs_between_proofs() {
        assert_ne!(ProvenPassword::new("x").salt, ProvenPassword::new("x").salt);
    }
}
