//! Where a search goes, decided in one place for every section and any front door: Meilisearch
//! when it is configured, built and answering, the built-in engine (always current) otherwise.
//! Either way the rows come from the database, so what a person may see is decided by the same
//! rules.

use super::Parsed;
use super::meili::{self, Asked, Meili};
use super::store::{self, Filters, IdeaHit, PersonHit};
use crate::accounts::User;
use crate::db::Db;
use crate::posts::PostRow;

/// One person's search: the words as parsed, and the filters.
pub struct Search<'a> {
    pub db: &'a Db,
    pub meili: Option<&'a Meili>,
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
        let (people, posts, ideas) = tokio::join!(
            async { if wanted.people { store::people(&mut a, parsed, offset, limit).await } else { Ok(Vec::new()) } },
            async {
                if wanted.posts {
                    store::posts(&mut b, parsed, viewer, filters, offset, limit).await
                } else {
                    Ok(Vec::new())
                }
            },
            async {
                if wanted.ideas {
                    store::ideas(&mut c, parsed, false, viewer, reach, filters, offset, limit).await
                } else {
                    Ok(Vec::new())
                }
            },
        );
        Ok(Found { people: people?, posts: posts?, ideas: ideas? })
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
