//! PostgreSQL's side of the pool: the connection settings, and running a statement again when the
//! server had dropped the connection it got.

use std::future::Future;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres, Transaction};

use super::Health;

/// The PostgreSQL pools and what the process has learnt about the server ([`Health`]).
#[derive(Clone, Debug)]
pub struct PgDb {
    /// Runs prepared statements with one plan each (see [`connect_postgres`]).
    pub pool: PgPool,
    /// Runs the statements planned with their values on every call ([`super::Query::planned_per_call`]).
    pub(super) per_call: PgPool,
    pub(super) health: Arc<Health>,
}

impl PgDb {
    /// A pool time-out means either that every connection was busy (a slow moment) or that none
    /// could be made (the server is away); a new connection, tried for a second, tells which.
    pub(super) async fn noted<T>(&self, result: Result<T, sqlx::Error>) -> Result<T, sqlx::Error> {
        if matches!(result, Err(sqlx::Error::PoolTimedOut)) && !self.answers().await {
            self.health.mark_down();
        }
        result
    }

    /// The pool for `query`: the one whose connections keep one plan per statement, or the one
    /// planning each call.
    pub(super) fn pool_for(&self, query: &super::Query) -> &PgPool {
        if query.reused { &self.pool } else { &self.per_call }
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

/// A PostgreSQL transaction.
pub struct PgTx {
    pub(super) tx: Transaction<'static, Postgres>,
    pub(super) health: Arc<Health>,
    /// Whether the transaction plans with each call's values (set before its first statement that
    /// asks for it; the setting ends with the transaction).
    pub(super) planning_per_call: bool,
}

impl PgTx {
    /// A transaction runs on a connection that keeps one plan per statement: before a statement
    /// planned per call, it switches to planning with the values until it ends.
    pub(super) async fn plan_for(&mut self, query: &super::Query) -> Result<(), sqlx::Error> {
        if !query.reused && !self.planning_per_call {
            sqlx::query("SET LOCAL plan_cache_mode = force_custom_plan").execute(&mut *self.tx).await?;
            self.planning_per_call = true;
        }
        Ok(())
    }
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
pub(super) async fn on_live_connection<T, F>(read: bool, mut run: impl FnMut() -> F) -> Result<T, sqlx::Error>
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

/// The PostgreSQL pool's size.
const PG_CONNECTIONS: usize = 16;

/// The size of the pool for statements planned per call (search's rankings, people search, the
/// audit log): few, short and mostly outside the busiest pages.
const PER_CALL_CONNECTIONS: u32 = 6;

/// How long a PostgreSQL connection may sit idle in the pool before it is pinged on its next use.
const PING_AFTER_IDLE: Duration = Duration::from_secs(30);

/// The PostgreSQL pools (for prepared statements, and for those planned per call), their connections
/// planning without Memoize.
///
/// Prepared statements keep one plan, made for any values (`plan_cache_mode`). Left to choose,
/// PostgreSQL plans a statement with its values on its first five calls and keeps doing so while that
/// plan's estimated cost is lower than the one for any values. For pages that estimate is always
/// lower (a plan for any values assumes a filter on `id < $1` keeps a third of the rows), so `/all`,
/// the idea lists and search's rows were planned on every call: `/all` spent 0.78 ms planning
/// against 0.21 ms running. The plans are the same either way for these queries, which read a page
/// or a few rows by index; queries whose best plan depends on their values (search's rankings)
/// say so with [`super::Query::planned_per_call`] and run on the second pool, which plans each call.
///
/// Memoize caches a nested loop's inner lookups by key. PostgreSQL 15 sizes its hash table from the
/// rows the join would give without the query's `LIMIT` and builds it afresh on every execution: the
/// `/all` page's query spent most of its time building them. Every Townhall query reads a page or a
/// few rows by index, where Memoize saves nothing (figures: docs/benchmarks.md).
pub(super) async fn connect_postgres(url: &str) -> Result<(PgPool, PgPool), sqlx::Error> {
    let options = PgConnectOptions::from_str(url)?;
    let reused = pool_options(PG_CONNECTIONS as u32)
        .connect_with(options.clone().options([("enable_memoize", "off"), ("plan_cache_mode", "force_generic_plan")]))
        .await?;
    // Opened on first use: most pages never plan per call.
    let per_call = pool_options(PER_CALL_CONNECTIONS)
        .connect_lazy_with(options.options([("enable_memoize", "off"), ("plan_cache_mode", "force_custom_plan")]));
    Ok((reused, per_call))
}

fn pool_options(connections: u32) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(connections)
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
}
