//! SQL for follows; each change keeps the home timeline and notifications in step, in one transaction.

use crate::db::{Engine, Exec, Tx, now, sql};
use crate::notify::{self, About, Kind};
use crate::timeline;

/// Follows someone: their recent posts join your home and they are told. Following twice changes
/// nothing. False, with nothing written, when either account has been deleted meanwhile.
pub async fn follow(tx: &mut Tx, follower_id: i64, followee_id: i64) -> Result<bool, sqlx::Error> {
    // Both rows, locked in id order as `forget` and `count` lock them, and only while neither account
    // is deleted. On PostgreSQL a deletion in progress holds the followee's row: the lock waits for
    // it, then sees the row as the deletion left it and leaves it out. Without this, the follow waited
    // only for its foreign-key check and was then recorded against the former employee.
    let lock = match tx.engine() {
        Engine::Sqlite => sql("SELECT id FROM users WHERE id IN ($1, $2) AND deleted_at IS NULL"),
        Engine::Postgres => sql("SELECT id FROM users WHERE id IN ($1, $2) AND deleted_at IS NULL
                                 ORDER BY id FOR NO KEY UPDATE"),
    };
    let present: Vec<(i64,)> = tx.fetch_all(lock.bind(follower_id).bind(followee_id)).await?;
    if present.len() < 2 {
        return Ok(false);
    }
    let added = tx
        .execute(
            sql(
                "INSERT INTO follows (follower_id, followee_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            )
            .bind(follower_id)
            .bind(followee_id)
            .bind(now()),
        )
        .await?;
    if added == 1 {
        count(tx, follower_id, followee_id, 1).await?;
        crate::posts::home::after_follow(tx, follower_id, followee_id).await?;
        notify::notify(tx, followee_id, Kind::Follow, follower_id, About::Post(None)).await?;
    }
    Ok(true)
}

pub async fn unfollow(tx: &mut Tx, follower_id: i64, followee_id: i64) -> Result<(), sqlx::Error> {
    let removed = tx
        .execute(
            sql("DELETE FROM follows WHERE follower_id = $1 AND followee_id = $2").bind(follower_id).bind(followee_id),
        )
        .await?;
    if removed == 1 {
        count(tx, follower_id, followee_id, -1).await?;
        crate::posts::home::after_unfollow(tx, follower_id, followee_id).await?;
        notify::retract(tx, Kind::Follow, follower_id, followee_id, None).await?;
    }
    Ok(())
}

/// Moves the follower's `following_count` and the followee's `follower_count` by `by`. One
/// statement for both rows, so that on PostgreSQL two people following each other at once lock
/// their rows in the same (id) order and cannot deadlock.
async fn count(tx: &mut impl Exec, follower_id: i64, followee_id: i64, by: i64) -> Result<(), sqlx::Error> {
    tx.execute(
        sql("UPDATE users SET following_count = following_count + CASE WHEN id = $1 THEN $3 ELSE 0 END,
                              follower_count = follower_count + CASE WHEN id = $2 THEN $3 ELSE 0 END
             WHERE id IN ($1, $2)")
        .bind(follower_id)
        .bind(followee_id)
        .bind(by),
    )
    .await?;
    Ok(())
}

/// Sets every account's counts from the follows there are, for rows written around [`follow`] (the
/// seed's bulk load); migration 0013 does the same once.
pub async fn recount_all(db: &mut impl Exec) -> Result<(), sqlx::Error> {
    db.execute(sql("UPDATE users SET follower_count = (SELECT COUNT(*) FROM follows WHERE followee_id = users.id),
                                     following_count = (SELECT COUNT(*) FROM follows WHERE follower_id = users.id)"))
        .await?;
    Ok(())
}

/// Ends every follow to and from a departing account (its home goes with it). Call it before the
/// transaction changes any account's row: it first locks the account's row and those of everyone it
/// follows or is followed by, in id order. A follow locks its two people in id order too (see
/// [`follow`]), so on PostgreSQL a follow between two of the account's contacts at that moment waits
/// its turn instead of deadlocking with the deletion (`tests/admin.rs`). SQLite writes one
/// transaction at a time and needs no locks.
pub async fn forget(db: &mut impl Exec, user_id: i64) -> Result<(), sqlx::Error> {
    if db.engine() == Engine::Postgres {
        let _: Vec<(i64,)> = db
            .fetch_all(
                sql("SELECT id FROM users
                     WHERE id = $1
                        OR id IN (SELECT followee_id FROM follows WHERE follower_id = $1)
                        OR id IN (SELECT follower_id FROM follows WHERE followee_id = $1)
                     ORDER BY id FOR UPDATE")
                .bind(user_id),
            )
            .await?;
    }
    db.execute(
        sql("UPDATE users SET follower_count = follower_count - 1
             WHERE id IN (SELECT followee_id FROM follows WHERE follower_id = $1)")
        .bind(user_id),
    )
    .await?;
    db.execute(
        sql("UPDATE users SET following_count = following_count - 1
             WHERE id IN (SELECT follower_id FROM follows WHERE followee_id = $1)")
        .bind(user_id),
    )
    .await?;
    db.execute(sql("DELETE FROM follows WHERE follower_id = $1 OR followee_id = $1").bind(user_id)).await?;
    db.execute(sql("UPDATE users SET follower_count = 0, following_count = 0 WHERE id = $1").bind(user_id)).await?;
    db.execute(sql("DELETE FROM topic_follows WHERE user_id = $1").bind(user_id)).await?;
    timeline::store::forget_reader(db, user_id).await
}

/// Whom a person follows: (username, since), for their data export.
pub async fn followed_by(db: &mut impl Exec, user_id: i64) -> Result<Vec<(String, i64)>, sqlx::Error> {
    db.fetch_all(
        sql("SELECT u.username, f.created_at FROM follows f JOIN users u ON u.id = f.followee_id
             WHERE f.follower_id = $1 ORDER BY f.created_at")
        .bind(user_id),
    )
    .await
}
