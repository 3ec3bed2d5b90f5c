//! The worker that writes queued deliveries ([`store::deliver_next`]) in the background, started with
//! the server.

use std::time::Duration;

use super::store;
use crate::bus::{Event, Hub};
use crate::db::Db;

/// Wakes [`run_worker`] in this process when a post has queued a delivery.
static QUEUED: tokio::sync::Notify = tokio::sync::Notify::const_new();

/// Tells this process's worker that a delivery was queued (call after the commit).
pub fn wake() {
    QUEUED.notify_one();
}

/// Writes queued deliveries for as long as the server runs: chunk after chunk while any wait
/// (each a short transaction, so other writers take turns in between), then sleeping until a post
/// queues one or a second passes (another process may have queued one). Each chunk is announced to
/// open pages so home's "new posts" count includes readers reached late.
pub async fn run_worker(db: Db, live: Hub) {
    loop {
        match store::deliver_next(&db).await {
            Ok(Some(done)) => {
                live.publish(Event::Delivered { post_id: done.post_id, from: done.from, until: done.until }).await;
                tokio::task::yield_now().await;
            }
            Ok(None) => {
                let _ = tokio::time::timeout(Duration::from_secs(1), QUEUED.notified()).await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "queued home deliveries not written; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}
