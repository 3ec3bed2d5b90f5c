//! Where a search goes, decided in one place for every section and any front door: Meilisearch
//! when it is configured and answers, the built-in engine (always current) otherwise. Either way
//! the rows come from the database, so what a person may see is decided by the same rules.

use std::future::Future;

use super::Parsed;
use super::meili::{self, Meili};
use super::store::{self, Filters, IdeaHit, PersonHit};
use crate::accounts::User;
use crate::db::Db;
use crate::posts::PostRow;

/// One person's search: the words as typed (for Meilisearch) and parsed (for the built-in engine),
/// and the filters.
pub struct Search<'a> {
    db: Db,
    meili: Option<&'a Meili>,
    text: &'a str,
    parsed: &'a Parsed,
    viewer: &'a User,
    filters: &'a Filters,
}

impl<'a> Search<'a> {
    pub fn new(
        db: &Db,
        meili: Option<&'a Meili>,
        text: &'a str,
        parsed: &'a Parsed,
        viewer: &'a User,
        filters: &'a Filters,
    ) -> Search<'a> {
        Search { db: db.clone(), meili, text, parsed, viewer, filters }
    }

    /// Meilisearch's ids, best first, when it is configured and answers; `None` sends the section to
    /// the built-in engine.
    async fn outside<F>(&self, ask: impl FnOnce(&'a Meili) -> F) -> Option<Vec<i64>>
    where
        F: Future<Output = Result<Vec<i64>, meilisearch_sdk::errors::Error>>,
    {
        match ask(self.meili?).await {
            Ok(ids) => Some(ids),
            Err(error) => {
                tracing::warn!(error = %error, "Meilisearch did not answer; searching with the built-in engine");
                None
            }
        }
    }

    pub async fn people(&mut self, offset: i64, limit: i64) -> Result<Vec<PersonHit>, sqlx::Error> {
        match self.outside(|m| m.people(self.text, offset, limit)).await {
            Some(ids) => store::people_by_ids(&mut self.db, &ids).await,
            None => store::people(&mut self.db, self.parsed, offset, limit).await,
        }
    }

    /// Posts and replies the viewer may see.
    pub async fn posts(&mut self, offset: i64, limit: i64) -> Result<Vec<PostRow>, sqlx::Error> {
        let (viewer, filters) = (self.viewer.id, self.filters);
        // Meilisearch filters by the communities the viewer is in; the built-in engine joins them.
        let member_of = match self.meili {
            Some(_) => meili::memberships(&mut self.db, viewer).await?,
            None => Vec::new(),
        };
        match self.outside(|m| m.posts(self.text, &member_of, filters, offset, limit)).await {
            Some(ids) => store::posts_by_ids(&mut self.db, &ids, viewer, filters).await,
            None => store::posts(&mut self.db, self.parsed, viewer, filters, offset, limit).await,
        }
    }

    /// Ideas of campaigns the viewer may see.
    pub async fn ideas(&mut self, offset: i64, limit: i64) -> Result<Vec<IdeaHit>, sqlx::Error> {
        let (viewer, filters) = (self.viewer.id, self.filters);
        let reach = crate::ideas::campaign_reach(self.viewer);
        let campaigns: Vec<i64> = match self.meili {
            Some(_) => crate::ideas::store::list_campaigns(&mut self.db, viewer, reach)
                .await?
                .into_iter()
                .map(|c| c.id)
                .collect(),
            None => Vec::new(),
        };
        match self.outside(|m| m.ideas(self.text, &campaigns, filters, offset, limit)).await {
            Some(ids) => store::ideas_by_ids(&mut self.db, &ids, viewer, reach, filters).await,
            None => store::ideas(&mut self.db, self.parsed, false, viewer, reach, filters, offset, limit).await,
        }
    }
}
