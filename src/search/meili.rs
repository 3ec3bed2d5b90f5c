//! The Meilisearch adapter (when `MEILI_URL` is set), written against Meilisearch's documented API
//! through meilisearch-sdk. Documents reach it through the outbox; permissions are applied twice:
//! as filters in the query (private communities the viewer is in, visible campaigns, nothing hidden or
//! deleted), and again on the hits against the database, which is the truth.
//!
//! Meilisearch answers searches only while its indexes are known to hold what the database holds:
//! they are built from scratch beside the live ones and swapped in (see [`Meili::rebuild`]), and the
//! state of that build is a row in `site_settings`. Until a build finished, while one runs, and for
//! a while after a failed or slow call, the built-in engine answers instead.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use meilisearch_sdk::client::{Client, SwapIndexes};
use meilisearch_sdk::errors::{Error, ErrorCode};
use meilisearch_sdk::search::{MatchingStrategies, SearchQuery};
use meilisearch_sdk::settings::Settings;
use meilisearch_sdk::task_info::TaskInfo;
use meilisearch_sdk::tasks::{Task, TasksSearchQuery};
use serde::Deserialize;

use super::outbox::{self, Document};
use super::store::Filters;
use crate::config::MeiliConfig;
use crate::db::fulltext::STOP_WORDS;
use crate::db::{Db, Exec, now, sql};

/// The three indexes, after the configured prefix.
pub const POSTS: &str = "posts";
pub const IDEAS: &str = "ideas";
pub const PEOPLE: &str = "people";
const KINDS: [&str; 3] = [PEOPLE, POSTS, IDEAS];

/// How long one page's search (a single multi-search request) may take before the built-in engine
/// answers instead.
const SEARCH_DEADLINE: Duration = Duration::from_millis(1500);
/// After a failed or late search, Meilisearch is left alone this long: pages answer at once from
/// the built-in engine instead of each waiting for the deadline.
const BREAK_FOR: Duration = Duration::from_secs(30);
/// Any other call (settings, documents, tasks, status).
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// How long delivery waits for Meilisearch to finish indexing a batch before trying again later.
const INDEXING_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a rebuild waits for Meilisearch to index everything it was sent.
const BUILD_TIMEOUT: Duration = Duration::from_secs(3600);
/// A build whose process has not reported for this long is taken over by another.
const BUILD_STALE_AFTER: i64 = 120;
/// How often a build waiting for Meilisearch reports that it is alive.
const BUILD_HEARTBEAT: Duration = Duration::from_secs(30);
/// How long a process trusts what it last read of the build state.
const STATE_FRESH_FOR: Duration = Duration::from_secs(2);

/// Outbox rows delivered per round.
const BATCH: i64 = 500;
/// Documents sent per request while rebuilding.
const CHUNK: i64 = 1000;

/// Cloning shares the breaker and the cached state (the server's worker and its pages hold clones).
#[derive(Clone)]
pub struct Meili {
    client: Client,
    pub url: String,
    prefix: String,
    /// Until when searches skip Meilisearch after a failure.
    broken_until: Arc<Mutex<Option<Instant>>>,
    /// The build state last read, and when.
    state: Arc<Mutex<Option<(Instant, bool)>>>,
}

#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("Meilisearch: {0}")]
    Meili(#[from] Error),
    /// A task Meilisearch failed, with its error code (what the caller may expect, such as an index
    /// already there) and its message.
    #[error("Meilisearch refused the change: {message}")]
    Refused { code: ErrorCode, message: String },
    #[error("{0}")]
    Build(String),
}

#[derive(Deserialize)]
struct Hit {
    id: i64,
}

/// What a page asks Meilisearch for: each section's query, or `None` for a section not shown.
pub struct Asked<'a> {
    pub text: &'a str,
    pub people: bool,
    /// The viewer's private communities, when posts are wanted.
    pub posts: Option<&'a [i64]>,
    /// The campaigns the viewer may see, when ideas are wanted.
    pub ideas: Option<&'a [i64]>,
    pub filters: &'a Filters,
    pub offset: i64,
    pub limit: i64,
}

/// Meilisearch's ids per section, best first.
#[derive(Debug, Default)]
pub struct Ids {
    pub people: Vec<i64>,
    pub posts: Vec<i64>,
    pub ideas: Vec<i64>,
}

/// Where the indexes stand, as recorded in `site_settings`.
#[derive(Debug, PartialEq, Eq)]
pub enum BuildState {
    /// Never built, or Meilisearch was off for a while (changes then went unrecorded).
    NotBuilt,
    /// A process is building; `at` is when it last reported.
    Building {
        token: String,
        at: i64,
    },
    Ready,
}

async fn within<T>(limit: Duration, call: impl Future<Output = Result<T, Error>>) -> Result<T, Error> {
    tokio::time::timeout(limit, call).await.map_err(|_| Error::Timeout)?
}

impl Meili {
    /// A client; no request is made until it is used.
    pub fn new(config: &MeiliConfig) -> Result<Meili, String> {
        let client = Client::new(config.url.clone(), config.key.clone()).map_err(|e| e.to_string())?;
        Ok(Meili {
            client,
            url: config.url.clone(),
            prefix: config.prefix.clone(),
            broken_until: Arc::new(Mutex::new(None)),
            state: Arc::new(Mutex::new(None)),
        })
    }

    fn uid(&self, kind: &str) -> String {
        format!("{}_{kind}", self.prefix)
    }

    fn build_uid(&self, kind: &str) -> String {
        format!("{}_{kind}_build", self.prefix)
    }

    fn state_key(&self) -> String {
        format!("search.meili.{}", self.prefix)
    }

    /// Whether searches may ask Meilisearch now: its indexes are built and it has not failed lately.
    pub async fn usable(&self, db: &Db) -> bool {
        if self.broken_until.lock().map(|until| until.is_some_and(|t| Instant::now() < t)).unwrap_or(false) {
            return false;
        }
        if let Ok(cached) = self.state.lock()
            && let Some((read, ready)) = *cached
            && read.elapsed() < STATE_FRESH_FOR
        {
            return ready;
        }
        let ready = matches!(self.build_state(&mut { db }).await, Ok(BuildState::Ready));
        if let Ok(mut cached) = self.state.lock() {
            *cached = Some((Instant::now(), ready));
        }
        ready
    }

    fn failed(&self) {
        if let Ok(mut until) = self.broken_until.lock() {
            *until = Some(Instant::now() + BREAK_FOR);
        }
    }

    pub async fn build_state(&self, db: &mut impl Exec) -> Result<BuildState, sqlx::Error> {
        let row: Option<(String,)> =
            db.fetch_optional(sql("SELECT value FROM site_settings WHERE key = $1").bind(self.state_key())).await?;
        let Some((value,)) = row else { return Ok(BuildState::NotBuilt) };
        let mut words = value.split(' ');
        Ok(match (words.next(), words.next(), words.next().and_then(|at| at.parse().ok())) {
            (Some("ready"), _, _) => BuildState::Ready,
            (Some("building"), Some(token), Some(at)) => BuildState::Building { token: token.to_owned(), at },
            _ => BuildState::NotBuilt,
        })
    }

    /// One request for every section a page shows, within [`SEARCH_DEADLINE`]. A failure or a late
    /// answer opens the breaker for [`BREAK_FOR`].
    pub async fn search(&self, asked: &Asked<'_>) -> Result<Ids, Error> {
        let answer = within(SEARCH_DEADLINE, self.multi_search(asked)).await;
        if answer.is_err() {
            self.failed();
        }
        answer
    }

    async fn multi_search(&self, asked: &Asked<'_>) -> Result<Ids, Error> {
        let indexes = KINDS.map(|kind| self.client.index(self.uid(kind)));
        let [people_index, posts_index, ideas_index] = &indexes;
        let mut wanted = Vec::new();
        if asked.people {
            wanted.push((PEOPLE, people_index, "deleted = false".to_owned()));
        }
        if let Some(member_of) = asked.posts {
            wanted.push((POSTS, posts_index, post_filter(member_of, asked.filters)));
        }
        if let Some(campaigns) = asked.ideas {
            wanted.push((IDEAS, ideas_index, idea_filter(campaigns, asked.filters)));
        }
        let mut ids = Ids::default();
        if wanted.is_empty() {
            return Ok(ids);
        }
        let mut multi = self.client.multi_search();
        for (_, index, filter) in &wanted {
            let mut query = SearchQuery::new(index);
            query
                .with_query(asked.text)
                .with_filter(filter)
                // Every word must match, as in the built-in engines (Meilisearch's default drops
                // words from the end until something matches).
                .with_matching_strategy(MatchingStrategies::ALL)
                .with_offset(asked.offset.max(0) as usize)
                .with_limit(asked.limit.max(0) as usize);
            multi.with_search_query(query);
        }
        let response = multi.execute::<Hit>().await?;
        for ((section, _, _), results) in wanted.iter().zip(response.results) {
            let found = results.hits.into_iter().map(|h| h.result.id).collect();
            match *section {
                PEOPLE => ids.people = found,
                POSTS => ids.posts = found,
                _ => ids.ideas = found,
            }
        }
        Ok(ids)
    }

    /// Declares what an index searches and filters on, with the built-in engines' stop words.
    async fn configure(&self, uid: &str, kind: &str) -> Result<TaskInfo, Error> {
        within(CALL_TIMEOUT, self.client.index(uid).set_settings(&settings(kind))).await
    }

    /// Whether index `uid` has the settings [`Meili::configure`] gives it, or will have once a change
    /// of them waiting in Meilisearch's queue is done. A resumed build sends them only when not:
    /// each change of settings makes Meilisearch index every document again (90 s for a million
    /// posts), and tasks wait in one queue.
    async fn configured(&self, uid: &str, kind: &str) -> Result<bool, Error> {
        let mut waiting = TasksSearchQuery::new(&self.client);
        waiting.with_index_uids([uid]).with_types(["settingsUpdate"]).with_statuses(["enqueued", "processing"]);
        if within(CALL_TIMEOUT, self.client.get_tasks_with(waiting.with_limit(1))).await?.total > 0 {
            return Ok(true);
        }
        let current = within(CALL_TIMEOUT, self.client.index(uid).get_settings()).await?;
        let wanted = settings(kind);
        let sorted = |words: Option<Vec<String>>| {
            let mut words = words.unwrap_or_default();
            words.sort();
            words
        };
        Ok(current.searchable_attributes == wanted.searchable_attributes
            && sorted(current.stop_words) == sorted(wanted.stop_words))
    }

    /// Waits for a task of the build however long Meilisearch's queue makes it (each task waits for
    /// those before it), telling other processes every [`BUILD_HEARTBEAT`] that the build is alive.
    /// With a short wait the build gave up behind a long task, started again, and queued another
    /// change of settings: at a million posts it never finished.
    async fn build_wait(&self, db: &Db, token: &str, task: &TaskInfo) -> Result<(), DeliveryError> {
        let started = Instant::now();
        loop {
            match self.finished(task.clone(), BUILD_HEARTBEAT).await {
                Err(DeliveryError::Meili(Error::Timeout)) if started.elapsed() < BUILD_TIMEOUT => {
                    if !self.report(&mut { db }, token, format!("building {token} {}", now())).await? {
                        return Err(DeliveryError::Build("another process took over the build".into()));
                    }
                }
                done => return done,
            }
        }
    }

    /// Waits until Meilisearch has processed `task`; an error when it failed.
    async fn finished(&self, task: TaskInfo, timeout: Duration) -> Result<(), DeliveryError> {
        let done =
            within(timeout, self.client.wait_for_task(task, Some(Duration::from_millis(50)), Some(timeout))).await?;
        match done {
            Task::Succeeded { .. } => Ok(()),
            Task::Failed { content } => Err(DeliveryError::Refused {
                message: format!(
                    "task {} on {}: {}",
                    content.task.uid,
                    content.task.index_uid.as_deref().unwrap_or("-"),
                    content.error.error_message
                ),
                code: content.error.error_code,
            }),
            Task::Enqueued { .. } | Task::Processing { .. } => Err(DeliveryError::Meili(Error::Timeout)),
        }
    }

    /// Delivers one batch of the outbox to built indexes (the worker checks that they are); returns
    /// how many rows it delivered (0: nothing waiting). Rows are removed only once Meilisearch has
    /// indexed them; a refused change stays and is tried again.
    async fn deliver(&self, db: &Db) -> Result<usize, DeliveryError> {
        let mut conn = db;
        let batch = outbox::next_batch(&mut conn, BATCH).await?;
        if batch.is_empty() {
            return Ok(0);
        }
        let ids_of = |kind: &str| -> Vec<i64> {
            let mut ids: Vec<i64> = batch.iter().filter(|e| e.kind == kind).map(|e| e.object_id).collect();
            ids.sort_unstable();
            ids.dedup();
            ids
        };
        let mut tasks = Vec::new();
        let post_ids = ids_of("post");
        let posts = outbox::post_docs(&mut conn, &post_ids).await?;
        tasks.extend(self.replace(&self.uid(POSTS), &posts, &post_ids).await?);
        let idea_ids = ids_of("idea");
        let ideas = outbox::idea_docs(&mut conn, &idea_ids).await?;
        tasks.extend(self.replace(&self.uid(IDEAS), &ideas, &idea_ids).await?);
        let person_ids = ids_of("person");
        let people = outbox::person_docs(&mut conn, &person_ids).await?;
        tasks.extend(self.replace(&self.uid(PEOPLE), &people, &person_ids).await?);
        for task in tasks {
            self.finished(task, INDEXING_TIMEOUT).await?;
        }
        let delivered: Vec<i64> = batch.iter().map(|e| e.id).collect();
        outbox::remove(&mut conn, &delivered).await?;
        Ok(delivered.len())
    }

    /// Sends `docs` and deletes the `ids` that have none (their rows are gone from the database);
    /// returns Meilisearch's tasks.
    async fn replace<T: Document>(&self, uid: &str, docs: &[T], ids: &[i64]) -> Result<Vec<TaskInfo>, Error> {
        let index = self.client.index(uid);
        let mut tasks = Vec::new();
        if !docs.is_empty() {
            tasks.push(within(CALL_TIMEOUT, index.add_or_replace(docs, Some("id"))).await?);
        }
        let gone: Vec<i64> = ids.iter().copied().filter(|id| !docs.iter().any(|d| d.id() == *id)).collect();
        if !gone.is_empty() {
            tasks.push(within(CALL_TIMEOUT, index.delete_documents(&gone)).await?);
        }
        Ok(tasks)
    }

    /// Takes the build for this process: always when `force` (an operator's `reindex`), otherwise
    /// only when nobody built or the builder went silent. Returns the claim's token.
    async fn claim(&self, db: &mut impl Exec, force: bool) -> Result<Option<String>, sqlx::Error> {
        let token = uuid::Uuid::new_v4().simple().to_string();
        let value = format!("building {token} {}", now());
        let claimed = match (force, self.build_state(db).await?) {
            (true, _) => db
                .execute(
                    sql("INSERT INTO site_settings (key, value) VALUES ($1, $2)
                         ON CONFLICT (key) DO UPDATE SET value = excluded.value")
                    .bind(self.state_key())
                    .bind(value),
                )
                .await?
                .min(1),
            // Only if no other process claimed it meanwhile (several servers start together).
            (false, BuildState::NotBuilt) => db
                .execute(
                    sql("INSERT INTO site_settings (key, value) VALUES ($1, $2)
                         ON CONFLICT (key) DO UPDATE SET value = excluded.value
                         WHERE site_settings.value NOT LIKE 'building %' AND site_settings.value <> 'ready'")
                    .bind(self.state_key())
                    .bind(value),
                )
                .await?
                .min(1),
            (false, BuildState::Building { token: old, at }) if now() - at > BUILD_STALE_AFTER => {
                let stale = sql("UPDATE site_settings SET value = $2 WHERE key = $1 AND value LIKE $3")
                    .bind(self.state_key())
                    .bind(value)
                    .bind(format!("building {old} %"));
                db.execute(stale).await?
            }
            _ => 0,
        };
        self.forget_state();
        Ok((claimed == 1).then_some(token))
    }

    /// Moves the build's state on, if this process still holds it (`token`).
    async fn report(&self, db: &mut impl Exec, token: &str, value: String) -> Result<bool, sqlx::Error> {
        let changed = db
            .execute(
                sql("UPDATE site_settings SET value = $2 WHERE key = $1 AND value LIKE $3")
                    .bind(self.state_key())
                    .bind(value)
                    .bind(format!("building {token} %")),
            )
            .await?;
        self.forget_state();
        Ok(changed == 1)
    }

    fn forget_state(&self) {
        if let Ok(mut cached) = self.state.lock() {
            *cached = None;
        }
    }

    /// Builds all three indexes from the database beside the live ones and swaps them in, so that
    /// Meilisearch then holds exactly what the database holds (nothing erased or deleted survives).
    /// Meanwhile searches use the built-in engine and the outbox waits (its changes are sent after
    /// the swap). An interrupted build resumes where it stopped unless `restart`. `progress` gets
    /// (kind, done, total) as documents are sent.
    pub async fn rebuild(
        &self,
        db: &Db,
        force: bool,
        restart: bool,
        progress: &mut (dyn FnMut(&str, i64, i64) + Send),
    ) -> Result<bool, DeliveryError> {
        let Some(token) = self.claim(&mut { db }, force).await? else { return Ok(false) };
        let built = self.build(db, &token, restart, progress).await;
        if built.is_err() {
            // Free the claim, so that the next attempt (this process's or another's) need not wait
            // for it to go stale; the resume points stay.
            let release = sql("DELETE FROM site_settings WHERE key = $1 AND value LIKE $2")
                .bind(self.state_key())
                .bind(format!("building {token} %"));
            (&mut { db }).execute(release).await?;
            self.forget_state();
        }
        built.map(|()| true)
    }

    async fn build(
        &self,
        db: &Db,
        token: &str,
        restart: bool,
        progress: &mut (dyn FnMut(&str, i64, i64) + Send),
    ) -> Result<(), DeliveryError> {
        let mut conn = db;
        let mut since = None;
        let lost = || DeliveryError::Build("another process took over the build".into());
        let totals = outbox::totals(&mut conn).await?;
        let mut last_tasks = Vec::new();
        for (kind, total) in KINDS.into_iter().zip(totals) {
            let build = self.build_uid(kind);
            let mut after = if restart { 0 } else { resume_point(&mut conn, kind).await? };
            if after == 0 {
                // A fresh start: whatever an earlier build left goes.
                match within(CALL_TIMEOUT, self.client.delete_index(&build)).await {
                    Ok(task) => self.build_wait(db, token, &task).await.or_else(ignore_missing_index)?,
                    Err(e) => ignore_missing_index(DeliveryError::Meili(e))?,
                }
                let created = within(CALL_TIMEOUT, self.client.create_index(&build, Some("id"))).await?;
                self.build_wait(db, token, &created).await?;
            }
            if after == 0 || !self.configured(&build, kind).await? {
                let configured = self.configure(&build, kind).await?;
                since = since.or(Some(configured.enqueued_at - time::Duration::milliseconds(1)));
                last_tasks.push(configured);
            }
            let mut done = count_upto(&mut conn, kind, after).await?;
            loop {
                progress(kind, done, total);
                let sent = match kind {
                    PEOPLE => {
                        let docs = outbox::person_docs_after(&mut conn, after, CHUNK).await?;
                        (self.replace(&build, &docs, &[]).await?, docs.last().map(|d| d.id), docs.len())
                    }
                    POSTS => {
                        let docs = outbox::post_docs_after(&mut conn, after, CHUNK).await?;
                        (self.replace(&build, &docs, &[]).await?, docs.last().map(|d| d.id), docs.len())
                    }
                    _ => {
                        let docs = outbox::idea_docs_after(&mut conn, after, CHUNK).await?;
                        (self.replace(&build, &docs, &[]).await?, docs.last().map(|d| d.id), docs.len())
                    }
                };
                let (tasks, Some(last), count) = sent else { break };
                if let Some(first) = tasks.first() {
                    since = since.or(Some(first.enqueued_at - time::Duration::milliseconds(1)));
                }
                last_tasks.extend(tasks);
                after = last;
                done += count as i64;
                save_point(&mut conn, kind, Some(after)).await?;
                if !self.report(&mut conn, token, format!("building {token} {}", now())).await? {
                    return Err(lost());
                }
            }
            progress(kind, total.max(done), total.max(done));
        }
        // Meilisearch works through its queue in order: the first waits are long, the rest are
        // answered at once.
        for task in &last_tasks {
            self.build_wait(db, token, task).await?;
        }
        // A resumed build checks the tasks of this run only: `--restart` checks everything again.
        let failed = match since {
            Some(since) => {
                self.failed_tasks(&self.existing(&KINDS.map(|k| self.build_uid(k))).await?, Some(since)).await?
            }
            None => 0,
        };
        if failed > 0 {
            return Err(DeliveryError::Build(format!("Meilisearch failed {failed} task(s) of the build")));
        }
        for kind in KINDS {
            // The swap needs both sides; a live index that exists already is fine.
            let created = within(CALL_TIMEOUT, self.client.create_index(self.uid(kind), Some("id"))).await?;
            self.build_wait(db, token, &created).await.or_else(ignore_existing_index)?;
        }
        let swaps: Vec<SwapIndexes> = KINDS
            .iter()
            .map(|kind| SwapIndexes { indexes: (self.uid(kind), self.build_uid(kind)), rename: None })
            .collect();
        if !matches!(self.build_state(&mut conn).await?, BuildState::Building { token: ref t, .. } if t == token) {
            return Err(lost());
        }
        let swapped = within(CALL_TIMEOUT, self.client.swap_indexes(&swaps)).await?;
        self.build_wait(db, token, &swapped).await?;
        if !self.report(&mut conn, token, "ready".to_owned()).await? {
            return Err(lost());
        }
        for kind in KINDS {
            save_point(&mut conn, kind, None).await?;
            // The old indexes, now under the build names.
            if let Ok(task) = within(CALL_TIMEOUT, self.client.delete_index(self.build_uid(kind))).await {
                let _ = self.finished(task, CALL_TIMEOUT).await;
            }
        }
        Ok(())
    }

    /// Those of `uids` that exist: Meilisearch refuses a task query that names a missing index.
    async fn existing(&self, uids: &[String]) -> Result<Vec<String>, Error> {
        let mut found = Vec::new();
        for uid in uids {
            match within(CALL_TIMEOUT, self.client.get_raw_index(uid)).await {
                Ok(_) => found.push(uid.clone()),
                Err(Error::Meilisearch(e)) if e.error_code == ErrorCode::IndexNotFound => {}
                Err(e) => return Err(e),
            }
        }
        Ok(found)
    }

    /// How many changes of documents or settings on these indexes failed (since a moment); `uids`
    /// must exist ([`Meili::existing`]).
    async fn failed_tasks(&self, uids: &[String], since: Option<time::OffsetDateTime>) -> Result<u64, Error> {
        if uids.is_empty() {
            return Ok(0);
        }
        let mut query = TasksSearchQuery::new(&self.client);
        query
            .with_index_uids(uids.iter().map(String::as_str))
            .with_statuses(["failed"])
            .with_types(["documentAdditionOrUpdate", "documentDeletion", "settingsUpdate"])
            .with_limit(1);
        if let Some(since) = &since {
            query.with_after_enqueued_at(since);
        }
        Ok(within(CALL_TIMEOUT, self.client.get_tasks_with(&query)).await?.total)
    }

    /// Tasks Meilisearch has not finished on these indexes, which must exist.
    async fn pending_tasks(&self, uids: &[String]) -> Result<u64, Error> {
        if uids.is_empty() {
            return Ok(0);
        }
        let mut query = TasksSearchQuery::new(&self.client);
        query.with_index_uids(uids.iter().map(String::as_str)).with_statuses(["enqueued", "processing"]).with_limit(1);
        Ok(within(CALL_TIMEOUT, self.client.get_tasks_with(&query)).await?.total)
    }

    /// One line on whether Meilisearch answers and accepts the key, and what it still has to do.
    pub async fn check(&self, db: &Db) -> Result<String, String> {
        // An authenticated call: `/health` answers without the key, so it cannot tell a wrong one.
        match within(CALL_TIMEOUT, self.client.get_stats()).await {
            Ok(_) => {}
            Err(Error::Meilisearch(e))
                if matches!(e.error_code, ErrorCode::InvalidApiKey | ErrorCode::MissingAuthorizationHeader) =>
            {
                return Err(format!("Meilisearch at {} refuses the key: {}", self.url, e.error_message));
            }
            Err(e) => return Err(format!("Meilisearch at {} is NOT answering: {e}", self.url)),
        }
        // Counts that could not be read (an index went away meanwhile) do not make it unusable.
        let counted = |n: Result<u64, Error>| n.map_or_else(|e| format!("? ({e})"), |n| n.to_string());
        let all: Vec<String> = KINDS.iter().flat_map(|k| [self.uid(k), self.build_uid(k)]).collect();
        let (pending, failed) = match self.existing(&all).await {
            Ok(uids) => {
                let live: Vec<String> =
                    uids.iter().filter(|u| KINDS.iter().any(|k| **u == self.uid(k))).cloned().collect();
                (counted(self.pending_tasks(&uids).await), counted(self.failed_tasks(&live, None).await))
            }
            Err(e) => (format!("? ({e})"), format!("? ({e})")),
        };
        let state = match self.build_state(&mut { db }).await.map_err(|e| e.to_string())? {
            BuildState::Ready => "indexes built: Meilisearch answers searches".to_owned(),
            BuildState::NotBuilt => "indexes NOT built: the built-in engine answers until the server has built them \
                 (or run `townhall search reindex`)"
                .to_owned(),
            BuildState::Building { at, .. } => format!(
                "indexes being built (last progress {} s ago): the built-in engine answers meanwhile",
                (now() - at).max(0)
            ),
        };
        Ok(format!(
            "Meilisearch at {} (answering, key accepted), {state}; {pending} task(s) pending in \
             Meilisearch, {failed} failed change(s) in its history for the live indexes",
            self.url
        ))
    }
}

fn ignore_missing_index(e: DeliveryError) -> Result<(), DeliveryError> {
    match &e {
        DeliveryError::Meili(Error::Meilisearch(m)) if m.error_code == ErrorCode::IndexNotFound => Ok(()),
        DeliveryError::Refused { code: ErrorCode::IndexNotFound, .. } => Ok(()),
        _ => Err(e),
    }
}

fn ignore_existing_index(e: DeliveryError) -> Result<(), DeliveryError> {
    match &e {
        DeliveryError::Refused { code: ErrorCode::IndexAlreadyExists, .. } => Ok(()),
        _ => Err(e),
    }
}

/// Where an interrupted build of `kind` stopped (0: it did not).
pub async fn resume_point(db: &mut impl Exec, kind: &str) -> Result<i64, sqlx::Error> {
    let key = format!("search.reindex.{kind}");
    let row: Option<(String,)> =
        db.fetch_optional(sql("SELECT value FROM site_settings WHERE key = $1").bind(key)).await?;
    Ok(row.and_then(|(v,)| v.parse().ok()).unwrap_or(0))
}

async fn save_point(db: &mut impl Exec, kind: &str, last: Option<i64>) -> Result<(), sqlx::Error> {
    let key = format!("search.reindex.{kind}");
    match last {
        Some(id) => {
            db.execute(
                sql("INSERT INTO site_settings (key, value) VALUES ($1, $2)
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value")
                .bind(key)
                .bind(id.to_string()),
            )
            .await?
        }
        None => db.execute(sql("DELETE FROM site_settings WHERE key = $1").bind(key)).await?,
    };
    Ok(())
}

async fn count_upto(db: &mut impl Exec, kind: &str, after: i64) -> Result<i64, sqlx::Error> {
    let query = match kind {
        PEOPLE => sql("SELECT COUNT(*) FROM users WHERE id <= $1"),
        POSTS => sql("SELECT COUNT(*) FROM posts WHERE id <= $1"),
        _ => sql("SELECT COUNT(*) FROM ideas WHERE id <= $1"),
    };
    let (n,): (i64,) = db.fetch_one(query.bind(after)).await?;
    Ok(n)
}

fn list(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
}

/// Only names made of letters, digits, `_` and `-` go into a filter (usernames and community slugs
/// are); anything else matches nothing.
fn quoted(value: &str) -> String {
    if value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        format!("\"{value}\"")
    } else {
        "\"\u{1}\"".into()
    }
}

fn dates(filters: &Filters) -> String {
    let mut out = String::new();
    if let Some(from) = filters.from {
        out.push_str(&format!(" AND created_at >= {from}"));
    }
    if let Some(until) = filters.until {
        out.push_str(&format!(" AND created_at < {until}"));
    }
    out
}

pub fn post_filter(member_of: &[i64], filters: &Filters) -> String {
    let mut filter = if member_of.is_empty() {
        "hidden = false AND deleted = false AND members_only = 0".to_owned()
    } else {
        format!("hidden = false AND deleted = false AND (members_only = 0 OR members_only IN [{}])", list(member_of))
    };
    if !filters.author.is_empty() {
        filter.push_str(&format!(" AND author = {}", quoted(&filters.author)));
    }
    if !filters.community.is_empty() {
        filter.push_str(&format!(" AND community = {}", quoted(&filters.community)));
    }
    filter + &dates(filters)
}

pub fn idea_filter(campaigns: &[i64], filters: &Filters) -> String {
    let mut filter = format!("hidden = false AND campaign_id IN [{}]", list(campaigns));
    if let Some(campaign) = filters.campaign {
        filter.push_str(&format!(" AND campaign_id = {campaign}"));
    }
    if !filters.author.is_empty() {
        filter.push_str(&format!(" AND author = {}", quoted(&filters.author)));
    }
    filter + &dates(filters)
}

/// Keeps Meilisearch current for as long as the server runs: builds the indexes when they are not
/// built (or a builder went silent), then delivers the outbox, at once while rows wait, every
/// second when none do, and after a failure (Meilisearch down, a change refused) backing off up to
/// a minute. Rows are removed only once indexed, so an outage delays indexing and loses nothing.
pub async fn run_worker(db: Db, meili: Meili) {
    let mut backoff = Duration::from_secs(1);
    loop {
        let round = match meili.build_state(&mut &db).await {
            Ok(BuildState::Ready) => meili.deliver(&db).await,
            Ok(_) => {
                let mut logged = 0;
                let mut progress = |kind: &str, done: i64, total: i64| {
                    if done == total && done != logged {
                        logged = done;
                        tracing::info!(kind, documents = done, "Meilisearch index sent");
                    }
                };
                match meili.rebuild(&db, false, false, &mut progress).await {
                    Ok(true) => {
                        tracing::info!(url = %meili.url, "Meilisearch indexes built; searches use them now");
                        Ok(1)
                    }
                    Ok(false) => Ok(0), // another process builds
                    Err(e) => Err(e),
                }
            }
            Err(e) => Err(e.into()),
        };
        match round {
            Ok(0) => tokio::time::sleep(Duration::from_secs(1)).await,
            Ok(_) => backoff = Duration::from_secs(1),
            Err(e) => {
                tracing::warn!(error = %e, retry_in = ?backoff, "search index not brought up to date");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(60));
            }
        }
    }
}

/// The communities a viewer belongs to (for the posts filter).
pub async fn memberships(db: &mut impl Exec, user_id: i64) -> Result<Vec<i64>, sqlx::Error> {
    let rows: Vec<(i64,)> = db
        .fetch_all(crate::db::sql("SELECT community_id FROM community_members WHERE user_id = $1").bind(user_id))
        .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// What an index of `kind` searches and filters on, with the built-in engines' stop words.
fn settings(kind: &str) -> Settings {
    let settings = Settings::new().with_stop_words(STOP_WORDS);
    match kind {
        POSTS => settings
            // Stems first (stemming as in the built-in engines), the words as written second (typo
            // tolerance works on those).
            .with_searchable_attributes(["stems", "body"])
            .with_filterable_attributes(["members_only", "author", "community", "created_at", "hidden", "deleted"]),
        IDEAS => settings
            .with_searchable_attributes(["title_stems", "title", "stems", "body"])
            .with_filterable_attributes(["campaign_id", "author", "created_at", "hidden"]),
        _ => settings
            .with_searchable_attributes(["display_name", "username", "job_title", "department", "location"])
            .with_filterable_attributes(["deleted"]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_carry_the_permission_rules() {
        let none = Filters::default();
        assert_eq!(post_filter(&[], &none), "hidden = false AND deleted = false AND members_only = 0");
        let f = Filters { author: "bo".into(), from: Some(10), until: Some(20), ..Filters::default() };
        assert_eq!(
            post_filter(&[3, 7], &f),
            "hidden = false AND deleted = false AND (members_only = 0 OR members_only IN [3, 7]) \
             AND author = \"bo\" AND created_at >= 10 AND created_at < 20"
        );
        let sneaky = Filters { author: "x\" OR hidden = true".into(), ..Filters::default() };
        assert!(!post_filter(&[], &sneaky).contains("OR hidden"));
        let f = Filters { campaign: Some(4), ..Filters::default() };
        assert_eq!(idea_filter(&[4, 5], &f), "hidden = false AND campaign_id IN [4, 5] AND campaign_id = 4");
        assert_eq!(idea_filter(&[], &none), "hidden = false AND campaign_id IN []");
    }
}
