//! The events that open pages hear of (new posts, new notifications), passed between the features
//! that raise them and the live stream (`live`) that delivers them. On PostgreSQL every Townhall
//! process LISTENs on one channel and publishes with NOTIFY, so an event raised by any process
//! reaches pages served by all of them; on SQLite (one process) events go straight to the process's
//! own hub.

use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use crate::db::{Db, Exec, sql};

/// The PostgreSQL channel all processes share.
const CHANNEL: &str = "townhall_live";
/// Events kept for a slow page before it misses some (it then simply re-counts).
const BUFFER: usize = 1024;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// A new top-level post, for the company's and communities' pages; each decides whether it
    /// belongs in its feed.
    Post { post_id: i64, community_id: Option<i64>, members_only: Option<i64> },
    /// The delivery worker wrote a top-level post into the homes of its readers with ids in
    /// `from..until` (to the end when `until` is `None`): how open home pages hear of new posts.
    Delivered { post_id: i64, from: i64, until: Option<i64> },
    /// Someone has new notifications.
    Notified { user_id: i64 },
}

/// Where events meet the open pages of this process.
#[derive(Clone, Debug)]
pub struct Hub {
    sender: broadcast::Sender<Event>,
    db: Db,
    /// Becomes true when the server shuts down: open streams end instead of holding it up.
    closing: tokio::sync::watch::Sender<bool>,
}

impl Hub {
    /// A hub for this process; on PostgreSQL it also starts listening to the other processes.
    pub fn start(db: Db) -> Hub {
        let (sender, _) = broadcast::channel(BUFFER);
        let (closing, _) = tokio::sync::watch::channel(false);
        let hub = Hub { sender, db, closing };
        if let Db::Postgres(pg) = &hub.db {
            tokio::spawn(listen(pg.pool.clone(), hub.sender.clone()));
        }
        hub
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.sender.subscribe()
    }

    /// Completes when the server starts shutting down.
    pub fn closing(&self) -> impl std::future::Future<Output = ()> + Send + use<> {
        let mut closing = self.closing.subscribe();
        async move {
            let _ = closing.wait_for(|closing| *closing).await;
        }
    }

    /// Ends every open stream (graceful shutdown waits for requests in flight, and a stream never
    /// finishes by itself).
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// Sends an event to every open page, in every process. Live updates are a courtesy: a failure
    /// is logged, never shown to the person whose action raised the event.
    pub async fn publish(&self, event: Event) {
        match &self.db {
            Db::Sqlite(_) => {
                let _ = self.sender.send(event);
            }
            Db::Postgres(_) => {
                let payload = match serde_json::to_string(&event) {
                    Ok(payload) => payload,
                    Err(e) => return tracing::warn!(error = %e, "live event not encoded"),
                };
                let notify = sql("SELECT pg_notify($1, $2)").bind(CHANNEL).bind(payload);
                if let Err(e) = (&mut &self.db).execute(notify).await {
                    tracing::warn!(error = %e, "live event not published");
                }
            }
        }
    }
}

/// Forwards NOTIFY payloads to this process's hub, reconnecting after a lost connection.
async fn listen(pool: sqlx::PgPool, sender: broadcast::Sender<Event>) {
    loop {
        match sqlx::postgres::PgListener::connect_with(&pool).await {
            Ok(mut listener) => {
                if let Err(e) = listener.listen(CHANNEL).await {
                    tracing::warn!(error = %e, "cannot listen for live events");
                } else {
                    loop {
                        match listener.recv().await {
                            Ok(note) => match serde_json::from_str::<Event>(note.payload()) {
                                Ok(event) => {
                                    let _ = sender.send(event);
                                }
                                Err(e) => tracing::warn!(error = %e, "unreadable live event"),
                            },
                            Err(sqlx::Error::PoolClosed) => return,
                            Err(e) => {
                                tracing::warn!(error = %e, "live event listener lost its connection");
                                break;
                            }
                        }
                    }
                }
            }
            Err(sqlx::Error::PoolClosed) => return,
            Err(e) => tracing::warn!(error = %e, "cannot connect the live event listener"),
        }
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    }
}
