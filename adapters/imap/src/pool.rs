//! A bounded pool of IMAP connections per user, shared by all of that user's AGAP sessions.
//!
//! Servers cap simultaneous connections per user and client address, and every AGAP session of
//! a user comes from the gateway's one address; so sessions borrow a connection per operation
//! and never hold one while idle. Upstream LOGINs of one user are serialised, and a password that
//! logged in recently is recognised by a salted hash instead of a new LOGIN.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use agap_adapter_api::{AdapterError, AdapterErrorKind, AdapterResult, Credentials, CredentialsProof};
use async_imap::imap_proto::{MailboxDatum, Response};
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
    /// Whether the user may write the gateway's private server annotations: METADATA does not
    /// promise it (Cyrus refuses every entry it has no definition for), so a probe tells.
    pub vendor_annotations: bool,
}

impl ServerFacts {
    /// Whether the server advertised `capability` (upper case).
    pub fn has(&self, capability: &str) -> bool {
        self.capabilities.iter().any(|c| c == capability)
    }
}

/// A login proven upstream, and when.
#[derive(Debug)]
struct ProvenPassword {
    proof: CredentialsProof,
    proven_at: Instant,
}

impl ProvenPassword {
    fn new(credentials: &Credentials) -> Self {
        Self { proof: CredentialsProof::of(credentials), proven_at: Instant::now() }
    }

    fn matches(&self, credentials: &Credentials, ttl: Duration) -> bool {
        self.proven_at.elapsed() <= ttl && self.proof.matches(credentials)
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
        // Bounded like a command: a login stuck upstream must not queue every later attempt
        // for this user behind it indefinitely.
        let Ok(_gate) = tokio::time::timeout(self.settings.command_timeout, self.login_gate.lock()).await else {
            return Err(AdapterError::new(
                AdapterErrorKind::Unavailable,
                "another login of this user is still waiting for the IMAP server; retry later",
            ));
        };
        if self.is_proven(credentials) {
            return Ok(());
        }
        let permit = self.acquire_permit().await?;
        let mut connection = ImapConnection::open(&self.settings, credentials).await?;
        self.learn_facts(&mut connection).await?;
        if let Ok(mut proven) = self.proven.lock() {
            *proven = Some(ProvenPassword::new(credentials));
        }
        if let Ok(mut stored) = self.credentials.lock() {
            *stored = Some(credentials.clone());
        }
        drop(Lease { connection: Some(connection), pool: Arc::clone(self), _permit: permit });
        Ok(())
    }

    fn is_proven(&self, credentials: &Credentials) -> bool {
        let ttl = self.settings.login_cache_ttl;
        self.proven.lock().is_ok_and(|proven| proven.as_ref().is_some_and(|p| p.matches(credentials, ttl)))
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
        let vendor_annotations = connection.has_capability("METADATA") && probe_vendor_annotations(connection).await?;
        if let Ok(mut facts) = self.facts.lock() {
            *facts = Some(ServerFacts { delimiter, capabilities, vendor_annotations });
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

    /// Whether the pool holds nothing worth keeping: no idle connection and no login proven
    /// within the cache's lifetime. (Whether anyone still uses it is the map's question.)
    fn is_disposable(&self) -> bool {
        let ttl = self.settings.login_cache_ttl;
        let no_connections = self.idle.lock().is_ok_and(|idle| idle.is_empty());
        let no_login =
            self.proven.lock().is_ok_and(|proven| proven.as_ref().is_none_or(|p| p.proven_at.elapsed() > ttl));
        no_connections && no_login
    }

    /// Whether a login of this user ever succeeded.
    fn was_authenticated(&self) -> bool {
        self.credentials.lock().is_ok_and(|stored| stored.is_some())
    }

    /// Logs out every idle connection (the pool is being dropped).
    fn close_all(&self) {
        let all: Vec<ImapConnection> = self.idle.lock().map(|mut idle| idle.drain(..).collect()).unwrap_or_default();
        for connection in all {
            tokio::spawn(connection.logout());
        }
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

/// An entry of the gateway's own, written and removed once per user to learn whether the server
/// lets the user keep private server annotations there.
const PROBE_ENTRY: &str = "/private/vendor/agap-gateway/probe";

/// Writes and removes [`PROBE_ENTRY`]: a refusal (or a BAD) means the gateway keeps its folder
/// records elsewhere; only a server that is unavailable fails the login.
async fn probe_vendor_annotations(connection: &mut ImapConnection) -> AdapterResult<bool> {
    let written = connection.execute(&format!("SETMETADATA \"\" ({PROBE_ENTRY} \"1\")")).await;
    match written {
        Ok(_) => {
            connection.execute(&format!("SETMETADATA \"\" ({PROBE_ENTRY} NIL)")).await?;
            Ok(true)
        }
        Err(error) if matches!(error.kind(), AdapterErrorKind::Refused | AdapterErrorKind::Protocol) => {
            tracing::info!(%error, "the IMAP server keeps no private server annotations of the gateway; folder records go to the gateway's store");
            Ok(false)
        }
        Err(error) => Err(error),
    }
}

fn poisoned() -> AdapterError {
    AdapterError::new(AdapterErrorKind::Protocol, "connection pool lock poisoned")
}

/// All users' pools, keyed by users who logged in upstream.
///
/// A login attempt for a user without a pool gets a fresh one, which joins the map only while
/// attempts are under way (so that attempts for one name share its login gate) and stays only
/// if one succeeds; a pool nobody uses, with no idle connection and no cached login, is dropped
/// by the background task. The map holds at most `max_pools` entries.
#[derive(Debug)]
pub struct Pools {
    settings: Arc<ImapSettings>,
    by_user: Mutex<HashMap<String, Arc<UserPool>>>,
}

/// Removes an attempt's pool from the map when the attempt ends (success, failure or a dropped
/// future alike) if it was never authenticated and no other attempt shares it.
struct Attempt<'a> {
    pools: &'a Pools,
    user: &'a str,
    pool: Arc<UserPool>,
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        if self.pool.was_authenticated() {
            return;
        }
        let Ok(mut by_user) = self.pools.by_user.lock() else { return };
        // Two holders: the map and this attempt; more means another attempt is still waiting.
        let alone = by_user.get(self.user).is_some_and(|kept| Arc::ptr_eq(kept, &self.pool))
            && Arc::strong_count(&self.pool) == 2;
        if alone {
            by_user.remove(self.user);
        }
    }
}

impl Pools {
    /// Creates the pools and a background task closing idle connections and dropping unused
    /// pools.
    pub fn new(settings: Arc<ImapSettings>) -> Arc<Self> {
        let pools = Arc::new(Self { settings, by_user: Mutex::new(HashMap::new()) });
        let weak: Weak<Self> = Arc::downgrade(&pools);
        let shortest = pools.settings.idle_connection_timeout.min(pools.settings.login_cache_ttl);
        let period = (shortest / 2).max(Duration::from_millis(500));
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let mut ticker = tokio::time::interval(period);
                loop {
                    ticker.tick().await;
                    let Some(pools) = weak.upgrade() else { break };
                    pools.sweep();
                }
            });
        }
        pools
    }

    /// Checks `credentials` upstream (or against the user's cached login) and returns the
    /// user's pool; a failed attempt leaves no pool behind that was not there before.
    pub async fn login(&self, credentials: &Credentials) -> AdapterResult<Arc<UserPool>> {
        let user = credentials.user();
        let attempt = Attempt { pools: self, user, pool: self.pool_for_attempt(user)? };
        attempt.pool.authenticate(credentials).await?;
        Ok(Arc::clone(&attempt.pool))
    }

    /// The pool of `user`, or a new one if the map has room (after dropping unused pools).
    fn pool_for_attempt(&self, user: &str) -> AdapterResult<Arc<UserPool>> {
        let mut by_user = self.by_user.lock().map_err(|_| poisoned())?;
        if let Some(pool) = by_user.get(user) {
            return Ok(Arc::clone(pool));
        }
        if by_user.len() >= self.settings.max_pools {
            // Unused pools only cost a later LOGIN: make room with them before refusing.
            by_user.retain(|_, pool| {
                let used = Arc::strong_count(pool) > 1;
                if !used {
                    pool.close_all();
                }
                used
            });
            if by_user.len() >= self.settings.max_pools {
                return Err(AdapterError::new(
                    AdapterErrorKind::Unavailable,
                    "the gateway serves as many IMAP users as it may at once; retry later",
                ));
            }
        }
        let pool = Arc::new(UserPool::new(Arc::clone(&self.settings)));
        by_user.insert(user.to_owned(), Arc::clone(&pool));
        Ok(pool)
    }

    /// Closes expired idle connections and drops the pools that nobody uses (no session, lease
    /// or login attempt holds them) and that hold nothing worth keeping.
    fn sweep(&self) {
        let Ok(mut by_user) = self.by_user.lock() else { return };
        by_user.retain(|_, pool| {
            pool.close_expired();
            Arc::strong_count(pool) > 1 || !pool.is_disposable()
        });
    }

    /// How many users have a pool (for tests and monitoring).
    pub fn count(&self) -> usize {
        self.by_user.lock().map(|by_user| by_user.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proven_password_matches_only_itself_and_only_while_fresh() {
        let user = |password: &str| Credentials::new("bob", password);
        let proven = ProvenPassword::new(&user("correct horse"));
        assert!(proven.matches(&user("correct horse"), Duration::from_secs(60)));
        assert!(!proven.matches(&user("correct horsf"), Duration::from_secs(60)));
        assert!(!proven.matches(&user(""), Duration::from_secs(60)));
        assert!(!proven.matches(&Credentials::on_behalf("bob", "admin", "correct horse"), Duration::from_secs(60)));
        assert!(!proven.matches(&user("correct horse"), Duration::ZERO));
    }

    fn pools(max_pools: usize) -> Arc<Pools> {
        Pools::new(Arc::new(ImapSettings { max_pools, ..ImapSettings::default() }))
    }

    #[tokio::test]
    async fn the_map_is_bounded_and_makes_room_with_unused_pools() {
        let pools = pools(2);
        let alice = pools.pool_for_attempt("alice").expect("room");
        let bob = pools.pool_for_attempt("bob").expect("room");
        let refused = pools.pool_for_attempt("carol").expect_err("full");
        assert_eq!(refused.kind(), AdapterErrorKind::Unavailable);
        assert!(Arc::ptr_eq(&alice, &pools.pool_for_attempt("alice").expect("alice's")), "one pool per user");
        drop(bob);
        let _carol = pools.pool_for_attempt("carol").expect("bob's unused pool made room");
        assert_eq!(pools.count(), 2);
    }

    #[tokio::test]
    async fn an_attempt_that_never_authenticated_leaves_no_pool_unless_another_waits() {
        let pools = pools(10);
        let first = Attempt { pools: &pools, user: "mallory", pool: pools.pool_for_attempt("mallory").expect("room") };
        let second = Attempt { pools: &pools, user: "mallory", pool: pools.pool_for_attempt("mallory").expect("room") };
        assert!(Arc::ptr_eq(&first.pool, &second.pool), "attempts for one name share the gate");
        drop(first);
        assert_eq!(pools.count(), 1, "the second attempt still uses it");
        drop(second);
        assert_eq!(pools.count(), 0);
    }

    #[tokio::test]
    async fn the_sweep_drops_only_unused_pools_holding_nothing() {
        let pools = pools(10);
        let used = pools.pool_for_attempt("alice").expect("room");
        let proven = pools.pool_for_attempt("bob").expect("room");
        if let Ok(mut login) = proven.proven.lock() {
            *login = Some(ProvenPassword::new(&Credentials::new("bob", "pw")));
        }
        drop(proven);
        drop(pools.pool_for_attempt("carol").expect("room"));
        pools.sweep();
        let mut kept: Vec<String> = pools.by_user.lock().expect("map").keys().cloned().collect();
        kept.sort();
        assert_eq!(kept, ["alice", "bob"], "carol's pool held nothing; bob's login is cached");
        drop(used);
    }
}
