//! The built-in engine's SQL: FTS5 on SQLite, tsvector and GIN on PostgreSQL. Every query carries the
//! same permission rules as the pages that show the things found: a private community's posts only
//! for its members, nothing deleted or hidden by a moderator, no draft campaign's ideas for
//! non-managers, and an anonymous idea never found by its author's name.

use crate::db::fulltext::{Parsed, RANKED_AMONG};
use crate::db::{Engine, Exec, Query, sql};
use crate::ideas::Reach;
use crate::ideas::store::campaign_visible;
use crate::posts::PostRow;
use crate::posts::store::{post_columns, post_lookups, visible_to};

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

/// The rules every post search applies after a `WHERE`: nothing deleted or hidden, nothing the
/// viewer may not see, and the filters that are set.
fn post_rules(viewer_id: i64, filters: &Filters) -> Query {
    let mut rules = sql("p.deleted_at IS NULL AND p.hidden_at IS NULL AND ").and(visible_to(viewer_id));
    if !filters.author.is_empty() {
        rules = rules.push(" AND u.username = ").value(filters.author.clone());
    }
    if !filters.community.is_empty() {
        rules = rules.push(" AND c.slug = ").value(filters.community.clone());
    }
    if let Some(from) = filters.from {
        rules = rules.push(" AND p.created_at >= ").value(from);
    }
    if let Some(until) = filters.until {
        rules = rules.push(" AND p.created_at < ").value(until);
    }
    rules.push(" ")
}

/// What [`ranked`] ranks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ranked {
    Posts,
    Ideas,
}

/// The newest [`RANKED_AMONG`] matches of `expression` with an id above `after`, each with its
/// relevance score (lower is better), for every viewer alike: what a viewer may see is decided when
/// the page's rows are read ([`posts_by_ids`], [`ideas_by_ids`]).
pub async fn ranked(
    db: &mut impl Exec,
    what: Ranked,
    expression: &str,
    after: i64,
) -> Result<Vec<(i64, f64)>, sqlx::Error> {
    let statement = match (db.engine(), what) {
        (Engine::Sqlite, Ranked::Posts) => sql("SELECT rowid, bm25(posts_fts) FROM posts_fts
                                                WHERE posts_fts MATCH $1 AND rowid > $2 ORDER BY rowid DESC LIMIT $3"),
        (Engine::Sqlite, Ranked::Ideas) => sql("SELECT rowid, bm25(ideas_fts, 3.0, 1.0) FROM ideas_fts
                                                WHERE ideas_fts MATCH $1 AND rowid > $2 ORDER BY rowid DESC LIMIT $3"),
        // ts_rank is higher for better matches: negated, lower is better on both engines.
        (Engine::Postgres, Ranked::Posts) => {
            sql("SELECT id, -ts_rank(search, to_tsquery('english', $1))::float8 FROM posts
                                                  WHERE search @@ to_tsquery('english', $1) AND id > $2
                                                  ORDER BY id DESC LIMIT $3")
        }
        (Engine::Postgres, Ranked::Ideas) => {
            sql("SELECT id, -ts_rank(search, to_tsquery('english', $1))::float8 FROM ideas
                                                  WHERE search @@ to_tsquery('english', $1) AND id > $2
                                                  ORDER BY id DESC LIMIT $3")
        }
    };
    db.fetch_all(statement.bind(expression.to_owned()).bind(after).bind(RANKED_AMONG).planned_per_call()).await
}

/// The newest id of the table [`ranked`] reads.
pub async fn newest(db: &mut impl Exec, what: Ranked) -> Result<i64, sqlx::Error> {
    let query = match what {
        Ranked::Posts => sql("SELECT MAX(id) FROM posts"),
        Ranked::Ideas => sql("SELECT MAX(id) FROM ideas"),
    };
    let (newest,): (Option<i64>,) = db.fetch_one(query).await?;
    Ok(newest.unwrap_or(0))
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
    pub stage: crate::ideas::Stage,
    pub created_at: i64,
    pub merged_into_id: Option<i64>,
    pub vote_count: i64,
}

macro_rules! idea_search_columns {
    () => {
        "i.id, i.campaign_id, c.title AS campaign_title, i.title, i.body, i.anonymous,
         u.username AS author_username, u.display_name AS author_display_name, i.stage, i.created_at,
         i.merged_into_id, i.vote_count"
    };
}

/// The joins and rules every idea search applies: nothing hidden, only campaigns the viewer may
/// see (as the campaign pages decide), an anonymous idea never found by its author's name, and the
/// filters that are set.
fn idea_rules(viewer_id: i64, reach: Reach, filters: &Filters) -> Query {
    let mut rules = sql(" JOIN users u ON u.id = i.author_id JOIN campaigns c ON c.id = i.campaign_id
                          WHERE i.hidden_at IS NULL AND ")
    .and(campaign_visible(viewer_id, reach));
    if !filters.author.is_empty() {
        rules = rules.push(" AND u.username = ").value(filters.author.clone()).push(" AND NOT i.anonymous");
    }
    if let Some(campaign) = filters.campaign {
        rules = rules.push(" AND i.campaign_id = ").value(campaign);
    }
    if let Some(from) = filters.from {
        rules = rules.push(" AND i.created_at >= ").value(from);
    }
    if let Some(until) = filters.until {
        rules = rules.push(" AND i.created_at < ").value(until);
    }
    rules.push(" ")
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

/// The most posts a topic's count in search goes up to; search shows "100+ posts" beyond.
pub const TOPIC_COUNT_CAP: i64 = 100;

/// The most topics starting with the query's word that are counted (alphabetically first).
const TOPIC_CANDIDATES: i64 = 20;

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
        sql("SELECT topic, posts FROM (
                 SELECT t.topic,
                        (SELECT COUNT(*) FROM (
                             SELECT 1 FROM post_topics pt JOIN posts p ON p.id = pt.post_id
                             WHERE pt.topic = t.topic AND p.deleted_at IS NULL AND p.hidden_at IS NULL AND ")
        .and(visible_to(viewer_id))
        .limit(TOPIC_COUNT_CAP)
        .push(
            ") capped) AS posts
                 FROM (SELECT DISTINCT topic FROM post_topics
                       WHERE topic >= ",
        )
        .value(first.clone())
        .push(" AND topic < ")
        .value(prefix_end(&first))
        .push(" AND topic LIKE ")
        .value(format!("{}%", crate::db::escape_like(&first)))
        .push(" ESCAPE '\\' ORDER BY topic")
        .limit(TOPIC_CANDIDATES)
        .push(") t) counted WHERE posts > 0 ORDER BY posts DESC, topic")
        .limit(limit),
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
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let query = sql(concat!("SELECT ", post_columns!(), " FROM posts p", post_lookups!(), "WHERE "))
        .and(post_rules(viewer_id, filters))
        .push("AND p.id IN (")
        .list(ids)
        .push(")");
    // Kept prepared: a lookup by ids has one good plan, and planning this join on every call was
    // most of its cost on PostgreSQL (docs/benchmarks.md).
    let rows: Vec<PostRow> = db.fetch_all(query).await?;
    Ok(in_order(rows, ids, |p| p.id))
}

/// The ideas among `ids` that `viewer_id` may see under the same rules and filters.
pub async fn ideas_by_ids(
    db: &mut impl Exec,
    ids: &[i64],
    viewer_id: i64,
    reach: Reach,
    filters: &Filters,
) -> Result<Vec<IdeaHit>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let query = sql(concat!("SELECT ", idea_search_columns!(), " FROM ideas i"))
        .and(idea_rules(viewer_id, reach, filters))
        .push("AND i.id IN (")
        .list(ids)
        .push(")");
    let rows: Vec<IdeaHit> = db.fetch_all(query).await?;
    Ok(in_order(rows, ids, |i| i.id))
}

/// The people among `ids` who are still here.
pub async fn people_by_ids(db: &mut impl Exec, ids: &[i64]) -> Result<Vec<PersonHit>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let query = crate::db::sql_in(
        "SELECT u.id, u.username, u.display_name, u.job_title, u.department, u.location
         FROM users u WHERE u.deleted_at IS NULL AND u.id IN ({list})",
        1,
        ids.len(),
    )
    .bind_list(ids);
    let rows: Vec<PersonById> = db.fetch_all(query).await?;
    Ok(in_order(rows, ids, |r| r.id).into_iter().map(|r| r.person).collect())
}

/// A person found by id, with the id to put them in the outside engine's order.
#[derive(sqlx::FromRow)]
struct PersonById {
    id: i64,
    #[sqlx(flatten)]
    person: PersonHit,
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
