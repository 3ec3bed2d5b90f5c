//! What a process learns about its database from the statements it runs: whether the database is out
//! of reach, so that requests are refused at once for a moment instead of each waiting seconds for a
//! connection, and whether writes are being refused for want of disk space, which health reports.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// After a failure to reach the database, requests are refused at once for this long; then one
/// request tries again while the others are still refused.
const DOWN_FOR: Duration = Duration::from_secs(2);

#[derive(Debug)]
pub struct Health {
    /// A database server over the network (PostgreSQL), which can be away; an SQLite file cannot,
    /// and its time-outs only mean a busy moment (a writer's turn, a reader's connection).
    remote: bool,
    started: Instant,
    /// Milliseconds since `started` until which the database counts as out of reach; 0 when it
    /// answered last.
    down_until: AtomicU64,
    /// A write was refused for want of space and none has succeeded since.
    storage_full: AtomicBool,
}

impl Health {
    pub fn new(remote: bool) -> Health {
        Health { remote, started: Instant::now(), down_until: AtomicU64::new(0), storage_full: AtomicBool::new(false) }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX).max(1)
    }

    /// Lets a statement go to the database, or refuses it at once (as a pool time-out) while the
    /// database is known to be out of reach. When the refusal time has passed, the first caller is
    /// let through to try, and the time is moved on for everyone else until its answer comes.
    pub fn admit(&self) -> Result<(), sqlx::Error> {
        let until = self.down_until.load(Ordering::Acquire);
        if until == 0 {
            return Ok(());
        }
        let now = self.now();
        if now < until {
            return Err(sqlx::Error::PoolTimedOut);
        }
        let next = now + DOWN_FOR.as_millis() as u64;
        match self.down_until.compare_exchange(until, next, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => Ok(()),
            Err(_) => Err(sqlx::Error::PoolTimedOut),
        }
    }

    /// Counts the database as out of reach from now (no connection could be had).
    pub fn mark_down(&self) {
        if self.remote {
            self.down_until.store(self.now() + DOWN_FOR.as_millis() as u64, Ordering::Release);
        }
    }

    /// True while statements are being refused without trying.
    pub fn is_down(&self) -> bool {
        let until = self.down_until.load(Ordering::Acquire);
        until != 0 && self.now() < until
    }

    /// True while writes are refused for want of disk space.
    pub fn storage_full(&self) -> bool {
        self.storage_full.load(Ordering::Acquire)
    }

    /// Learns from a statement's outcome; `wrote` when it was a write that reached the disk (a
    /// commit, or a statement outside a transaction).
    pub fn observe<T>(&self, result: Result<T, sqlx::Error>, wrote: bool) -> Result<T, sqlx::Error> {
        match &result {
            Ok(_) => {
                if self.down_until.load(Ordering::Relaxed) != 0 {
                    self.down_until.store(0, Ordering::Release);
                }
                if wrote && self.storage_full.load(Ordering::Relaxed) {
                    self.storage_full.store(false, Ordering::Release);
                    tracing::info!("writes succeed again");
                }
            }
            Err(e) if self.remote && connection_broke(e) => self.mark_down(),
            Err(e) if storage_full(e) => {
                self.storage_full.store(true, Ordering::Release);
            }
            Err(_) => {}
        }
        result
    }
}

/// Whether an error means the database could not be reached, or not in time: people get a 503.
fn unreachable(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_))
}

/// Whether people should be told "try again in a moment" (503) for this error: the database could
/// not be reached, or PostgreSQL ended the session. Pages and the session store decide alike.
pub fn unavailable(error: &sqlx::Error) -> bool {
    unreachable(error) || server_going_away(error)
}

/// Whether the connection itself failed. A pool time-out is not that by itself: it also happens
/// when every connection is busy, so the pool's owner decides ([`Health::mark_down`]).
fn connection_broke(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Io(_) | sqlx::Error::PoolClosed)
}

/// Whether the database refused a write because its disk is full: SQLite's SQLITE_FULL (13, also as
/// the primary code of an extended one) or PostgreSQL's `disk_full` (53100).
pub fn storage_full(error: &sqlx::Error) -> bool {
    let sqlx::Error::Database(e) = error else { return false };
    if e.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
        e.code().and_then(|code| code.parse::<i32>().ok()).is_some_and(|code| code & 0xff == 13)
    } else {
        e.code().as_deref() == Some("53100")
    }
}

/// Whether PostgreSQL ended the session or refused connections for now (an administrator's command,
/// a crash, a start-up or shutdown in progress, or a broken connection): a passing outage, not a bug.
fn server_going_away(error: &sqlx::Error) -> bool {
    let sqlx::Error::Database(e) = error else { return false };
    e.try_downcast_ref::<sqlx::postgres::PgDatabaseError>().is_some()
        && e.code().is_some_and(|code| matches!(code.as_ref(), "57P01" | "57P02" | "57P03") || code.starts_with("08"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_a_failure_requests_are_refused_at_once_then_one_tries_again() {
        let health = Health::new(true);
        assert!(health.admit().is_ok());
        let _ = health.observe::<()>(Err(sqlx::Error::PoolTimedOut), false);
        assert!(!health.is_down(), "a busy pool is not a database away");
        health.mark_down();
        assert!(health.is_down());
        assert!(health.admit().is_err(), "refused while down");
        // Pretend the refusal time has passed.
        health.down_until.store(1, Ordering::Release);
        assert!(health.admit().is_ok(), "one caller tries");
        assert!(health.admit().is_err(), "the others wait for its answer");
        let _ = health.observe(Ok(()), false);
        assert!(!health.is_down() && health.admit().is_ok());
        let file = Health::new(false);
        file.mark_down();
        let _ = file.observe::<()>(Err(sqlx::Error::Io(std::io::ErrorKind::Other.into())), false);
        assert!(!file.is_down(), "an SQLite file is never away");
    }
}
