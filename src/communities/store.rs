//! SQL for communities, memberships, requests and invitations. Joining and leaving keep the home
//! timeline in step in the same transaction.

use super::{Community, Standing};
use crate::db::{Engine, Exec, Tx, now, sql};
use crate::notify::{self, About, Kind};

macro_rules! community_select {
    () => {
        "SELECT c.id, c.slug, c.name, c.description, c.is_private, c.pinned_post_id,
                (SELECT COUNT(*) FROM community_members m WHERE m.community_id = c.id) AS member_count
         FROM communities c "
    };
}

/// Makes a community with its creator as its first admin.
pub async fn create(
    tx: &mut Tx,
    creator_id: i64,
    slug: &str,
    name: &str,
    description: &str,
    is_private: bool,
) -> Result<i64, sqlx::Error> {
    let (id,): (i64,) = tx
        .fetch_one(
            sql("INSERT INTO communities (slug, name, description, is_private, created_by, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
            .bind(slug)
            .bind(name)
            .bind(description)
            .bind(is_private)
            .bind(creator_id)
            .bind(now()),
        )
        .await?;
    add_member(tx, id, creator_id, true).await?;
    Ok(id)
}

async fn add_member(db: &mut impl Exec, community_id: i64, user_id: i64, is_admin: bool) -> Result<(), sqlx::Error> {
    let added = db
        .execute(
            sql("INSERT INTO community_members (community_id, user_id, is_admin, created_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT DO NOTHING")
            .bind(community_id)
            .bind(user_id)
            .bind(is_admin)
            .bind(now()),
        )
        .await?;
    db.execute(
        sql("DELETE FROM community_requests WHERE community_id = $1 AND user_id = $2").bind(community_id).bind(user_id),
    )
    .await?;
    db.execute(
        sql("DELETE FROM community_invitations WHERE community_id = $1 AND user_id = $2")
            .bind(community_id)
            .bind(user_id),
    )
    .await?;
    if added == 1 {
        crate::posts::home::after_join(db, user_id, community_id).await?;
    }
    Ok(())
}

pub async fn find_by_id(db: &mut impl Exec, id: i64) -> Result<Option<Community>, sqlx::Error> {
    db.fetch_optional(sql(concat!(community_select!(), "WHERE c.id = $1")).bind(id)).await
}

pub async fn find_by_slug(db: &mut impl Exec, slug: &str) -> Result<Option<Community>, sqlx::Error> {
    db.fetch_optional(sql(concat!(community_select!(), "WHERE c.slug = $1")).bind(slug)).await
}

/// Every community's address and name, by name (for pickers such as the campaign form's).
pub async fn names(db: &mut impl Exec) -> Result<Vec<(String, String)>, sqlx::Error> {
    db.fetch_all(sql("SELECT slug, name FROM communities ORDER BY name, slug LIMIT 1000")).await
}

/// Every community, by name, with the viewer's standing in each.
pub async fn list(db: &mut impl Exec, viewer_id: i64) -> Result<Vec<(Community, Standing)>, sqlx::Error> {
    let communities: Vec<Community> =
        db.fetch_all(sql(concat!(community_select!(), "ORDER BY c.name LIMIT 1000"))).await?;
    let mut out = Vec::with_capacity(communities.len());
    let standings = standings(db, viewer_id).await?;
    for c in communities {
        let standing = standings.iter().find(|(id, _)| *id == c.id).map_or(Standing::Outsider, |(_, s)| *s);
        out.push((c, standing));
    }
    Ok(out)
}

/// The viewer's standing in every community where it is more than an outsider's.
async fn standings(db: &mut impl Exec, user_id: i64) -> Result<Vec<(i64, Standing)>, sqlx::Error> {
    let rows: Vec<(i64, String)> = db
        .fetch_all(
            sql("SELECT community_id, CASE WHEN is_admin THEN 'admin' ELSE 'member' END FROM community_members WHERE user_id = $1
                 UNION ALL SELECT community_id, 'requested' FROM community_requests WHERE user_id = $1
                 UNION ALL SELECT community_id, 'invited' FROM community_invitations WHERE user_id = $1")
            .bind(user_id),
        )
        .await?;
    Ok(rows.into_iter().map(|(id, s)| (id, standing_from(&s))).collect())
}

fn standing_from(value: &str) -> Standing {
    match value {
        "admin" => Standing::Admin,
        "member" => Standing::Member,
        "requested" => Standing::Requested,
        "invited" => Standing::Invited,
        _ => Standing::Outsider,
    }
}

pub async fn standing(db: &mut impl Exec, community_id: i64, user_id: i64) -> Result<Standing, sqlx::Error> {
    let row: Option<(String,)> = db
        .fetch_optional(
            sql("SELECT CASE WHEN is_admin THEN 'admin' ELSE 'member' END FROM community_members
                 WHERE community_id = $1 AND user_id = $2
                 UNION ALL SELECT 'invited' FROM community_invitations WHERE community_id = $1 AND user_id = $2
                 UNION ALL SELECT 'requested' FROM community_requests WHERE community_id = $1 AND user_id = $2
                 LIMIT 1")
            .bind(community_id)
            .bind(user_id),
        )
        .await?;
    Ok(row.map_or(Standing::Outsider, |(s,)| standing_from(&s)))
}

/// Joins a public community, or a private one the person was invited to.
pub async fn join(tx: &mut Tx, community_id: i64, user_id: i64) -> Result<(), sqlx::Error> {
    add_member(tx, community_id, user_id, false).await?;
    Ok(())
}

/// Asks to join a private community; its admins are told.
pub async fn request(tx: &mut Tx, community_id: i64, user_id: i64) -> Result<(), sqlx::Error> {
    let added = tx
        .execute(
            sql("INSERT INTO community_requests (community_id, user_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                .bind(community_id)
                .bind(user_id)
                .bind(now()),
        )
        .await?;
    if added == 1 {
        for admin in admin_ids(tx, community_id).await? {
            notify::notify(tx, admin, Kind::JoinRequest, user_id, About::Community(community_id)).await?;
        }
    }
    Ok(())
}

async fn admin_ids(db: &mut impl Exec, community_id: i64) -> Result<Vec<i64>, sqlx::Error> {
    let rows: Vec<(i64,)> = db
        .fetch_all(sql("SELECT user_id FROM community_members WHERE community_id = $1 AND is_admin").bind(community_id))
        .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// Lets a person in who asked; they are told. False when there was no such request.
pub async fn approve(tx: &mut Tx, community_id: i64, user_id: i64, admin_id: i64) -> Result<bool, sqlx::Error> {
    let asked = tx
        .execute(
            sql("DELETE FROM community_requests WHERE community_id = $1 AND user_id = $2")
                .bind(community_id)
                .bind(user_id),
        )
        .await?;
    if asked == 1 {
        add_member(tx, community_id, user_id, false).await?;
        notify::notify(tx, user_id, Kind::JoinApproved, admin_id, About::Community(community_id)).await?;
    }
    Ok(asked == 1)
}

pub async fn deny(db: &mut impl Exec, community_id: i64, user_id: i64) -> Result<(), sqlx::Error> {
    db.execute(
        sql("DELETE FROM community_requests WHERE community_id = $1 AND user_id = $2").bind(community_id).bind(user_id),
    )
    .await?;
    Ok(())
}

/// Invites a person, who is told; someone who had asked is let in at once.
pub async fn invite(tx: &mut Tx, community_id: i64, user_id: i64, admin_id: i64) -> Result<(), sqlx::Error> {
    if let Standing::Requested = standing(tx, community_id, user_id).await? {
        approve(tx, community_id, user_id, admin_id).await?;
        return Ok(());
    }
    let added = tx
        .execute(
            sql("INSERT INTO community_invitations (community_id, user_id, invited_by, created_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT DO NOTHING")
            .bind(community_id)
            .bind(user_id)
            .bind(admin_id)
            .bind(now()),
        )
        .await?;
    if added == 1 {
        notify::notify(tx, user_id, Kind::Invite, admin_id, About::Community(community_id)).await?;
    }
    Ok(())
}

/// Leaves a community (or is removed from it): its posts leave their home as the rule says.
/// How a member stops being one of a community's admins, or a member at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepDown {
    Demote,
    Leave,
}

/// Demotes a member or takes them out of the community, unless they are its last admin (then
/// false, nothing changed). The count is taken with the community's row locked (PostgreSQL; SQLite's
/// writers take turns), so two admins leaving or demoting each other at once cannot leave the
/// community without one.
pub async fn step_down(tx: &mut Tx, community_id: i64, user_id: i64, how: StepDown) -> Result<bool, sqlx::Error> {
    if tx.engine() == Engine::Postgres {
        let _: Option<(i64,)> =
            tx.fetch_optional(sql("SELECT id FROM communities WHERE id = $1 FOR UPDATE").bind(community_id)).await?;
    }
    let (admins, is_admin): (i64, i64) = tx
        .fetch_one(
            sql("SELECT CAST(COUNT(*) AS BIGINT), CAST(COALESCE(SUM(CASE WHEN user_id = $2 THEN 1 ELSE 0 END), 0) AS BIGINT)
                 FROM community_members WHERE community_id = $1 AND is_admin")
            .bind(community_id)
            .bind(user_id),
        )
        .await?;
    if is_admin == 1 && admins <= 1 {
        return Ok(false);
    }
    if how == StepDown::Demote {
        set_admin(tx, community_id, user_id, false).await?;
        return Ok(true);
    }
    let removed = tx
        .execute(
            sql("DELETE FROM community_members WHERE community_id = $1 AND user_id = $2")
                .bind(community_id)
                .bind(user_id),
        )
        .await?;
    if removed == 1 {
        crate::posts::home::after_leave(tx, user_id, community_id).await?;
    }
    Ok(true)
}

pub async fn set_admin(
    db: &mut impl Exec,
    community_id: i64,
    user_id: i64,
    is_admin: bool,
) -> Result<bool, sqlx::Error> {
    let changed = db
        .execute(
            sql("UPDATE community_members SET is_admin = $1 WHERE community_id = $2 AND user_id = $3")
                .bind(is_admin)
                .bind(community_id)
                .bind(user_id),
        )
        .await?;
    Ok(changed == 1)
}

/// A person in a community's lists: (username, display name, admin).
pub type MemberRow = (String, String, bool);

pub async fn members(db: &mut impl Exec, community_id: i64) -> Result<Vec<MemberRow>, sqlx::Error> {
    db.fetch_all(
        sql("SELECT u.username, u.display_name, m.is_admin FROM community_members m JOIN users u ON u.id = m.user_id
             WHERE m.community_id = $1 ORDER BY m.is_admin DESC, u.display_name LIMIT 2000")
        .bind(community_id),
    )
    .await
}

pub async fn requests(db: &mut impl Exec, community_id: i64) -> Result<Vec<MemberRow>, sqlx::Error> {
    db.fetch_all(
        sql("SELECT u.username, u.display_name, FALSE FROM community_requests r JOIN users u ON u.id = r.user_id
             WHERE r.community_id = $1 ORDER BY r.created_at LIMIT 500")
        .bind(community_id),
    )
    .await
}

pub async fn set_pinned(db: &mut impl Exec, community_id: i64, post_id: Option<i64>) -> Result<(), sqlx::Error> {
    db.execute(sql("UPDATE communities SET pinned_post_id = $1 WHERE id = $2").bind(post_id).bind(community_id))
        .await?;
    Ok(())
}

/// Removes a departing account from every community, request and invitation.
pub async fn forget_member(db: &mut impl Exec, user_id: i64) -> Result<(), sqlx::Error> {
    db.execute(sql("DELETE FROM community_members WHERE user_id = $1").bind(user_id)).await?;
    db.execute(sql("DELETE FROM community_requests WHERE user_id = $1").bind(user_id)).await?;
    db.execute(sql("DELETE FROM community_invitations WHERE user_id = $1").bind(user_id)).await?;
    Ok(())
}

/// The communities a person belongs to: (address, admin of it, since), for their data export.
pub async fn memberships(db: &mut impl Exec, user_id: i64) -> Result<Vec<(String, bool, i64)>, sqlx::Error> {
    db.fetch_all(
        sql("SELECT c.slug, m.is_admin, m.created_at FROM community_members m JOIN communities c ON c.id = m.community_id
             WHERE m.user_id = $1 ORDER BY m.created_at")
        .bind(user_id),
    )
    .await
}
