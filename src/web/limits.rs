//! Rate limits against guessing passwords and mass sign-ups: so many attempts per key (a client
//! address, an account) in a window of time. Kept in the process's memory, so with several
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

    /// Takes back one event of `key` (an attempt that turned out well), so that only failures add up.
    pub fn forgive(&self, key: &str) {
        if let Ok(mut counts) = self.counts.lock()
            && let Some(entry) = counts.get_mut(key)
        {
            entry.1 = entry.1.saturating_sub(1);
        }
    }
}

/// The limits the application enforces.
///
/// Sign-in attempts count against three keys, and a correct password takes its attempt back from
/// each, so only failures add up: the account from this client address (the attacker's own door
/// closes, the owner's stays open), the client address over all accounts (one client guessing
/// many), and the account over all addresses, past which its checks are slowed rather than refused,
/// so that guessing from many addresses gains little and naming a person does not lock them out.
#[derive(Debug)]
pub struct Limits {
    /// Sign-in attempts for one account from one client address.
    pub login_by_account_and_address: Throttle,
    /// Sign-in attempts from one client address, for any account.
    pub login_by_address: Throttle,
    /// Sign-in attempts for one account from anywhere; past this, checks wait [`Limits::slowed`].
    pub login_by_account: Throttle,
    /// Accounts over their overall allowance take turns here, one check a second.
    pub slowed: tokio::sync::Mutex<()>,
    /// Current-password checks (the password-change form) for one account.
    pub password_checks: Throttle,
    /// New accounts from one address.
    pub signup_by_address: Throttle,
    /// "Forgot password?" and "send the link again" requests from one client address.
    pub reset_by_client: Throttle,
    /// The same requests for one typed name or address (an account's own allowance is counted in the
    /// database: `accounts::link_asked_for`).
    pub reset_by_login: Throttle,
    /// @mention suggestions, per account (a keystroke each, after a short pause).
    pub suggestions: Throttle,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            login_by_account_and_address: Throttle::new(10, Duration::from_secs(300)),
            login_by_address: Throttle::new(50, Duration::from_secs(300)),
            login_by_account: Throttle::new(50, Duration::from_secs(900)),
            slowed: tokio::sync::Mutex::new(()),
            password_checks: Throttle::new(10, Duration::from_secs(300)),
            signup_by_address: Throttle::new(20, Duration::from_secs(3600)),
            reset_by_client: Throttle::new(20, Duration::from_secs(3600)),
            reset_by_login: Throttle::new(3, Duration::from_secs(3600)),
            suggestions: Throttle::new(120, Duration::from_secs(60)),
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
        throttle.allow("a");
        throttle.allow("a");
        throttle.forgive("a");
        assert!(throttle.allow("a"), "a forgiven event does not count");
    }
}
