//! SQL for notifications.

use super::{Kind, NotificationRow};
use crate::db::{Exec, now, sql};

/// How many recent notifications the page reads before grouping them.
const RECENT: i64 = 200;

/// Tells `recipient_id` that `actor_id` did something; nobody is told of their own actions.
pub async fn notify(
    db: &mut impl Exec,
    recipient_id: i64,
    kind: Kind,
    actor_id: i64,
    post_id: Option<i64>,
) -> Result<(), sqlx::Error> {
    if recipient_id == actor_id {
        return Ok(());
    }
    db.execute(
        sql(
            "INSERT INTO notifications (recipient_id, kind, actor_id, post_id, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(recipient_id)
        .bind(kind.as_str())
        .bind(actor_id)
        .bind(post_id)
        .bind(now()),
    )
    .await?;
    Ok(())
}

/// Takes back a notification whose cause was undone (an unlike, an unfollow).
pub async fn retract(
    db: &mut impl Exec,
    kind: Kind,
    actor_id: i64,
    recipient_id: i64,
    post_id: Option<i64>,
) -> Result<(), sqlx::Error> {
    db.execute(
        sql("DELETE FROM notifications
             WHERE kind = $1 AND actor_id = $2 AND recipient_id = $3 AND (post_id = $4 OR (post_id IS NULL AND $4 IS NULL))
               AND read_at IS NULL")
        .bind(kind.as_str())
        .bind(actor_id)
        .bind(recipient_id)
        .bind(post_id),
    )
    .await?;
    Ok(())
}

/// Unread notifications as the page shows them: likes of one post and new followers count once.
pub async fn unread_count(db: &mut impl Exec, user_id: i64) -> Result<i64, sqlx::Error> {
    let (count,): (i64,) = db
        .fetch_one(
            sql("SELECT COUNT(*) FROM (
                     SELECT DISTINCT kind, CASE WHEN kind IN ('like', 'follow') THEN COALESCE(post_id, 0) ELSE id END AS item
                     FROM notifications WHERE recipient_id = $1 AND read_at IS NULL) unread")
            .bind(user_id),
        )
        .await?;
    Ok(count)
}

pub async fn recent(db: &mut impl Exec, user_id: i64) -> Result<Vec<NotificationRow>, sqlx::Error> {
    db.fetch_all(
        sql("SELECT n.id, n.kind, n.post_id, COALESCE(p.root_id, p.id) AS thread_id, p.body AS post_excerpt,
                    n.created_at, n.read_at, a.username AS actor_username, a.display_name AS actor_display_name
             FROM notifications n
             JOIN users a ON a.id = n.actor_id
             LEFT JOIN posts p ON p.id = n.post_id
             WHERE n.recipient_id = $1
             ORDER BY n.id DESC LIMIT $2")
        .bind(user_id)
        .bind(RECENT),
    )
    .await
}

pub async fn mark_all_read(db: &mut impl Exec, user_id: i64) -> Result<(), sqlx::Error> {
    db.execute(
        sql("UPDATE notifications SET read_at = $2 WHERE recipient_id = $1 AND read_at IS NULL")
            .bind(user_id)
            .bind(now()),
    )
    .await?;
    Ok(())
}
