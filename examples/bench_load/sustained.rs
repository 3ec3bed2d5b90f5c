//! Posting at a steady rate for a while, and how long each post takes to reach the last of its
//! followers' homes: the rate a site can keep up, where `posting` measures only acknowledgements.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use townhall::db::{Db, Exec, sql};

use crate::common::Failure;

/// How often the delivery queue is read (the lags are as exact as this).
const POLL: Duration = Duration::from_millis(20);
/// How long the homes may take after the last post before the run gives up on them.
const DRAIN_LIMIT: Duration = Duration::from_secs(300);

pub struct Steady {
    pub sent: u64,
    pub acknowledged: usize,
    pub lag_p50: Duration,
    pub lag_p99: Duration,
    pub lag_max: Duration,
    /// Acknowledged posts whose homes were not all written within [`DRAIN_LIMIT`].
    pub unfinished: usize,
}

/// Sends `rate` posts a second for `seconds` from the clients in turn, each on time whatever the
/// server's pace (an open loop), and measures each acknowledged post's delivery lag: from its
/// acknowledgement to the moment its queued deliveries were all written (0 when none waited).
pub async fn run(db: &Db, base: &str, clients: &[reqwest::Client], rate: f64, seconds: f64) -> Result<Steady, Failure> {
    let marker = format!("steady{}", townhall::db::now());
    let acked: Arc<Mutex<HashMap<u64, Instant>>> = Default::default();
    let total = (rate * seconds).round().max(1.0) as u64;
    let ended = Arc::new(AtomicBool::new(false));
    let monitor = tokio::spawn(watch_queue(db.clone(), marker.clone(), ended.clone()));
    let started = Instant::now();
    let mut sends = Vec::new();
    for n in 0..total {
        tokio::time::sleep_until((started + Duration::from_secs_f64(n as f64 / rate)).into()).await;
        let client = clients[n as usize % clients.len()].clone();
        let (url, origin, body) = (format!("{base}/posts"), base.to_owned(), format!("Steady {marker} {n}"));
        let acked = acked.clone();
        sends.push(tokio::spawn(async move {
            let answer = client.post(url).header("origin", origin).form(&[("body", body)]).send().await;
            if answer.is_ok_and(|a| a.status().is_redirection())
                && let Ok(mut acked) = acked.lock()
            {
                acked.insert(n, Instant::now());
            }
        }));
    }
    for send in sends {
        let _ = send.await;
    }
    ended.store(true, Ordering::SeqCst);
    let finished = monitor.await.map_err(|e| e.to_string())??;
    let acked = acked.lock().map(|a| a.clone()).unwrap_or_default();
    let mut lags: Vec<Duration> = Vec::new();
    let mut unfinished = 0;
    for (n, at) in &acked {
        match finished.get(n) {
            Some(Some(done)) => lags.push(done.saturating_duration_since(*at)),
            Some(None) => unfinished += 1,
            None => lags.push(Duration::ZERO),
        }
    }
    lags.sort();
    let at = |q: f64| lags.get(((lags.len() as f64 * q) as usize).min(lags.len().saturating_sub(1))).copied();
    Ok(Steady {
        sent: total,
        acknowledged: acked.len(),
        lag_p50: at(0.5).unwrap_or_default(),
        lag_p99: at(0.99).unwrap_or_default(),
        lag_max: lags.last().copied().unwrap_or_default(),
        unfinished,
    })
}

/// Reads which of the run's posts still have deliveries queued, every [`POLL`], until the posting
/// has `ended` and none is left: for each post seen waiting, when it was first seen done (`None`:
/// still waiting when the run gave up).
async fn watch_queue(db: Db, marker: String, ended: Arc<AtomicBool>) -> Result<HashMap<u64, Option<Instant>>, String> {
    let mut reader = db;
    let pattern = format!("Steady {marker} %");
    let mut waiting: HashSet<u64> = HashSet::new();
    let mut done: HashMap<u64, Option<Instant>> = HashMap::new();
    let mut last_change = Instant::now();
    loop {
        let rows: Vec<(String,)> = reader
            .fetch_all(
                sql("SELECT p.body FROM deliveries d JOIN posts p ON p.id = d.post_id WHERE p.body LIKE $1")
                    .bind(pattern.clone()),
            )
            .await
            .map_err(|e| e.to_string())?;
        let now = Instant::now();
        let pending: HashSet<u64> =
            rows.iter().filter_map(|(body,)| body.rsplit(' ').next().and_then(|n| n.parse().ok())).collect();
        for n in waiting.difference(&pending) {
            done.insert(*n, Some(now));
        }
        for n in pending.difference(&waiting) {
            done.insert(*n, None);
        }
        if pending != waiting {
            last_change = now;
        }
        waiting = pending;
        if waiting.is_empty() && ended.load(Ordering::SeqCst) {
            return Ok(done);
        }
        if now - last_change > DRAIN_LIMIT {
            return Ok(done);
        }
        tokio::time::sleep(POLL).await;
    }
}
