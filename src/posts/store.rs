//! SQL for posts, replies and likes. Every feed reads newest first below an id cursor, through an
//! index that starts with the feed's key: posts (author_id, id), post_topics (topic, post_id),
//! posts (root_id, id) for threads, and the timeline for home.

use super::{LATEST_REPLIES, PAGE_SIZE, PostBody, PostRow, text};
use crate::db::{Engine, Exec, Operand, Query, Tx, now, sql, sql_in, sql_union_all};
use crate::notify::{self, About, Kind};
use crate::polls::NewPoll;
use crate::timeline;

/// The columns of [`PostRow`], for the select list.
macro_rules! post_columns {
    () => {
        "p.id, p.author_id, p.body, p.mentions, p.created_at, p.parent_id, p.root_id, p.edited_at,
         p.deleted_at, p.reply_count, p.like_count,
         u.username AS author_username, u.display_name AS author_display_name, pu.username AS parent_username,
         p.community_id, p.members_only, p.is_announcement, c.slug AS community_slug, c.name AS community_name,
         p.poll_closes_at, p.idea_id, p.hidden_at"
    };
}

/// Where those columns come from besides post `p`: its author, its parent's author, its community.
macro_rules! post_lookups {
    () => {
        " JOIN users u ON u.id = p.author_id
          LEFT JOIN posts pp ON pp.id = p.parent_id
          LEFT JOIN users pu ON pu.id = pp.author_id
          LEFT JOIN communities c ON c.id = p.community_id "
    };
}

/// The [`PostRow`]s of the posts that `ids` picks: a query of post ids over `posts` alone (or with
/// the one table its key is in, or a union of such), with its `LIMIT`, in `newest_first` order.
///
/// A page's ids are read from the feed's index first and only they are joined. Joined whole, a
/// plan made for any values (PostgreSQL's prepared statements) expects a key to have as many posts
/// as the average one, so it joined and sorted all of a prolific author's posts, or all replies of a
/// long thread, before taking the page: 16.8 ms for the profile of someone with 526 posts, against
/// 0.3 ms for the plan that reads 31 (docs/benchmarks.md).
fn rows_of(ids: Query, newest_first: bool) -> Query {
    sql(concat!("SELECT ", post_columns!(), " FROM ("))
        .and(ids)
        .push(concat!(") r JOIN posts p ON p.id = r.id", post_lookups!()))
        .push(if newest_first { "ORDER BY p.id DESC" } else { "ORDER BY p.id" })
}

/// `SELECT` of a [`PostRow`]; queries continue with `WHERE`, or with more joins.
macro_rules! post_select {
    () => {
        concat!(
            "SELECT ",
            $crate::posts::store::post_columns!(),
            " FROM posts p",
            $crate::posts::store::post_lookups!()
        )
    };
}
pub(crate) use {post_columns, post_lookups, post_select};

/// True when `viewer` (an id, or a column of the query around) may see post `p`: it is not restricted to a private community's members, or
/// they are one. Every query that shows posts to someone appends it with [`Query::and`].
pub fn visible_to(viewer: impl Into<Operand>) -> Query {
    sql("(p.members_only IS NULL OR EXISTS (SELECT 1 FROM community_members vm
                                            WHERE vm.community_id = p.members_only AND vm.user_id = ")
    .operand(&viewer.into())
    .push("))")
}

/// The columns a shown post is read with, and the joins they come through: a test checks that a
/// change to any of them reaches `post_changes` (see `posts::cache`), on both engines.
pub const SHOWN_COLUMNS: &str = post_columns!();
pub const SHOWN_FROM: &str = concat!(" FROM posts p ", post_lookups!());

/// The usernames among `names` that belong to someone, in the order given.
pub(crate) async fn existing_usernames(db: &mut impl Exec, names: Vec<String>) -> Result<Vec<String>, sqlx::Error> {
    let query = sql_in("SELECT username FROM users WHERE username IN ({list})", 1, names.len()).bind_list(&names);
    let found: Vec<(String,)> = db.fetch_all(query).await?;
    Ok(names.into_iter().filter(|n| found.iter().any(|(f,)| f == n)).collect())
}

pub(crate) async fn user_ids(db: &mut impl Exec, usernames: &[String]) -> Result<Vec<i64>, sqlx::Error> {
    let query = sql_in("SELECT id FROM users WHERE username IN ({list})", 1, usernames.len()).bind_list(usernames);
    let rows: Vec<(i64,)> = db.fetch_all(query).await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

async fn write_topics(db: &mut impl Exec, post_id: i64, topics: &[String]) -> Result<(), sqlx::Error> {
    db.execute(sql("DELETE FROM post_topics WHERE post_id = $1").bind(post_id)).await?;
    for topic in topics {
        db.execute(
            sql("INSERT INTO post_topics (topic, post_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(topic)
                .bind(post_id),
        )
        .await?;
    }
    Ok(())
}

/// Where a new post goes.
#[derive(Clone, Copy)]
pub enum Placement<'a> {
    /// The company-wide feed.
    Company,
    /// A community's feed; a private one's posts are for its members only.
    Community { id: i64, private: bool },
    /// A reply, in the thread (and community) of the post it answers.
    Reply(&'a PostRow),
}

/// Writes a post with everything it causes, in the caller's transaction: its topics, its place in
/// homes (top-level posts: wake the delivery worker after the commit), the thread's reply count,
/// and notifications.
pub async fn create(
    tx: &mut Tx,
    author_id: i64,
    body: &PostBody,
    poll: Option<&NewPoll>,
    placement: Placement<'_>,
) -> Result<i64, sqlx::Error> {
    let (parent, community_id, members_only) = match placement {
        Placement::Company => (None, None, None),
        Placement::Community { id, private } => (None, Some(id), private.then_some(id)),
        Placement::Reply(parent) => (Some(parent), parent.community_id, parent.members_only),
    };
    let mentioned = existing_usernames(tx, text::mentions(body.as_str())).await?;
    let topics = text::topics(body.as_str());
    let (id,): (i64,) = tx
        .fetch_one(
            sql("INSERT INTO posts (author_id, body, mentions, created_at, parent_id, root_id, community_id, members_only,
                                    poll_closes_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id")
            .bind(author_id)
            .bind(body.as_str())
            .bind(mentioned.join(" "))
            .bind(now())
            .bind(parent.map(|p| p.id))
            .bind(parent.map(PostRow::thread_id))
            .bind(community_id)
            .bind(members_only)
            .bind(poll.map(|p| now() + p.open_seconds)),
        )
        .await?;
    write_topics(tx, id, &topics).await?;
    if let Some(poll) = poll {
        crate::polls::store::add_options(tx, id, poll).await?;
    }
    match parent {
        None => {
            let audience = timeline::store::Audience { community_id, members_only };
            timeline::store::queue_delivery(tx, id, author_id, &topics, audience).await?;
        }
        Some(parent) => {
            tx.execute(sql("UPDATE posts SET reply_count = reply_count + 1 WHERE id = $1").bind(parent.thread_id()))
                .await?;
            notify::notify(tx, parent.author_id, Kind::Reply, author_id, About::Post(Some(id))).await?;
        }
    }
    // The person answered hears of it once, as a reply, even when the reply also names them.
    let answered = parent.map(|p| p.author_id);
    for recipient in user_ids(tx, &mentioned).await?.into_iter().filter(|r| Some(*r) != answered) {
        notify::notify(tx, recipient, Kind::Mention, author_id, About::Post(Some(id))).await?;
    }
    Ok(id)
}

/// Records that the author turned their post into an idea (the post then links to it).
pub async fn link_idea(db: &mut impl Exec, post_id: i64, author_id: i64, idea_id: i64) -> Result<(), sqlx::Error> {
    db.execute(
        sql("UPDATE posts SET idea_id = $1 WHERE id = $2 AND author_id = $3")
            .bind(idea_id)
            .bind(post_id)
            .bind(author_id),
    )
    .await?;
    Ok(())
}

/// Replaces a post's text; people mentioned for the first time are told.
pub async fn edit(tx: &mut Tx, post: &PostRow, body: &PostBody) -> Result<(), sqlx::Error> {
    let mentioned = existing_usernames(tx, text::mentions(body.as_str())).await?;
    tx.execute(
        sql("UPDATE posts SET body = $1, mentions = $2, edited_at = $3 WHERE id = $4")
            .bind(body.as_str())
            .bind(mentioned.join(" "))
            .bind(now())
            .bind(post.id),
    )
    .await?;
    write_topics(tx, post.id, &text::topics(body.as_str())).await?;
    let before: Vec<&str> = post.mentions.split_whitespace().collect();
    let new: Vec<String> = mentioned.iter().filter(|m| !before.contains(&m.as_str())).cloned().collect();
    for recipient in user_ids(tx, &new).await? {
        notify::notify(tx, recipient, Kind::Mention, post.author_id, About::Post(Some(post.id))).await?;
    }
    Ok(())
}

/// Deletes a post. One with replies becomes a "deleted" placeholder so its thread holds; one
/// without goes entirely, with its likes, topics and notifications.
pub async fn delete(tx: &mut Tx, post: &PostRow) -> Result<(), sqlx::Error> {
    // Out of every home first, before the post row is touched (the lock order `withdraw` explains;
    // the other order deadlocked with a chunk being delivered and answered 500).
    timeline::store::withdraw(tx, post.id).await?;
    let answered: Option<(i64,)> =
        tx.fetch_optional(sql("SELECT id FROM posts WHERE parent_id = $1 LIMIT 1").bind(post.id)).await?;
    if answered.is_some() {
        tx.execute(
            sql("UPDATE posts SET body = '', mentions = '', deleted_at = $1 WHERE id = $2").bind(now()).bind(post.id),
        )
        .await?;
        tx.execute(sql("DELETE FROM post_topics WHERE post_id = $1").bind(post.id)).await?;
        tx.execute(sql("DELETE FROM notifications WHERE post_id = $1").bind(post.id)).await?;
    } else {
        tx.execute(sql("DELETE FROM posts WHERE id = $1").bind(post.id)).await?;
        if let Some(root) = post.root_id {
            tx.execute(sql("UPDATE posts SET reply_count = reply_count - 1 WHERE id = $1").bind(root)).await?;
        }
    }
    Ok(())
}

/// Hides (`Some(time)`) or restores (`None`) a post.
pub async fn set_hidden(db: &mut impl Exec, id: i64, hidden_at: Option<i64>) -> Result<(), sqlx::Error> {
    db.execute(sql("UPDATE posts SET hidden_at = $1 WHERE id = $2").bind(hidden_at).bind(id)).await?;
    Ok(())
}

/// A post whoever may see it, for moderators and admins.
pub async fn find_any(db: &mut impl Exec, id: i64) -> Result<Option<PostRow>, sqlx::Error> {
    db.fetch_optional(sql(concat!(post_select!(), "WHERE p.id = $1")).bind(id)).await
}

/// A post as `viewer_id` may see it: `None` when it does not exist or is in a private community they
/// are not a member of (the two look the same from outside).
pub async fn find_visible(db: &mut impl Exec, id: i64, viewer_id: i64) -> Result<Option<PostRow>, sqlx::Error> {
    db.fetch_optional(sql(concat!(post_select!(), "WHERE p.id = $1 AND ")).bind(id).and(visible_to(viewer_id))).await
}

/// In which order a thread's replies are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReplyOrder {
    #[default]
    Oldest,
    Newest,
}

/// Up to `limit` replies of a thread as `viewer_id` may see them, in `order`, starting at the reply
/// `from` (inclusive) when given. One range of the `(root_id, id)` index: a page costs the same in a
/// thread of ten replies or ten thousand.
pub async fn replies(
    db: &mut impl Exec,
    root_id: i64,
    viewer_id: i64,
    order: ReplyOrder,
    from: Option<i64>,
    limit: i64,
) -> Result<Vec<PostRow>, sqlx::Error> {
    let mut ids = sql("SELECT p.id FROM posts p WHERE p.root_id = ").value(root_id);
    if let Some(from) = from {
        ids = ids.push(if order == ReplyOrder::Oldest { " AND p.id >= " } else { " AND p.id <= " }).value(from);
    }
    let ids = ids
        .push(" AND ")
        .and(visible_to(viewer_id))
        .push(if order == ReplyOrder::Oldest { " ORDER BY p.id" } else { " ORDER BY p.id DESC" })
        .limit(limit);
    db.fetch_all(rows_of(ids, order == ReplyOrder::Newest)).await
}

/// How many replies of a thread follow the reply `from` (inclusive) in `order`, counted up to `cap`.
pub async fn replies_from(
    db: &mut impl Exec,
    root_id: i64,
    order: ReplyOrder,
    from: i64,
    cap: i64,
) -> Result<i64, sqlx::Error> {
    let range = if order == ReplyOrder::Oldest { " AND id >= " } else { " AND id <= " };
    let (count,): (i64,) = db
        .fetch_one(
            sql("SELECT COUNT(*) FROM (SELECT 1 FROM posts WHERE root_id = ")
                .value(root_id)
                .push(range)
                .value(from)
                .limit(cap)
                .push(") capped"),
        )
        .await?;
    Ok(count)
}

/// How many replies of a thread come before the reply `id`, counted up to `cap` (where a reply
/// falls among the pages).
pub async fn replies_before(db: &mut impl Exec, root_id: i64, id: i64, cap: i64) -> Result<i64, sqlx::Error> {
    let (count,): (i64,) = db
        .fetch_one(
            sql("SELECT COUNT(*) FROM (SELECT 1 FROM posts WHERE root_id = $1 AND id < $2")
                .bind(root_id)
                .bind(id)
                .limit(cap)
                .push(") capped"),
        )
        .await?;
    Ok(count)
}

/// The newest replies of each of these threads (at most [`LATEST_REPLIES`] each), oldest first: one
/// statement that reads only those replies, through the (root_id, id) index.
pub async fn latest_replies(db: &mut impl Exec, root_ids: &[i64]) -> Result<Vec<PostRow>, sqlx::Error> {
    if root_ids.is_empty() {
        return Ok(Vec::new());
    }
    let query = latest_replies_query(db.engine(), root_ids);
    db.fetch_all(query).await
}

/// The query behind [`latest_replies`], also for checking its plan.
///
/// On SQLite each copy reads its replies with their authors, parents and communities. PostgreSQL
/// builds a plan node for every table of every copy on each execution, so there the copies read only
/// the replies' ids and one join looks up the rest; SQLite given that form moves the join into every
/// copy, with a sort each, and is slower. (Figures: docs/benchmarks.md, "Decisions".)
pub fn latest_replies_query(engine: Engine, root_ids: &[i64]) -> Query {
    match engine {
        Engine::Sqlite => sql_union_all(
            "SELECT * FROM",
            concat!(post_select!(), "WHERE p.root_id = {n} ORDER BY p.id DESC LIMIT $1"),
            2,
            root_ids.len(),
            "unioned ORDER BY id",
        )
        .bind(LATEST_REPLIES)
        .bind_list(root_ids),
        Engine::Postgres => {
            let ids = sql_union_all(
                "SELECT id FROM",
                "SELECT id FROM posts WHERE root_id = {n} ORDER BY id DESC LIMIT $1",
                2,
                root_ids.len(),
                "latest",
            );
            rows_of(ids.bind(LATEST_REPLIES).bind_list(root_ids), false)
        }
    }
}

/// Which of these posts the viewer likes.
pub async fn liked_among(db: &mut impl Exec, user_id: i64, post_ids: &[i64]) -> Result<Vec<i64>, sqlx::Error> {
    if post_ids.is_empty() {
        return Ok(Vec::new());
    }
    let query = sql_in("SELECT post_id FROM likes WHERE user_id = $1 AND post_id IN ({list})", 2, post_ids.len())
        .bind(user_id)
        .bind_list(post_ids);
    let rows: Vec<(i64,)> = db.fetch_all(query).await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// Likes a post once; the author is told. True when the like is new.
pub async fn like(tx: &mut Tx, post: &PostRow, user_id: i64) -> Result<bool, sqlx::Error> {
    let added = tx
        .execute(
            sql("INSERT INTO likes (post_id, user_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                .bind(post.id)
                .bind(user_id)
                .bind(now()),
        )
        .await?;
    if added == 1 {
        tx.execute(sql("UPDATE posts SET like_count = like_count + 1 WHERE id = $1").bind(post.id)).await?;
        notify::notify(tx, post.author_id, Kind::Like, user_id, About::Post(Some(post.id))).await?;
    }
    Ok(added == 1)
}

pub async fn unlike(tx: &mut Tx, post: &PostRow, user_id: i64) -> Result<(), sqlx::Error> {
    let removed =
        tx.execute(sql("DELETE FROM likes WHERE post_id = $1 AND user_id = $2").bind(post.id).bind(user_id)).await?;
    if removed == 1 {
        tx.execute(sql("UPDATE posts SET like_count = like_count - 1 WHERE id = $1").bind(post.id)).await?;
        notify::retract(tx, Kind::Like, user_id, post.author_id, Some(post.id)).await?;
    }
    Ok(())
}

/// Who liked a post, most recent first.
pub async fn likers(db: &mut impl Exec, post_id: i64) -> Result<Vec<(String, String)>, sqlx::Error> {
    db.fetch_all(
        sql("SELECT u.username, u.display_name FROM likes l JOIN users u ON u.id = l.user_id
             WHERE l.post_id = $1 ORDER BY l.created_at DESC, u.username LIMIT 500")
        .bind(post_id),
    )
    .await
}

/// The cursor value that means "from the newest".
fn below(cursor: Option<i64>) -> i64 {
    cursor.unwrap_or(i64::MAX)
}

/// The whole company's top-level posts; private communities' posts never appear here.
pub async fn all(db: &mut impl Exec, cursor: Option<i64>) -> Result<Vec<PostRow>, sqlx::Error> {
    let ids = sql("SELECT p.id FROM posts p
                   WHERE p.id < $1 AND p.parent_id IS NULL AND p.deleted_at IS NULL AND p.members_only IS NULL
                   ORDER BY p.id DESC")
    .bind(below(cursor))
    .limit(PAGE_SIZE + 1);
    db.fetch_all(rows_of(ids, true)).await
}

/// A person's top-level posts that the viewer may see.
pub async fn by_author(
    db: &mut impl Exec,
    author_id: i64,
    viewer_id: i64,
    cursor: Option<i64>,
) -> Result<Vec<PostRow>, sqlx::Error> {
    let ids = sql("SELECT p.id FROM posts p
                   WHERE p.author_id = $1 AND p.id < $2 AND p.parent_id IS NULL AND p.deleted_at IS NULL AND ")
    .bind(author_id)
    .bind(below(cursor))
    .and(visible_to(viewer_id))
    .push(" ORDER BY p.id DESC")
    .limit(PAGE_SIZE + 1);
    db.fetch_all(rows_of(ids, true)).await
}

/// Posts and replies tagged with a topic that the viewer may see.
pub async fn by_topic(
    db: &mut impl Exec,
    topic: &str,
    viewer_id: i64,
    cursor: Option<i64>,
) -> Result<Vec<PostRow>, sqlx::Error> {
    let ids = sql("SELECT p.id FROM post_topics t JOIN posts p ON p.id = t.post_id
                   WHERE t.topic = $1 AND t.post_id < $2 AND ")
    .bind(topic)
    .bind(below(cursor))
    .and(visible_to(viewer_id))
    .push(" ORDER BY t.post_id DESC")
    .limit(PAGE_SIZE + 1);
    db.fetch_all(rows_of(ids, true)).await
}

/// A community's top-level posts (the caller has checked that the viewer may read the community).
pub async fn by_community(
    db: &mut impl Exec,
    community_id: i64,
    cursor: Option<i64>,
) -> Result<Vec<PostRow>, sqlx::Error> {
    let ids = sql("SELECT p.id FROM posts p
                   WHERE p.community_id = $1 AND p.id < $2 AND p.parent_id IS NULL AND p.deleted_at IS NULL
                   ORDER BY p.id DESC")
    .bind(community_id)
    .bind(below(cursor))
    .limit(PAGE_SIZE + 1);
    db.fetch_all(rows_of(ids, true)).await
}

/// Announcements the viewer may see and has not dismissed, newest first: company-wide ones, and
/// those of communities they belong to.
pub async fn announcements(db: &mut impl Exec, viewer_id: i64) -> Result<Vec<PostRow>, sqlx::Error> {
    db.fetch_all(
        sql(concat!(
            post_select!(),
            "WHERE p.is_announcement = TRUE AND p.deleted_at IS NULL
               AND (p.community_id IS NULL
                    OR EXISTS (SELECT 1 FROM community_members am
                               WHERE am.community_id = p.community_id AND am.user_id = $1))
               AND NOT EXISTS (SELECT 1 FROM announcement_dismissals d WHERE d.post_id = p.id AND d.user_id = $1)
             ORDER BY p.id DESC LIMIT 5"
        ))
        .bind(viewer_id),
    )
    .await
}

pub async fn set_announcement(db: &mut impl Exec, post_id: i64, on: bool) -> Result<(), sqlx::Error> {
    db.execute(sql("UPDATE posts SET is_announcement = $1 WHERE id = $2").bind(on).bind(post_id)).await?;
    Ok(())
}

pub async fn dismiss_announcement(db: &mut impl Exec, post_id: i64, user_id: i64) -> Result<(), sqlx::Error> {
    db.execute(
        sql("INSERT INTO announcement_dismissals (user_id, post_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(user_id)
            .bind(post_id),
    )
    .await?;
    Ok(())
}

/// Erases everything an author wrote and every like they gave. Posts that others answered stay as
/// "deleted" placeholders so the threads hold; thread reply counts are recounted.
pub async fn erase_author(db: &mut impl Exec, author_id: i64) -> Result<(), sqlx::Error> {
    db.execute(
        sql("UPDATE posts SET like_count = like_count - 1
             WHERE id IN (SELECT post_id FROM likes WHERE user_id = $1)")
        .bind(author_id),
    )
    .await?;
    db.execute(sql("DELETE FROM likes WHERE user_id = $1").bind(author_id)).await?;
    crate::polls::store::forget_voter(db, author_id).await?;
    let roots: Vec<(i64,)> = db
        .fetch_all(
            sql("SELECT DISTINCT root_id FROM posts WHERE author_id = $1 AND root_id IS NOT NULL").bind(author_id),
        )
        .await?;
    timeline::store::withdraw_author(db, author_id).await?;
    db.execute(
        sql("DELETE FROM notifications WHERE post_id IN (SELECT id FROM posts WHERE author_id = $1)").bind(author_id),
    )
    .await?;
    db.execute(
        sql("DELETE FROM post_topics WHERE post_id IN (SELECT id FROM posts WHERE author_id = $1)").bind(author_id),
    )
    .await?;
    db.execute(
        sql("UPDATE posts SET body = '', mentions = '', deleted_at = $2, hidden_at = NULL
             WHERE author_id = $1 AND deleted_at IS NULL
               AND EXISTS (SELECT 1 FROM posts r WHERE r.parent_id = posts.id)")
        .bind(author_id)
        .bind(now()),
    )
    .await?;
    db.execute(sql("DELETE FROM posts WHERE author_id = $1 AND deleted_at IS NULL").bind(author_id)).await?;
    for (root,) in roots {
        db.execute(
            sql("UPDATE posts SET reply_count = (SELECT COUNT(*) FROM posts r WHERE r.root_id = $1) WHERE id = $1")
                .bind(root),
        )
        .await?;
    }
    Ok(())
}

/// Posts and replies written from `from` until before `until`, after the id `after`, oldest first:
/// a chunk of the posts export.
pub async fn export_chunk(
    db: &mut impl Exec,
    from: i64,
    until: i64,
    after: i64,
    limit: i64,
) -> Result<Vec<PostRow>, sqlx::Error> {
    db.fetch_all(
        sql(concat!(post_select!(), "WHERE p.id > $1 AND p.created_at >= $2 AND p.created_at < $3 ORDER BY p.id"))
            .bind(after)
            .bind(from)
            .bind(until)
            .limit(limit),
    )
    .await
}

/// Everything one person wrote, oldest first (for "download my data").
pub async fn all_by_author(db: &mut impl Exec, author_id: i64) -> Result<Vec<PostRow>, sqlx::Error> {
    db.fetch_all(
        sql(concat!(post_select!(), "WHERE p.author_id = $1 AND p.deleted_at IS NULL ORDER BY p.id")).bind(author_id),
    )
    .await
}

/// The posts a person likes, with when: (post id, liked at), for their data export.
pub async fn likes_by(db: &mut impl Exec, user_id: i64) -> Result<Vec<(i64, i64)>, sqlx::Error> {
    db.fetch_all(sql("SELECT post_id, created_at FROM likes WHERE user_id = $1 ORDER BY created_at").bind(user_id))
        .await
}
