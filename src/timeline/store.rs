//! SQL for delivering posts into homes: the queue a new post's audiences wait in, the chunks the
//! worker writes, and taking a post out of every home again. (What a follow or a join brings into
//! a home, and reading a home, are in `posts::home`.)

use crate::db::{Db, Exec, Query, sql};

/// Who a new top-level post is for.
#[derive(Clone, Copy, Default)]
pub struct Audience {
    pub community_id: Option<i64>,
    /// Set for a private community: its members and nobody else.
    pub members_only: Option<i64>,
}

/// How many homes of one audience (an author's followers, a topic's followers, a community's
/// members) one of [`deliver_next`]'s transactions writes at most: a larger audience is written that
/// many at a time, so a chunk holds SQLite's one writer briefly, where a post by someone tens of
/// thousands follow would hold it for over a second (docs/benchmarks.md).
pub const CHUNK: i64 = 500;

/// One group of readers a post is delivered to, walked in order of user id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    Followers(i64),
    Topic(String),
    Members(i64),
}

impl Source {
    /// The reader `CHUNK` places after `from` (the first one the next chunk writes), if any.
    fn boundary(&self, from: i64) -> Query {
        let query = match self {
            Source::Followers(author) => sql("SELECT follower_id FROM follows
                                              WHERE followee_id = $1 AND follower_id >= $2
                                              ORDER BY follower_id")
            .bind(*author),
            Source::Topic(topic) => sql("SELECT user_id FROM topic_follows
                                         WHERE topic = $1 AND user_id >= $2
                                         ORDER BY user_id")
            .bind(topic.clone()),
            Source::Members(community) => sql("SELECT user_id FROM community_members
                                               WHERE community_id = $1 AND user_id >= $2
                                               ORDER BY user_id")
            .bind(*community),
        };
        query.bind(from).limit(1).offset(CHUNK)
    }

    /// Writes the post into the homes of the readers in `from..until` (a post deleted meanwhile
    /// goes nowhere). `WHERE … AND true` keeps SQLite from reading ON CONFLICT as part of the SELECT.
    fn write(&self, post_id: i64, from: i64, until: i64) -> Query {
        let query = match self {
            Source::Followers(author) => sql("INSERT INTO timeline (user_id, post_id)
                                              SELECT follower_id, $2 FROM follows
                                              WHERE followee_id = $1 AND follower_id >= $3 AND follower_id < $4
                                                AND EXISTS (SELECT 1 FROM posts WHERE id = $2 AND deleted_at IS NULL)
                                              ON CONFLICT DO NOTHING")
            .bind(*author),
            Source::Topic(topic) => sql("INSERT INTO timeline (user_id, post_id)
                                         SELECT user_id, $2 FROM topic_follows
                                         WHERE topic = $1 AND user_id >= $3 AND user_id < $4
                                           AND EXISTS (SELECT 1 FROM posts WHERE id = $2 AND deleted_at IS NULL)
                                         ON CONFLICT DO NOTHING")
            .bind(topic.clone()),
            Source::Members(community) => sql("INSERT INTO timeline (user_id, post_id)
                                               SELECT user_id, $2 FROM community_members
                                               WHERE community_id = $1 AND user_id >= $3 AND user_id < $4
                                                 AND EXISTS (SELECT 1 FROM posts WHERE id = $2 AND deleted_at IS NULL)
                                               ON CONFLICT DO NOTHING")
            .bind(*community),
        };
        query.bind(post_id).bind(from).bind(until)
    }

    fn stored(&self) -> (&'static str, Option<i64>, Option<&str>) {
        match self {
            Source::Followers(author) => ("followers", Some(*author), None),
            Source::Topic(topic) => ("topic", None, Some(topic)),
            Source::Members(community) => ("members", Some(*community), None),
        }
    }

    fn from_stored(source: &str, key_id: Option<i64>, topic: Option<String>) -> Option<Source> {
        match (source, key_id, topic) {
            ("followers", Some(author), _) => Some(Source::Followers(author)),
            ("topic", _, Some(topic)) => Some(Source::Topic(topic)),
            ("members", Some(community), _) => Some(Source::Members(community)),
            _ => None,
        }
    }
}

/// Delivers a new top-level post to the homes it belongs in: a private community's post to its
/// members only; any other post to its author, the author's followers, its topics' followers, and
/// the members of its community if it has one. The author's own home (for a post outside a private
/// community) is written here, in the post's transaction, so they see their post at once. Every
/// audience is queued in the same transaction (so no delivery of an acknowledged post can be lost)
/// for [`deliver_next`], which writes it in the background. Posting then costs the same whoever
/// follows the author: each reader's home is a different page of the timeline, and writing a
/// hundred of them in the post's transaction made posting six times slower than replying (see
/// docs/benchmarks.md). Wake the worker after the commit ([`super::worker::wake`]).
pub async fn queue_delivery(
    db: &mut impl Exec,
    post_id: i64,
    author_id: i64,
    topics: &[String],
    audience: Audience,
) -> Result<(), sqlx::Error> {
    let mut sources = Vec::new();
    if let Some(community_id) = audience.members_only {
        sources.push(Source::Members(community_id));
    } else {
        db.execute(
            sql("INSERT INTO timeline (user_id, post_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(author_id)
                .bind(post_id),
        )
        .await?;
        sources.push(Source::Followers(author_id));
        sources.extend(topics.iter().cloned().map(Source::Topic));
        sources.extend(audience.community_id.map(Source::Members));
    }
    for source in sources {
        let (kind, key_id, topic) = source.stored();
        db.execute(
            sql("INSERT INTO deliveries (post_id, source, key_id, topic, next_user_id) VALUES ($1, $2, $3, $4, $5)")
                .bind(post_id)
                .bind(kind)
                .bind(key_id)
                .bind(topic.map(str::to_owned))
                .bind(i64::MIN),
        )
        .await?;
    }
    Ok(())
}

/// One chunk written by [`deliver_next`]: the post reached the homes of readers with ids in
/// `from..until` (`None`: to the end) who belong to its audience.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Delivered {
    pub post_id: i64,
    pub from: i64,
    pub until: Option<i64>,
}

/// A post waiting to reach more homes: whose homes (`source`, with `key_id` or `topic`), and the
/// first person not yet written.
#[derive(sqlx::FromRow)]
struct Queued {
    id: i64,
    post_id: i64,
    source: String,
    key_id: Option<i64>,
    topic: Option<String>,
    next_user_id: i64,
}

/// Writes the next chunk of the oldest queued delivery in a transaction of its own; `None` when
/// nothing waits. One chunk per transaction, even of a small audience: the worker then takes one
/// turn at SQLite's writer among the requests waiting for it. Taking up to 500 homes of several
/// posts per transaction wrote homes only 10-15 % faster and halved posting under load
/// (docs/benchmarks.md). The transaction's first write claims the queued row (moves it on, or
/// removes it at the end), so two processes (on PostgreSQL) never write the same chunk, and a post
/// deleted meanwhile (whose queued rows [`withdraw`] removes first) is not delivered further.
pub async fn deliver_next(mut db: &Db) -> Result<Option<Delivered>, sqlx::Error> {
    loop {
        // A plain read first: an idle worker should not take the writer's turn every second. By the
        // key: on PostgreSQL a scan of the table would read every row deleted since its last vacuum.
        let waiting: Option<(i64,)> = db.fetch_optional(sql("SELECT id FROM deliveries ORDER BY id LIMIT 1")).await?;
        if waiting.is_none() {
            return Ok(None);
        }
        let mut tx = db.begin().await?;
        let queued: Option<Queued> = tx
            .fetch_optional(sql(
                "SELECT id, post_id, source, key_id, topic, next_user_id FROM deliveries ORDER BY id LIMIT 1",
            ))
            .await?;
        let Some(Queued { id, post_id, source: kind, key_id, topic, next_user_id: from }) = queued else {
            return Ok(None);
        };
        let Some(source) = Source::from_stored(&kind, key_id, topic) else {
            tracing::warn!(id, kind, "unreadable queued delivery dropped");
            tx.execute(sql("DELETE FROM deliveries WHERE id = $1").bind(id)).await?;
            tx.commit().await?;
            continue;
        };
        let next: Option<(i64,)> = tx.fetch_optional(source.boundary(from)).await?;
        let next = next.map(|(id,)| id);
        let claim = match next {
            Some(next) => sql("UPDATE deliveries SET next_user_id = $3 WHERE id = $1 AND next_user_id = $2")
                .bind(id)
                .bind(from)
                .bind(next),
            None => sql("DELETE FROM deliveries WHERE id = $1 AND next_user_id = $2").bind(id).bind(from),
        };
        if tx.execute(claim).await? == 0 {
            continue; // another process wrote this chunk, or the post was deleted
        }
        tx.execute(source.write(post_id, from, next.unwrap_or(i64::MAX))).await?;
        tx.commit().await?;
        return Ok(Some(Delivered { post_id, from, until: next }));
    }
}

/// Takes a post out of every home. Call it before touching the post's own row: a chunk being
/// written holds its queue row and then key-share locks the post (its home rows' foreign key), so
/// every deletion must take the same order, queue first, or the two deadlock on PostgreSQL
/// ([`withdraw_author`] does the same for an author's posts).
pub async fn withdraw(db: &mut impl Exec, post_id: i64) -> Result<(), sqlx::Error> {
    // The queue first: on PostgreSQL this waits for a chunk being written, whose rows the next
    // statement then sees.
    db.execute(sql("DELETE FROM deliveries WHERE post_id = $1").bind(post_id)).await?;
    db.execute(sql("DELETE FROM timeline WHERE post_id = $1").bind(post_id)).await?;
    Ok(())
}

/// Whether a post is in a person's home (for the live "new posts" count).
pub async fn reaches(db: &mut impl Exec, user_id: i64, post_id: i64) -> Result<bool, sqlx::Error> {
    let entry: Option<(i64,)> = db
        .fetch_optional(
            sql("SELECT post_id FROM timeline WHERE user_id = $1 AND post_id = $2").bind(user_id).bind(post_id),
        )
        .await?;
    Ok(entry.is_some())
}

/// Empties the home of a departing account.
pub async fn forget_reader(db: &mut impl Exec, user_id: i64) -> Result<(), sqlx::Error> {
    db.execute(sql("DELETE FROM timeline WHERE user_id = $1").bind(user_id)).await?;
    Ok(())
}

/// Takes every post of an author out of every home (their posts are being erased).
pub async fn withdraw_author(db: &mut impl Exec, author_id: i64) -> Result<(), sqlx::Error> {
    db.execute(
        sql("DELETE FROM deliveries WHERE post_id IN (SELECT id FROM posts WHERE author_id = $1)").bind(author_id),
    )
    .await?;
    db.execute(
        sql("DELETE FROM timeline WHERE post_id IN (SELECT id FROM posts WHERE author_id = $1)").bind(author_id),
    )
    .await?;
    Ok(())
}
