//! Home: the page, the statement that reads it (with the cache of post rows, `cache`), and what a
//! follow, an unfollow, a join or a leave changes in it. New posts reach homes through the
//! delivery queue (`timeline`); a post reaches a person's home when they wrote it, follow its
//! author or one of its topics, or belong to its community, and every function here keeps the
//! `timeline` table equal to that rule.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::cache::{self, PostCache, Synced};
use super::routes::{Compose, CursorQuery, FeedTemplate};
use super::store::{self, visible_to};
use super::views::{Replies, load_views};
use super::{FeedPage, PAGE_SIZE, PostRow};
use crate::accounts::CurrentUser;
use crate::db::{Engine, Exec, Query as Sql, sql};
use crate::web::layout::{Layout, render_status};
use crate::web::{AppError, AppState};

/// How many earlier posts a new follow brings into home at once.
const BACKFILL: i64 = 200;

pub(super) async fn home(
    State(state): State<AppState>,
    State(posts): State<PostCache>,
    current: CurrentUser,
    Query(query): Query<CursorQuery>,
) -> Result<Response, AppError> {
    home_page(&state, &posts, &current, query.cursor()?, Compose::with_poll(), StatusCode::OK).await
}

pub(super) async fn home_page(
    state: &AppState,
    posts: &PostCache,
    current: &CurrentUser,
    cursor: Option<i64>,
    compose: Compose,
    status: StatusCode,
) -> Result<Response, AppError> {
    let mut db = &state.db;
    let (rows, synced) = home_rows(&mut db, posts, current.user.id, cursor).await?;
    let announcements = store::announcements(&mut db, current.user.id).await?;
    let page = FeedTemplate {
        layout: Layout::for_user(current, "Home").await?,
        heading: "Home".into(),
        intro: "Your posts and those of the people and topics you follow.".into(),
        compose: Some(compose),
        follow_action: None,
        announcements: load_views(&mut db, announcements, &current.user, Replies::None).await?,
        live_feed: "home",
        feed: FeedPage::load_cached(&mut db, &synced, rows, &current.user).await?,
        base_url: "/".into(),
        empty: "Nothing here yet. Write the first post, or find colleagues to follow under People.",
    };
    render_status(status, &page)
}

/// One page of a person's home, newest first below the cursor (up to one more than a page, to tell
/// whether an older page exists), and the cache of post rows brought up to date for the rest of the
/// page. One statement reads the page's timeline entries and the changes to posts since the cache
/// last looked ([`cache::changes_since`]); the posts not cached are then read by id.
pub async fn home_rows<'c>(
    db: &mut impl Exec,
    cache: &'c PostCache,
    user_id: i64,
    cursor: Option<i64>,
) -> Result<(Vec<PostRow>, Synced<'c>), sqlx::Error> {
    let entries = db.fetch_all(home_query(db.engine(), user_id, cursor, cache.below())).await?;
    let (mut ids, synced) = cache.sync(entries);
    ids.sort_unstable_by(|a, b| b.cmp(a));
    let rows = synced.rows(db, &ids).await?;
    Ok((rows, synced))
}

/// The statement behind [`home_rows`], also for checking its plan: one range of the timeline's primary
/// key (and of `post_changes (mark)`, usually empty).
pub fn home_query(engine: Engine, user_id: i64, cursor: Option<i64>, below: i64) -> Sql {
    let kind = match engine {
        Engine::Sqlite => sql("SELECT 0 AS kind"),
        Engine::Postgres => sql("SELECT CAST(0 AS BIGINT) AS kind"),
    };
    kind.push(", post_id AS id FROM (SELECT post_id FROM timeline WHERE user_id = ")
        .value(user_id)
        .push(" AND post_id < ")
        .value(cursor.unwrap_or(i64::MAX))
        .push(" ORDER BY post_id DESC")
        .limit(PAGE_SIZE + 1)
        .push(") h")
        .and(cache::changes_since(engine, below))
}

/// After `user_id` follows `author_id`: the author's recent posts join their home.
pub async fn after_follow(db: &mut impl Exec, user_id: i64, author_id: i64) -> Result<(), sqlx::Error> {
    db.execute(
        sql("INSERT INTO timeline (user_id, post_id)
             SELECT $1, id FROM (SELECT p.id FROM posts p
                                 WHERE p.author_id = $2 AND p.parent_id IS NULL AND p.deleted_at IS NULL
                                   AND ")
        .bind(user_id)
        .bind(author_id)
        .and(visible_to(user_id))
        .push(" ORDER BY p.id DESC")
        .limit(BACKFILL)
        .push(") recent WHERE true ON CONFLICT DO NOTHING"),
    )
    .await?;
    Ok(())
}

/// After `user_id` unfollows `author_id`: the author's posts leave their home, except those that
/// still reach it through a topic they follow.
pub async fn after_unfollow(db: &mut impl Exec, user_id: i64, author_id: i64) -> Result<(), sqlx::Error> {
    db.execute(
        sql("DELETE FROM timeline
             WHERE user_id = $1
               AND post_id IN (SELECT id FROM posts WHERE author_id = $2)
               AND NOT EXISTS (SELECT 1 FROM post_topics pt
                               JOIN topic_follows tf ON tf.topic = pt.topic AND tf.user_id = $1
                               WHERE pt.post_id = timeline.post_id)")
        .bind(user_id)
        .bind(author_id),
    )
    .await?;
    Ok(())
}

/// After `user_id` follows a topic: its recent top-level posts join their home.
pub async fn after_topic_follow(db: &mut impl Exec, user_id: i64, topic: &str) -> Result<(), sqlx::Error> {
    db.execute(
        sql("INSERT INTO timeline (user_id, post_id)
             SELECT $1, id FROM (SELECT p.id FROM post_topics pt JOIN posts p ON p.id = pt.post_id
                                 WHERE pt.topic = $2 AND p.parent_id IS NULL AND p.deleted_at IS NULL
                                   AND ")
        .bind(user_id)
        .bind(topic)
        .and(visible_to(user_id))
        .push(" ORDER BY pt.post_id DESC")
        .limit(BACKFILL)
        .push(") recent WHERE true ON CONFLICT DO NOTHING"),
    )
    .await?;
    Ok(())
}

/// After `user_id` unfollows a topic: its posts leave their home, except their own, those of people
/// they follow, and those with another topic they follow.
pub async fn after_topic_unfollow(db: &mut impl Exec, user_id: i64, topic: &str) -> Result<(), sqlx::Error> {
    db.execute(
        sql("DELETE FROM timeline
             WHERE user_id = $1
               AND post_id IN (SELECT post_id FROM post_topics WHERE topic = $2)
               AND NOT EXISTS (SELECT 1 FROM posts p
                               WHERE p.id = timeline.post_id
                                 AND (p.author_id = $1
                                      OR EXISTS (SELECT 1 FROM follows f
                                                 WHERE f.follower_id = $1 AND f.followee_id = p.author_id)))
               AND NOT EXISTS (SELECT 1 FROM post_topics pt
                               JOIN topic_follows tf ON tf.topic = pt.topic AND tf.user_id = $1
                               WHERE pt.post_id = timeline.post_id)")
        .bind(user_id)
        .bind(topic),
    )
    .await?;
    Ok(())
}

/// After `user_id` joins a community: its recent posts join their home.
pub async fn after_join(db: &mut impl Exec, user_id: i64, community_id: i64) -> Result<(), sqlx::Error> {
    db.execute(
        sql("INSERT INTO timeline (user_id, post_id)
             SELECT $1, id FROM (SELECT id FROM posts
                                 WHERE community_id = $2 AND parent_id IS NULL AND deleted_at IS NULL
                                 ORDER BY id DESC")
        .bind(user_id)
        .bind(community_id)
        .limit(BACKFILL)
        .push(") recent WHERE true ON CONFLICT DO NOTHING"),
    )
    .await?;
    Ok(())
}

/// After `user_id` leaves a community: a private community's posts all leave their home; a public
/// one's leave unless they wrote them or they still reach home through a person or topic they follow.
pub async fn after_leave(db: &mut impl Exec, user_id: i64, community_id: i64) -> Result<(), sqlx::Error> {
    db.execute(
        sql("DELETE FROM timeline
             WHERE user_id = $1
               AND post_id IN (SELECT id FROM posts WHERE community_id = $2)
               AND NOT EXISTS (SELECT 1 FROM posts p
                               WHERE p.id = timeline.post_id AND p.members_only IS NULL
                                 AND (p.author_id = $1
                                      OR EXISTS (SELECT 1 FROM follows f
                                                 WHERE f.follower_id = $1 AND f.followee_id = p.author_id)
                                      OR EXISTS (SELECT 1 FROM post_topics pt
                                                 JOIN topic_follows tf ON tf.topic = pt.topic AND tf.user_id = $1
                                                 WHERE pt.post_id = p.id)))")
        .bind(user_id)
        .bind(community_id),
    )
    .await?;
    Ok(())
}
