//! SQLite's side of the pool: the connection settings, the separate write connection, and the
//! writer's turn.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::Health;

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
    pub(super) pool: SqlitePool,
    pub(super) writes: SqlitePool,
    pub(super) writer: Arc<Semaphore>,
    pub(super) health: Arc<Health>,
}

/// Prepared statements kept per SQLite connection (PostgreSQL keeps sqlx's default of 100).
const STATEMENT_CACHE: usize = 512;

/// How long a writer waits for its turn before giving up (as SQLite's busy timeout did).
const WRITER_WAIT: Duration = Duration::from_secs(5);

impl SqliteDb {
    pub(super) async fn turn(&self) -> Result<OwnedSemaphorePermit, sqlx::Error> {
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
    pub(super) async fn begin_immediate(&self) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
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

/// An SQLite write transaction, holding the writer's turn until it ends.
pub struct SqliteTx {
    pub(super) tx: Transaction<'static, Sqlite>,
    pub(super) _turn: OwnedSemaphorePermit,
    pub(super) health: Arc<Health>,
}

/// SQLite connections for reads (besides the one for writes).
pub(super) const READ_CONNECTIONS: u32 = 4;

/// An SQLite pool of `connections`, creating the file if it is missing.
pub(super) async fn connect_sqlite(url: &str, connections: u32) -> Result<SqlitePool, sqlx::Error> {
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
