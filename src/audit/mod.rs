//! The audit log: who did what to which object, when and why. Written in the same transaction as
//! the action; the application never edits or deletes an entry.

use crate::db::{Exec, now, sql};

pub async fn record(
    db: &mut impl Exec,
    actor_id: i64,
    action: &str,
    object_type: &str,
    object_id: i64,
    reason: &str,
) -> Result<(), sqlx::Error> {
    db.execute(
        sql("INSERT INTO audit_log (actor_id, action, object_type, object_id, reason, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(actor_id)
        .bind(action)
        .bind(object_type)
        .bind(object_id)
        .bind(reason)
        .bind(now()),
    )
    .await?;
    Ok(())
}
