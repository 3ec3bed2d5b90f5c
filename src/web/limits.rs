//! Rate limits against guessing passwords and mass sign-ups: so many attempts per key (a client
//! address, a login name) in a window of time. Kept in the process's memory, so with several
//! processes each counts its own share.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// At most `max` events per key in each `window`.
#[derive(Debug)]
pub struct Throttle {
    max: u32,
    window: Duration,
    counts: Mutex<HashMap<String, (Instant, u32)>>,
}

/// Keys kept before expired ones are swept.
const SWEEP_AT: usize = 10_000;

impl Throttle {
    pub fn new(max: u32, window: Duration) -> Throttle {
        Throttle { max, window, counts: Mutex::new(HashMap::new()) }
    }

    /// Counts one event for `key`; false when the key has used up its window.
    pub fn allow(&self, key: &str) -> bool {
        let now = Instant::now();
        let Ok(mut counts) = self.counts.lock() else { return true };
        if counts.len() >= SWEEP_AT {
            counts.retain(|_, (started, _)| now.duration_since(*started) < self.window);
        }
        let entry = counts.entry(key.to_owned()).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        entry.1 += 1;
        entry.1 <= self.max
    }
}

/// The limits the application enforces.
#[derive(Debug)]
pub struct Limits {
    /// Sign-in attempts from one address.
    pub login_by_address: Throttle,
    /// Sign-in attempts for one account name, from anywhere.
    pub login_by_name: Throttle,
    /// New accounts from one address.
    pub signup_by_address: Throttle,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            login_by_address: Throttle::new(30, Duration::from_secs(300)),
            login_by_name: Throttle::new(10, Duration::from_secs(300)),
            signup_by_address: Throttle::new(20, Duration::from_secs(3600)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_gets_its_allowance_per_window_and_others_are_unaffected() {
        let throttle = Throttle::new(3, Duration::from_millis(200));
        assert!((0..3).all(|_| throttle.allow("a")));
        assert!(!throttle.allow("a"));
        assert!(throttle.allow("b"));
        std::thread::sleep(Duration::from_millis(250));
        assert!(throttle.allow("a"), "a new window starts afresh");
    }
}
