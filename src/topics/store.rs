//! SQL for followed topics; each change keeps the home timeline in step, in one transaction.

use crate::db::{Exec, Tx, now, sql};

pub async fn is_following(db: &mut impl Exec, user_id: i64, topic: &str) -> Result<bool, sqlx::Error> {
    let row: Option<(String,)> = db
        .fetch_optional(
            sql("SELECT topic FROM topic_follows WHERE user_id = $1 AND topic = $2").bind(user_id).bind(topic),
        )
        .await?;
    Ok(row.is_some())
}

pub async fn follow(tx: &mut Tx, user_id: i64, topic: &str) -> Result<(), sqlx::Error> {
    let added = tx
        .execute(
            sql("INSERT INTO topic_follows (user_id, topic, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                .bind(user_id)
                .bind(topic)
                .bind(now()),
        )
        .await?;
    if added == 1 {
        crate::posts::home::after_topic_follow(tx, user_id, topic).await?;
    }
    Ok(())
}

pub async fn unfollow(tx: &mut Tx, user_id: i64, topic: &str) -> Result<(), sqlx::Error> {
    let removed = tx
        .execute(sql("DELETE FROM topic_follows WHERE user_id = $1 AND topic = $2").bind(user_id).bind(topic))
        .await?;
    if removed == 1 {
        crate::posts::home::after_topic_unfollow(tx, user_id, topic).await?;
    }
    Ok(())
}

/// The topics a person follows: (topic, since), for their data export.
pub async fn followed_by(db: &mut impl Exec, user_id: i64) -> Result<Vec<(String, i64)>, sqlx::Error> {
    db.fetch_all(
        sql("SELECT topic, created_at FROM topic_follows WHERE user_id = $1 ORDER BY created_at").bind(user_id),
    )
    .await
}
