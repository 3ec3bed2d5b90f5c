//! SQL for the notifications page and the header's count. Nobody is shown a notification about a
//! post or idea they may no longer see. (Writing notifications is `crate::notify`.)

use super::NotificationRow;
use crate::db::{Exec, Operand, Query, now, sql};
use crate::posts::store::visible_to;

/// How many recent notifications the page reads before grouping them.
const RECENT: i64 = 200;

pub use crate::web::layout::UNREAD_SHOWN;

/// Whether a notification's idea (if any) is one `who` may still see: an idea of a community's
/// campaign is for that community's members, so someone who left it hears no more of its ideas.
pub fn idea_readable(who: &Operand) -> Query {
    sql("(n.idea_id IS NULL OR NOT EXISTS (
             SELECT 1 FROM ideas ri JOIN campaigns rc ON rc.id = ri.campaign_id
             WHERE ri.id = n.idea_id AND rc.community_id IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM community_members rm
                               WHERE rm.community_id = rc.community_id AND rm.user_id = ")
    .operand(who)
    .push(")))")
}

/// `SELECT COUNT(*)` of someone's unread notifications as the page shows them: likes of one post and
/// new followers count once, and notifications about posts or ideas the person can no longer see
/// (they left a private community) not at all. `who` is their id or a column of an outer query. It
/// counts at most `UNREAD_SHOWN + 1`, so someone with thousands unread costs no more than that:
/// every page's header shows it.
pub fn unread_count_select(who: Operand) -> Query {
    sql("SELECT COUNT(*) FROM (
             SELECT DISTINCT n.kind,
                    CASE WHEN n.kind IN ('like', 'follow') THEN COALESCE(n.post_id, 0) ELSE n.id END AS item
             FROM notifications n LEFT JOIN posts p ON p.id = n.post_id
             WHERE n.recipient_id = ")
    .operand(&who)
    .push(" AND n.read_at IS NULL AND (n.post_id IS NULL OR ")
    .and(visible_to(who.clone()))
    .push(") AND ")
    .and(idea_readable(&who))
    .limit(UNREAD_SHOWN + 1)
    .push(") unread")
}

/// Unread notifications as the header counts them (see [`unread_count_select`]). A signed-in
/// request has them already, read with its session ([`crate::accounts::CurrentUser::unread_notifications`]).
pub async fn unread_count(db: &mut impl Exec, user_id: i64) -> Result<i64, sqlx::Error> {
    let (count,): (i64,) = db.fetch_one(unread_count_select(user_id.into())).await?;
    Ok(count)
}

/// A person's newest notifications that they may still see. The ids are read first and only they
/// are joined, as feeds do (`posts::store::rows_of`): a plan for any values joined and sorted all of
/// a person's notifications before taking the newest (73 ms for someone with 1,076).
pub async fn recent(db: &mut impl Exec, user_id: i64) -> Result<Vec<NotificationRow>, sqlx::Error> {
    let ids = sql("SELECT n.id FROM notifications n LEFT JOIN posts p ON p.id = n.post_id
                   WHERE n.recipient_id = $1 AND (n.post_id IS NULL OR ")
    .bind(user_id)
    .and(visible_to(user_id))
    .push(") AND ")
    .and(idea_readable(&user_id.into()))
    .push(" ORDER BY n.id DESC")
    .limit(RECENT);
    db.fetch_all(rows_of(ids)).await
}

/// The rows of the notifications whose ids `ids` selects, newest first, joined with what they are
/// about: the ids are read first and only they are joined.
fn rows_of(ids: Query) -> Query {
    sql("SELECT n.id, n.kind, n.post_id, COALESCE(p.root_id, p.id) AS thread_id,
                CASE WHEN p.hidden_at IS NULL AND p.deleted_at IS NULL THEN p.body ELSE '' END AS post_excerpt,
                n.created_at, n.read_at, a.username AS actor_username, a.display_name AS actor_display_name,
                c.slug AS community_slug, c.name AS community_name,
                i.id AS idea_id, i.title AS idea_title, COALESCE(n.stage, i.stage) AS idea_stage, n.message
         FROM (")
    .and(ids)
    .push(
        ") r
         JOIN notifications n ON n.id = r.id
         JOIN users a ON a.id = n.actor_id
         LEFT JOIN posts p ON p.id = n.post_id
         LEFT JOIN communities c ON c.id = n.community_id
         LEFT JOIN ideas i ON i.id = n.idea_id
         ORDER BY n.id DESC",
    )
}

/// The notifications among `ids` that are `user_id`'s and that they may still see, newest first, as
/// [`recent`] reads them (for mails about them).
pub async fn rows_by_ids(db: &mut impl Exec, user_id: i64, ids: &[i64]) -> Result<Vec<NotificationRow>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let wanted = crate::db::sql_in(
        "SELECT n.id FROM notifications n LEFT JOIN posts p ON p.id = n.post_id
                                    WHERE n.id IN ({list}) AND n.recipient_id = ",
        1,
        ids.len(),
    )
    .bind_list(ids)
    .value(user_id)
    .push(" AND (n.post_id IS NULL OR ")
    .and(visible_to(user_id))
    .push(") AND ")
    .and(idea_readable(&user_id.into()));
    db.fetch_all(rows_of(wanted)).await
}

/// The person opened their notifications page, whose newest was made at `newest`: nothing up to
/// now is mailed to them. Written only when something new was shown, so views cost no write.
pub async fn mark_seen(db: &mut impl Exec, user_id: i64, newest: i64) -> Result<(), sqlx::Error> {
    db.execute(
        sql("UPDATE users SET notifications_seen_at = $1
             WHERE id = $2 AND (notifications_seen_at IS NULL OR notifications_seen_at < $3)")
        .bind(now())
        .bind(user_id)
        .bind(newest),
    )
    .await?;
    Ok(())
}

/// Marks a person's notifications up to id `up_to` read.
pub async fn mark_read_up_to(db: &mut impl Exec, user_id: i64, up_to: i64) -> Result<(), sqlx::Error> {
    db.execute(
        sql("UPDATE notifications SET read_at = $2 WHERE recipient_id = $1 AND read_at IS NULL AND id <= $3")
            .bind(user_id)
            .bind(now())
            .bind(up_to),
    )
    .await?;
    Ok(())
}

/// A notification as stored, for its recipient's data export.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Stored {
    pub kind: String,
    /// The username of whoever caused it.
    pub actor: String,
    pub post_id: Option<i64>,
    pub idea_id: Option<i64>,
    pub message: String,
    pub created_at: i64,
    pub read_at: Option<i64>,
}

/// Every notification a person has, oldest first, for their data export. Those about things they
/// can no longer see are left out, as on their page.
pub async fn all_for(db: &mut impl Exec, user_id: i64) -> Result<Vec<Stored>, sqlx::Error> {
    db.fetch_all(
        sql("SELECT n.kind, a.username AS actor, n.post_id, n.idea_id, n.message, n.created_at, n.read_at
             FROM notifications n JOIN users a ON a.id = n.actor_id LEFT JOIN posts p ON p.id = n.post_id
             WHERE n.recipient_id = $1 AND (n.post_id IS NULL OR ")
        .bind(user_id)
        .and(visible_to(user_id))
        .push(") AND ")
        .and(idea_readable(&user_id.into()))
        .push(" ORDER BY n.id"),
    )
    .await
}
