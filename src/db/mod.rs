//! The database: one pool over SQLite or PostgreSQL, migrations, and the query helpers every store uses.
//!
//! Stores write portable SQL with `$1`-style placeholders (SQLite accepts them too) and run it through
//! [`Exec`], implemented by both a pool ([`Db`]) and an open transaction ([`Tx`]). Where the two engines
//! need different SQL, the store keeps both texts side by side and picks one with [`Exec::engine`].

pub mod health;

use std::borrow::Cow;
use std::future::Future;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

pub use health::Health;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous};
use sqlx::{AssertSqlSafe, FromRow, PgPool, Postgres, SqlSafeStr, SqlStr, Sqlite, SqlitePool, Transaction};

/// Which engine a connection talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// A connection pool on one of the two engines. Cloning is cheap (the pools are reference counted).
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqliteDb),
    Postgres(PgDb),
}

/// The PostgreSQL pool and what the process has learnt about the server ([`Health`]).
#[derive(Clone, Debug)]
pub struct PgDb {
    pub pool: PgPool,
    health: Arc<Health>,
}

impl PgDb {
    /// A pool time-out means either that every connection was busy (a slow moment) or that none
    /// could be made (the server is away); a new connection, tried for a second, tells which.
    async fn noted<T>(&self, result: Result<T, sqlx::Error>) -> Result<T, sqlx::Error> {
        if matches!(result, Err(sqlx::Error::PoolTimedOut)) && !self.answers().await {
            self.health.mark_down();
        }
        result
    }

    async fn answers(&self) -> bool {
        let options = self.pool.connect_options();
        let connect = sqlx::ConnectOptions::connect(&*options);
        match tokio::time::timeout(Duration::from_secs(1), connect).await {
            Ok(Ok(connection)) => {
                let _ = sqlx::Connection::close(connection).await;
                true
            }
            _ => false,
        }
    }
}

/// An SQLite pool and its one writer's turn. SQLite lets one transaction write at a time; writers
/// that find the lock taken poll it with growing sleeps (up to 100 ms each), so under a stream of
/// writes some wait far longer than their turn. Taking turns here, first come first served, lets
/// each writer start the moment the previous one ends.
///
/// Writes have a connection of their own (`writes`): a writer whose turn has come then never waits
/// for a connection behind the readers. Sharing the readers' pool, it did: sqlx hands a released
/// connection to whoever asks first, and a waiter that misses one queues again at the back, so
/// under many clients reading home a writer could wait seconds with the turn held, and the writers
/// behind it were refused (docs/benchmarks.md).
#[derive(Clone, Debug)]
pub struct SqliteDb {
    pool: SqlitePool,
    writes: SqlitePool,
    writer: Arc<Semaphore>,
    health: Arc<Health>,
}

/// Prepared statements kept per SQLite connection (PostgreSQL keeps sqlx's default of 100).
const STATEMENT_CACHE: usize = 512;

/// How long a writer waits for its turn before giving up (as SQLite's busy timeout did).
const WRITER_WAIT: Duration = Duration::from_secs(5);

impl SqliteDb {
    async fn turn(&self) -> Result<OwnedSemaphorePermit, sqlx::Error> {
        match tokio::time::timeout(WRITER_WAIT, self.writer.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(sqlx::Error::PoolTimedOut),
        }
    }

    /// Begins a write transaction on the write connection, with the writer's turn held.
    ///
    /// When the disk is full SQLite rolls a failed COMMIT back by itself; sqlx still counts the
    /// transaction as open on that connection (its ROLLBACK then fails too), and refuses every
    /// later BEGIN as a nested one. Such a connection is closed and a fresh one used, so that
    /// writes work again as soon as there is room, without a restart.
    async fn begin_immediate(&self) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
        match self.writes.begin_with("BEGIN IMMEDIATE").await {
            Err(sqlx::Error::InvalidSavePointStatement) => {
                tracing::warn!("the SQLite write connection was left inside a failed transaction; replacing it");
                self.writes.acquire().await?.close().await?;
                self.writes.begin_with("BEGIN IMMEDIATE").await
            }
            begun => begun,
        }
    }
}

/// An open transaction; dropped without [`Tx::commit`] it rolls back.
pub enum Tx {
    Sqlite(SqliteTx),
    Postgres(PgTx),
}

/// An SQLite write transaction, holding the writer's turn until it ends.
pub struct SqliteTx {
    tx: Transaction<'static, Sqlite>,
    _turn: OwnedSemaphorePermit,
    health: Arc<Health>,
}

/// A PostgreSQL transaction.
pub struct PgTx {
    tx: Transaction<'static, Postgres>,
    health: Arc<Health>,
}

/// One value bound to a placeholder.
#[derive(Clone, Debug)]
pub enum Arg {
    Int(i64),
    Text(String),
    Bool(bool),
    NullText,
    NullInt,
}

/// PostgreSQL text cannot hold NUL. Every write path refuses control characters first, so a NUL can
/// only arrive in a lookup from hostile input: it becomes U+FFFD, which finds nothing, on both engines.
fn text_arg(v: String) -> Arg {
    if v.contains('\0') { Arg::Text(v.replace('\0', "\u{FFFD}")) } else { Arg::Text(v) }
}

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::Int(v)
    }
}
impl From<bool> for Arg {
    fn from(v: bool) -> Self {
        Arg::Bool(v)
    }
}
impl From<String> for Arg {
    fn from(v: String) -> Self {
        text_arg(v)
    }
}
impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        text_arg(v.to_owned())
    }
}
impl From<&String> for Arg {
    fn from(v: &String) -> Self {
        text_arg(v.clone())
    }
}
impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        v.map_or(Arg::NullInt, Arg::Int)
    }
}
impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Self {
        v.map_or(Arg::NullText, text_arg)
    }
}

/// SQL text with its bound values. Build with [`sql`] or [`sql_in`] and [`Query::bind`].
#[derive(Clone, Debug)]
pub struct Query {
    text: Cow<'static, str>,
    args: Vec<Arg>,
    /// Prepared once per connection and reused (false: see [`Query::planned_per_call`]).
    reused: bool,
}

/// Starts a query from SQL written in the source (never from input: values go through `bind`).
pub fn sql(text: &'static str) -> Query {
    Query::new(Cow::Borrowed(text), Vec::new())
}

/// Makes `%`, `_` and `\` in typed text match themselves in a LIKE pattern.
pub fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// How many placeholders a list of `n` values gets: one of a few sizes (1, 2, 4, 8, then multiples
/// of 8) rather than `n` itself, the rest bound to NULL by [`Query::bind_list`]. Each distinct text
/// is a statement that every connection prepares, and PostgreSQL plans it with its values on each of
/// its first five calls before settling on one plan: with a text per length, a new connection spent
/// seconds planning feeds' reply previews before its pages ran at full speed (docs/benchmarks.md).
pub fn list_size(n: usize) -> usize {
    match n {
        0..=2 => n,
        3..=4 => 4,
        5..=8 => 8,
        _ => n.next_multiple_of(8),
    }
}

/// Like [`sql`], with `{list}` in the text replaced by placeholders for `count` values numbered from
/// `first` (`$2, $3, $4, $5`), for `IN ({list})`; bind the values with [`Query::bind_list`] after
/// any placeholders before `first`. With no values the list is `NULL`, which matches nothing. Only
/// placeholders are ever put into the text.
pub fn sql_in(template: &'static str, first: usize, count: usize) -> Query {
    let count = list_size(count);
    let list = if count == 0 {
        "NULL".to_owned()
    } else {
        (first..first + count).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ")
    };
    Query::new(Cow::Owned(template.replace("{list}", &list)), Vec::new())
}

fn sql_text(text: Cow<'static, str>) -> SqlText {
    match text {
        Cow::Borrowed(text) => SqlText::Static(text),
        Cow::Owned(text) => SqlText::Built(AssertSqlSafe(text)),
    }
}

/// The two kinds of SQL text sqlx accepts: written in the source, or built from placeholders.
enum SqlText {
    Static(&'static str),
    Built(AssertSqlSafe<String>),
}

impl SqlSafeStr for SqlText {
    fn into_sql_str(self) -> SqlStr {
        match self {
            SqlText::Static(text) => text.into_sql_str(),
            SqlText::Built(text) => text.into_sql_str(),
        }
    }
}

/// `head (…) tail` around one `UNION ALL` of copies of `each` for `count` values, whose `{n}` becomes
/// `$first`, `$first + 1`, …, as derived tables (so each copy may have its own `ORDER BY … LIMIT`);
/// `tail` starts with the union's alias. For "the newest few of each of these", reading only those
/// rows through an index. Bind the values with [`Query::bind_list`]: the copies that [`list_size`]
/// adds get NULL, and `= NULL` finds no row. Only placeholders are ever put into the text.
pub fn sql_union_all(head: &'static str, each: &'static str, first: usize, count: usize, tail: &'static str) -> Query {
    let parts: Vec<String> = (first..first + list_size(count))
        .map(|n| format!("SELECT * FROM ({}) part{n}", each.replace("{n}", &format!("${n}"))))
        .collect();
    Query::new(Cow::Owned(format!("{head} ({}) {tail}", parts.join(" UNION ALL "))), Vec::new())
}

/// A multi-row `INSERT`: `head` (such as `INSERT INTO follows (follower_id, followee_id)`) followed
/// by `VALUES` with one `($n, …)` group of `width` placeholders per row of `args`, for bulk loads.
/// Only placeholders are ever put into the text.
pub fn sql_values(head: &'static str, width: usize, args: Vec<Arg>) -> Query {
    let rows = args.len() / width.max(1);
    let mut text = String::with_capacity(head.len() + rows * width * 6 + 8);
    text.push_str(head);
    text.push_str(" VALUES ");
    let mut n = 1;
    for row in 0..rows {
        text.push_str(if row == 0 { "(" } else { ", (" });
        for column in 0..width {
            if column > 0 {
                text.push_str(", ");
            }
            text.push('$');
            text.push_str(&n.to_string());
            n += 1;
        }
        text.push(')');
    }
    Query::new(Cow::Owned(text), args)
}

impl Query {
    /// A statement kept prepared and reused (the default; see [`Query::planned_per_call`]).
    fn new(text: Cow<'static, str>, args: Vec<Arg>) -> Query {
        Query { text, args, reused: true }
    }

    /// The same query behind a prefix such as `EXPLAIN QUERY PLAN `, to see how the database runs it.
    pub fn explained(self, prefix: &'static str) -> Query {
        Query { text: Cow::Owned(format!("{prefix}{}", self.text)), args: self.args, reused: self.reused }
    }

    /// On PostgreSQL, plans the statement with its actual values on every call instead of keeping
    /// it prepared. A prepared statement switches to a generic plan (one for any values) after five
    /// calls; for a query whose filters are optional (`$3 = '' OR u.username = $3`) that plan is
    /// chosen blind, and for search it was a nested loop thousands of times slower than the plan
    /// made per call (docs/benchmarks.md). SQLite has no such switch, so this changes nothing there.
    pub fn planned_per_call(mut self) -> Self {
        self.reused = false;
        self
    }

    pub fn bind(mut self, value: impl Into<Arg>) -> Self {
        self.args.push(value.into());
        self
    }

    /// Binds the values of a list made by [`sql_in`] or [`sql_union_all`] for `values.len()` of
    /// them, then NULL for each placeholder [`list_size`] added. NULL matches nothing in `IN (…)` or
    /// in `x = $n`; a list must not be used with `NOT IN`.
    pub fn bind_list<T: Clone + Into<Arg>>(mut self, values: &[T]) -> Self {
        let mut null = Arg::NullInt;
        for value in values {
            let arg = value.clone().into();
            if matches!(arg, Arg::Text(_) | Arg::NullText) {
                null = Arg::NullText;
            }
            self.args.push(arg);
        }
        for _ in values.len()..list_size(values.len()) {
            self.args.push(null.clone());
        }
        self
    }
}

/// A row type that decodes from either engine (derive `sqlx::FromRow`, or use a tuple).
pub trait Row: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin + 'static {}
impl<T> Row for T where T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin + 'static {}

/// Something that runs queries: a pool or an open transaction.
pub trait Exec: Send {
    fn engine(&self) -> Engine;
    /// Runs a statement and returns the number of rows it changed.
    fn execute(&mut self, query: Query) -> impl Future<Output = Result<u64, sqlx::Error>> + Send;
    fn fetch_all<T: Row>(&mut self, query: Query) -> impl Future<Output = Result<Vec<T>, sqlx::Error>> + Send;
    fn fetch_optional<T: Row>(&mut self, query: Query) -> impl Future<Output = Result<Option<T>, sqlx::Error>> + Send;
    fn fetch_one<T: Row>(&mut self, query: Query) -> impl Future<Output = Result<T, sqlx::Error>> + Send {
        let found = self.fetch_optional(query);
        async move { found.await?.ok_or(sqlx::Error::RowNotFound) }
    }
}

macro_rules! bind_all {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for arg in $args {
            q = match arg {
                Arg::Int(v) => q.bind(v),
                Arg::Text(v) => q.bind(v),
                Arg::Bool(v) => q.bind(v),
                Arg::NullText => q.bind(Option::<String>::None),
                Arg::NullInt => q.bind(Option::<i64>::None),
            };
        }
        q
    }};
}

/// Picks the SQLite or the PostgreSQL expression, with `$conn` bound to that engine's pool or
/// transaction: together with the four builders below, the one place the two engines are told apart.
macro_rules! on_engine {
    ($self:expr, |$conn:ident| $sqlite:expr, $postgres:expr) => {
        match $self {
            Self::Sqlite($conn) => $sqlite,
            Self::Postgres($conn) => $postgres,
        }
    };
}

fn sqlite_query(q: Query) -> sqlx::query::Query<'static, Sqlite, sqlx::sqlite::SqliteArguments> {
    bind_all!(sqlx::query::<Sqlite>(sql_text(q.text)), q.args)
}
fn pg_query(q: Query) -> sqlx::query::Query<'static, Postgres, sqlx::postgres::PgArguments> {
    bind_all!(sqlx::query::<Postgres>(sql_text(q.text)).persistent(q.reused), q.args)
}
fn sqlite_query_as<T: Row>(q: Query) -> sqlx::query::QueryAs<'static, Sqlite, T, sqlx::sqlite::SqliteArguments> {
    bind_all!(sqlx::query_as::<Sqlite, T>(sql_text(q.text)), q.args)
}
fn pg_query_as<T: Row>(q: Query) -> sqlx::query::QueryAs<'static, Postgres, T, sqlx::postgres::PgArguments> {
    bind_all!(sqlx::query_as::<Postgres, T>(sql_text(q.text)).persistent(q.reused), q.args)
}

/// Whether a PostgreSQL statement failed because the server had dropped its connection (a restart,
/// a failover, `pg_terminate_backend`) while it sat in the pool, so that the statement did not run:
/// the server said it ended the session (any statement of it is rolled back), or, for a read, the
/// connection was found closed.
fn connection_lost(error: &sqlx::Error, read: bool) -> bool {
    match error {
        // admin_shutdown, crash_shutdown
        sqlx::Error::Database(e) => matches!(e.code().as_deref(), Some("57P01" | "57P02")),
        // A write may have run before its connection broke; a read is safe to run again.
        sqlx::Error::Io(_) => read,
        _ => false,
    }
}

/// Runs a statement on the PostgreSQL pool, again on another connection while the one it got had
/// been dropped by the server: each failure closes that connection, and the pool holds at most
/// [`PG_CONNECTIONS`] of them, so a restart of the server costs no request an error.
async fn on_live_connection<T, F>(read: bool, mut run: impl FnMut() -> F) -> Result<T, sqlx::Error>
where
    F: Future<Output = Result<T, sqlx::Error>>,
{
    let mut tries = 0;
    loop {
        match run().await {
            Err(e) if tries < PG_CONNECTIONS && connection_lost(&e, read) => {
                tracing::info!(error = %e, "PostgreSQL had closed a pooled connection; trying another");
                tries += 1;
            }
            done => return done,
        }
    }
}

impl Exec for Db {
    fn engine(&self) -> Engine {
        on_engine!(self, |_p| Engine::Sqlite, Engine::Postgres)
    }
    /// A statement outside a transaction writes (reads go through `fetch_*`): on SQLite it waits
    /// for the writer's turn.
    async fn execute(&mut self, query: Query) -> Result<u64, sqlx::Error> {
        let health = self.health().clone();
        health.admit()?;
        let done = on_engine!(
            self,
            |p| match p.turn().await {
                Ok(_turn) => sqlite_query(query).execute(&p.writes).await.map(|r| r.rows_affected()),
                Err(e) => Err(e),
            },
            p.noted(on_live_connection(false, || pg_query(query.clone()).execute(&p.pool)).await)
                .await
                .map(|r| r.rows_affected())
        );
        // Only a statement that changed rows shows that the disk took a write.
        let wrote = matches!(done, Ok(n) if n > 0);
        health.observe(done, wrote)
    }
    async fn fetch_all<T: Row>(&mut self, query: Query) -> Result<Vec<T>, sqlx::Error> {
        self.health().admit()?;
        let rows = on_engine!(
            self,
            |p| sqlite_query_as(query).fetch_all(&p.pool).await,
            p.noted(on_live_connection(true, || pg_query_as(query.clone()).fetch_all(&p.pool)).await).await
        );
        self.health().observe(rows, false)
    }
    async fn fetch_optional<T: Row>(&mut self, query: Query) -> Result<Option<T>, sqlx::Error> {
        self.health().admit()?;
        let row = on_engine!(
            self,
            |p| sqlite_query_as(query).fetch_optional(&p.pool).await,
            p.noted(on_live_connection(true, || pg_query_as(query.clone()).fetch_optional(&p.pool)).await).await
        );
        self.health().observe(row, false)
    }
}

impl Exec for Tx {
    fn engine(&self) -> Engine {
        on_engine!(self, |_t| Engine::Sqlite, Engine::Postgres)
    }
    async fn execute(&mut self, query: Query) -> Result<u64, sqlx::Error> {
        let done = on_engine!(
            self,
            |t| sqlite_query(query).execute(&mut *t.tx).await.map(|r| r.rows_affected()),
            pg_query(query).execute(&mut *t.tx).await.map(|r| r.rows_affected())
        );
        self.health().observe(done, false)
    }
    async fn fetch_all<T: Row>(&mut self, query: Query) -> Result<Vec<T>, sqlx::Error> {
        let rows = on_engine!(
            self,
            |t| sqlite_query_as(query).fetch_all(&mut *t.tx).await,
            pg_query_as(query).fetch_all(&mut *t.tx).await
        );
        self.health().observe(rows, false)
    }
    async fn fetch_optional<T: Row>(&mut self, query: Query) -> Result<Option<T>, sqlx::Error> {
        let row = on_engine!(
            self,
            |t| sqlite_query_as(query).fetch_optional(&mut *t.tx).await,
            pg_query_as(query).fetch_optional(&mut *t.tx).await
        );
        self.health().observe(row, false)
    }
}

impl Tx {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        let health = self.health().clone();
        let done = on_engine!(self, |t| t.tx.commit().await, t.tx.commit().await);
        health.observe(done, true)
    }

    fn health(&self) -> &Arc<Health> {
        on_engine!(self, |t| &t.health, &t.health)
    }
}

impl Db {
    /// Opens the pool for a `sqlite:` or `postgres:` URL, creating an SQLite file if it is missing.
    pub async fn connect(url: &str) -> Result<Db, sqlx::Error> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let health = Arc::new(Health::new(true));
            Ok(Db::Postgres(PgDb { pool: connect_postgres(url).await?, health }))
        } else {
            let health = Arc::new(Health::new(false));
            let pool = connect_sqlite(url, READ_CONNECTIONS).await?;
            // An in-memory database exists once per connection: there the writes share the pool.
            let writes = if url.contains(":memory:") { pool.clone() } else { connect_sqlite(url, 1).await? };
            Ok(Db::Sqlite(SqliteDb { pool, writes, writer: Arc::new(Semaphore::new(1)), health }))
        }
    }

    /// What this process has learnt about the database from its statements.
    pub fn health(&self) -> &Arc<Health> {
        on_engine!(self, |p| &p.health, &p.health)
    }

    /// Opens a write transaction. On SQLite it waits for the writer's turn ([`SqliteDb`]) and then
    /// takes the write lock at once (`BEGIN IMMEDIATE`): a deferred transaction that reads and then
    /// writes fails outright with SQLITE_BUSY_SNAPSHOT when another writer committed in between. (Another
    /// process on the same file still waits through SQLite's busy timeout.)
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        let health = self.health().clone();
        health.admit()?;
        let begun = match self {
            Db::Sqlite(p) => match p.turn().await {
                Ok(turn) => p.begin_immediate().await.map(|tx| Tx::Sqlite(SqliteTx { tx, _turn: turn, health })),
                Err(e) => Err(e),
            },
            // Nothing has run yet: a dropped connection is replaced like a read's.
            Db::Postgres(p) => p
                .noted(on_live_connection(true, || p.pool.begin()).await)
                .await
                .map(|tx| Tx::Postgres(PgTx { tx, health })),
        };
        self.health().observe(begun, false)
    }

    /// Brings the schema up to date with the engine's own migrations.
    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        match self {
            Db::Sqlite(p) => sqlx::migrate!("./migrations/sqlite").run(&p.writes).await,
            Db::Postgres(p) => sqlx::migrate!("./migrations/postgres").run(&p.pool).await,
        }
    }

    /// True when the database answers a trivial query within a second; false at once while it is
    /// known to be out of reach ([`Health`]).
    pub async fn is_ready(&self) -> bool {
        if self.health().is_down() {
            return false;
        }
        let mut db = self.clone();
        let ping = async move { db.fetch_one::<(i64,)>(sql("SELECT CAST(1 AS BIGINT)")).await };
        matches!(tokio::time::timeout(Duration::from_secs(1), ping).await, Ok(Ok(_)))
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite(p) => {
                p.pool.close().await;
                p.writes.close().await;
            }
            Db::Postgres(p) => p.pool.close().await,
        }
    }
}

/// The PostgreSQL pool's size.
const PG_CONNECTIONS: usize = 16;

/// How long a PostgreSQL connection may sit idle in the pool before it is pinged on its next use.
const PING_AFTER_IDLE: Duration = Duration::from_secs(30);

/// The PostgreSQL pool, its connections planning without Memoize.
///
/// Memoize caches a nested loop's inner lookups by key. PostgreSQL 15 sizes its hash table from the
/// rows the join would give without the query's `LIMIT` and builds it afresh on every execution: the
/// `/all` page's query spent most of its time building them. Every Townhall query reads a page or a
/// few rows by index, where Memoize saves nothing (figures: docs/benchmarks.md).
async fn connect_postgres(url: &str) -> Result<PgPool, sqlx::Error> {
    let options = PgConnectOptions::from_str(url)?.options([("enable_memoize", "off")]);
    PgPoolOptions::new()
        .max_connections(PG_CONNECTIONS as u32)
        .acquire_timeout(Duration::from_secs(5))
        // A connection is pinged before use only after sitting idle (the server may have
        // restarted or dropped it meanwhile; a failed ping discards it and another is used).
        // Pinging before every statement, sqlx's default, was a round trip each.
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for > PING_AFTER_IDLE {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
        .connect_with(options)
        .await
}

/// SQLite connections for reads (besides the one for writes).
const READ_CONNECTIONS: u32 = 4;

/// An SQLite pool of `connections`, creating the file if it is missing.
async fn connect_sqlite(url: &str, connections: u32) -> Result<SqlitePool, sqlx::Error> {
    // WAL lets readers run beside the writer; `synchronous = NORMAL` in WAL mode keeps every
    // committed transaction across a killed process (only a power cut can lose the last ones).
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5))
        // Every store's statements stay prepared on every connection (the default keeps 100,
        // fewer than Townhall has, and re-parsing showed in profiles).
        .statement_cache_capacity(STATEMENT_CACHE)
        // Four connections with 16 MB of page cache each rather than SQLite's default 2 MB: a
        // home page reads its posts and authors from pages spread over the whole file, which a
        // small cache sent to the operating system for again and again. Measured on 100,000
        // people: home 22-25 % of the ceiling instead of 18-22 %, peak RSS 102 MiB instead of 64.
        .pragma("cache_size", "-16000");
    SqlitePoolOptions::new()
        .max_connections(connections)
        // No ping before each use: a file connection cannot have been hung up on, and the ping is
        // a hand-off to the connection's thread and back for every statement (a third of a home
        // page's thread switches; see docs/benchmarks.md).
        .test_before_acquire(false)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await
}

/// The lower-cased message of a unique-constraint violation, or `None` for any other error. Callers
/// look for the column name in it ("username", "email") to turn it into a form error.
pub fn unique_violation(error: &sqlx::Error) -> Option<String> {
    match error {
        sqlx::Error::Database(e) if e.is_unique_violation() => {
            Some(format!("{} {}", e.message(), e.constraint().unwrap_or_default()).to_lowercase())
        }
        _ => None,
    }
}

/// Seconds since the Unix epoch: how every timestamp is stored, on both engines.
pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_of_any_length_up_to_a_feed_page_share_a_few_statements() {
        // A home page's likes ask about up to 90 posts (30, and two replies of each).
        let texts: std::collections::HashSet<String> = (1..=90)
            .map(|n| sql_in("SELECT post_id FROM likes WHERE post_id IN ({list})", 1, n).text.into_owned())
            .collect();
        assert!(texts.len() <= 15, "{} statements for 90 lengths", texts.len());
        for n in 0..=200 {
            let query = sql_in("SELECT 1 WHERE 1 IN ({list})", 1, n).bind_list(&vec![7_i64; n]);
            assert_eq!(query.args.len(), list_size(n));
            assert!(query.text.contains(&format!("${}", list_size(n))) || n == 0);
            assert!(!query.text.contains(&format!("${}", list_size(n) + 1)));
            assert!(query.args[n..].iter().all(|a| matches!(a, Arg::NullInt)));
        }
        let names = sql_in("SELECT 1 WHERE 'a' IN ({list})", 1, 3).bind_list(&["a", "b", "c"]);
        assert!(matches!(names.args[3], Arg::NullText), "text lists are padded with a NULL of text");
    }
}
