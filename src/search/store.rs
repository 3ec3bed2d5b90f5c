//! The built-in engine's SQL: FTS5 on SQLite, tsvector and GIN on PostgreSQL. Every query carries the
//! same permission rules as the pages that show the things found: a private community's posts only
//! for its members, nothing deleted or hidden by a moderator, no draft campaign's ideas for
//! non-managers, and an anonymous idea never found by its author's name.

use super::query::Parsed;
use crate::db::{Engine, Exec, Query, sql};
use crate::posts::PostRow;
use crate::posts::store::{post_columns, visible_to};

/// Narrows results; empty strings and `None` mean "any".
#[derive(Debug, Clone, Default)]
pub struct Filters {
    /// A username.
    pub author: String,
    /// A community slug.
    pub community: String,
    pub campaign: Option<i64>,
    pub from: Option<i64>,
    pub until: Option<i64>,
}

/// How many of the newest matches a search ranks by relevance (posts and ideas alike).
const RANKED_AMONG: i64 = 1000;

macro_rules! post_search_joins {
    () => {
        " JOIN users u ON u.id = p.author_id
          LEFT JOIN posts pp ON pp.id = p.parent_id
          LEFT JOIN users pu ON pu.id = pp.author_id
          LEFT JOIN communities c ON c.id = p.community_id "
    };
}

macro_rules! post_search_rules {
    () => {
        concat!(
            " AND p.deleted_at IS NULL AND p.hidden_at IS NULL AND ",
            visible_to!("$2"),
            " AND ($3 = '' OR u.username = $3) AND ($4 = '' OR c.slug = $4)
              AND p.created_at >= $5 AND p.created_at < $6 "
        )
    };
}

/// Posts and replies matching `query` that `viewer_id` may see, best first. Relevance is ranked
/// among the newest 1,000 matching posts: ranking every match of a common word in a million posts
/// costs a scan of all of them, while a word rare enough to matter has fewer matches than that and
/// is ranked over all of them. Each candidate is a lookup of its post for the permission rules, so
/// the bound is also the cost of a search. (Figures: docs/benchmarks.md, "Figures behind the code".)
pub async fn posts(
    db: &mut impl Exec,
    query: &Parsed,
    viewer_id: i64,
    filters: &Filters,
    offset: i64,
    limit: i64,
) -> Result<Vec<PostRow>, sqlx::Error> {
    let engine = db.engine();
    let statement = match engine {
        Engine::Sqlite => sql(concat!(
            "SELECT ",
            post_columns!(),
            " FROM (SELECT rowid AS hit, bm25(posts_fts) AS score FROM posts_fts WHERE posts_fts MATCH $1
                    ORDER BY rowid DESC LIMIT $9) f
              JOIN posts p ON p.id = f.hit",
            post_search_joins!(),
            "WHERE TRUE",
            post_search_rules!(),
            "ORDER BY f.score, p.id DESC LIMIT $7 OFFSET $8"
        )),
        Engine::Postgres => sql(concat!(
            "SELECT ",
            post_columns!(),
            " FROM (SELECT id AS hit FROM posts WHERE search @@ to_tsquery('english', $1)
                    ORDER BY id DESC LIMIT $9) f
              JOIN posts p ON p.id = f.hit",
            post_search_joins!(),
            "WHERE TRUE",
            post_search_rules!(),
            "ORDER BY ts_rank(p.search, to_tsquery('english', $1)) DESC, p.id DESC LIMIT $7 OFFSET $8"
        )),
    };
    let statement = bind_post_rules(statement.bind(query.expression(engine, false)), viewer_id, filters);
    db.fetch_all(statement.bind(limit).bind(offset).bind(RANKED_AMONG).planned_per_call()).await
}

/// Binds `$2` to `$6` of `post_search_rules!`.
fn bind_post_rules(query: Query, viewer_id: i64, filters: &Filters) -> Query {
    query
        .bind(viewer_id)
        .bind(filters.author.clone())
        .bind(filters.community.clone())
        .bind(filters.from.unwrap_or(i64::MIN))
        .bind(filters.until.unwrap_or(i64::MAX))
}

/// An idea as search shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct IdeaHit {
    pub id: i64,
    pub campaign_id: i64,
    pub campaign_title: String,
    pub title: String,
    pub body: String,
    pub anonymous: bool,
    pub author_username: String,
    pub author_display_name: String,
    pub stage: String,
    pub created_at: i64,
    pub merged_into_id: Option<i64>,
    pub vote_count: i64,
}

macro_rules! idea_search_columns {
    () => {
        "i.id, i.campaign_id, ca.title AS campaign_title, i.title, i.body, i.anonymous,
         u.username AS author_username, u.display_name AS author_display_name, i.stage, i.created_at,
         i.merged_into_id, i.vote_count"
    };
}

macro_rules! idea_search_rules {
    () => {
        " JOIN users u ON u.id = i.author_id JOIN campaigns ca ON ca.id = i.campaign_id
          WHERE i.hidden_at IS NULL
            AND ($3 = 2 OR ((ca.status <> 'draft' OR $3 = 1)
                            AND (ca.community_id IS NULL
                                 OR EXISTS (SELECT 1 FROM community_members m
                                            WHERE m.community_id = ca.community_id AND m.user_id = $2))))
            AND ($4 = '' OR (u.username = $4 AND NOT i.anonymous))
            AND ($5 = 0 OR i.campaign_id = $5)
            AND i.created_at >= $6 AND i.created_at < $7 "
    };
}

/// Ideas matching `query` in campaigns `viewer_id` may see (`manager`: drafts too), best first,
/// ranked among the newest [`RANKED_AMONG`] matches as posts are: a common word matches a large share
/// of all ideas, and ranking them all is slow under load (docs/benchmarks.md).
/// With `any`, one matching word is enough (for "similar ideas").
#[allow(clippy::too_many_arguments)]
pub async fn ideas(
    db: &mut impl Exec,
    query: &Parsed,
    any: bool,
    viewer_id: i64,
    reach: i64,
    filters: &Filters,
    offset: i64,
    limit: i64,
) -> Result<Vec<IdeaHit>, sqlx::Error> {
    let engine = db.engine();
    let statement = match engine {
        Engine::Sqlite => sql(concat!(
            "SELECT ",
            idea_search_columns!(),
            " FROM (SELECT rowid AS hit, bm25(ideas_fts, 3.0, 1.0) AS score FROM ideas_fts WHERE ideas_fts MATCH $1
                    ORDER BY rowid DESC LIMIT $10) f
              JOIN ideas i ON i.id = f.hit",
            idea_search_rules!(),
            "ORDER BY f.score, i.id DESC LIMIT $8 OFFSET $9"
        )),
        Engine::Postgres => sql(concat!(
            "SELECT ",
            idea_search_columns!(),
            " FROM (SELECT id AS hit FROM ideas WHERE search @@ to_tsquery('english', $1)
                    ORDER BY id DESC LIMIT $10) f
              JOIN ideas i ON i.id = f.hit",
            idea_search_rules!(),
            "ORDER BY ts_rank(i.search, to_tsquery('english', $1)) DESC, i.id DESC LIMIT $8 OFFSET $9"
        )),
    };
    let statement = bind_idea_rules(statement.bind(query.expression(engine, any)), viewer_id, reach, filters);
    db.fetch_all(statement.bind(limit).bind(offset).bind(RANKED_AMONG).planned_per_call()).await
}

/// Binds `$2` to `$7` of `idea_search_rules!`.
fn bind_idea_rules(query: Query, viewer_id: i64, reach: i64, filters: &Filters) -> Query {
    query
        .bind(viewer_id)
        .bind(reach)
        .bind(filters.author.clone())
        .bind(filters.campaign.unwrap_or(0))
        .bind(filters.from.unwrap_or(i64::MIN))
        .bind(filters.until.unwrap_or(i64::MAX))
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PersonHit {
    pub username: String,
    pub display_name: String,
    pub job_title: String,
    pub department: String,
    pub location: String,
}

/// People whose name, username, title, department or location match (former employees left out).
pub async fn people(
    db: &mut impl Exec,
    query: &Parsed,
    offset: i64,
    limit: i64,
) -> Result<Vec<PersonHit>, sqlx::Error> {
    let engine = db.engine();
    let statement = match engine {
        Engine::Sqlite => sql("SELECT u.username, u.display_name, u.job_title, u.department, u.location
                               FROM users_fts JOIN users u ON u.id = users_fts.rowid
                               WHERE users_fts MATCH $1 AND u.deleted_at IS NULL
                               ORDER BY bm25(users_fts, 4.0, 4.0, 1.0, 1.0, 1.0), u.username LIMIT $2 OFFSET $3"),
        Engine::Postgres => sql("SELECT u.username, u.display_name, u.job_title, u.department, u.location
                                 FROM users u
                                 WHERE u.search @@ to_tsquery('simple', $1) AND u.deleted_at IS NULL
                                 ORDER BY ts_rank(u.search, to_tsquery('simple', $1)) DESC, u.username
                                 LIMIT $2 OFFSET $3"),
    };
    db.fetch_all(statement.bind(query.expression(engine, false)).bind(limit).bind(offset).planned_per_call()).await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CommunityHit {
    pub slug: String,
    pub name: String,
    pub description: String,
    pub is_private: bool,
}

/// Communities whose name or description holds each of the first three words (communities are
/// listed to everyone, private ones included; their posts are not).
pub async fn communities(db: &mut impl Exec, query: &Parsed, limit: i64) -> Result<Vec<CommunityHit>, sqlx::Error> {
    let patterns: Vec<String> = query
        .all_words()
        .into_iter()
        .take(3)
        .map(|w| format!("%{}%", crate::db::escape_like(w)))
        .chain(std::iter::repeat("%".to_owned()))
        .take(3)
        .collect();
    db.fetch_all(
        sql("SELECT slug, name, description, is_private FROM communities
             WHERE LOWER(name || ' ' || description) LIKE $1 ESCAPE '\\'
               AND LOWER(name || ' ' || description) LIKE $2 ESCAPE '\\'
               AND LOWER(name || ' ' || description) LIKE $3 ESCAPE '\\'
             ORDER BY name LIMIT $4")
        .bind(&patterns[0])
        .bind(&patterns[1])
        .bind(&patterns[2])
        .bind(limit),
    )
    .await
}

/// The most posts a topic's count in search goes up to; search shows "1000+ posts" beyond.
pub const TOPIC_COUNT_CAP: i64 = 1000;

/// The most topics starting with the query's word that are counted (alphabetically first).
const TOPIC_CANDIDATES: i64 = 50;

/// Topics starting with the query's first word, with how many posts `viewer_id` may see carry them
/// (at most [`TOPIC_COUNT_CAP`]), most used first. Topics are stored in lower case; the candidates
/// are read as a range of the `(topic, post_id)` key, and counting stops at the cap: counting every
/// post of a common topic in a large company is far too slow for a search (docs/benchmarks.md).
pub async fn topics(
    db: &mut impl Exec,
    query: &Parsed,
    viewer_id: i64,
    limit: i64,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    let Some(first) = query.all_words().first().map(|w| w.to_string()) else {
        return Ok(Vec::new());
    };
    db.fetch_all(
        sql(concat!(
            "SELECT topic, posts FROM (
                 SELECT t.topic,
                        (SELECT COUNT(*) FROM (
                             SELECT 1 FROM post_topics pt JOIN posts p ON p.id = pt.post_id
                             WHERE pt.topic = t.topic AND p.deleted_at IS NULL AND p.hidden_at IS NULL AND ",
            visible_to!("$2"),
            "                LIMIT $5) capped) AS posts
                 FROM (SELECT DISTINCT topic FROM post_topics
                       WHERE topic >= $1 AND topic < $6 AND topic LIKE $4 ESCAPE '\\'
                       ORDER BY topic LIMIT $7) t) counted
             WHERE posts > 0 ORDER BY posts DESC, topic LIMIT $3"
        ))
        .bind(&first)
        .bind(viewer_id)
        .bind(limit)
        .bind(format!("{}%", crate::db::escape_like(&first)))
        .bind(TOPIC_COUNT_CAP)
        .bind(prefix_end(&first))
        .bind(TOPIC_CANDIDATES),
    )
    .await
}

/// A string above every string that starts with `prefix` and below the next prefix: its last
/// character moved one up ("coffee" gives "coffef"), so that `>= prefix AND < end` is an index range.
/// (The exact prefix test is a `LIKE` beside it, for collations that order accents apart.)
fn prefix_end(prefix: &str) -> String {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        // The next scalar value, stepping over the surrogate gap; a last char::MAX is dropped and
        // the one before it moved instead.
        let next = (last as u32 + 1..=char::MAX as u32).find_map(char::from_u32);
        if let Some(next) = next {
            chars.push(next);
            return chars.into_iter().collect();
        }
    }
    // Only for an empty prefix (or one of char::MAX alone): above every topic.
    char::MAX.to_string()
}

/// Rebuilds the built-in indexes from the tables (SQLite; PostgreSQL computes its columns itself).
pub async fn rebuild(db: &mut impl Exec) -> Result<(), sqlx::Error> {
    if db.engine() == Engine::Sqlite {
        for statement in [
            "INSERT INTO posts_fts (posts_fts) VALUES ('rebuild')",
            "INSERT INTO ideas_fts (ideas_fts) VALUES ('rebuild')",
            "INSERT INTO users_fts (users_fts) VALUES ('rebuild')",
        ] {
            db.execute(sql(statement)).await?;
        }
    }
    Ok(())
}

/// The posts among `ids` that `viewer_id` may see under the same rules and filters (for results an
/// outside engine found: its index may lag behind the database, so every hit is checked again).
pub async fn posts_by_ids(
    db: &mut impl Exec,
    ids: &[i64],
    viewer_id: i64,
    filters: &Filters,
) -> Result<Vec<PostRow>, sqlx::Error> {
    let statement = crate::db::sql_in(
        concat!(
            "SELECT ",
            post_columns!(),
            " FROM posts p",
            post_search_joins!(),
            "WHERE p.id IN ({list})",
            post_search_rules!()
        ),
        7,
        ids.len(),
    );
    // `$1`, the query text elsewhere, is unused here.
    let query = bind_post_rules(statement.bind(0_i64), viewer_id, filters).bind_list(ids);
    let rows: Vec<PostRow> = db.fetch_all(query.planned_per_call()).await?;
    Ok(in_order(rows, ids, |p| p.id))
}

/// The ideas among `ids` that `viewer_id` may see under the same rules and filters.
pub async fn ideas_by_ids(
    db: &mut impl Exec,
    ids: &[i64],
    viewer_id: i64,
    reach: i64,
    filters: &Filters,
) -> Result<Vec<IdeaHit>, sqlx::Error> {
    let statement = crate::db::sql_in(
        concat!("SELECT ", idea_search_columns!(), " FROM ideas i", idea_search_rules!(), "AND i.id IN ({list})"),
        8,
        ids.len(),
    );
    let query = bind_idea_rules(statement.bind(0_i64), viewer_id, reach, filters).bind_list(ids);
    let rows: Vec<IdeaHit> = db.fetch_all(query.planned_per_call()).await?;
    Ok(in_order(rows, ids, |i| i.id))
}

/// The people among `ids` who are still here.
pub async fn people_by_ids(db: &mut impl Exec, ids: &[i64]) -> Result<Vec<PersonHit>, sqlx::Error> {
    let query = crate::db::sql_in(
        "SELECT u.id, u.username, u.display_name, u.job_title, u.department, u.location
         FROM users u WHERE u.deleted_at IS NULL AND u.id IN ({list})",
        1,
        ids.len(),
    )
    .bind_list(ids);
    let rows: Vec<(i64, String, String, String, String, String)> = db.fetch_all(query).await?;
    let rows = in_order(rows, ids, |r| r.0);
    Ok(rows
        .into_iter()
        .map(|(_, username, display_name, job_title, department, location)| PersonHit {
            username,
            display_name,
            job_title,
            department,
            location,
        })
        .collect())
}

/// `rows` in the order of `ids` (an outside engine's ranking).
fn in_order<T>(mut rows: Vec<T>, ids: &[i64], id_of: impl Fn(&T) -> i64) -> Vec<T> {
    rows.sort_by_key(|row| ids.iter().position(|id| *id == id_of(row)).unwrap_or(usize::MAX));
    rows
}

#[cfg(test)]
mod tests {
    use super::prefix_end;

    #[test]
    fn a_prefix_end_is_above_every_string_with_the_prefix_and_below_the_next() {
        assert_eq!(prefix_end("coffee"), "coffef");
        assert_eq!(prefix_end("caf\u{e9}"), "caf\u{ea}");
        assert_eq!(prefix_end("x\u{d7ff}"), "x\u{e000}", "the surrogates are stepped over");
        assert_eq!(prefix_end("ab\u{10ffff}"), "ac");
        for topic in ["coffee", "coffeebreak", "coffee_2026", "coffee\u{10ffff}"] {
            assert!(topic >= "coffee" && topic < prefix_end("coffee").as_str(), "{topic}");
        }
        assert!("coffef" >= prefix_end("coffee").as_str());
    }
}
