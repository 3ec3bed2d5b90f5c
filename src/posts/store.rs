//! SQL for posts and feeds. Every feed reads newest first below an id cursor, through an index
//! that starts with the feed's key: posts (author_id, id), post_topics (topic, post_id).

use super::{PAGE_SIZE, PostBody, PostRow};
use crate::db::{Db, Exec, now, sql};

macro_rules! post_select {
    () => {
        "SELECT p.id, p.author_id, p.body, p.mentions, p.created_at,
                u.username AS author_username, u.display_name AS author_display_name
         FROM posts p JOIN users u ON u.id = p.author_id "
    };
}

/// Writes a post with its topics in one transaction; mentions are kept only for people who exist.
pub async fn create(db: &Db, author_id: i64, body: &PostBody) -> Result<i64, sqlx::Error> {
    let mut tx = db.begin().await?;
    let mut known = Vec::new();
    for name in super::text::mentions(body.as_str()) {
        let found: Option<(i64,)> = tx
            .fetch_optional(sql("SELECT id FROM users WHERE username = $1").bind(&name))
            .await?;
        if found.is_some() {
            known.push(name);
        }
    }
    let (id,): (i64,) = tx
        .fetch_one(
            sql("INSERT INTO posts (author_id, body, mentions, created_at) VALUES ($1, $2, $3, $4) RETURNING id")
                .bind(author_id)
                .bind(body.as_str())
                .bind(known.join(" "))
                .bind(now()),
        )
        .await?;
    for topic in super::text::topics(body.as_str()) {
        tx.execute(
            sql("INSERT INTO post_topics (topic, post_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(topic)
                .bind(id),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(id)
}

pub async fn find(db: &mut impl Exec, id: i64) -> Result<Option<PostRow>, sqlx::Error> {
    db.fetch_optional(sql(concat!(post_select!(), "WHERE p.id = $1")).bind(id))
        .await
}

/// Deletes a post if `author_id` wrote it; false when there was nothing of theirs to delete.
pub async fn delete_own(db: &mut impl Exec, id: i64, author_id: i64) -> Result<bool, sqlx::Error> {
    Ok(db
        .execute(
            sql("DELETE FROM posts WHERE id = $1 AND author_id = $2")
                .bind(id)
                .bind(author_id),
        )
        .await?
        == 1)
}

/// The cursor value that means "from the newest".
fn below(cursor: Option<i64>) -> i64 {
    cursor.unwrap_or(i64::MAX)
}

/// Home: the viewer's own posts and those of everyone they follow.
pub async fn home(db: &mut impl Exec, viewer_id: i64, cursor: Option<i64>) -> Result<Vec<PostRow>, sqlx::Error> {
    db.fetch_all(
        sql(concat!(
            post_select!(),
            "WHERE p.id < $2
               AND (p.author_id = $1
                    OR p.author_id IN (SELECT followee_id FROM follows WHERE follower_id = $1))
             ORDER BY p.id DESC LIMIT $3"
        ))
        .bind(viewer_id)
        .bind(below(cursor))
        .bind(PAGE_SIZE + 1),
    )
    .await
}

/// The whole company's posts.
pub async fn all(db: &mut impl Exec, cursor: Option<i64>) -> Result<Vec<PostRow>, sqlx::Error> {
    db.fetch_all(
        sql(concat!(post_select!(), "WHERE p.id < $1 ORDER BY p.id DESC LIMIT $2"))
            .bind(below(cursor))
            .bind(PAGE_SIZE + 1),
    )
    .await
}

pub async fn by_author(db: &mut impl Exec, author_id: i64, cursor: Option<i64>) -> Result<Vec<PostRow>, sqlx::Error> {
    db.fetch_all(
        sql(concat!(
            post_select!(),
            "WHERE p.author_id = $1 AND p.id < $2 ORDER BY p.id DESC LIMIT $3"
        ))
        .bind(author_id)
        .bind(below(cursor))
        .bind(PAGE_SIZE + 1),
    )
    .await
}

pub async fn by_topic(db: &mut impl Exec, topic: &str, cursor: Option<i64>) -> Result<Vec<PostRow>, sqlx::Error> {
    db.fetch_all(
        sql(concat!(
            post_select!(),
            "JOIN post_topics t ON t.post_id = p.id
             WHERE t.topic = $1 AND t.post_id < $2 ORDER BY t.post_id DESC LIMIT $3"
        ))
        .bind(topic)
        .bind(below(cursor))
        .bind(PAGE_SIZE + 1),
    )
    .await
}
