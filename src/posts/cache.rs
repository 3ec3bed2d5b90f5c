//! The process's cache of post rows, for home: a home page shows posts written by many people at
//! many times, each a lookup on its own page of a large file, and most of those posts are on many
//! homes and seen again on the next visit. The cache keeps the rows (with their authors' and
//! communities' names) and each thread's newest replies.
//!
//! **Staying right.** Triggers write every change to a post, and every rename of a person or a
//! community, to `post_changes` (migration 0014). Home reads the changes since the cache last looked
//! in the same statement as the page's timeline entries, and forgets those posts before it uses the
//! cache ([`PostCache::apply`]), so a page never shows a post as it was before a change that
//! committed before the page's statement. This holds across processes on PostgreSQL, since the
//! changes are in the database.
//!
//! - **Where the cache has read up to** (`below`): every change with a mark below it has been
//!   applied. On SQLite a mark is one more than the largest before it (one writer commits at a time),
//!   so the next `below` is the largest mark plus one. On PostgreSQL a mark is the changing
//!   transaction's id, and transactions may commit out of id order, so the next `below` is the oldest
//!   transaction still running in the statement's snapshot: every transaction below it has ended,
//!   and changes at or above it are read again next time.
//! - **A row read while a change to it commits** could be older than that change and arrive after
//!   the change was applied. Each eviction is numbered (`epoch`); a row fetched by a statement sent at
//!   epoch `e` is kept only if its post was not evicted after `e` ([`PostCache::keep`]).
//! - **Changes pruned from the table** (after ten minutes, `prune`) could be missed by a process
//!   that read nothing for that long; every entry is used for at most [`TTL`], far less than that.
//!   (Pruning compares the database's clock, which stamps the changes, with the server's: the two
//!   may differ by up to nine minutes.)

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::PostRow;
use crate::db::{Engine, Exec, Query, sql};

/// How long a cached row is used after it was read, whatever changes were seen.
pub const TTL: Duration = Duration::from_secs(60);
/// Changes kept in `post_changes`; far longer than [`TTL`].
pub const KEEP_CHANGES_SECONDS: i64 = 600;
/// Rows (and threads' reply lists) kept; at about 0.5 KB a row, some 10 MB at most.
const CAPACITY: usize = 20_000;
/// More changes than this since the last look, and the cache is emptied instead of read through.
pub const MAX_CHANGES: i64 = 5_000;
/// Evicted ids remembered for [`PostCache::keep`]; beyond it, they are forgotten all at once and
/// rows fetched before are not kept.
const MAX_EVICTED: usize = 50_000;

/// A cache shared by the requests of one process (cheap to clone).
#[derive(Clone, Default)]
pub struct PostCache {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Default)]
struct Inner {
    /// Every change with a smaller mark has been applied.
    below: i64,
    /// Counts evictions.
    epoch: u64,
    /// Rows fetched before this epoch are not kept (the cache was emptied, or `evicted` forgotten).
    floor: u64,
    /// Posts evicted since `floor`, with the epoch of their last eviction.
    evicted: HashMap<i64, u64>,
    posts: HashMap<i64, (Instant, Arc<PostRow>)>,
    /// A thread's newest replies' ids, oldest first, by the thread's first post's id.
    replies: HashMap<i64, (Instant, Arc<[i64]>)>,
}

/// Proof that this request has applied the changes up to its own statement; cached rows may be used.
pub struct Synced<'a> {
    cache: &'a PostCache,
}

/// The tail of a `UNION ALL` whose first part returns the statement's own ids as rows `(0, id)`
/// named `kind` and `id`: it adds the changes since `below`, at most [`MAX_CHANGES`] + 1 of them, as
/// rows `(1, post_id)`, and where the next look starts as a row `(2, below)`. [`PostCache::sync`]
/// reads the result as [`Marked`] rows.
pub fn changes_since(engine: Engine, below: i64) -> Query {
    match engine {
        Engine::Sqlite => sql(" UNION ALL SELECT * FROM (SELECT 1, post_id FROM post_changes WHERE mark >= ")
            .value(below)
            .push(" ORDER BY mark")
            .limit(MAX_CHANGES + 1)
            .push(") UNION ALL SELECT 2, coalesce(max(mark), 0) + 1 FROM post_changes"),
        Engine::Postgres => {
            sql(" UNION ALL SELECT * FROM (SELECT CAST(1 AS BIGINT), post_id FROM post_changes WHERE mark >= ")
                .value(below)
                .push(" ORDER BY mark")
                .limit(MAX_CHANGES + 1)
                .push(") c UNION ALL SELECT CAST(2 AS BIGINT), pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
        }
    }
}

/// A row of a statement ending in [`changes_since`], as the database gives it.
#[derive(sqlx::FromRow)]
pub struct Marked {
    kind: i64,
    id: i64,
}

/// What a [`Marked`] row says.
enum Mark {
    /// One of the statement's own ids.
    Own(i64),
    /// A post changed since the cache last looked.
    Changed(i64),
    /// Where the next look starts.
    Next(i64),
}

impl From<Marked> for Mark {
    fn from(row: Marked) -> Self {
        match row.kind {
            0 => Mark::Own(row.id),
            1 => Mark::Changed(row.id),
            _ => Mark::Next(row.id),
        }
    }
}

impl PostCache {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves plain maps behind, still consistent enough to empty.
        match self.inner.lock() {
            Ok(guard) => guard,
            Err(poisoned) => {
                let mut guard = poisoned.into_inner();
                guard.clear();
                guard
            }
        }
    }

    /// Where the next look at `post_changes` starts.
    pub fn below(&self) -> i64 {
        self.lock().below
    }

    /// Reads the rows of a statement ending in [`changes_since`] and applies its changes; returns the
    /// statement's own ids, in the order it gave them.
    pub fn sync(&self, rows: Vec<Marked>) -> (Vec<i64>, Synced<'_>) {
        let mut ids = Vec::new();
        let mut changed = Vec::new();
        let mut below = 0;
        for row in rows {
            match Mark::from(row) {
                Mark::Own(id) => ids.push(id),
                Mark::Changed(id) => changed.push(id),
                Mark::Next(next) => below = next,
            }
        }
        (ids, self.apply(&changed, below))
    }

    /// Forgets the changed posts (or everything, for a rename or too many changes) and moves `below`
    /// on.
    fn apply(&self, changed: &[i64], below: i64) -> Synced<'_> {
        let mut inner = self.lock();
        if !changed.is_empty() {
            inner.epoch += 1;
            let epoch = inner.epoch;
            if changed.len() as i64 > MAX_CHANGES || changed.iter().any(|&id| id < 0) {
                inner.clear();
            } else {
                for id in changed {
                    inner.posts.remove(id);
                    inner.replies.remove(id);
                    inner.evicted.insert(*id, epoch);
                }
                if inner.evicted.len() > MAX_EVICTED {
                    inner.evicted.clear();
                    inner.floor = epoch;
                }
            }
        }
        inner.below = inner.below.max(below);
        Synced { cache: self }
    }
}

impl Inner {
    fn clear(&mut self) {
        self.epoch += 1;
        self.floor = self.epoch;
        self.evicted.clear();
        self.posts.clear();
        self.replies.clear();
    }

    fn may_keep(&self, id: i64, fetched_at: u64) -> bool {
        fetched_at >= self.floor && self.evicted.get(&id).is_none_or(|&evicted| evicted <= fetched_at)
    }

    fn make_room<V>(map: &mut HashMap<i64, (Instant, V)>, now: Instant) {
        if map.len() < CAPACITY {
            return;
        }
        map.retain(|_, (read, _)| now.duration_since(*read) < TTL);
        if map.len() >= CAPACITY {
            // Arbitrary half: the map's order has nothing to do with the ids.
            let mut n = 0;
            map.retain(|_, _| {
                n += 1;
                n % 2 == 0
            });
        }
    }
}

impl Synced<'_> {
    /// The epoch to pass to [`Synced::keep`] for rows fetched by a statement sent after this call.
    pub fn epoch(&self) -> u64 {
        self.cache.lock().epoch
    }

    /// The cached rows of `ids`, in order; `None` for those not cached (or older than [`TTL`]).
    pub fn posts(&self, ids: &[i64]) -> Vec<Option<Arc<PostRow>>> {
        let inner = self.cache.lock();
        let now = Instant::now();
        ids.iter()
            .map(|id| {
                inner.posts.get(id).filter(|(read, _)| now.duration_since(*read) < TTL).map(|(_, row)| row.clone())
            })
            .collect()
    }

    /// The cached newest replies of the thread starting with `root`.
    pub fn replies(&self, root: i64) -> Option<Arc<[i64]>> {
        let inner = self.cache.lock();
        let now = Instant::now();
        inner.replies.get(&root).filter(|(read, _)| now.duration_since(*read) < TTL).map(|(_, ids)| ids.clone())
    }

    /// The rows of `ids`, in that order, from the cache or else from the database (then cached);
    /// posts that no longer exist are left out.
    pub async fn rows(&self, db: &mut impl Exec, ids: &[i64]) -> Result<Vec<PostRow>, sqlx::Error> {
        let mut found = self.posts(ids);
        let missing: Vec<i64> = ids.iter().zip(&found).filter(|(_, row)| row.is_none()).map(|(id, _)| *id).collect();
        if !missing.is_empty() {
            let epoch = self.epoch();
            let fetched = fetch(db, &missing).await?;
            self.keep(epoch, &fetched);
            let by_id: HashMap<i64, Arc<PostRow>> = fetched.into_iter().map(|row| (row.id, row)).collect();
            for (id, slot) in ids.iter().zip(found.iter_mut()) {
                if slot.is_none() {
                    *slot = by_id.get(id).cloned();
                }
            }
        }
        Ok(found.into_iter().flatten().map(|row| PostRow::clone(&row)).collect())
    }

    /// Keeps rows fetched by a statement sent at `epoch`, unless their post changed since.
    pub fn keep(&self, epoch: u64, rows: &[Arc<PostRow>]) {
        let mut inner = self.cache.lock();
        let now = Instant::now();
        Inner::make_room(&mut inner.posts, now);
        for row in rows {
            if inner.may_keep(row.id, epoch) {
                inner.posts.insert(row.id, (now, row.clone()));
            }
        }
    }

    /// Keeps a thread's newest replies read by a statement sent at `epoch`, unless the thread's first
    /// post changed since (a new or removed reply changes its reply count).
    pub fn keep_replies(&self, epoch: u64, root: i64, ids: Arc<[i64]>) {
        let mut inner = self.cache.lock();
        let now = Instant::now();
        Inner::make_room(&mut inner.replies, now);
        if inner.may_keep(root, epoch) {
            inner.replies.insert(root, (now, ids));
        }
    }
}

/// Posts by id, in no particular order (those that no longer exist are left out).
pub async fn fetch(db: &mut impl Exec, ids: &[i64]) -> Result<Vec<Arc<PostRow>>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<PostRow> = db.fetch_all(fetch_query(ids)).await?;
    Ok(rows.into_iter().map(Arc::new).collect())
}

/// The statement behind [`fetch`], also for checking its plan: a primary-key lookup per post.
pub fn fetch_query(ids: &[i64]) -> Query {
    crate::db::sql_in(concat!(super::store::post_select!(), "WHERE p.id IN ({list})"), 1, ids.len()).bind_list(ids)
}

/// Deletes changes older than [`KEEP_CHANGES_SECONDS`]; on SQLite the one with the largest mark
/// stays, since the next mark counts from it.
pub async fn prune(db: &mut impl Exec) -> Result<u64, sqlx::Error> {
    let before = crate::db::now() - KEEP_CHANGES_SECONDS;
    let query = match db.engine() {
        Engine::Sqlite => sql("DELETE FROM post_changes
                               WHERE changed_at < $1 AND mark < (SELECT max(mark) FROM post_changes)"),
        Engine::Postgres => sql("DELETE FROM post_changes WHERE changed_at < $1"),
    };
    db.execute(query.bind(before)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64) -> Arc<PostRow> {
        Arc::new(PostRow {
            id,
            author_id: 1,
            body: format!("post {id}"),
            mentions: String::new(),
            created_at: 0,
            parent_id: None,
            root_id: None,
            edited_at: None,
            deleted_at: None,
            reply_count: 0,
            like_count: 0,
            author_username: "a".into(),
            author_display_name: "A".into(),
            parent_username: None,
            community_id: None,
            members_only: None,
            is_announcement: false,
            community_slug: None,
            community_name: None,
            poll_closes_at: None,
            idea_id: None,
            hidden_at: None,
        })
    }

    fn cached(synced: &Synced<'_>, id: i64) -> bool {
        synced.posts(&[id])[0].is_some()
    }

    #[test]
    fn a_change_evicts_its_post_and_a_row_fetched_before_the_change_is_not_kept() {
        let cache = PostCache::default();
        let synced = cache.apply(&[], 1);
        let before = synced.epoch();
        synced.keep(before, &[row(1), row(2)]);
        assert!(cached(&synced, 1) && cached(&synced, 2));

        // A statement sent before post 1's change was applied returns its old row afterwards.
        let synced = cache.apply(&[1], 2);
        assert!(!cached(&synced, 1) && cached(&synced, 2));
        synced.keep(before, &[row(1)]);
        assert!(!cached(&synced, 1), "a row read before its change must not be kept");
        // Read after the change: kept.
        let after = synced.epoch();
        synced.keep(after, &[row(1)]);
        assert!(cached(&synced, 1));
        assert_eq!(cache.below(), 2);
    }

    #[test]
    fn a_rename_or_too_many_changes_empties_it() {
        let cache = PostCache::default();
        let synced = cache.apply(&[], 1);
        let before = synced.epoch();
        synced.keep(before, &[row(1)]);
        synced.keep_replies(before, 1, Arc::from(vec![5, 6]));
        let synced = cache.apply(&[-7], 8);
        assert!(!cached(&synced, 1) && synced.replies(1).is_none());
        synced.keep(before, &[row(1)]);
        assert!(!cached(&synced, 1), "fetched before the rename");

        let epoch = synced.epoch();
        synced.keep(epoch, &[row(1)]);
        let many: Vec<i64> = (100..100 + MAX_CHANGES + 1).collect();
        let synced = cache.apply(&many, 9);
        assert!(!cached(&synced, 1));
    }

    #[test]
    fn below_only_moves_forward() {
        let cache = PostCache::default();
        cache.apply(&[], 10);
        cache.apply(&[3], 4);
        assert_eq!(cache.below(), 10);
    }
}
