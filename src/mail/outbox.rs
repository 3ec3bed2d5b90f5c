//! The mail outbox table. A row goes `waiting` → `claimed` (by one worker, for a lease) → `sending`
//! (just before its SMTP conversation) → `sent` or `failed`, or back to `waiting` for a retry. A
//! worker that vanishes (killed, machine lost) leaves its rows leased: `claimed` ones go back to
//! waiting, but a `sending` one may or may not have reached the server, so it becomes `uncertain`
//! and waits for an admin rather than risk a second copy. Several processes claim with
//! `FOR UPDATE SKIP LOCKED` on PostgreSQL (SQLite has one writer at a time), so no mail is claimed
//! twice.

use super::Mail;
use crate::db::{Engine, Exec, sql};

pub async fn insert(db: &mut impl Exec, mail: &Mail, message_id: &str, at: i64) -> Result<i64, sqlx::Error> {
    let (id,): (i64,) = db
        .fetch_one(
            sql("INSERT INTO mail_outbox (kind, recipient_id, to_address, to_name, subject, text_body, html_body,
                                          unsubscribe_url, message_id, next_attempt_at, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id")
            .bind(mail.kind)
            .bind(mail.recipient_id)
            .bind(&mail.to_address)
            .bind(&mail.to_name)
            .bind(&mail.subject)
            .bind(&mail.text)
            .bind(&mail.html)
            .bind(mail.unsubscribe_url.clone())
            .bind(message_id)
            .bind(at),
        )
        .await?;
    Ok(id)
}

/// A mail a worker holds.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Claimed {
    pub id: i64,
    pub to_address: String,
    pub to_name: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    pub unsubscribe_url: Option<String>,
    pub message_id: String,
    pub attempts: i64,
}

/// Mails one claim takes at most: few, so that a worker that vanishes strands few leases.
pub const CLAIM_BATCH: usize = 20;

/// Takes up to [`CLAIM_BATCH`] mails that are due, for `worker` until `lease_until`.
pub async fn claim(db: &mut impl Exec, worker: &str, at: i64, lease_until: i64) -> Result<Vec<Claimed>, sqlx::Error> {
    let query = match db.engine() {
        Engine::Sqlite => sql("UPDATE mail_outbox SET state = 'claimed', claimed_by = $1, lease_until = $2
             WHERE id IN (SELECT id FROM mail_outbox WHERE state = 'waiting' AND next_attempt_at <= $3
                          ORDER BY next_attempt_at, id LIMIT 20)
             RETURNING id, to_address, to_name, subject, text_body, html_body, unsubscribe_url, message_id, attempts"),
        Engine::Postgres => sql("UPDATE mail_outbox SET state = 'claimed', claimed_by = $1, lease_until = $2
             WHERE id IN (SELECT id FROM mail_outbox WHERE state = 'waiting' AND next_attempt_at <= $3
                          ORDER BY next_attempt_at, id LIMIT 20 FOR UPDATE SKIP LOCKED)
             RETURNING id, to_address, to_name, subject, text_body, html_body, unsubscribe_url, message_id, attempts"),
    };
    db.fetch_all(query.bind(worker).bind(lease_until).bind(at)).await
}

/// Marks a claimed mail as being handed to the server now; false if this worker no longer holds it.
pub async fn begin_sending(db: &mut impl Exec, id: i64, worker: &str, lease_until: i64) -> Result<bool, sqlx::Error> {
    let changed = db
        .execute(
            sql("UPDATE mail_outbox SET state = 'sending', attempts = attempts + 1, lease_until = $1
                 WHERE id = $2 AND claimed_by = $3 AND state = 'claimed'")
            .bind(lease_until)
            .bind(id)
            .bind(worker),
        )
        .await?;
    Ok(changed == 1)
}

/// The server took the mail. Its parts are emptied: they may hold a one-time link, and the admin's
/// view needs only the recipient and subject.
pub async fn sent(db: &mut impl Exec, id: i64, worker: &str, at: i64) -> Result<(), sqlx::Error> {
    db.execute(
        sql("UPDATE mail_outbox SET state = 'sent', sent_at = $1, lease_until = NULL, last_error = '',
                                    text_body = '', html_body = ''
             WHERE id = $2 AND claimed_by = $3 AND state = 'sending'")
        .bind(at)
        .bind(id)
        .bind(worker),
    )
    .await?;
    Ok(())
}

/// The server could not take it now: try again at `next_at`.
pub async fn retry_at(db: &mut impl Exec, id: i64, worker: &str, next_at: i64, error: &str) -> Result<(), sqlx::Error> {
    db.execute(
        sql("UPDATE mail_outbox SET state = 'waiting', next_attempt_at = $1, lease_until = NULL, claimed_by = NULL,
                                    last_error = $2
             WHERE id = $3 AND claimed_by = $4 AND state = 'sending'")
        .bind(next_at)
        .bind(error)
        .bind(id)
        .bind(worker),
    )
    .await?;
    Ok(())
}

/// The server refused it for good (or it was retried long enough).
pub async fn failed(db: &mut impl Exec, id: i64, worker: &str, error: &str) -> Result<(), sqlx::Error> {
    db.execute(
        sql("UPDATE mail_outbox SET state = 'failed', lease_until = NULL, last_error = $1
             WHERE id = $2 AND claimed_by = $3 AND state IN ('claimed', 'sending')")
        .bind(error)
        .bind(id)
        .bind(worker),
    )
    .await?;
    Ok(())
}

/// Gives back what `worker` claimed but did not start (it is stopping).
pub async fn release(db: &mut impl Exec, worker: &str) -> Result<(), sqlx::Error> {
    db.execute(
        sql("UPDATE mail_outbox SET state = 'waiting', lease_until = NULL, claimed_by = NULL
             WHERE claimed_by = $1 AND state = 'claimed'")
        .bind(worker),
    )
    .await?;
    Ok(())
}

/// Rows whose worker's lease ran out: claimed ones wait again; sending ones become `uncertain`.
pub async fn recover(db: &mut impl Exec, at: i64) -> Result<u64, sqlx::Error> {
    let back = db
        .execute(
            sql("UPDATE mail_outbox SET state = 'waiting', lease_until = NULL, claimed_by = NULL
                 WHERE state = 'claimed' AND lease_until < $1")
            .bind(at),
        )
        .await?;
    let uncertain = db
        .execute(
            sql("UPDATE mail_outbox SET state = 'uncertain', lease_until = NULL,
                        last_error = 'The sending process stopped while it was handing this mail to the server: it may have been sent.'
                 WHERE state = 'sending' AND lease_until < $1")
            .bind(at),
        )
        .await?;
    Ok(back + uncertain)
}

/// An admin sends a failed or uncertain mail again.
pub async fn send_again(db: &mut impl Exec, id: i64, at: i64) -> Result<bool, sqlx::Error> {
    let changed = db
        .execute(
            sql("UPDATE mail_outbox SET state = 'waiting', next_attempt_at = $1, claimed_by = NULL, lease_until = NULL
                 WHERE id = $2 AND state IN ('failed', 'uncertain') AND text_body <> ''")
            .bind(at)
            .bind(id),
        )
        .await?;
    Ok(changed == 1)
}

/// Forgets mails sent or given up on before `before` (the admin's view shows a month).
pub async fn prune(db: &mut impl Exec, before: i64) -> Result<u64, sqlx::Error> {
    db.execute(
        sql("DELETE FROM mail_outbox WHERE state IN ('sent', 'failed', 'uncertain') AND created_at < $1").bind(before),
    )
    .await
}

/// How many mails are in each state.
pub async fn counts(db: &mut impl Exec) -> Result<Vec<(String, i64)>, sqlx::Error> {
    db.fetch_all(sql("SELECT state, CAST(COUNT(*) AS BIGINT) FROM mail_outbox GROUP BY state ORDER BY state")).await
}

/// A line of the admin's view.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Line {
    pub id: i64,
    pub kind: String,
    pub to_address: String,
    pub subject: String,
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_error: String,
    pub created_at: i64,
    pub sent_at: Option<i64>,
    /// Its parts are still there, so it can be sent again.
    pub resendable: bool,
}

/// The newest mails, in one state or (`None`) any, older than `before_id` when paging.
pub async fn recent(
    db: &mut impl Exec,
    state: Option<&str>,
    before_id: Option<i64>,
    most: i64,
) -> Result<Vec<Line>, sqlx::Error> {
    db.fetch_all(
        sql("SELECT id, kind, to_address, subject, state, attempts, next_attempt_at, last_error, created_at, sent_at,
                    text_body <> '' AS resendable
             FROM mail_outbox WHERE ($1 IS NULL OR state = $1) AND ($2 IS NULL OR id < $2)
             ORDER BY id DESC")
        .bind(state.map(str::to_owned))
        .bind(before_id)
        .limit(most),
    )
    .await
}

/// The mails queued for one person (for their data export): kind, subject, state, queued, sent.
pub async fn for_recipient(
    db: &mut impl Exec,
    user_id: i64,
) -> Result<Vec<(String, String, String, i64, Option<i64>)>, sqlx::Error> {
    db.fetch_all(
        sql("SELECT kind, subject, state, created_at, sent_at FROM mail_outbox WHERE recipient_id = $1 ORDER BY id")
            .bind(user_id),
    )
    .await
}
