//! The database: one pool over SQLite or PostgreSQL, migrations, and the query helpers every store uses.
//!
//! Stores write portable SQL with `$1`-style placeholders (SQLite accepts them too) and run it through
//! [`Exec`], implemented by both a pool ([`Db`]) and an open transaction ([`Tx`]). Where the two engines
//! need different SQL, the store keeps both texts side by side and picks one with [`Exec::engine`].

//!
//! The files: `query` builds SQL text with its values, `fulltext` turns typed words into each
//! engine's full-text query, `sqlite` holds SQLite's connections and
//! writer's turn, `postgres` PostgreSQL's connections and retry, `health` what the process has
//! learnt about the server. This file runs a [`Query`] on either engine.

pub mod fulltext;
pub mod health;
mod postgres;
mod query;
mod sqlite;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

pub use health::Health;
pub use postgres::{PgDb, PgTx};
pub use query::{Arg, Operand, Query, escape_like, list_size, sql, sql_in, sql_union_all, sql_values};
pub use sqlite::{SqliteDb, SqliteTx};

use postgres::{connect_postgres, on_live_connection};
use query::sql_text;
use sqlite::{READ_CONNECTIONS, connect_sqlite};
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{FromRow, Postgres, Sqlite};

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

/// An open transaction; dropped without [`Tx::commit`] it rolls back.
pub enum Tx {
    Sqlite(SqliteTx),
    Postgres(PgTx),
}

/// Lets rows decode a text column into an enum with `parse(&str) -> Option<Self>` (an idea's stage,
/// a campaign's status), on both engines: an unknown word fails where the row is read.
macro_rules! text_column {
    ($type:ty, $what:literal) => {
        impl<DB: sqlx::Database> sqlx::Type<DB> for $type
        where
            str: sqlx::Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <str as sqlx::Type<DB>>::type_info()
            }
            fn compatible(ty: &DB::TypeInfo) -> bool {
                <str as sqlx::Type<DB>>::compatible(ty)
            }
        }

        impl<'r, DB: sqlx::Database> sqlx::Decode<'r, DB> for $type
        where
            &'r str: sqlx::Decode<'r, DB>,
        {
            fn decode(value: DB::ValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
                let word = <&str as sqlx::Decode<DB>>::decode(value)?;
                <$type>::parse(word).ok_or_else(|| format!("unknown {} {word:?}", $what).into())
            }
        }
    };
}
pub(crate) use text_column;

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

/// The pool runs each statement on a connection of its own, so it needs no exclusive borrow: handlers
/// pass `&mut &state.db` instead of cloning the pool.
impl Exec for &Db {
    fn engine(&self) -> Engine {
        Db::engine(self)
    }
    /// A statement outside a transaction writes (reads go through `fetch_*`): on SQLite it waits
    /// for the writer's turn.
    async fn execute(&mut self, query: Query) -> Result<u64, sqlx::Error> {
        let db: &Db = self;
        let health = db.health().clone();
        health.admit()?;
        let done = match db {
            Db::Sqlite(p) => match p.turn().await {
                Ok(_turn) => sqlite_query(query).execute(&p.writes).await.map(|r| r.rows_affected()),
                Err(e) => Err(e),
            },
            Db::Postgres(p) => p
                .noted(on_live_connection(false, || pg_query(query.clone()).execute(p.pool_for(&query))).await)
                .await
                .map(|r| r.rows_affected()),
        };
        // Only a statement that changed rows shows that the disk took a write.
        let wrote = matches!(done, Ok(n) if n > 0);
        health.observe(done, wrote)
    }
    async fn fetch_all<T: Row>(&mut self, query: Query) -> Result<Vec<T>, sqlx::Error> {
        let db: &Db = self;
        db.health().admit()?;
        let rows = match db {
            Db::Sqlite(p) => sqlite_query_as(query).fetch_all(&p.pool).await,
            Db::Postgres(p) => {
                let pool = p.pool_for(&query);
                p.noted(on_live_connection(true, || pg_query_as(query.clone()).fetch_all(pool)).await).await
            }
        };
        db.health().observe(rows, false)
    }
    async fn fetch_optional<T: Row>(&mut self, query: Query) -> Result<Option<T>, sqlx::Error> {
        let db: &Db = self;
        db.health().admit()?;
        let row = match db {
            Db::Sqlite(p) => sqlite_query_as(query).fetch_optional(&p.pool).await,
            Db::Postgres(p) => {
                let pool = p.pool_for(&query);
                p.noted(on_live_connection(true, || pg_query_as(query.clone()).fetch_optional(pool)).await).await
            }
        };
        db.health().observe(row, false)
    }
}

/// An owned pool (a clone moved into a background task) runs queries as the shared one does.
impl Exec for Db {
    fn engine(&self) -> Engine {
        on_engine!(self, |_p| Engine::Sqlite, Engine::Postgres)
    }
    fn execute(&mut self, query: Query) -> impl Future<Output = Result<u64, sqlx::Error>> + Send {
        let mut db: &Db = self;
        async move { db.execute(query).await }
    }
    fn fetch_all<T: Row>(&mut self, query: Query) -> impl Future<Output = Result<Vec<T>, sqlx::Error>> + Send {
        let mut db: &Db = self;
        async move { db.fetch_all(query).await }
    }
    fn fetch_optional<T: Row>(&mut self, query: Query) -> impl Future<Output = Result<Option<T>, sqlx::Error>> + Send {
        let mut db: &Db = self;
        async move { db.fetch_optional(query).await }
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
            async {
                t.plan_for(&query).await?;
                pg_query(query).execute(&mut *t.tx).await.map(|r| r.rows_affected())
            }
            .await
        );
        self.health().observe(done, false)
    }
    async fn fetch_all<T: Row>(&mut self, query: Query) -> Result<Vec<T>, sqlx::Error> {
        let rows = on_engine!(
            self,
            |t| sqlite_query_as(query).fetch_all(&mut *t.tx).await,
            async {
                t.plan_for(&query).await?;
                pg_query_as(query).fetch_all(&mut *t.tx).await
            }
            .await
        );
        self.health().observe(rows, false)
    }
    async fn fetch_optional<T: Row>(&mut self, query: Query) -> Result<Option<T>, sqlx::Error> {
        let row = on_engine!(
            self,
            |t| sqlite_query_as(query).fetch_optional(&mut *t.tx).await,
            async {
                t.plan_for(&query).await?;
                pg_query_as(query).fetch_optional(&mut *t.tx).await
            }
            .await
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
            let (pool, per_call) = connect_postgres(url).await?;
            Ok(Db::Postgres(PgDb { pool, per_call, health }))
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
                .map(|tx| Tx::Postgres(PgTx { tx, health, planning_per_call: false })),
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
            Db::Postgres(p) => {
                p.pool.close().await;
                p.per_call.close().await;
            }
        }
    }
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
