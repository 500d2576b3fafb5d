//! The gateway's wall clock, in whole seconds since the Unix epoch: the system's, or a manual
//! one that tests set and advance (presence expiry is tested without sleeping).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A clock shared by every session of a gateway.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    /// `None`: the system clock.
    manual: Option<Arc<AtomicI64>>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self { manual: None }
    }

    /// A clock standing at `start` (seconds since the epoch) until `advance` moves it; clones
    /// share it, so a test keeps one and hands another to the gateway.
    pub fn manual(start: i64) -> Self {
        Self { manual: Some(Arc::new(AtomicI64::new(start))) }
    }

    /// Moves a manual clock forward (the system clock ignores it).
    pub fn advance(&self, by: Duration) {
        if let Some(now) = &self.manual {
            now.fetch_add(i64::try_from(by.as_secs()).unwrap_or(i64::MAX), Ordering::SeqCst);
        }
    }

    /// Seconds since the epoch.
    pub fn now(&self) -> i64 {
        match &self.manual {
            Some(now) => now.load(Ordering::SeqCst),
            None => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
                .unwrap_or(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_advanced_and_clones_share_it() {
        let clock = Clock::manual(1_000);
        let shared = clock.clone();
        assert_eq!(shared.now(), 1_000);
        clock.advance(Duration::from_secs(61));
        assert_eq!(shared.now(), 1_061);
        assert!(Clock::system().now() > 1_600_000_000);
    }
}
