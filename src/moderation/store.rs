//! SQL for reports and flags, the queue, and what a moderator's action does to the content.

use super::{ObjectKind, Outcome};
use crate::db::{Exec, now, sql, sql_in};
use crate::notify::{self, About, Kind};

/// A new report; false when this person reported this already.
pub async fn report(
    db: &mut impl Exec,
    kind: ObjectKind,
    object_id: i64,
    author_id: i64,
    reporter_id: i64,
    reason: &str,
    note: &str,
) -> Result<bool, sqlx::Error> {
    let added = db
        .execute(
            sql("INSERT INTO reports (object_type, object_id, author_id, reporter_id, reason, note, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING")
            .bind(kind.as_str())
            .bind(object_id)
            .bind(author_id)
            .bind(reporter_id)
            .bind(reason)
            .bind(note)
            .bind(now()),
        )
        .await?;
    Ok(added == 1)
}

/// A person's own report, as they see it later.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MyReport {
    pub object_type: String,
    pub object_id: i64,
    pub reason: String,
    pub created_at: i64,
    pub outcome: Option<String>,
}

pub async fn mine(db: &mut impl Exec, reporter_id: i64) -> Result<Vec<MyReport>, sqlx::Error> {
    db.fetch_all(
        sql("SELECT object_type, object_id, reason, created_at, outcome FROM reports
             WHERE reporter_id = $1 ORDER BY id DESC LIMIT 200")
        .bind(reporter_id),
    )
    .await
}

/// An object with open reports, for the queue.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct QueueEntry {
    pub object_type: String,
    pub object_id: i64,
    pub author_id: i64,
    pub reports: i64,
    pub latest: i64,
}

/// Objects with open reports: most reported first (then newest), or newest first.
pub async fn queue(db: &mut impl Exec, newest_first: bool, limit: i64) -> Result<Vec<QueueEntry>, sqlx::Error> {
    let query = if newest_first {
        sql("SELECT object_type, object_id, MAX(author_id) AS author_id, COUNT(*) AS reports, MAX(created_at) AS latest
             FROM reports WHERE resolved_at IS NULL GROUP BY object_type, object_id
             ORDER BY MAX(id) DESC")
    } else {
        sql("SELECT object_type, object_id, MAX(author_id) AS author_id, COUNT(*) AS reports, MAX(created_at) AS latest
             FROM reports WHERE resolved_at IS NULL GROUP BY object_type, object_id
             ORDER BY COUNT(*) DESC, MAX(id) DESC")
    };
    db.fetch_all(query.limit(limit)).await
}

pub async fn open_count(db: &mut impl Exec) -> Result<i64, sqlx::Error> {
    let (n,): (i64,) = db
        .fetch_one(sql(
            "SELECT COUNT(*) FROM (SELECT DISTINCT object_type, object_id FROM reports WHERE resolved_at IS NULL) o",
        ))
        .await?;
    Ok(n)
}

/// One open report on an object, for the queue.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OpenReport {
    pub object_type: String,
    pub object_id: i64,
    pub reason: String,
    pub note: String,
    pub rule_pattern: String,
    pub reporter: Option<String>,
    pub created_at: i64,
}

/// The open reports on these objects, oldest first.
pub async fn open_reports(db: &mut impl Exec, ids: &[(String, i64)]) -> Result<Vec<OpenReport>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let object_ids: Vec<i64> = ids.iter().map(|(_, id)| *id).collect();
    let query = sql_in(
        "SELECT r.object_type, r.object_id, r.reason, r.note, r.rule_pattern, u.username AS reporter, r.created_at
         FROM reports r LEFT JOIN users u ON u.id = r.reporter_id
         WHERE r.resolved_at IS NULL AND r.object_id IN ({list}) ORDER BY r.id",
        1,
        object_ids.len(),
    )
    .bind_list(&object_ids);
    let rows: Vec<OpenReport> = db.fetch_all(query).await?;
    Ok(rows.into_iter().filter(|r| ids.iter().any(|(t, id)| *t == r.object_type && *id == r.object_id)).collect())
}

/// What moderators did before about an author's content: (outcome, count). Anonymous ideas are left
/// out: a count that moved when one was hidden would tell a moderator who wrote it.
pub async fn author_record(db: &mut impl Exec, author_id: i64) -> Result<Vec<(String, i64)>, sqlx::Error> {
    db.fetch_all(
        sql("SELECT outcome, COUNT(DISTINCT object_type || ':' || CAST(object_id AS TEXT)) FROM reports r
             WHERE author_id = $1 AND outcome IS NOT NULL AND outcome <> 'dismissed'
               AND NOT EXISTS (SELECT 1 FROM ideas i WHERE r.object_type = 'idea' AND i.id = r.object_id
                                                      AND i.anonymous)
             GROUP BY outcome ORDER BY outcome")
        .bind(author_id),
    )
    .await
}

/// Closes every open report on an object with `outcome`, and tells each reporter.
pub async fn resolve(
    db: &mut impl Exec,
    kind: ObjectKind,
    object_id: i64,
    outcome: Outcome,
    moderator_id: i64,
) -> Result<usize, sqlx::Error> {
    let reporters: Vec<(Option<i64>,)> = db
        .fetch_all(
            sql("SELECT reporter_id FROM reports WHERE object_type = $1 AND object_id = $2 AND resolved_at IS NULL")
                .bind(kind.as_str())
                .bind(object_id),
        )
        .await?;
    db.execute(
        sql("UPDATE reports SET resolved_at = $1, resolved_by = $2, outcome = $3
             WHERE object_type = $4 AND object_id = $5 AND resolved_at IS NULL")
        .bind(now())
        .bind(moderator_id)
        .bind(outcome.as_str())
        .bind(kind.as_str())
        .bind(object_id),
    )
    .await?;
    let message = outcome.for_reporter(kind.noun());
    for reporter in reporters.iter().filter_map(|(r,)| *r) {
        notify::notify(db, reporter, Kind::ReportOutcome, moderator_id, About::Message(&message)).await?;
    }
    Ok(reporters.len())
}
