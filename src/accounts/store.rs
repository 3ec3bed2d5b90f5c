//! SQL for accounts.

use super::{Role, User};
use crate::db::{Db, Engine, Exec, Tx, now, sql};

/// The columns of [`User`], in its field order.
macro_rules! user_columns {
    () => {
        "id, username, email, display_name, role, job_title, department, location, bio, created_at,
         suspended_until, suspension_reason, deleted_at, time_zone"
    };
}
pub(crate) use user_columns;

pub struct NewAccount<'a> {
    pub username: &'a str,
    pub email: &'a str,
    pub display_name: &'a str,
    pub password_hash: &'a str,
    pub department: &'a str,
    /// `None`: the first account becomes the admin, every later one a member.
    pub role: Option<Role>,
    /// The token of the invitation link used, which this sign-up spends.
    pub invitation: Option<&'a str>,
}

/// Creates an account. Sign-ups take their turn (SQLite's write transactions already do; PostgreSQL
/// takes a lock), so that of two simultaneous first sign-ups only one becomes the admin. With an
/// invitation, spends it in the same transaction: `RowNotFound` when it is no longer valid.
pub async fn insert(db: &Db, account: NewAccount<'_>) -> Result<User, sqlx::Error> {
    let mut tx = db.begin().await?;
    let user = insert_in(&mut tx, account).await?;
    tx.commit().await?;
    Ok(user)
}

/// [`insert`] inside the caller's transaction, so that what goes with a new account (an audit entry,
/// a set-password link) commits with it or not at all.
pub async fn insert_in(tx: &mut Tx, account: NewAccount<'_>) -> Result<User, sqlx::Error> {
    if tx.engine() == Engine::Postgres {
        tx.execute(sql("SELECT pg_advisory_xact_lock($1)").bind(SIGN_UP_LOCK)).await?;
    }
    let user: User = tx
        .fetch_one(
            sql(concat!(
                "INSERT INTO users (username, email, display_name, password_hash, role, created_at, department)
                 VALUES ($1, $2, $3, $4,
                         COALESCE($5, CASE WHEN EXISTS (SELECT 1 FROM users) THEN 'member' ELSE 'admin' END), $6, $7)
                 RETURNING ",
                user_columns!()
            ))
            .bind(account.username)
            .bind(account.email)
            .bind(account.display_name)
            .bind(account.password_hash)
            .bind(account.role.map(|r| r.as_str().to_owned()))
            .bind(now())
            .bind(account.department),
        )
        .await?;
    if let Some(token) = account.invitation
        && !super::invitations::store::spend(tx, token, user.id).await?
    {
        return Err(sqlx::Error::RowNotFound);
    }
    Ok(user)
}

/// The first free username made from `wanted` (an e-mail's local part, say): lower case, letters,
/// digits and underscores, 2 to 30 characters, with a number added when taken.
pub async fn free_username(db: &mut impl Exec, wanted: &str) -> Result<String, sqlx::Error> {
    let mut base: String = wanted
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_lowercase() || c.is_ascii_digit() { c } else { '_' })
        .collect::<String>()
        .trim_matches('_')
        .chars()
        .take(26)
        .collect();
    while base.len() < 2 {
        base.push('_');
    }
    let pattern = format!("{}%", crate::db::escape_like(&base));
    let taken: Vec<(String,)> =
        db.fetch_all(sql("SELECT username FROM users WHERE username LIKE $1 ESCAPE '\\'").bind(pattern)).await?;
    let taken: std::collections::HashSet<String> = taken.into_iter().map(|(u,)| u).collect();
    let mut candidate = base.clone();
    let mut n = 1;
    while taken.contains(&candidate) {
        n += 1;
        candidate = format!("{base}{n}");
    }
    Ok(candidate)
}

/// The advisory lock key sign-ups take on PostgreSQL (votes lock on user ids, which are positive).
const SIGN_UP_LOCK: i64 = -1;

/// A session's stored record (`session_data`, `session_expires_at`) with the columns of its account
/// (NULL for a session nobody signed in to) and the account's unread notifications as the header
/// counts them (`unread_count`), read in one statement: every page needs all three, and on SQLite
/// each statement is a hand-off to the connection's thread and back, on PostgreSQL a round trip.
/// An expired session is not found.
pub fn session_with_account_query(
    session_id: String,
    now: i64,
    unread: super::sessions::UnreadCount,
) -> crate::db::Query {
    sql("SELECT s.data AS session_data, s.expires_at AS session_expires_at, a.*, (")
        .and(unread(crate::db::Operand::Column("s.user_id")))
        .push(concat!(
            ") AS unread_count FROM sessions s LEFT JOIN (SELECT ",
            user_columns!(),
            " FROM users) a ON a.id = s.user_id WHERE s.id = "
        ))
        .value(session_id)
        .push(" AND s.expires_at > ")
        .value(now)
}

pub async fn find_by_id(db: &mut impl Exec, id: i64) -> Result<Option<User>, sqlx::Error> {
    db.fetch_optional(sql(concat!("SELECT ", user_columns!(), " FROM users WHERE id = $1")).bind(id)).await
}

pub async fn find_by_username(db: &mut impl Exec, username: &str) -> Result<Option<User>, sqlx::Error> {
    db.fetch_optional(sql(concat!("SELECT ", user_columns!(), " FROM users WHERE username = $1")).bind(username)).await
}

/// The id and password hash of the account a sign-in names, by username or e-mail.
pub async fn find_credentials(db: &mut impl Exec, login: &str) -> Result<Option<(i64, String)>, sqlx::Error> {
    db.fetch_optional(
        sql("SELECT id, password_hash FROM users WHERE username = $1 OR email = $1").bind(login.trim().to_lowercase()),
    )
    .await
}

/// The account (not deleted) a username or e-mail address names: for mailed links, and to tell
/// whether an address is taken.
pub async fn find_live_by_login(db: &mut impl Exec, login: &str) -> Result<Option<User>, sqlx::Error> {
    db.fetch_optional(
        sql(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE (username = $1 OR email = $1) AND deleted_at IS NULL"
        ))
        .bind(login.trim().to_lowercase()),
    )
    .await
}

/// The account's address is proved to reach it (a link mailed there was used).
pub async fn mark_email_verified(db: &mut impl Exec, user_id: i64) -> Result<(), sqlx::Error> {
    db.execute(
        sql("UPDATE users SET email_verified_at = $1, confirm_required = FALSE WHERE id = $2")
            .bind(now())
            .bind(user_id),
    )
    .await?;
    Ok(())
}

/// The account may sign in only once its address is confirmed.
pub async fn require_confirmation(db: &mut impl Exec, user_id: i64) -> Result<(), sqlx::Error> {
    db.execute(sql("UPDATE users SET confirm_required = TRUE WHERE id = $1").bind(user_id)).await?;
    Ok(())
}

/// Links an account asked for itself ("Forgot password?" and address confirmations) made since `since`.
pub async fn links_mailed_since(db: &mut impl Exec, user_id: i64, since: i64) -> Result<i64, sqlx::Error> {
    let (count,): (i64,) = db
        .fetch_one(
            sql("SELECT CAST((SELECT COUNT(*) FROM password_links
                              WHERE user_id = $1 AND purpose = 'forgot' AND created_at > $2)
                           + (SELECT COUNT(*) FROM email_links
                              WHERE user_id = $1 AND purpose = 'confirm' AND created_at > $2) AS BIGINT)")
            .bind(user_id)
            .bind(since),
        )
        .await?;
    Ok(count)
}

/// Which of `ids` wait for their address to be confirmed before they can sign in.
pub async fn awaiting_confirmation(db: &mut impl Exec, ids: &[i64]) -> Result<Vec<i64>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(i64,)> = db
        .fetch_all(
            crate::db::sql_in("SELECT id FROM users WHERE confirm_required AND id IN ({list})", 1, ids.len())
                .bind_list(ids),
        )
        .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// Whether the account waits for its address to be confirmed before it can sign in.
pub async fn confirm_required(db: &mut impl Exec, user_id: i64) -> Result<bool, sqlx::Error> {
    let row: Option<(bool,)> =
        db.fetch_optional(sql("SELECT confirm_required FROM users WHERE id = $1").bind(user_id)).await?;
    Ok(row.is_some_and(|(required,)| required))
}

pub async fn password_hash(db: &mut impl Exec, user_id: i64) -> Result<Option<String>, sqlx::Error> {
    let row: Option<(String,)> =
        db.fetch_optional(sql("SELECT password_hash FROM users WHERE id = $1").bind(user_id)).await?;
    Ok(row.map(|(hash,)| hash))
}

pub async fn set_password_hash(db: &mut impl Exec, user_id: i64, hash: &str) -> Result<(), sqlx::Error> {
    db.execute(sql("UPDATE users SET password_hash = $1 WHERE id = $2").bind(hash).bind(user_id)).await?;
    Ok(())
}

/// Ends every session of an account (after a password change, say).
pub async fn delete_sessions(db: &mut impl Exec, user_id: i64) -> Result<(), sqlx::Error> {
    db.execute(sql("DELETE FROM sessions WHERE user_id = $1").bind(user_id)).await?;
    Ok(())
}

/// Returns false when no account has that username.
pub async fn set_role(db: &mut impl Exec, username: &str, role: Role) -> Result<bool, sqlx::Error> {
    let changed =
        db.execute(sql("UPDATE users SET role = $1 WHERE username = $2").bind(role.as_str()).bind(username)).await?;
    Ok(changed == 1)
}

/// Suspends an account until `until` (unix seconds, or [`super::FOREVER`]) and ends its sessions at
/// once.
pub async fn suspend(db: &mut impl Exec, user_id: i64, until: i64, reason: &str) -> Result<(), sqlx::Error> {
    db.execute(
        sql("UPDATE users SET suspended_until = $1, suspension_reason = $2 WHERE id = $3")
            .bind(until)
            .bind(reason)
            .bind(user_id),
    )
    .await?;
    // Each ended session leaves its id behind, so its next request can be told why.
    db.execute(
        sql("INSERT INTO suspended_sessions (id, user_id, ended_at) SELECT id, user_id, $2 FROM sessions
             WHERE user_id = $1 ON CONFLICT (id) DO NOTHING")
        .bind(user_id)
        .bind(now()),
    )
    .await?;
    delete_sessions(db, user_id).await
}

/// How long an ended session's id is kept to explain a suspension.
const SUSPENDED_SESSION_DAYS: i64 = 14;

/// The account whose session `session_id` was ended by a suspension, once: the entry goes with the
/// answer. Read first and written only on a hit: almost every stale cookie names no such session,
/// and a write would take SQLite's writer turn for nothing.
pub async fn take_suspended_session(db: &mut impl Exec, session_id: &str) -> Result<Option<i64>, sqlx::Error> {
    let row: Option<(i64,)> = db
        .fetch_optional(
            sql("SELECT user_id FROM suspended_sessions WHERE id = $1 AND ended_at > $2")
                .bind(session_id)
                .bind(now() - SUSPENDED_SESSION_DAYS * 86_400),
        )
        .await?;
    if row.is_some() {
        db.execute(sql("DELETE FROM suspended_sessions WHERE id = $1").bind(session_id)).await?;
    }
    Ok(row.map(|(id,)| id))
}

/// Forgets ended sessions too old to explain anything.
pub async fn prune_suspended_sessions(db: &mut impl Exec) -> Result<(), sqlx::Error> {
    db.execute(
        sql("DELETE FROM suspended_sessions WHERE ended_at <= $1").bind(now() - SUSPENDED_SESSION_DAYS * 86_400),
    )
    .await?;
    Ok(())
}

pub async fn reinstate(db: &mut impl Exec, user_id: i64) -> Result<(), sqlx::Error> {
    db.execute(sql("UPDATE users SET suspended_until = NULL, suspension_reason = '' WHERE id = $1").bind(user_id))
        .await?;
    Ok(())
}

/// Changes an account's role by id.
pub async fn set_role_of(db: &mut impl Exec, user_id: i64, role: Role) -> Result<(), sqlx::Error> {
    db.execute(sql("UPDATE users SET role = $1 WHERE id = $2").bind(role.as_str()).bind(user_id)).await?;
    Ok(())
}

/// How many admins can still sign in (an account that is neither suspended nor deleted).
pub async fn active_admins(db: &mut impl Exec) -> Result<i64, sqlx::Error> {
    let (n,): (i64,) = db
        .fetch_one(
            sql("SELECT COUNT(*) FROM users WHERE role = 'admin' AND deleted_at IS NULL
                 AND (suspended_until IS NULL OR suspended_until <= $1)")
            .bind(now()),
        )
        .await?;
    Ok(n)
}

/// The account row's part of deleting an account (see `privacy::anonymise`): the name, e-mail,
/// profile and password go, sessions and notifications end, unused invitations stop working. The
/// row stays so that posts, ideas and the audit log keep pointing somewhere.
pub async fn forget_account(db: &mut impl Exec, user_id: i64) -> Result<(), sqlx::Error> {
    db.execute(
        sql("UPDATE users SET username = $2, email = $3, display_name = $5, password_hash = '!',
                              role = 'member', job_title = '', department = '', location = '', bio = '',
                              suspended_until = NULL, suspension_reason = '', deleted_at = $4
             WHERE id = $1")
        .bind(user_id)
        // Neither can be registered (a username has no `-`, an e-mail domain has a dot), so nobody
        // can take a deleted account's name first and make its deletion fail.
        .bind(format!("former-{user_id}"))
        .bind(format!("former-{user_id}@deleted"))
        .bind(now())
        .bind(super::FORMER_EMPLOYEE),
    )
    .await?;
    delete_sessions(db, user_id).await?;
    db.execute(sql("DELETE FROM notifications WHERE recipient_id = $1").bind(user_id)).await?;
    // Mails not yet sent to the old address are not sent; its links and mail choices go.
    db.execute(sql("DELETE FROM mail_outbox WHERE recipient_id = $1").bind(user_id)).await?;
    db.execute(sql("DELETE FROM email_links WHERE user_id = $1").bind(user_id)).await?;
    db.execute(sql("DELETE FROM mail_settings WHERE user_id = $1").bind(user_id)).await?;
    db.execute(
        sql("UPDATE users SET email_verified_at = NULL, confirm_required = FALSE, digest_due_at = NULL,
                              digest_sent_at = NULL, notifications_seen_at = NULL
             WHERE id = $1")
        .bind(user_id),
    )
    .await?;
    db.execute(
        sql("UPDATE invitations SET expires_at = $2 WHERE created_by = $1 AND used_at IS NULL AND expires_at > $2")
            .bind(user_id)
            .bind(now()),
    )
    .await?;
    Ok(())
}

/// People whose username, name, e-mail or department contains `query` (all when empty), with `role`
/// when given, by username,
/// after `after`; former employees are left out.
pub async fn search(
    db: &mut impl Exec,
    query: &str,
    role: Option<Role>,
    after: &str,
    limit: i64,
) -> Result<Vec<User>, sqlx::Error> {
    let pattern = format!("%{}%", crate::db::escape_like(&query.trim().to_lowercase()));
    db.fetch_all(
        sql(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE deleted_at IS NULL AND username > $2 AND ($3 IS NULL OR role = $3)
               AND (LOWER(username) LIKE $1 ESCAPE '\\' OR LOWER(display_name) LIKE $1 ESCAPE '\\'
                    OR LOWER(email) LIKE $1 ESCAPE '\\' OR LOWER(department) LIKE $1 ESCAPE '\\')
             ORDER BY username"
        ))
        .bind(pattern)
        .bind(after)
        .bind(role.map(|r| r.as_str().to_owned()))
        .limit(limit),
    )
    .await
}

/// Every account in username order, a chunk at a time after `after_id` (for the member export).
pub async fn chunk(db: &mut impl Exec, after_id: i64, limit: i64) -> Result<Vec<User>, sqlx::Error> {
    db.fetch_all(
        sql(concat!("SELECT ", user_columns!(), " FROM users WHERE id > $1 ORDER BY id")).bind(after_id).limit(limit),
    )
    .await
}
