//! The search outbox and the documents an outside engine indexes. Triggers write a row for every
//! change to a post, idea or person in the writing transaction (while the `search.outbox` setting is
//! on); the worker reads rows oldest first, sends the documents as they are now, and removes exactly
//! the rows it delivered.

use serde::Serialize;

use crate::db::fulltext::stems;
use crate::db::{Exec, now, sql, sql_in};

/// Turns the outbox on (Meilisearch configured) or off (the built-in engine needs none). Off, changes
/// go unrecorded, so Meilisearch's indexes no longer count as built: they are rebuilt before
/// Meilisearch answers again.
pub async fn set_enabled(db: &mut impl Exec, on: bool) -> Result<(), sqlx::Error> {
    if !on {
        db.execute(sql("DELETE FROM site_settings WHERE key LIKE 'search.meili.%'")).await?;
    }
    db.execute(
        sql("INSERT INTO site_settings (key, value) VALUES ('search.outbox', $1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value")
        .bind(if on { "on" } else { "off" }),
    )
    .await?;
    Ok(())
}

/// Rows waiting, and the age in seconds of the oldest.
pub async fn backlog(db: &mut impl Exec) -> Result<(i64, Option<i64>), sqlx::Error> {
    let (count, oldest): (i64, Option<i64>) =
        db.fetch_one(sql("SELECT COUNT(*), MIN(created_at) FROM search_outbox")).await?;
    Ok((count, oldest.map(|t| (now() - t).max(0))))
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Entry {
    pub id: i64,
    pub kind: String,
    pub object_id: i64,
}

pub async fn next_batch(db: &mut impl Exec, limit: i64) -> Result<Vec<Entry>, sqlx::Error> {
    db.fetch_all(sql("SELECT id, kind, object_id FROM search_outbox ORDER BY id").limit(limit)).await
}

/// Removes delivered rows (by id: rows written meanwhile stay for the next round).
pub async fn remove(db: &mut impl Exec, ids: &[i64]) -> Result<(), sqlx::Error> {
    let query = sql_in("DELETE FROM search_outbox WHERE id IN ({list})", 1, ids.len()).bind_list(ids);
    db.execute(query).await?;
    Ok(())
}

/// A post as the outside engine stores it. Permission fields are filters: `members_only` is the
/// private community whose members alone may see it (0 for none).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct PostDoc {
    pub id: i64,
    pub body: String,
    /// What Meilisearch searches: the body's word stems ([`crate::db::fulltext::stems`]).
    #[sqlx(skip)]
    pub stems: String,
    pub author: String,
    pub community: String,
    pub members_only: i64,
    pub created_at: i64,
    pub hidden: bool,
    pub deleted: bool,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct IdeaDoc {
    pub id: i64,
    pub title: String,
    pub body: String,
    #[sqlx(skip)]
    pub title_stems: String,
    #[sqlx(skip)]
    pub stems: String,
    pub campaign_id: i64,
    /// Empty for an anonymous idea, so that nobody finds it by its author.
    pub author: String,
    pub created_at: i64,
    pub hidden: bool,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct PersonDoc {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub job_title: String,
    pub department: String,
    pub location: String,
    pub deleted: bool,
}

macro_rules! post_doc {
    () => {
        "SELECT p.id, p.body, u.username AS author, COALESCE(c.slug, '') AS community,
                COALESCE(p.members_only, 0) AS members_only, p.created_at,
                p.hidden_at IS NOT NULL AS hidden, p.deleted_at IS NOT NULL AS deleted
         FROM posts p JOIN users u ON u.id = p.author_id LEFT JOIN communities c ON c.id = p.community_id "
    };
}

macro_rules! idea_doc {
    () => {
        "SELECT i.id, i.title, i.body, i.campaign_id,
                CASE WHEN i.anonymous THEN '' ELSE u.username END AS author, i.created_at,
                i.hidden_at IS NOT NULL AS hidden
         FROM ideas i JOIN users u ON u.id = i.author_id "
    };
}

macro_rules! person_doc {
    () => {
        "SELECT u.id, u.username, u.display_name, u.job_title, u.department, u.location,
                u.deleted_at IS NOT NULL AS deleted
         FROM users u "
    };
}

/// Fills in what the database does not store: the stems Meilisearch searches.
pub trait Document: Serialize + Send + Sync {
    fn id(&self) -> i64;
    fn stemmed(self) -> Self;
}

impl Document for PostDoc {
    fn id(&self) -> i64 {
        self.id
    }
    fn stemmed(self) -> Self {
        PostDoc { stems: stems(&self.body), ..self }
    }
}

impl Document for IdeaDoc {
    fn id(&self) -> i64 {
        self.id
    }
    fn stemmed(self) -> Self {
        IdeaDoc { title_stems: stems(&self.title), stems: stems(&self.body), ..self }
    }
}

impl Document for PersonDoc {
    fn id(&self) -> i64 {
        self.id
    }
    fn stemmed(self) -> Self {
        self
    }
}

macro_rules! documents {
    ($by_ids:ident, $after:ident, $doc:ty, $select:expr, $alias:literal) => {
        /// The documents of these ids as they are now (an id without one is gone: delete it).
        pub async fn $by_ids(db: &mut impl Exec, ids: &[i64]) -> Result<Vec<$doc>, sqlx::Error> {
            let query = sql_in(concat!($select, "WHERE ", $alias, ".id IN ({list})"), 1, ids.len()).bind_list(ids);
            let docs: Vec<$doc> = db.fetch_all(query).await?;
            Ok(docs.into_iter().map(Document::stemmed).collect())
        }

        /// The next documents after the id `after`, for a rebuild.
        pub async fn $after(db: &mut impl Exec, after: i64, limit: i64) -> Result<Vec<$doc>, sqlx::Error> {
            let docs: Vec<$doc> = db
                .fetch_all(
                    sql(concat!($select, "WHERE ", $alias, ".id > $1 ORDER BY ", $alias, ".id"))
                        .bind(after)
                        .limit(limit),
                )
                .await?;
            Ok(docs.into_iter().map(Document::stemmed).collect())
        }
    };
}

documents!(post_docs, post_docs_after, PostDoc, post_doc!(), "p");
documents!(idea_docs, idea_docs_after, IdeaDoc, idea_doc!(), "i");
documents!(person_docs, person_docs_after, PersonDoc, person_doc!(), "u");

/// How many rows a rebuild goes through, for its progress bar.
pub async fn totals(db: &mut impl Exec) -> Result<[i64; 3], sqlx::Error> {
    let (people, posts, ideas): (i64, i64, i64) = db
        .fetch_one(sql(
            "SELECT (SELECT COUNT(*) FROM users), (SELECT COUNT(*) FROM posts), (SELECT COUNT(*) FROM ideas)",
        ))
        .await?;
    Ok([people, posts, ideas])
}
