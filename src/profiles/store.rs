//! SQL for profiles and the directory.

use super::{PersonRow, ProfileFields, ProfileRow};
use crate::db::{Exec, sql};
use crate::posts::store::visible_to;

pub const DIRECTORY_PAGE_SIZE: i64 = 50;

/// A profile's person, found by (lower-case) username, with what the page shows beside their posts,
/// in one statement: the counts as `viewer_id` sees them (posts in private communities they are not
/// in are not counted) and whether the viewer follows them.
pub async fn profile(db: &mut impl Exec, username: &str, viewer_id: i64) -> Result<Option<ProfileRow>, sqlx::Error> {
    db.fetch_optional(
        sql(concat!(
            "SELECT ",
            crate::accounts::store::user_columns!(),
            ", EXISTS (SELECT 1 FROM follows f WHERE f.follower_id = $1 AND f.followee_id = u.id) AS viewer_follows,
               follower_count AS followers, following_count AS following,
               (SELECT COUNT(*) FROM posts p
                WHERE p.author_id = u.id AND p.parent_id IS NULL AND p.deleted_at IS NULL AND "
        ))
        .bind(viewer_id)
        .and(visible_to(viewer_id))
        .push(") AS posts FROM users u WHERE u.username = ")
        .value(username),
    )
    .await
}

pub async fn update(db: &mut impl Exec, user_id: i64, fields: &ProfileFields) -> Result<(), sqlx::Error> {
    db.execute(
        sql("UPDATE users SET display_name = $1, job_title = $2, department = $3, location = $4, bio = $5,
                              time_zone = $7
             WHERE id = $6")
        .bind(&fields.display_name)
        .bind(&fields.job_title)
        .bind(&fields.department)
        .bind(&fields.location)
        .bind(&fields.bio)
        .bind(user_id)
        .bind(&fields.time_zone),
    )
    .await?;
    Ok(())
}

/// People whose name, username, department or job title contains `query` (any case), in username
/// order after the `after` cursor; one more than a page, to tell whether there is a next one.
pub async fn directory(db: &mut impl Exec, query: &str, after: &str) -> Result<Vec<PersonRow>, sqlx::Error> {
    let pattern = format!("%{}%", crate::db::escape_like(&query.to_lowercase()));
    db.fetch_all(
        sql("SELECT username, display_name, job_title, department, location FROM users
             WHERE username > $1 AND deleted_at IS NULL
               AND ($2 = '%%' OR LOWER(display_name) LIKE $2 ESCAPE '\\' OR username LIKE $2 ESCAPE '\\'
                    OR LOWER(department) LIKE $2 ESCAPE '\\' OR LOWER(job_title) LIKE $2 ESCAPE '\\')
             ORDER BY username")
        .bind(after)
        .bind(pattern)
        .limit(DIRECTORY_PAGE_SIZE + 1),
    )
    .await
}

/// People whose username, or a word of whose name, starts with `prefix` (any case): at most `limit`,
/// usernames first, for @mention suggestions. Former employees are left out.
pub async fn suggest(db: &mut impl Exec, prefix: &str, limit: i64) -> Result<Vec<(String, String)>, sqlx::Error> {
    let prefix = crate::db::escape_like(&prefix.to_lowercase());
    db.fetch_all(
        sql("SELECT username, display_name FROM users
             WHERE deleted_at IS NULL
               AND (username LIKE $1 ESCAPE '\\' OR LOWER(display_name) LIKE $1 ESCAPE '\\'
                    OR LOWER(display_name) LIKE $2 ESCAPE '\\')
             ORDER BY CASE WHEN username LIKE $1 ESCAPE '\\' THEN 0 ELSE 1 END, username")
        .bind(format!("{prefix}%"))
        .bind(format!("% {prefix}%"))
        .limit(limit),
    )
    .await
}
