//! `GET /events`: a server-sent event stream for one open page. It says "posts" with the number of
//! new posts that belong in the page's feed, and "notifications" with the unread badge's text ("3",
//! "99+") whenever that changes (at once when an event names the viewer, otherwise within a
//! ten-second check).

use std::convert::Infallible;
use std::time::Duration;

use axum::Router;
use axum::extract::{Query, State};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::routing::get;
use futures_util::Stream;
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;

use crate::accounts::CurrentUser;
use crate::accounts::sessions::DbSessionStore;
use crate::bus::Event;
use crate::bus::Hub;
use crate::communities;
use crate::db::{Db, Exec, now, sql};
use crate::web::{AppError, AppState};
use axum::extract::FromRef;

/// How often a page's unread count is checked when no event named the viewer.
const RECOUNT_EVERY: Duration = Duration::from_secs(10);

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AppState: FromRef<S>,
    DbSessionStore: FromRef<S>,
    Hub: FromRef<S>,
{
    Router::new().route("/events", get(events))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct EventsQuery {
    /// `home`, `all`, `c/{slug}`, or nothing (only the notification count).
    feed: String,
}

/// Which new posts a page wants to hear of.
enum Feed {
    Home,
    All,
    Community(i64),
    Nothing,
}

async fn events(
    State(state): State<AppState>,
    State(live): State<Hub>,
    current: CurrentUser,
    Query(query): Query<EventsQuery>,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, AppError> {
    let mut db = &state.db;
    let feed = match query.feed.as_str() {
        "home" => Feed::Home,
        "all" => Feed::All,
        other => match other.strip_prefix("c/") {
            Some(slug) => {
                let community = communities::store::find_by_slug(&mut db, slug).await?.ok_or(AppError::NotFound)?;
                let standing = communities::store::standing(&mut db, community.id, current.user.id).await?;
                if !community.readable_by(standing) {
                    return Err(AppError::NotFound);
                }
                Feed::Community(community.id)
            }
            None => Feed::Nothing,
        },
    };
    let mut tick = tokio::time::interval(RECOUNT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let watcher = Watcher {
        db: state.db.clone(),
        user_id: current.user.id,
        session_id: current.session.id().map(|id| id.to_string()).unwrap_or_default(),
        feed,
        events: live.subscribe(),
        new_posts: 0,
        counted: Default::default(),
        unread: current.unread_notifications().await?,
        tick,
    };
    let closing = live.closing();
    let stream = futures_util::stream::unfold(watcher, |mut watcher| async move {
        let event = watcher.next().await?;
        Some((Ok(event), watcher))
    });
    let stream = futures_util::StreamExt::take_until(stream, closing);
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// One open page's view of the event stream.
struct Watcher {
    db: Db,
    user_id: i64,
    /// The session the stream was opened in: when it ends, so does the stream.
    session_id: String,
    feed: Feed,
    events: tokio::sync::broadcast::Receiver<Event>,
    new_posts: u64,
    /// Posts already counted: a post's delivery is announced once for each chunk of each of its
    /// audiences (its author's followers, a topic's, a community's), and one reader may be in several.
    counted: std::collections::HashSet<i64>,
    unread: i64,
    tick: tokio::time::Interval,
}

impl Watcher {
    /// The next thing to tell the page; `None` ends the stream: the process is shutting down, or the
    /// person may no longer hear it (checked before anything is said, and at every check).
    async fn next(&mut self) -> Option<SseEvent> {
        let event = self.next_event().await?;
        self.still_allowed().await.then_some(event)
    }

    /// Whether the stream may go on: its session still stands (not signed out, nor ended by a
    /// suspension or deletion, which delete the account's sessions), the account is not suspended,
    /// and a community's page is still readable by them (they may have left or been removed).
    async fn still_allowed(&mut self) -> bool {
        let session = sql("SELECT CAST(COUNT(*) AS BIGINT) FROM sessions s JOIN users u ON u.id = s.user_id
                           WHERE s.id = $1 AND u.id = $2 AND s.expires_at > $3 AND u.deleted_at IS NULL
                             AND (u.suspended_until IS NULL OR u.suspended_until <= $3)");
        let standing: Result<(i64,), _> =
            self.db.fetch_one(session.bind(self.session_id.clone()).bind(self.user_id).bind(now())).await;
        if !matches!(standing, Ok((1,))) {
            return false;
        }
        let Feed::Community(id) = self.feed else { return true };
        let community = communities::store::find_by_id(&mut self.db, id).await;
        let standing = communities::store::standing(&mut self.db, id, self.user_id).await;
        matches!((community, standing), (Ok(Some(c)), Ok(s)) if c.readable_by(s))
    }

    async fn next_event(&mut self) -> Option<SseEvent> {
        loop {
            tokio::select! {
                received = self.events.recv() => match received {
                    // Home hears of a post when the worker has written it into homes (`Delivered`).
                    Ok(Event::Post { post_id, community_id, members_only }) => {
                        if !matches!(self.feed, Feed::Home)
                            && !self.counted.contains(&post_id)
                            && self.belongs(post_id, community_id, members_only).await
                        {
                            self.counted.insert(post_id);
                            self.new_posts += 1;
                            return Some(SseEvent::default().event("posts").data(self.new_posts.to_string()));
                        }
                    }
                    Ok(Event::Delivered { post_id, from, until }) => {
                        let reached = self.user_id >= from && until.is_none_or(|until| self.user_id < until);
                        if reached && matches!(self.feed, Feed::Home) && !self.counted.contains(&post_id)
                            && self.belongs(post_id, None, None).await
                        {
                            self.counted.insert(post_id);
                            self.new_posts += 1;
                            return Some(SseEvent::default().event("posts").data(self.new_posts.to_string()));
                        }
                    }
                    Ok(Event::Notified { user_id }) if user_id == self.user_id => {
                        // Suspending someone tells their streams at once.
                        if !self.still_allowed().await {
                            return None;
                        }
                        if let Some(event) = self.recount().await {
                            return Some(event);
                        }
                    }
                    Ok(Event::Notified { .. }) | Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => return None,
                },
                _ = self.tick.tick() => {
                    if !self.still_allowed().await {
                        return None;
                    }
                    if let Some(event) = self.recount().await {
                        return Some(event);
                    }
                }
            }
        }
    }

    async fn belongs(&mut self, post_id: i64, community_id: Option<i64>, members_only: Option<i64>) -> bool {
        match self.feed {
            Feed::Home => crate::timeline::store::reaches(&mut self.db, self.user_id, post_id).await.unwrap_or(false),
            Feed::All => members_only.is_none(),
            Feed::Community(id) => community_id == Some(id),
            Feed::Nothing => false,
        }
    }

    /// The unread count, if it changed since the page last heard it.
    async fn recount(&mut self) -> Option<SseEvent> {
        let unread = crate::notifications::store::unread_count(&mut self.db, self.user_id).await.ok()?;
        if unread == self.unread {
            return None;
        }
        self.unread = unread;
        Some(SseEvent::default().event("notifications").data(crate::web::layout::unread_label(unread)))
    }
}
