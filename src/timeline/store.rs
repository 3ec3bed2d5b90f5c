//! SQL for the home timeline. A post reaches a person's home when they wrote it, follow its author,
//! or follow one of its topics; every function here keeps the `timeline` table equal to that rule.

use crate::db::{Exec, Query, sql};
use crate::posts::store::visible_to;
use crate::posts::{PAGE_SIZE, PostRow};

/// How many earlier posts a new follow brings into home at once.
const BACKFILL: i64 = 200;

/// Who a new top-level post is for.
#[derive(Clone, Copy, Default)]
pub struct Audience {
    pub community_id: Option<i64>,
    /// Set for a private community: its members and nobody else.
    pub members_only: Option<i64>,
}

/// Delivers a new top-level post to the homes it belongs in: a private community's post to its
/// members only; any other post to its author, the author's followers, its topics' followers, and
/// the members of its community if it has one.
pub async fn deliver(
    db: &mut impl Exec,
    post_id: i64,
    author_id: i64,
    topics: &[String],
    audience: Audience,
) -> Result<(), sqlx::Error> {
    // `WHERE true` keeps SQLite from reading ON CONFLICT as part of the SELECT.
    let to_members = sql("INSERT INTO timeline (user_id, post_id)
                          SELECT user_id, $2 FROM community_members WHERE community_id = $1 AND true
                          ON CONFLICT DO NOTHING");
    if let Some(community_id) = audience.members_only {
        db.execute(to_members.bind(community_id).bind(post_id)).await?;
        return Ok(());
    }
    db.execute(
        sql("INSERT INTO timeline (user_id, post_id)
             SELECT $1, $2 UNION SELECT follower_id, $2 FROM follows WHERE followee_id = $1
             ON CONFLICT DO NOTHING")
        .bind(author_id)
        .bind(post_id),
    )
    .await?;
    for topic in topics {
        db.execute(
            sql("INSERT INTO timeline (user_id, post_id)
                 SELECT user_id, $2 FROM topic_follows WHERE topic = $1 AND true
                 ON CONFLICT DO NOTHING")
            .bind(topic)
            .bind(post_id),
        )
        .await?;
    }
    if let Some(community_id) = audience.community_id {
        db.execute(to_members.bind(community_id).bind(post_id)).await?;
    }
    Ok(())
}

/// Takes a post out of every home (it was deleted but stays as a placeholder in its thread).
pub async fn withdraw(db: &mut impl Exec, post_id: i64) -> Result<(), sqlx::Error> {
    db.execute(sql("DELETE FROM timeline WHERE post_id = $1").bind(post_id)).await?;
    Ok(())
}

/// After `user_id` follows `author_id`: the author's recent posts join their home.
pub async fn after_follow(db: &mut impl Exec, user_id: i64, author_id: i64) -> Result<(), sqlx::Error> {
    db.execute(
        sql(concat!(
            "INSERT INTO timeline (user_id, post_id)
             SELECT $1, id FROM (SELECT p.id FROM posts p
                                 WHERE p.author_id = $2 AND p.parent_id IS NULL AND p.deleted_at IS NULL
                                   AND ",
            visible_to!("$1"),
            "
                                 ORDER BY p.id DESC LIMIT $3) recent
             WHERE true
             ON CONFLICT DO NOTHING"
        ))
        .bind(user_id)
        .bind(author_id)
        .bind(BACKFILL),
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
        sql(concat!(
            "INSERT INTO timeline (user_id, post_id)
             SELECT $1, id FROM (SELECT p.id FROM post_topics pt JOIN posts p ON p.id = pt.post_id
                                 WHERE pt.topic = $2 AND p.parent_id IS NULL AND p.deleted_at IS NULL
                                   AND ",
            visible_to!("$1"),
            "
                                 ORDER BY pt.post_id DESC LIMIT $3) recent
             WHERE true
             ON CONFLICT DO NOTHING"
        ))
        .bind(user_id)
        .bind(topic)
        .bind(BACKFILL),
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
                                 ORDER BY id DESC LIMIT $3) recent
             WHERE true
             ON CONFLICT DO NOTHING")
        .bind(user_id)
        .bind(community_id)
        .bind(BACKFILL),
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

/// Whether a post is in a person's home (for the live "new posts" count).
pub async fn reaches(db: &mut impl Exec, user_id: i64, post_id: i64) -> Result<bool, sqlx::Error> {
    let entry: Option<(i64,)> = db
        .fetch_optional(
            sql("SELECT post_id FROM timeline WHERE user_id = $1 AND post_id = $2").bind(user_id).bind(post_id),
        )
        .await?;
    Ok(entry.is_some())
}

/// One page of a person's home, newest first below the cursor: one range of the timeline's primary
/// key, then one lookup per post shown.
pub async fn home(db: &mut impl Exec, user_id: i64, cursor: Option<i64>) -> Result<Vec<PostRow>, sqlx::Error> {
    db.fetch_all(home_query(user_id, cursor)).await
}

/// The query behind [`home`], also for checking its plan.
pub fn home_query(user_id: i64, cursor: Option<i64>) -> Query {
    sql(concat!(
        crate::posts::store::post_select!(),
        "JOIN timeline h ON h.post_id = p.id
             WHERE h.user_id = $1 AND h.post_id < $2
             ORDER BY h.post_id DESC LIMIT $3"
    ))
    .bind(user_id)
    .bind(cursor.unwrap_or(i64::MAX))
    .bind(PAGE_SIZE + 1)
}

/// Empties the home of a departing account.
pub async fn forget_reader(db: &mut impl Exec, user_id: i64) -> Result<(), sqlx::Error> {
    db.execute(sql("DELETE FROM timeline WHERE user_id = $1").bind(user_id)).await?;
    Ok(())
}

/// Takes every post of an author out of every home (their posts are being erased).
pub async fn withdraw_author(db: &mut impl Exec, author_id: i64) -> Result<(), sqlx::Error> {
    db.execute(
        sql("DELETE FROM timeline WHERE post_id IN (SELECT id FROM posts WHERE author_id = $1)").bind(author_id),
    )
    .await?;
    Ok(())
}
