//! Rankings of recent searches, kept in each process for a short while. Ranking a common word's
//! newest matches by relevance is most of a search's cost and the same for every viewer; what a
//! viewer may see is applied afterwards, to the few rows a page shows. A cached ranking is topped
//! up with the matches written since it was made, so a new post is found at once; an edit can take
//! up to [`FRESH_FOR`] to move a post in or out of a ranking, and a deleted or hidden one is left
//! out when the page's rows are read. (Figures: docs/benchmarks.md, "Decisions".)

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::store::Ranked;

/// How long a ranking is reused.
pub const FRESH_FOR: Duration = Duration::from_secs(30);
/// Rankings kept; the oldest goes first when more are made.
const CAPACITY: usize = 256;

/// Ids best first, each with its score (lower is better), and the newest id of the table when the
/// matches were read: newer rows are not in it yet.
#[derive(Debug, Clone, Default)]
pub struct Ranking {
    pub ids: Arc<Vec<(i64, f64)>>,
    pub newest: i64,
}

/// What is ranked, and an engine's query text.
type Key = (Ranked, String);

#[derive(Clone, Default)]
pub struct RankCache {
    entries: Arc<Mutex<HashMap<Key, (Instant, Ranking)>>>,
}

impl RankCache {
    /// The ranking of posts or ideas for an engine's query text, if one is fresh.
    pub fn get(&self, what: Ranked, expression: &str) -> Option<Ranking> {
        let entries = self.entries.lock().ok()?;
        let (made, ranking) = entries.get(&(what, expression.to_owned()))?;
        (made.elapsed() < FRESH_FOR).then(|| ranking.clone())
    }

    /// Replaces a ranking topped up with newer rows, keeping the time it was first made (an edit
    /// must not be hidden longer than [`FRESH_FOR`]).
    pub fn top_up(&self, what: Ranked, expression: &str, ranking: Ranking) {
        let Ok(mut entries) = self.entries.lock() else { return };
        if let Some((_, kept)) = entries.get_mut(&(what, expression.to_owned())) {
            *kept = ranking;
        }
    }

    pub fn put(&self, what: Ranked, expression: &str, ranking: Ranking) {
        let Ok(mut entries) = self.entries.lock() else { return };
        if entries.len() >= CAPACITY {
            entries.retain(|_, (made, _)| made.elapsed() < FRESH_FOR);
            if entries.len() >= CAPACITY
                && let Some(oldest) = entries.iter().min_by_key(|(_, (made, _))| *made).map(|(k, _)| k.clone())
            {
                entries.remove(&oldest);
            }
        }
        entries.insert((what, expression.to_owned()), (Instant::now(), ranking));
    }
}

/// `ranking` with `newer` matches (written since it was made, up to the id `newest`) merged in: the
/// newest `window` ids of both, best first.
pub fn merged(ranking: &Ranking, newer: Vec<(i64, f64)>, newest: i64, window: usize) -> Ranking {
    let newest = newest.max(ranking.newest);
    if newer.is_empty() {
        return Ranking { ids: ranking.ids.clone(), newest };
    }
    let mut all: Vec<(i64, f64)> = newer.into_iter().chain(ranking.ids.iter().copied()).collect();
    all.sort_by_key(|(id, _)| std::cmp::Reverse(*id));
    all.dedup_by_key(|(id, _)| *id);
    all.truncate(window);
    Ranking { ids: Arc::new(best_first(all)), newest }
}

/// Sorts by score (lower first), the newer first among equals.
pub fn best_first(mut ids: Vec<(i64, f64)>) -> Vec<(i64, f64)> {
    ids.sort_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)));
    ids
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newer_matches_join_the_window_and_the_oldest_leave_it() {
        let ranking = Ranking { ids: Arc::new(best_first(vec![(1, -1.0), (2, -3.0), (3, -2.0)])), newest: 3 };
        assert_eq!(ranking.ids.iter().map(|r| r.0).collect::<Vec<_>>(), [2, 3, 1]);
        let merged = merged(&ranking, vec![(5, -2.5), (4, -0.5)], 5, 3);
        assert_eq!(merged.ids.iter().map(|r| r.0).collect::<Vec<_>>(), [5, 3, 4], "1 and 2 are the oldest");
        assert_eq!(merged.newest, 5);
    }
}
