//! Sessions kept in the application's own database, so they survive a restart and are shared by
//! every Townhall process on one PostgreSQL.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use time::OffsetDateTime;
use tower_sessions_core::session::{Id, Record};
use tower_sessions_core::session_store::{self, ExpiredDeletion, SessionStore};

use super::User;
use crate::db::{Db, Exec, sql};

/// The session key that holds the signed-in account's id.
pub const USER_ID_KEY: &str = "user_id";

/// How far a session's expiry must move before the row is rewritten, in seconds.
pub const REFRESH_AFTER: i64 = 3_600;

#[derive(Clone, Debug)]
pub struct DbSessionStore {
    db: Db,
    unread: UnreadCount,
    /// What [`SessionStore::load`] read for each session whose request is still being served: its
    /// record, so that [`SessionStore::save`] at its end can tell whether anything changed without
    /// reading the row again, and its account with its unread count, read in the same statement
    /// for the request's [`DbSessionStore::take_account`]. Entries leave on save; the map is emptied
    /// should it ever reach [`LOADED_LIMIT`] (requests that ended without saving), which only costs
    /// those saves a read.
    loaded: Arc<Mutex<HashMap<Id, Loaded>>>,
}

/// A row of [`super::store::session_with_account_query`], kept as read.
#[derive(Debug)]
struct Loaded {
    data: String,
    expires_at: i64,
    /// The account and its unread notifications as the header counts them.
    account: Option<(User, i64)>,
}

impl<'r, R> sqlx::FromRow<'r, R> for Loaded
where
    R: sqlx::Row,
    &'r str: sqlx::ColumnIndex<R>,
    String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    User: sqlx::FromRow<'r, R>,
{
    fn from_row(row: &'r R) -> Result<Self, sqlx::Error> {
        let account = match row.try_get::<Option<i64>, _>("id")? {
            Some(_) => Some((User::from_row(row)?, row.try_get("unread_count")?)),
            None => None,
        };
        Ok(Loaded { data: row.try_get("session_data")?, expires_at: row.try_get("session_expires_at")?, account })
    }
}

/// The most loaded sessions remembered at once.
const LOADED_LIMIT: usize = 10_000;

impl DbSessionStore {
    pub fn new(db: Db, unread: UnreadCount) -> Self {
        Self { db, unread, loaded: Default::default() }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Someone's unread notifications as the header counts them.
    pub async fn unread_count(&self, user_id: i64) -> Result<i64, sqlx::Error> {
        let (count,): (i64,) = self.db.clone().fetch_one((self.unread)(user_id.into())).await?;
        Ok(count)
    }

    fn remember(&self, id: Id, read: Loaded) {
        if let Ok(mut loaded) = self.loaded.lock() {
            if loaded.len() >= LOADED_LIMIT {
                loaded.clear();
            }
            loaded.insert(id, read);
        }
    }

    fn recall(&self, id: &Id) -> Option<(String, i64)> {
        self.loaded.lock().ok().and_then(|mut loaded| loaded.remove(id)).map(|l| (l.data, l.expires_at))
    }

    /// The account of session `id` and its unread notifications as its load read them moments ago,
    /// once; None when the load read none or they were taken already (the caller then reads the
    /// account itself).
    pub fn take_account(&self, id: &Id) -> Option<(User, i64)> {
        self.loaded.lock().ok().and_then(|mut loaded| loaded.get_mut(id).and_then(|l| l.account.take()))
    }
}

use crate::web::error::UNAVAILABLE;

/// The name of the session cookie.
pub const SESSION_COOKIE: &str = "townhall_session";

/// How the header's unread count is read: a query counting the notifications of the person given
/// (an id, or the sessions row's `s.user_id`). The notifications feature provides it when the
/// application is assembled; the session's load reads it in the same statement as the account.
pub type UnreadCount = fn(crate::db::Operand) -> crate::db::Query;

fn backend(error: sqlx::Error) -> session_store::Error {
    if crate::db::health::unavailable(&error) {
        session_store::Error::Backend(format!("{UNAVAILABLE}{error}"))
    } else {
        session_store::Error::Backend(error.to_string())
    }
}

/// Binds a record to `$1..$4` as (id, user_id, data, expires_at). The account id is copied out of the
/// data so that all sessions of one person can be ended at once.
fn bind_record(query: crate::db::Query, record: &Record) -> session_store::Result<crate::db::Query> {
    let data = serde_json::to_string(&record.data).map_err(|e| session_store::Error::Encode(e.to_string()))?;
    let user_id = record.data.get(USER_ID_KEY).and_then(|v| v.as_i64());
    Ok(query.bind(record.id.to_string()).bind(user_id).bind(data).bind(record.expiry_date.unix_timestamp()))
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let mut db = self.db.clone();
        loop {
            let insert = sql("INSERT INTO sessions (id, user_id, data, expires_at) VALUES ($1, $2, $3, $4)
                              ON CONFLICT (id) DO NOTHING");
            let inserted = db.execute(bind_record(insert, record)?).await.map_err(backend)?;
            if inserted == 1 {
                return Ok(());
            }
            // A 128-bit id collided: draw another.
            record.id = Id::default();
        }
    }

    /// Writes the record, except when only its expiry moved and by less than [`REFRESH_AFTER`]
    /// seconds: sessions expire after days of inactivity, and rewriting the row on every page view
    /// would make every read a write (on SQLite, a turn at the one writer's lock).
    ///
    /// Only an existing row is updated, never inserted again: a session ended while one of its
    /// requests was in flight (sign-out, password change, suspension) must stay ended when that
    /// request finishes. New sessions come through [`SessionStore::create`].
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let data = serde_json::to_string(&record.data).map_err(|e| session_store::Error::Encode(e.to_string()))?;
        let stored = match self.recall(&record.id) {
            Some(loaded) => Some(loaded),
            None => self
                .db
                .clone()
                .fetch_optional(sql("SELECT data, expires_at FROM sessions WHERE id = $1").bind(record.id.to_string()))
                .await
                .map_err(backend)?,
        };
        let Some((stored_data, expires_at)) = stored else {
            return Ok(());
        };
        if stored_data == data && (record.expiry_date.unix_timestamp() - expires_at).abs() < REFRESH_AFTER {
            return Ok(());
        }
        let update = sql("UPDATE sessions SET user_id = $2, data = $3, expires_at = $4 WHERE id = $1");
        match self.db.clone().execute(bind_record(update, record)?).await {
            // The request itself has been answered; a later request refreshes the session.
            Err(e) if crate::db::health::storage_full(&e) => {
                tracing::warn!(error = %e, "session not refreshed: the database's disk is full");
                Ok(())
            }
            done => done.map(drop).map_err(backend),
        }
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let row: Option<Loaded> = self
            .db
            .clone()
            .fetch_optional(super::store::session_with_account_query(id.to_string(), crate::db::now(), self.unread))
            .await
            .map_err(backend)?;
        let Some(loaded) = row else {
            return Ok(None);
        };
        let data = serde_json::from_str(&loaded.data).map_err(|e| session_store::Error::Decode(e.to_string()))?;
        let expiry_date = OffsetDateTime::from_unix_timestamp(loaded.expires_at)
            .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        self.remember(*id, loaded);
        Ok(Some(Record { id: *id, data, expiry_date }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.db
            .clone()
            .execute(sql("DELETE FROM sessions WHERE id = $1").bind(id.to_string()))
            .await
            .map_err(backend)?;
        Ok(())
    }
}

#[async_trait]
impl ExpiredDeletion for DbSessionStore {
    async fn delete_expired(&self) -> session_store::Result<()> {
        self.db
            .clone()
            .execute(sql("DELETE FROM sessions WHERE expires_at <= $1").bind(crate::db::now()))
            .await
            .map_err(backend)?;
        Ok(())
    }
}
