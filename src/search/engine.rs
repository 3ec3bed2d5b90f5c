//! Where a search goes, decided in one place for every section and any front door: Meilisearch
//! when it is configured, built and answering, the built-in engine (always current) otherwise.
//! Either way the rows come from the database, so what a person may see is decided by the same
//! rules.

use std::future::Future;
use std::sync::Arc;

use super::Parsed;
use super::cache::{self, RankCache, Ranking};
use super::meili::{self, Asked, Meili};
use super::store::{self, Filters, IdeaHit, PersonHit, Ranked};
use crate::accounts::User;
use crate::db::fulltext::RANKED_AMONG;
use crate::db::{Db, Exec};
use crate::posts::PostRow;

/// One person's search: the words as parsed, and the filters.
pub struct Search<'a> {
    pub db: &'a Db,
    pub meili: Option<&'a Meili>,
    pub rankings: &'a RankCache,
    pub parsed: &'a Parsed,
    pub viewer: &'a User,
    pub filters: &'a Filters,
}

/// The sections a page shows.
#[derive(Debug, Clone, Copy, Default)]
pub struct Wanted {
    pub people: bool,
    pub posts: bool,
    pub ideas: bool,
}

/// What a search found, per section, best first.
#[derive(Default)]
pub struct Found {
    pub people: Vec<PersonHit>,
    pub posts: Vec<PostRow>,
    pub ideas: Vec<IdeaHit>,
}

impl Search<'_> {
    /// Every wanted section at `offset`, up to `limit` each: from Meilisearch in one request, or
    /// from the built-in engine with the sections' statements run side by side.
    pub async fn run(&self, wanted: Wanted, offset: i64, limit: i64) -> Result<Found, sqlx::Error> {
        if let Some(meili) = self.meili
            && meili.usable(self.db).await
            && let Some(found) = self.outside(meili, wanted, offset, limit).await?
        {
            return Ok(found);
        }
        let (viewer, filters) = (self.viewer.id, self.filters);
        let reach = crate::ideas::campaign_reach(self.viewer);
        let (people, posts, ideas) = tokio::join!(
            async {
                if wanted.people {
                    store::people(&mut { self.db }, self.parsed, offset, limit).await
                } else {
                    Ok(Vec::new())
                }
            },
            self.section(wanted.posts, Ranked::Posts, offset, limit, |ids| async move {
                store::posts_by_ids(&mut { self.db }, &ids, viewer, filters).await
            }),
            self.section(wanted.ideas, Ranked::Ideas, offset, limit, |ids| async move {
                store::ideas_by_ids(&mut { self.db }, &ids, viewer, reach, filters).await
            }),
        );
        Ok(Found { people: people?, posts: posts?, ideas: ideas? })
    }

    /// A section's page from its ranking, which is the same for every viewer and every filter:
    /// permissions and filters apply to the rows the page reads ([`page`]).
    async fn section<T, F, Fut>(
        &self,
        wanted: bool,
        what: Ranked,
        offset: i64,
        limit: i64,
        read: F,
    ) -> Result<Vec<T>, sqlx::Error>
    where
        F: FnMut(Vec<i64>) -> Fut,
        Fut: Future<Output = Result<Vec<T>, sqlx::Error>>,
    {
        if !wanted {
            return Ok(Vec::new());
        }
        let ranking = self.ranking(&mut { self.db }, what).await?;
        page(&ranking, offset, limit, read).await
    }

    /// The section's ranking for this query: a fresh one from the cache topped up with what was
    /// written since, or a new one.
    async fn ranking(&self, db: &mut impl Exec, what: Ranked) -> Result<Ranking, sqlx::Error> {
        let expression = self.parsed.expression(db.engine(), false);
        // The newest id first: what is written after it is checked on the next search.
        let newest = store::newest(db, what).await?;
        if let Some(cached) = self.rankings.get(what, &expression) {
            if newest <= cached.newest {
                return Ok(cached);
            }
            let newer = store::ranked(db, what, &expression, cached.newest).await?;
            let ranking = cache::merged(&cached, newer, newest, RANKED_AMONG as usize);
            self.rankings.top_up(what, &expression, ranking.clone());
            return Ok(ranking);
        }
        let ids = store::ranked(db, what, &expression, 0).await?;
        let ranking = Ranking { ids: Arc::new(cache::best_first(ids)), newest };
        self.rankings.put(what, &expression, ranking.clone());
        Ok(ranking)
    }

    /// Meilisearch's answer with the rows read from the database, or `None` when it did not answer
    /// in time (the caller then asks the built-in engine).
    async fn outside(
        &self,
        meili: &Meili,
        wanted: Wanted,
        offset: i64,
        limit: i64,
    ) -> Result<Option<Found>, sqlx::Error> {
        let mut db = self.db;
        let viewer = self.viewer.id;
        let reach = crate::ideas::campaign_reach(self.viewer);
        // Meilisearch filters by the communities the viewer is in and the campaigns they may see; the
        // built-in engine joins them.
        let member_of = if wanted.posts { meili::memberships(&mut db, viewer).await? } else { Vec::new() };
        let campaigns: Vec<i64> = if wanted.ideas {
            crate::ideas::store::list_campaigns(&mut db, viewer, reach).await?.into_iter().map(|c| c.id).collect()
        } else {
            Vec::new()
        };
        let text = self.parsed.stemmed();
        let asked = Asked {
            text: &text,
            people: wanted.people,
            posts: wanted.posts.then_some(member_of.as_slice()),
            ideas: wanted.ideas.then_some(campaigns.as_slice()),
            filters: self.filters,
            offset,
            limit,
        };
        let ids = match meili.search(&asked).await {
            Ok(ids) => ids,
            Err(error) => {
                tracing::warn!(error = %error, "Meilisearch did not answer; searching with the built-in engine");
                return Ok(None);
            }
        };
        Ok(Some(Found {
            people: store::people_by_ids(&mut db, &ids.people).await?,
            posts: store::posts_by_ids(&mut db, &ids.posts, viewer, self.filters).await?,
            ideas: store::ideas_by_ids(&mut db, &ids.ideas, viewer, reach, self.filters).await?,
        }))
    }
}

/// Rows `offset..offset + limit` of a ranking among those the viewer may see and the filters keep:
/// `read` gives those rows of some ids in their order, and is asked for a few more than the page
/// needs (most matches are visible to most people), then for more while some were left out, at
/// least twice as many each time (a filter such as an author may keep one match in a hundred), so
/// that a search reads its whole window of [`RANKED_AMONG`] in a handful of statements.
async fn page<T, F, Fut>(ranking: &Ranking, offset: i64, limit: i64, mut read: F) -> Result<Vec<T>, sqlx::Error>
where
    F: FnMut(Vec<i64>) -> Fut,
    Fut: Future<Output = Result<Vec<T>, sqlx::Error>>,
{
    let wanted = (offset.max(0) + limit.max(0)) as usize;
    let mut rows = Vec::new();
    let mut next = 0;
    let mut chunk = 0;
    while rows.len() < wanted && next < ranking.ids.len() {
        let missing = wanted - rows.len();
        chunk = (missing + missing / 4 + 2).max(chunk * 2).min(ranking.ids.len() - next);
        let ids: Vec<i64> = ranking.ids[next..next + chunk].iter().map(|(id, _)| *id).collect();
        next += chunk;
        rows.extend(read(ids).await?);
    }
    Ok(rows.into_iter().skip(offset.max(0) as usize).take(limit.max(0) as usize).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Reads of a window of 1,000 where the filter keeps one match in `every`.
    async fn reads(every: i64, offset: i64, limit: i64) -> (usize, Vec<i64>) {
        let ranking = Ranking { ids: Arc::new((1..=1000).rev().map(|id| (id, 0.0)).collect()), newest: 1000 };
        let calls = AtomicUsize::new(0);
        let rows = page(&ranking, offset, limit, |ids| {
            calls.fetch_add(1, Ordering::Relaxed);
            async move { Ok(ids.into_iter().filter(|id| id % every == 0).collect::<Vec<i64>>()) }
        })
        .await
        .unwrap_or_default();
        (calls.into_inner(), rows)
    }

    #[tokio::test]
    async fn a_page_takes_one_read_when_all_are_visible_and_a_few_when_a_filter_keeps_few() {
        let (calls, rows) = reads(1, 0, 20).await;
        assert_eq!((calls, rows.len(), rows[0]), (1, 20, 1000));
        // An author filter keeping one match in a hundred: the whole window in a handful of reads.
        let (calls, rows) = reads(100, 0, 20).await;
        assert_eq!(rows, (1..=10).rev().map(|n| n * 100).collect::<Vec<_>>());
        assert!(calls <= 7, "{calls} reads");
        let (_, second) = reads(3, 20, 20).await;
        assert_eq!(second.first(), Some(&(999 - 3 * 20)));
    }
}
