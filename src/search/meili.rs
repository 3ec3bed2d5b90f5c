//! The Meilisearch adapter (when `MEILI_URL` is set), written against Meilisearch's documented API
//! through meilisearch-sdk. Documents reach it through the outbox; permissions are applied twice:
//! as filters in the query (private communities the viewer is in, visible campaigns, nothing hidden or
//! deleted), and again on the hits against the database, which is the truth.

use std::time::Duration;

use meilisearch_sdk::client::Client;
use meilisearch_sdk::errors::Error;
use serde::Deserialize;

use super::outbox::{self, Entry};
use super::store::Filters;
use crate::config::MeiliConfig;
use crate::db::{Db, Exec};

/// The three indexes, after the configured prefix.
pub const POSTS: &str = "posts";
pub const IDEAS: &str = "ideas";
pub const PEOPLE: &str = "people";

/// How long a query may take before the built-in engine answers instead.
const QUERY_TIMEOUT: Duration = Duration::from_secs(2);

/// Outbox rows delivered per round.
const BATCH: i64 = 500;

#[derive(Clone)]
pub struct Meili {
    client: Client,
    pub url: String,
    prefix: String,
}

#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("Meilisearch: {0}")]
    Meili(#[from] Error),
}

#[derive(Deserialize)]
struct Hit {
    id: i64,
}

impl Meili {
    /// A client; no request is made until it is used.
    pub fn new(config: &MeiliConfig) -> Result<Meili, String> {
        let client = Client::new(config.url.clone(), config.key.clone()).map_err(|e| e.to_string())?;
        Ok(Meili { client, url: config.url.clone(), prefix: config.prefix.clone() })
    }

    fn index(&self, name: &str) -> meilisearch_sdk::indexes::Index {
        self.client.index(format!("{}_{name}", self.prefix))
    }

    pub async fn is_healthy(&self) -> bool {
        self.client.is_healthy().await
    }

    /// Declares what each index searches and filters on (Meilisearch applies it as a task).
    pub async fn prepare(&self) -> Result<(), Error> {
        let posts = self.index(POSTS);
        posts.set_searchable_attributes(["body"]).await?;
        posts
            .set_filterable_attributes(["members_only", "author", "community", "created_at", "hidden", "deleted"])
            .await?;
        let ideas = self.index(IDEAS);
        ideas.set_searchable_attributes(["title", "body"]).await?;
        ideas.set_filterable_attributes(["campaign_id", "author", "created_at", "hidden"]).await?;
        let people = self.index(PEOPLE);
        people.set_searchable_attributes(["display_name", "username", "job_title", "department", "location"]).await?;
        people.set_filterable_attributes(["deleted"]).await?;
        Ok(())
    }

    /// Delivers one batch of the outbox; returns how many rows it delivered (0: nothing waiting).
    pub async fn deliver(&self, db: &Db) -> Result<usize, DeliveryError> {
        let mut conn = db;
        let batch = outbox::next_batch(&mut conn, BATCH).await?;
        if batch.is_empty() {
            return Ok(0);
        }
        let ids_of = |kind: &str| -> Vec<i64> {
            let mut ids: Vec<i64> = batch.iter().filter(|e| e.kind == kind).map(|e| e.object_id).collect();
            ids.sort_unstable();
            ids.dedup();
            ids
        };
        let post_ids = ids_of("post");
        let posts = outbox::post_docs(&mut conn, &post_ids).await?;
        self.replace(POSTS, &posts, &post_ids, |d| d.id).await?;
        let idea_ids = ids_of("idea");
        let ideas = outbox::idea_docs(&mut conn, &idea_ids).await?;
        self.replace(IDEAS, &ideas, &idea_ids, |d| d.id).await?;
        let person_ids = ids_of("person");
        let people = outbox::person_docs(&mut conn, &person_ids).await?;
        self.replace(PEOPLE, &people, &person_ids, |d| d.id).await?;
        let delivered: Vec<i64> = batch.iter().map(|e: &Entry| e.id).collect();
        outbox::remove(&mut conn, &delivered).await?;
        Ok(delivered.len())
    }

    /// Sends `docs` and deletes the `ids` that have none (their rows are gone from the database).
    pub async fn replace<T: serde::Serialize + Send + Sync>(
        &self,
        index: &str,
        docs: &[T],
        ids: &[i64],
        id_of: impl Fn(&T) -> i64,
    ) -> Result<(), Error> {
        let index = self.index(index);
        if !docs.is_empty() {
            index.add_or_replace(docs, Some("id")).await?;
        }
        let gone: Vec<i64> = ids.iter().copied().filter(|id| !docs.iter().any(|d| id_of(d) == *id)).collect();
        if !gone.is_empty() {
            index.delete_documents(&gone).await?;
        }
        Ok(())
    }

    async fn ids(&self, index: &str, query: &str, filter: &str, offset: i64, limit: i64) -> Result<Vec<i64>, Error> {
        let index = self.index(index);
        let mut search = index.search();
        search.with_query(query).with_filter(filter).with_offset(offset as usize).with_limit(limit as usize);
        // A Meilisearch that hangs must not hang the page: after this long, the built-in engine answers.
        let results =
            tokio::time::timeout(QUERY_TIMEOUT, search.execute::<Hit>()).await.map_err(|_| Error::Timeout)??;
        Ok(results.hits.into_iter().map(|h| h.result.id).collect())
    }

    /// Post ids for `query`, filtered to what `member_of` (the viewer's communities) allows.
    pub async fn posts(
        &self,
        query: &str,
        member_of: &[i64],
        filters: &Filters,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<i64>, Error> {
        self.ids(POSTS, query, &post_filter(member_of, filters), offset, limit).await
    }

    /// Idea ids for `query` in the campaigns the viewer may see.
    pub async fn ideas(
        &self,
        query: &str,
        campaigns: &[i64],
        filters: &Filters,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<i64>, Error> {
        self.ids(IDEAS, query, &idea_filter(campaigns, filters), offset, limit).await
    }

    pub async fn people(&self, query: &str, offset: i64, limit: i64) -> Result<Vec<i64>, Error> {
        self.ids(PEOPLE, query, "deleted = false", offset, limit).await
    }
}

fn list(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
}

/// Only names made of letters, digits, `_` and `-` go into a filter (usernames and community slugs
/// are); anything else matches nothing.
fn quoted(value: &str) -> String {
    if value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        format!("\"{value}\"")
    } else {
        "\"\u{1}\"".into()
    }
}

fn dates(filters: &Filters) -> String {
    let mut out = String::new();
    if let Some(from) = filters.from {
        out.push_str(&format!(" AND created_at >= {from}"));
    }
    if let Some(until) = filters.until {
        out.push_str(&format!(" AND created_at < {until}"));
    }
    out
}

pub fn post_filter(member_of: &[i64], filters: &Filters) -> String {
    let mut filter = if member_of.is_empty() {
        "hidden = false AND deleted = false AND members_only = 0".to_owned()
    } else {
        format!("hidden = false AND deleted = false AND (members_only = 0 OR members_only IN [{}])", list(member_of))
    };
    if !filters.author.is_empty() {
        filter.push_str(&format!(" AND author = {}", quoted(&filters.author)));
    }
    if !filters.community.is_empty() {
        filter.push_str(&format!(" AND community = {}", quoted(&filters.community)));
    }
    filter + &dates(filters)
}

pub fn idea_filter(campaigns: &[i64], filters: &Filters) -> String {
    let mut filter = format!("hidden = false AND campaign_id IN [{}]", list(campaigns));
    if let Some(campaign) = filters.campaign {
        filter.push_str(&format!(" AND campaign_id = {campaign}"));
    }
    if !filters.author.is_empty() {
        filter.push_str(&format!(" AND author = {}", quoted(&filters.author)));
    }
    filter + &dates(filters)
}

/// Delivers the outbox for as long as the server runs: at once while rows wait, every second when
/// none do, and after a failure (Meilisearch down) backing off up to a minute. Rows are removed only
/// once delivered, so an outage delays indexing and loses nothing.
pub async fn run_worker(db: Db, meili: Meili) {
    if let Err(e) = meili.prepare().await {
        tracing::warn!(error = %e, url = %meili.url, "Meilisearch settings not applied yet; will deliver anyway");
    }
    let mut backoff = Duration::from_secs(1);
    loop {
        match meili.deliver(&db).await {
            Ok(0) => tokio::time::sleep(Duration::from_secs(1)).await,
            Ok(_) => backoff = Duration::from_secs(1),
            Err(e) => {
                tracing::warn!(error = %e, retry_in = ?backoff, "search outbox not delivered");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(60));
            }
        }
    }
}

/// The communities a viewer belongs to (for the posts filter).
pub async fn memberships(db: &mut impl Exec, user_id: i64) -> Result<Vec<i64>, sqlx::Error> {
    let rows: Vec<(i64,)> = db
        .fetch_all(crate::db::sql("SELECT community_id FROM community_members WHERE user_id = $1").bind(user_id))
        .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_carry_the_permission_rules() {
        let none = Filters::default();
        assert_eq!(post_filter(&[], &none), "hidden = false AND deleted = false AND members_only = 0");
        let f = Filters { author: "bo".into(), from: Some(10), until: Some(20), ..Filters::default() };
        assert_eq!(
            post_filter(&[3, 7], &f),
            "hidden = false AND deleted = false AND (members_only = 0 OR members_only IN [3, 7]) \
             AND author = \"bo\" AND created_at >= 10 AND created_at < 20"
        );
        let sneaky = Filters { author: "x\" OR hidden = true".into(), ..Filters::default() };
        assert!(!post_filter(&[], &sneaky).contains("OR hidden"));
        let f = Filters { campaign: Some(4), ..Filters::default() };
        assert_eq!(idea_filter(&[4, 5], &f), "hidden = false AND campaign_id IN [4, 5] AND campaign_id = 4");
        assert_eq!(idea_filter(&[], &none), "hidden = false AND campaign_id IN []");
    }
}
