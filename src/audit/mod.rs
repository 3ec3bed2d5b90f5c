//! The audit log: who did what to which object, when and why. Written in the same transaction as
//! the action; the application never edits or deletes an entry, and the database refuses to (a
//! trigger on `audit_log`). The actor's username is copied into the entry, so it reads the same after
//! the account is anonymised.

use crate::db::{Exec, Query, now, sql, sql_in};

pub async fn record(
    db: &mut impl Exec,
    actor_id: i64,
    action: &str,
    object_type: &str,
    object_id: i64,
    reason: &str,
) -> Result<(), sqlx::Error> {
    db.execute(
        sql("INSERT INTO audit_log (actor_id, actor_name, action, object_type, object_id, reason, created_at)
             SELECT $1, COALESCE((SELECT username FROM users WHERE id = $1), ''), $2, $3, $4, $5, $6")
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

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Entry {
    pub id: i64,
    pub actor_name: String,
    pub action: String,
    pub object_type: String,
    pub object_id: i64,
    /// The username of the account a `user` entry is about, as it is now.
    pub object_username: Option<String>,
    pub reason: String,
    pub created_at: i64,
}

/// Which entries to show: empty strings and `None` mean "any".
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub actor: String,
    /// An action ("user.suspend") or its prefix ("user").
    pub action: String,
    pub from: Option<i64>,
    pub until: Option<i64>,
    /// Only these actions (the moderators' own view); empty: any.
    pub only: &'static [&'static str],
}

/// Entries matching `filter`, newest first, below the id `before`.
pub async fn entries(db: &mut impl Exec, filter: &Filter, before: i64, limit: i64) -> Result<Vec<Entry>, sqlx::Error> {
    let query: Query = sql_in(
        "SELECT a.id, a.actor_name, a.action, a.object_type, a.object_id,
                CASE WHEN a.object_type = 'user' THEN u.username END AS object_username, a.reason, a.created_at
         FROM audit_log a LEFT JOIN users u ON u.id = a.object_id AND a.object_type = 'user'
         WHERE a.id < $1 AND ($2 = '' OR a.actor_name = $2)
           AND ($3 = '' OR a.action = $3 OR a.action LIKE $4 ESCAPE '\\')
           AND a.created_at >= $5 AND a.created_at < $6
           AND ($8 = 0 OR a.action IN ({list}))
         ORDER BY a.id DESC LIMIT $7",
        9,
        filter.only.len(),
    );
    db.fetch_all(
        query
            .bind(before)
            .bind(filter.actor.trim().trim_start_matches('@').to_lowercase())
            .bind(filter.action.trim())
            .bind(format!("{}.%", crate::db::escape_like(filter.action.trim())))
            .bind(filter.from.unwrap_or(i64::MIN))
            .bind(filter.until.unwrap_or(i64::MAX))
            .bind(limit)
            .bind(filter.only.len() as i64)
            .bind_list(filter.only)
            .planned_per_call(),
    )
    .await
}

/// The actions the log holds, for the filter's list.
pub async fn actions(db: &mut impl Exec) -> Result<Vec<String>, sqlx::Error> {
    let rows: Vec<(String,)> =
        db.fetch_all(sql("SELECT DISTINCT action FROM audit_log ORDER BY action LIMIT 200")).await?;
    Ok(rows.into_iter().map(|(a,)| a).collect())
}
