//! SQL for accounts.

use super::{Role, User};
use crate::db::{Db, Engine, Exec, now, sql};

/// The columns of [`User`], in its field order.
macro_rules! user_columns {
    () => {
        "id, username, email, display_name, role, job_title, department, location, bio, created_at"
    };
}

pub struct NewAccount<'a> {
    pub username: &'a str,
    pub email: &'a str,
    pub display_name: &'a str,
    pub password_hash: &'a str,
    /// `None`: the first account becomes the admin, every later one a member.
    pub role: Option<Role>,
}

/// Creates an account. Sign-ups take their turn (SQLite's write transactions already do; PostgreSQL
/// takes a lock), so that of two simultaneous first sign-ups only one becomes the admin.
pub async fn insert(db: &Db, account: NewAccount<'_>) -> Result<User, sqlx::Error> {
    let mut tx = db.begin().await?;
    if tx.engine() == Engine::Postgres {
        tx.execute(sql("SELECT pg_advisory_xact_lock($1)").bind(SIGN_UP_LOCK)).await?;
    }
    let user = tx
        .fetch_one(
            sql(concat!(
                "INSERT INTO users (username, email, display_name, password_hash, role, created_at)
                 VALUES ($1, $2, $3, $4,
                         COALESCE($5, CASE WHEN EXISTS (SELECT 1 FROM users) THEN 'member' ELSE 'admin' END), $6)
                 RETURNING ",
                user_columns!()
            ))
            .bind(account.username)
            .bind(account.email)
            .bind(account.display_name)
            .bind(account.password_hash)
            .bind(account.role.map(|r| r.as_str().to_owned()))
            .bind(now()),
        )
        .await?;
    tx.commit().await?;
    Ok(user)
}

/// The advisory lock key sign-ups take on PostgreSQL (votes lock on user ids, which are positive).
const SIGN_UP_LOCK: i64 = -1;

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
