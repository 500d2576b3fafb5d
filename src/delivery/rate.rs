//! Deliveries per sender and per recipient within a sliding minute: FSTO writes into other
//! people's mailboxes, so one sender cannot flood an account, nor many senders one account
//! (issue text: "defaults that stop a flood"). Every function takes `now`, so tests move time
//! by hand. Counts are per gateway instance (docs/interpretations.md, FSTO-LIMITS).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The window the limits count in.
pub const WINDOW: Duration = Duration::from_secs(60);

/// Bound on the keys tracked at once: past it, keys whose window is empty are dropped first,
/// and if none is, a new key is refused (a flood of new names cannot grow memory).
const MAX_TRACKED_KEYS: usize = 100_000;

/// At most `per_window` events per key within [`WINDOW`].
#[derive(Debug)]
pub struct RateLimit {
    per_window: usize,
    keys: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl RateLimit {
    /// A limit of `per_window` events per key and minute (0: nothing is ever admitted).
    pub fn new(per_window: u32) -> Self {
        Self { per_window: usize::try_from(per_window).unwrap_or(usize::MAX), keys: Mutex::new(HashMap::new()) }
    }

    /// Whether `key` may have one more event now; if so, it is counted.
    pub fn admit(&self, key: &str, now: Instant) -> bool {
        let mut keys = self.keys.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if !keys.contains_key(key) && keys.len() >= MAX_TRACKED_KEYS {
            keys.retain(|_, times| {
                forget_before(times, now);
                !times.is_empty()
            });
            if keys.len() >= MAX_TRACKED_KEYS {
                return false;
            }
        }
        let times = keys.entry(key.to_owned()).or_default();
        forget_before(times, now);
        if times.len() >= self.per_window {
            return false;
        }
        times.push_back(now);
        true
    }

    /// Takes back the event `admit` counted for `key` at `now` (a delivery that did not happen
    /// because another limit refused it).
    pub fn give_back(&self, key: &str, now: Instant) {
        let mut keys = self.keys.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(times) = keys.get_mut(key)
            && let Some(position) = times.iter().rposition(|at| *at == now)
        {
            times.remove(position);
        }
    }
}

fn forget_before(times: &mut VecDeque<Instant>, now: Instant) {
    while times.front().is_some_and(|at| now.saturating_duration_since(*at) >= WINDOW) {
        times.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_gets_its_share_per_minute_and_again_after_it() {
        let limit = RateLimit::new(2);
        let start = Instant::now();
        assert!(limit.admit("a", start));
        assert!(limit.admit("a", start + Duration::from_secs(1)));
        assert!(!limit.admit("a", start + Duration::from_secs(2)), "third in the minute");
        assert!(limit.admit("b", start + Duration::from_secs(2)), "keys are counted apart");
        assert!(limit.admit("a", start + WINDOW), "the first one left the window");
    }

    #[test]
    fn a_refused_delivery_gives_its_count_back() {
        let limit = RateLimit::new(1);
        let now = Instant::now();
        assert!(limit.admit("a", now));
        limit.give_back("a", now);
        assert!(limit.admit("a", now));
    }

    #[test]
    fn a_flood_of_names_is_bounded() {
        let limit = RateLimit::new(1);
        let now = Instant::now();
        for n in 0..MAX_TRACKED_KEYS {
            assert!(limit.admit(&n.to_string(), now));
        }
        assert!(!limit.admit("one more", now), "no room while every window is full");
        assert!(limit.admit("one more", now + WINDOW), "room again once the windows emptied");
        assert_eq!(limit.keys.lock().expect("keys").len(), 1);
    }
}
