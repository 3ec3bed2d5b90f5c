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
        let (viewer, filters, parsed) = (self.viewer.id, self.filters, self.parsed);
        let reach = crate::ideas::campaign_reach(self.viewer);
        let (mut a, mut b, mut c) = (self.db, self.db, self.db);
        // Without filters a section's ranking is the same for everyone, and is reused for a while.
        let unfiltered = filters.author.is_empty()
            && filters.community.is_empty()
            && filters.campaign.is_none()
            && filters.from.is_none()
            && filters.until.is_none();
        let (people, posts, ideas) = tokio::join!(
            async { if wanted.people { store::people(&mut a, parsed, offset, limit).await } else { Ok(Vec::new()) } },
            async {
                if !wanted.posts {
                    Ok(Vec::new())
                } else if unfiltered {
                    let ranking = self.ranking(&mut b, Ranked::Posts).await?;
                    page(&ranking, offset, limit, |ids| async move {
                        store::posts_by_ids(&mut { self.db }, &ids, viewer, filters).await
                    })
                    .await
                } else {
                    store::posts(&mut b, parsed, viewer, filters, offset, limit).await
                }
            },
            async {
                if !wanted.ideas {
                    Ok(Vec::new())
                } else if unfiltered {
                    let ranking = self.ranking(&mut c, Ranked::Ideas).await?;
                    page(&ranking, offset, limit, |ids| async move {
                        store::ideas_by_ids(&mut { self.db }, &ids, viewer, reach, filters).await
                    })
                    .await
                } else {
                    store::ideas(&mut c, parsed, false, viewer, reach, filters, offset, limit).await
                }
            },
        );
        Ok(Found { people: people?, posts: posts?, ideas: ideas? })
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

/// Rows `offset..offset + limit` of a ranking among those the viewer may see: `read` gives the
/// visible rows of some ids in their order, and is asked for a few more than the page needs (most
/// matches are visible to most people), then for more while some were left out.
async fn page<T, F, Fut>(ranking: &Ranking, offset: i64, limit: i64, mut read: F) -> Result<Vec<T>, sqlx::Error>
where
    F: FnMut(Vec<i64>) -> Fut,
    Fut: Future<Output = Result<Vec<T>, sqlx::Error>>,
{
    let wanted = (offset.max(0) + limit.max(0)) as usize;
    let mut rows = Vec::new();
    let mut next = 0;
    while rows.len() < wanted && next < ranking.ids.len() {
        let missing = wanted - rows.len();
        let chunk = (missing + missing / 4 + 2).min(ranking.ids.len() - next);
        let ids: Vec<i64> = ranking.ids[next..next + chunk].iter().map(|(id, _)| *id).collect();
        next += chunk;
        rows.extend(read(ids).await?);
    }
    Ok(rows.into_iter().skip(offset.max(0) as usize).take(limit.max(0) as usize).collect())
}
