//! The worker that empties the outbox: claims a few due mails at a time, sends them side by side
//! over the pool's connections, and writes each one's outcome. Started with the server when SMTP is
//! configured; every process runs one.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::watch;

use super::outbox::{self, Claimed};
use super::smtp::{CONNECTIONS, Refusal, Smtp};
use crate::db::{Db, now};

/// Wakes the worker of this process when a mail was queued ([`super::wake`]).
pub(super) static QUEUED: tokio::sync::Notify = tokio::sync::Notify::const_new();

/// Attempts before a mail the server keeps putting off is given up (with the waits doubling to an
/// hour, about a day of trying).
pub const MOST_ATTEMPTS: i64 = 30;
/// The longest wait between two attempts.
const LONGEST_WAIT: i64 = 3600;
/// How often leases left by a vanished worker are looked for, and old mails forgotten.
const TIDY_EVERY: Duration = Duration::from_secs(30);
/// Sent and failed mails are kept this long for the admin's view.
const KEPT_DAYS: i64 = 30;

/// Sends queued mail until `stop` turns true; then it finishes the mails it is handing over (each
/// within the SMTP timeout) and gives back the ones it had not started.
pub async fn run(db: Db, smtp: Smtp, first_retry: Duration, timeout: Duration, mut stop: watch::Receiver<bool>) {
    let me: Arc<str> = uuid::Uuid::new_v4().simple().to_string().into();
    let mut tidied = tokio::time::Instant::now() - TIDY_EVERY;
    // A conversation is cut off after `timeout`; the lease leaves room for the outcome's write. A
    // claim may run out while its mail waits its turn: then `begin_sending` finds it no longer held
    // and skips it, so a short claim lease is safe.
    let lease = timeout.as_secs().max(1) as i64 * 2 + 10;
    while !*stop.borrow() {
        if tidied.elapsed() >= TIDY_EVERY {
            tidied = tokio::time::Instant::now();
            let mut conn = db.clone();
            if let Err(e) = outbox::recover(&mut conn, now()).await {
                tracing::warn!(error = %e, "mail leases not recovered");
            }
            if let Err(e) = outbox::prune(&mut conn, now() - KEPT_DAYS * 86_400).await {
                tracing::warn!(error = %e, "old mails not pruned");
            }
        }
        let at = now();
        let batch = match outbox::claim(&mut db.clone(), &me, at, at + lease).await {
            Ok(batch) => batch,
            Err(e) => {
                tracing::warn!(error = %e, "mail outbox not read; retrying");
                Vec::new()
            }
        };
        if batch.is_empty() {
            tokio::select! {
                _ = QUEUED.notified() => {}
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = stop.changed() => {}
            }
            continue;
        }
        let stopping = stop.clone();
        futures_util::stream::iter(batch)
            .for_each_concurrent(CONNECTIONS as usize, |mail| {
                let (db, smtp, me, stopping) = (db.clone(), smtp.clone(), me.clone(), stopping.clone());
                async move {
                    if !*stopping.borrow() {
                        deliver(&db, &smtp, &me, mail, first_retry, lease).await;
                    }
                }
            })
            .await;
    }
    if let Err(e) = outbox::release(&mut db.clone(), &me).await {
        tracing::warn!(error = %e, "claimed mails not given back; they wait for their lease to end");
    }
}

async fn deliver(db: &Db, smtp: &Smtp, me: &str, mail: Claimed, first_retry: Duration, lease: i64) {
    let mut conn = db.clone();
    match outbox::begin_sending(&mut conn, mail.id, me, now() + lease).await {
        Ok(true) => {}
        Ok(false) => return,
        Err(e) => {
            tracing::warn!(error = %e, mail = mail.id, "mail not started; it waits for its lease to end");
            return;
        }
    }
    let attempts = mail.attempts + 1;
    let written = match smtp.send(&mail).await {
        Ok(()) => outbox::sent(&mut conn, mail.id, me, now()).await,
        Err(Refusal::Never(why)) => {
            tracing::warn!(mail = mail.id, to = %mail.to_address, %why, "mail refused");
            outbox::failed(&mut conn, mail.id, me, &why).await
        }
        Err(Refusal::Later(why)) if attempts >= MOST_ATTEMPTS => {
            let why = format!("Given up after {attempts} attempts. The last answer: {why}");
            outbox::failed(&mut conn, mail.id, me, &why).await
        }
        Err(Refusal::Later(why)) => {
            let wait = backoff(first_retry, attempts);
            tracing::info!(mail = mail.id, %why, wait, "mail not taken now; trying again later");
            outbox::retry_at(&mut conn, mail.id, me, now() + wait, &why).await
        }
    };
    // Unwritten, the row stays `sending` until its lease ends and then shows as possibly sent.
    if let Err(e) = written {
        tracing::warn!(error = %e, mail = mail.id, "a mail's outcome was not written");
    }
}

/// Seconds to wait after the `attempts`-th attempt: the first wait, doubled each time, at most an hour.
fn backoff(first: Duration, attempts: i64) -> i64 {
    let first = first.as_secs().max(1) as i64;
    let doublings = (attempts - 1).clamp(0, 20) as u32;
    first.saturating_mul(1_i64 << doublings).min(LONGEST_WAIT.max(first))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_up_to_an_hour() {
        let first = Duration::from_secs(60);
        assert_eq!(backoff(first, 1), 60);
        assert_eq!(backoff(first, 2), 120);
        assert_eq!(backoff(first, 3), 240);
        assert_eq!(backoff(first, 7), 3600);
        assert_eq!(backoff(first, 29), 3600);
        assert_eq!(backoff(Duration::ZERO, 1), 1);
    }
}
