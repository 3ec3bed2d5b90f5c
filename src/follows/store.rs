//! SQL for follows.

use crate::db::{Exec, now, sql};

/// Idempotent: following someone twice leaves one follow.
pub async fn follow(db: &mut impl Exec, follower_id: i64, followee_id: i64) -> Result<(), sqlx::Error> {
    db.execute(
        sql("INSERT INTO follows (follower_id, followee_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
            .bind(follower_id)
            .bind(followee_id)
            .bind(now()),
    )
    .await?;
    Ok(())
}

pub async fn unfollow(db: &mut impl Exec, follower_id: i64, followee_id: i64) -> Result<(), sqlx::Error> {
    db.execute(
        sql("DELETE FROM follows WHERE follower_id = $1 AND followee_id = $2")
            .bind(follower_id)
            .bind(followee_id),
    )
    .await?;
    Ok(())
}

pub async fn is_following(db: &mut impl Exec, follower_id: i64, followee_id: i64) -> Result<bool, sqlx::Error> {
    let row: Option<(i64,)> = db
        .fetch_optional(
            sql("SELECT followee_id FROM follows WHERE follower_id = $1 AND followee_id = $2")
                .bind(follower_id)
                .bind(followee_id),
        )
        .await?;
    Ok(row.is_some())
}
