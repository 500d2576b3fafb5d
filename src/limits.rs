//! The limits that keep the gateway up against one client: connections per client address,
//! banned networks, and failed logins per address (a growing delay, then a temporary ban). The
//! welcome line says which one fired (draft 4.4, 7.3: 410 for too many connections, 531 for a
//! banned client); the total connection limit stays with the listeners (`server`).
//!
//! The shared state lives here, behind one mutex, and every function takes `now` so that tests
//! move time by hand instead of sleeping. The map is bounded: an address is forgotten as soon
//! as it has no connection, no failure inside the window and no ban, and at most
//! `MAX_TRACKED_ADDRESSES` addresses are kept at once.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use ipnet::IpNet;

use crate::config::LimitsConfig;

/// Bound on the addresses tracked at once; past it, new addresses are admitted but their
/// failures are not counted until the expired entries are gone (a flood of spoofed-looking
/// addresses cannot grow memory without bound).
const MAX_TRACKED_ADDRESSES: usize = 100_000;

/// The client addresses a limit counts together: an IPv4 address (also when mapped into
/// IPv6), or the /64 network of an IPv6 address, since one IPv6 host usually owns a whole /64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientKey(IpAddr);

impl ClientKey {
    /// The key of a client address.
    pub fn of(address: IpAddr) -> Self {
        match address.to_canonical() {
            IpAddr::V4(v4) => ClientKey(IpAddr::V4(v4)),
            IpAddr::V6(v6) => {
                let bits = u128::from(v6) & !((1u128 << 64) - 1);
                ClientKey(IpAddr::V6(bits.into()))
            }
        }
    }
}

/// Why a new connection is refused at the welcome line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The address lies in a configured banned network (531).
    BannedNetwork(IpNet),
    /// The address failed to log in too often; banned until the duration has passed (531).
    TemporarilyBanned(Duration),
    /// The address already has its maximum number of connections (410).
    TooManyFromAddress(usize),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::BannedNetwork(network) => write!(f, "address in banned network {network}"),
            Refusal::TemporarilyBanned(left) => write!(f, "banned after failed logins for {} s more", left.as_secs()),
            Refusal::TooManyFromAddress(limit) => write!(f, "more than {limit} connections from this address"),
        }
    }
}

/// What a failed login leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailureVerdict {
    /// How long to wait before answering the failure.
    pub delay: Duration,
    /// This failure started a ban of the address (log it once).
    pub ban_started: bool,
}

#[derive(Debug, Default)]
struct AddressState {
    connections: usize,
    /// Times of the failed logins inside the window, oldest first (at most `ban_after` + 1).
    failures: VecDeque<Instant>,
    banned_until: Option<Instant>,
}

impl AddressState {
    fn forget_before(&mut self, now: Instant, window: Duration) {
        while self.failures.front().is_some_and(|at| now.saturating_duration_since(*at) >= window) {
            self.failures.pop_front();
        }
        if self.banned_until.is_some_and(|until| until <= now) {
            self.banned_until = None;
        }
    }

    fn is_idle(&self) -> bool {
        self.connections == 0 && self.failures.is_empty() && self.banned_until.is_none()
    }
}

/// The per-address limits of one gateway.
#[derive(Debug)]
pub struct Limits {
    config: LimitsConfig,
    banned: Vec<IpNet>,
    addresses: Mutex<HashMap<ClientKey, AddressState>>,
}

/// A connection counted against its address until dropped.
#[derive(Debug)]
pub struct ConnectionSlot {
    limits: Arc<Limits>,
    key: ClientKey,
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        let mut addresses = self.limits.lock();
        if let Some(state) = addresses.get_mut(&self.key) {
            state.connections = state.connections.saturating_sub(1);
            if state.is_idle() {
                addresses.remove(&self.key);
            }
        }
    }
}

impl Limits {
    /// Limits with these settings; `banned_networks` must parse (`Config::validate` checks it).
    pub fn new(config: &LimitsConfig) -> Result<Self, ipnet::AddrParseError> {
        let banned = config.banned_networks.iter().map(|network| network.parse()).collect::<Result<_, _>>()?;
        Ok(Self { config: config.clone(), banned, addresses: Mutex::new(HashMap::new()) })
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<ClientKey, AddressState>> {
        // A panic while holding the lock leaves plain counters behind: still usable.
        self.addresses.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn window(&self) -> Duration {
        Duration::from_secs(self.config.failed_login_window_secs)
    }

    /// How many failures in the window can still change a verdict.
    fn counted_failures(&self) -> usize {
        let config = &self.config;
        if config.failed_logins_before_ban > 0 {
            return config.failed_logins_before_ban;
        }
        let steps = config.failed_login_max_delay_ms.div_ceil(config.failed_login_delay_step_ms.max(1));
        config.failed_logins_before_delay.saturating_add(usize::try_from(steps).unwrap_or(usize::MAX)).max(1)
    }

    /// Admits a new connection from `address`, or says why not.
    pub fn admit(self: &Arc<Self>, address: IpAddr, now: Instant) -> Result<ConnectionSlot, Refusal> {
        let canonical = address.to_canonical();
        if let Some(network) = self.banned.iter().find(|network| network.contains(&canonical)) {
            return Err(Refusal::BannedNetwork(*network));
        }
        let key = ClientKey::of(address);
        let window = self.window();
        let mut addresses = self.lock();
        let state = addresses.entry(key).or_default();
        state.forget_before(now, window);
        if let Some(until) = state.banned_until {
            return Err(Refusal::TemporarilyBanned(until - now));
        }
        if state.connections >= self.config.max_connections_per_address {
            return Err(Refusal::TooManyFromAddress(self.config.max_connections_per_address));
        }
        state.connections += 1;
        Ok(ConnectionSlot { limits: Arc::clone(self), key })
    }

    /// Whether `address` is banned now (for sessions opened before the ban started).
    pub fn is_banned(&self, address: IpAddr, now: Instant) -> bool {
        let key = ClientKey::of(address);
        let window = self.window();
        let mut addresses = self.lock();
        addresses.get_mut(&key).is_some_and(|state| {
            state.forget_before(now, window);
            state.banned_until.is_some()
        })
    }

    /// Counts a failed login of `address` and says how long to hold the reply back: nothing
    /// for the first `failed_logins_before_delay` failures in the window, then one step more
    /// for each failure (capped); the `failed_logins_before_ban`-th failure bans the address
    /// for `ban_secs`.
    pub fn record_failure(&self, address: IpAddr, now: Instant) -> FailureVerdict {
        let config = &self.config;
        let key = ClientKey::of(address);
        let window = self.window();
        let mut addresses = self.lock();
        if addresses.len() >= MAX_TRACKED_ADDRESSES && !addresses.contains_key(&key) {
            addresses.retain(|_, state| {
                state.forget_before(now, window);
                !state.is_idle()
            });
            if addresses.len() >= MAX_TRACKED_ADDRESSES {
                let delay = Duration::from_millis(config.failed_login_max_delay_ms);
                return FailureVerdict { delay, ban_started: false };
            }
        }
        let state = addresses.entry(key).or_default();
        state.forget_before(now, window);
        state.failures.push_back(now);
        // Only the count up to the ban, or up to the longest delay, matters: keep it bounded.
        while state.failures.len() > self.counted_failures() {
            state.failures.pop_front();
        }
        let count = state.failures.len();
        let over = count.saturating_sub(config.failed_logins_before_delay);
        let step = u64::try_from(over).unwrap_or(u64::MAX).saturating_mul(config.failed_login_delay_step_ms);
        let delay = Duration::from_millis(step.min(config.failed_login_max_delay_ms));
        let ban_started = config.failed_logins_before_ban > 0
            && count >= config.failed_logins_before_ban
            && state.banned_until.is_none();
        if ban_started {
            state.banned_until = Some(now + Duration::from_secs(config.ban_secs));
            state.failures.clear();
        }
        FailureVerdict { delay, ban_started }
    }

    /// Addresses tracked now (for tests and metrics).
    pub fn tracked(&self) -> usize {
        self.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(adjust: impl FnOnce(&mut LimitsConfig)) -> Arc<Limits> {
        let mut config = LimitsConfig::default();
        adjust(&mut config);
        Arc::new(Limits::new(&config).expect("valid networks"))
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("address")
    }

    #[test]
    fn connections_per_address_are_counted_and_released() {
        let limits = limits(|c| c.max_connections_per_address = 2);
        let now = Instant::now();
        let first = limits.admit(ip("192.0.2.1"), now).expect("first");
        let _second = limits.admit(ip("192.0.2.1"), now).expect("second");
        assert_eq!(limits.admit(ip("192.0.2.1"), now).expect_err("third"), Refusal::TooManyFromAddress(2));
        let _other = limits.admit(ip("192.0.2.2"), now).expect("another address");
        drop(first);
        let _again = limits.admit(ip("192.0.2.1"), now).expect("a slot was freed");
    }

    #[test]
    fn ipv6_hosts_count_per_64_and_mapped_ipv4_as_ipv4() {
        assert_eq!(ClientKey::of(ip("2001:db8:1:2:3::4")), ClientKey::of(ip("2001:db8:1:2:ffff::1")));
        assert_ne!(ClientKey::of(ip("2001:db8:1:2::1")), ClientKey::of(ip("2001:db8:1:3::1")));
        assert_eq!(ClientKey::of(ip("::ffff:192.0.2.1")), ClientKey::of(ip("192.0.2.1")));
    }

    #[test]
    fn banned_networks_are_refused_mapped_addresses_included() {
        let limits = limits(|c| c.banned_networks = vec!["192.0.2.0/24".into(), "2001:db8::/32".into()]);
        let now = Instant::now();
        assert!(matches!(limits.admit(ip("192.0.2.77"), now), Err(Refusal::BannedNetwork(_))));
        assert!(matches!(limits.admit(ip("::ffff:192.0.2.77"), now), Err(Refusal::BannedNetwork(_))));
        assert!(matches!(limits.admit(ip("2001:db8::5"), now), Err(Refusal::BannedNetwork(_))));
        assert!(limits.admit(ip("198.51.100.1"), now).is_ok());
        assert!(Limits::new(&LimitsConfig { banned_networks: vec!["nonsense".into()], ..Default::default() }).is_err());
    }

    #[test]
    fn failures_grow_the_delay_then_ban_until_the_ban_expires() {
        let limits = limits(|c| {
            c.failed_logins_before_delay = 2;
            c.failed_login_delay_step_ms = 1000;
            c.failed_login_max_delay_ms = 2500;
            c.failed_logins_before_ban = 5;
            c.ban_secs = 60;
        });
        let client = ip("192.0.2.9");
        let t0 = Instant::now();
        let delays: Vec<u64> = (0..4)
            .map(|i| limits.record_failure(client, t0 + Duration::from_secs(i)).delay.as_millis() as u64)
            .collect();
        assert_eq!(delays, [0, 0, 1000, 2000]);
        assert!(!limits.is_banned(client, t0 + Duration::from_secs(4)));
        let fifth = limits.record_failure(client, t0 + Duration::from_secs(5));
        assert_eq!(fifth, FailureVerdict { delay: Duration::from_millis(2500), ban_started: true });
        assert!(limits.is_banned(client, t0 + Duration::from_secs(6)));
        assert_eq!(
            limits.admit(client, t0 + Duration::from_secs(35)).expect_err("banned"),
            Refusal::TemporarilyBanned(Duration::from_secs(30))
        );
        assert!(limits.admit(ip("192.0.2.10"), t0).is_ok(), "only that address");
        // The ban ends; the failures that led to it are forgotten with it.
        let later = t0 + Duration::from_secs(65);
        assert!(!limits.is_banned(client, later));
        assert!(limits.admit(client, later).is_ok());
        assert_eq!(limits.record_failure(client, later).delay, Duration::ZERO);
    }

    #[test]
    fn failures_outside_the_window_are_forgotten_and_so_is_the_address() {
        let limits = limits(|c| {
            c.failed_login_window_secs = 10;
            c.failed_logins_before_delay = 1;
            c.failed_login_delay_step_ms = 100;
        });
        let client = ip("192.0.2.3");
        let t0 = Instant::now();
        assert_eq!(limits.record_failure(client, t0).delay, Duration::ZERO);
        assert_eq!(limits.record_failure(client, t0 + Duration::from_secs(5)).delay, Duration::from_millis(100));
        // The first failure left the window; the second is still in it.
        assert_eq!(limits.record_failure(client, t0 + Duration::from_secs(12)).delay, Duration::from_millis(100));
        assert_eq!(limits.tracked(), 1);
        let slot = limits.admit(client, t0 + Duration::from_secs(30)).expect("admitted");
        drop(slot);
        assert_eq!(limits.tracked(), 0, "no connection, no failure, no ban: nothing kept");
    }

    #[test]
    fn a_zero_ban_threshold_never_bans() {
        let limits = limits(|c| c.failed_logins_before_ban = 0);
        let t0 = Instant::now();
        let mut last = FailureVerdict { delay: Duration::ZERO, ban_started: false };
        for i in 0..50 {
            last = limits.record_failure(ip("192.0.2.4"), t0 + Duration::from_millis(i));
            assert!(!last.ban_started);
        }
        assert_eq!(last.delay, Duration::from_millis(LimitsConfig::default().failed_login_max_delay_ms));
        assert!(!limits.is_banned(ip("192.0.2.4"), t0 + Duration::from_secs(1)));
    }
}
