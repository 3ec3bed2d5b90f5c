//! SQL for campaigns, ideas, votes and comments (stages, responses and merges are in `curation`). Votes, stage changes and merges each run in one transaction; votes
//! take a per-person lock first, so that a vote budget holds however many requests arrive at once.

mod curation;

pub use curation::*;

use super::{Campaign, ListedCampaign, NewCampaign, NewIdea, Reach, Stage};
use crate::db::fulltext::{Parsed, RANKED_AMONG};
use crate::db::{Engine, Exec, Query, Tx, now, sql};
use crate::notify::{self, About, Kind};

macro_rules! campaign_columns {
    () => {
        "SELECT c.id, c.title, c.question, c.description, c.community_id, co.name AS community_name, c.status,
                c.opens_at, c.closes_at, c.vote_budget, c.hide_counts, c.allow_anonymous"
    };
}

macro_rules! campaign_from {
    () => {
        " FROM campaigns c LEFT JOIN communities co ON co.id = c.community_id "
    };
}

/// True for campaign `c` when `viewer_id`, with `reach`, may see it: drafts only with
/// [`Reach::Drafts`], and a community's campaigns only for its members, unless the reach is
/// [`Reach::Everything`]. Search applies the same rule to the ideas it finds.
pub fn campaign_visible(viewer_id: i64, reach: Reach) -> Query {
    let members = " (c.community_id IS NULL
                     OR EXISTS (SELECT 1 FROM community_members m WHERE m.community_id = c.community_id AND m.user_id = ";
    match reach {
        Reach::Everything => sql("TRUE"),
        Reach::Drafts => sql(members).value(viewer_id).push("))"),
        Reach::Published => sql("c.status <> 'draft' AND").push(members).value(viewer_id).push("))"),
    }
}

pub async fn create_campaign(
    db: &mut impl Exec,
    creator_id: i64,
    campaign: &NewCampaign,
    community_id: Option<i64>,
) -> Result<i64, sqlx::Error> {
    let (id,): (i64,) = db
        .fetch_one(
            sql("INSERT INTO campaigns (title, question, description, community_id, opens_at, closes_at, vote_budget,
                                        hide_counts, allow_anonymous, created_by, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id")
            .bind(&campaign.title)
            .bind(&campaign.question)
            .bind(&campaign.description)
            .bind(community_id)
            .bind(campaign.opens_at)
            .bind(campaign.closes_at)
            .bind(campaign.vote_budget)
            .bind(campaign.hide_counts)
            .bind(campaign.allow_anonymous)
            .bind(creator_id)
            .bind(now()),
        )
        .await?;
    Ok(id)
}

/// Changes a campaign's text, window and rules. Votes already cast stay, even above a new budget.
pub async fn update_campaign(
    db: &mut impl Exec,
    id: i64,
    campaign: &NewCampaign,
    community_id: Option<i64>,
) -> Result<(), sqlx::Error> {
    db.execute(
        sql("UPDATE campaigns SET title = $1, question = $2, description = $3, community_id = $4, opens_at = $5,
                                  closes_at = $6, vote_budget = $7, hide_counts = $8, allow_anonymous = $9
             WHERE id = $10")
        .bind(&campaign.title)
        .bind(&campaign.question)
        .bind(&campaign.description)
        .bind(community_id)
        .bind(campaign.opens_at)
        .bind(campaign.closes_at)
        .bind(campaign.vote_budget)
        .bind(campaign.hide_counts)
        .bind(campaign.allow_anonymous)
        .bind(id),
    )
    .await?;
    Ok(())
}

pub async fn find_campaign(
    db: &mut impl Exec,
    id: i64,
    viewer_id: i64,
    reach: Reach,
) -> Result<Option<Campaign>, sqlx::Error> {
    db.fetch_optional(
        sql(concat!(campaign_columns!(), campaign_from!(), "WHERE c.id = $1 AND "))
            .bind(id)
            .and(campaign_visible(viewer_id, reach)),
    )
    .await
}

/// Every campaign `viewer_id` may see, newest closing first, after `select` (the columns).
fn campaign_list(select: &'static str, viewer_id: i64, reach: Reach) -> Query {
    sql(select)
        .push(concat!(campaign_from!(), "WHERE "))
        .and(campaign_visible(viewer_id, reach))
        .push(" ORDER BY c.closes_at DESC LIMIT 2000")
}

pub async fn list_campaigns(db: &mut impl Exec, viewer_id: i64, reach: Reach) -> Result<Vec<Campaign>, sqlx::Error> {
    db.fetch_all(campaign_list(campaign_columns!(), viewer_id, reach)).await
}

/// The campaigns' page: what `list_campaigns` lists, each with its number of ideas (merged ones not
/// counted). Counting reads every idea, so only this page asks for it.
pub async fn list_campaigns_counted(
    db: &mut impl Exec,
    viewer_id: i64,
    reach: Reach,
) -> Result<Vec<ListedCampaign>, sqlx::Error> {
    let counted = concat!(
        campaign_columns!(),
        ", (SELECT COUNT(*) FROM ideas i WHERE i.campaign_id = c.id AND i.merged_into_id IS NULL) AS idea_count"
    );
    db.fetch_all(campaign_list(counted, viewer_id, reach)).await
}

pub async fn set_status(db: &mut impl Exec, id: i64, status: super::Status) -> Result<(), sqlx::Error> {
    db.execute(sql("UPDATE campaigns SET status = $1 WHERE id = $2").bind(status.as_str()).bind(id)).await?;
    Ok(())
}

/// Publishes a draft, opening it at `open_at` when that is earlier than its planned start. False when
/// it was no longer a draft (published meanwhile by someone else), so it is announced only once.
pub async fn publish(db: &mut impl Exec, id: i64, open_at: Option<i64>) -> Result<bool, sqlx::Error> {
    let changed = db
        .execute(
            sql("UPDATE campaigns SET status = 'published',
                        opens_at = CASE WHEN $1 IS NOT NULL AND opens_at > $1 THEN $1 ELSE opens_at END
                 WHERE id = $2 AND status = 'draft'")
            .bind(open_at)
            .bind(id),
        )
        .await?;
    Ok(changed == 1)
}

/// Ends the campaign now (no more ideas or votes).
pub async fn close_now(db: &mut impl Exec, id: i64) -> Result<(), sqlx::Error> {
    let at = now();
    db.execute(
        sql("UPDATE campaigns SET closes_at = $1, opens_at = CASE WHEN opens_at > $1 THEN $1 - 1 ELSE opens_at END
             WHERE id = $2 AND closes_at > $1")
        .bind(at)
        .bind(id),
    )
    .await?;
    Ok(())
}

/// An idea with what its pages show.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct IdeaRow {
    pub id: i64,
    pub campaign_id: i64,
    pub author_id: i64,
    pub anonymous: bool,
    pub title: String,
    pub body: String,
    pub stage: Stage,
    pub official_response: Option<String>,
    pub response_at: Option<i64>,
    pub merged_into_id: Option<i64>,
    pub vote_count: i64,
    pub comment_count: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub author_username: String,
    pub author_display_name: String,
    pub responder_name: Option<String>,
    /// When a moderator hid it, if one did.
    pub hidden_at: Option<i64>,
    /// When its author last edited it.
    pub edited_at: Option<i64>,
}

impl IdeaRow {
    /// How its author is named to `viewer` ([`super::byline`]).
    pub fn byline(&self, viewer: &crate::accounts::User) -> super::Byline {
        super::byline(self.anonymous, self.author_id == viewer.id)
    }

    /// A moderator hid it and `viewer` is neither its author nor a moderator: they see only that.
    pub fn concealed_from(&self, viewer: &crate::accounts::User) -> bool {
        self.hidden_at.is_some() && self.author_id != viewer.id && !viewer.is_moderator()
    }
}

macro_rules! idea_columns {
    () => {
        "i.id, i.campaign_id, i.author_id, i.anonymous, i.title, i.body, i.stage, i.official_response, i.response_at,
         i.merged_into_id, i.vote_count, i.comment_count, i.created_at, i.updated_at,
         u.username AS author_username, u.display_name AS author_display_name, r.display_name AS responder_name, i.hidden_at,
         i.edited_at"
    };
}

macro_rules! idea_joins {
    () => {
        " FROM ideas i JOIN users u ON u.id = i.author_id LEFT JOIN users r ON r.id = i.response_by "
    };
}

pub async fn create_idea(
    tx: &mut Tx,
    campaign_id: i64,
    author_id: i64,
    idea: &NewIdea,
    source_post_id: Option<i64>,
) -> Result<i64, sqlx::Error> {
    let at = now();
    let (id,): (i64,) = tx
        .fetch_one(
            sql("INSERT INTO ideas (campaign_id, author_id, anonymous, title, body, source_post_id, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id")
            .bind(campaign_id)
            .bind(author_id)
            .bind(idea.anonymous)
            .bind(&idea.title)
            .bind(&idea.body)
            .bind(source_post_id)
            .bind(at),
        )
        .await?;
    if let Some(post_id) = source_post_id {
        crate::posts::store::link_idea(tx, post_id, author_id, id).await?;
    }
    Ok(id)
}

pub async fn find_idea(db: &mut impl Exec, id: i64) -> Result<Option<IdeaRow>, sqlx::Error> {
    db.fetch_optional(sql(concat!("SELECT ", idea_columns!(), idea_joins!(), "WHERE i.id = $1")).bind(id)).await
}

/// How a campaign's ideas are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    Top,
    Newest,
    Trending,
    Discussed,
}

impl Sort {
    pub fn parse(value: &str) -> Sort {
        match value {
            "newest" => Sort::Newest,
            "trending" => Sort::Trending,
            "discussed" => Sort::Discussed,
            _ => Sort::Top,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Sort::Top => "top",
            Sort::Newest => "newest",
            Sort::Trending => "trending",
            Sort::Discussed => "discussed",
        }
    }
}

/// Votes in the last week count four times in "trending": once as votes, three times more as recent.
pub const TRENDING_WINDOW: i64 = 7 * 86_400;
pub(super) const RECENT_BONUS: i64 = 3;

/// Recomputes the trending score of every idea in campaigns that are open or closed less than a
/// week ago, so that votes older than the window stop counting extra. Run every few minutes.
pub async fn refresh_trending(db: &mut impl Exec) -> Result<u64, sqlx::Error> {
    let at = now();
    db.execute(
        sql("UPDATE ideas SET trend_score = vote_count
                 + $1 * (SELECT COUNT(*) FROM idea_votes v WHERE v.idea_id = ideas.id AND v.created_at > $2)
             WHERE campaign_id IN (SELECT id FROM campaigns WHERE status = 'published' AND closes_at > $2)")
        .bind(RECENT_BONUS)
        .bind(at - TRENDING_WINDOW),
    )
    .await
}

/// One page of ideas and the sort key of each, for the next page's cursor. Merged ideas are listed
/// only when the stage filter asks for them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RankedIdea {
    #[sqlx(flatten)]
    pub idea: IdeaRow,
    pub sort_key: i64,
}

pub async fn list_ideas(
    db: &mut impl Exec,
    campaign_id: i64,
    sort: Sort,
    stage: Option<Stage>,
    cursor: Option<(i64, i64)>,
    limit: i64,
) -> Result<Vec<RankedIdea>, sqlx::Error> {
    let sort_key = match sort {
        Sort::Top => "i.vote_count",
        Sort::Newest => "i.id",
        Sort::Discussed => "i.comment_count",
        Sort::Trending => "i.trend_score",
    };
    let (key, id) = cursor.unwrap_or((i64::MAX, i64::MAX));
    let query = sql(concat!("SELECT * FROM (SELECT ", idea_columns!(), ", "))
        .push(sort_key)
        .push(concat!(" AS sort_key", idea_joins!(), "WHERE i.campaign_id = "))
        .value(campaign_id);
    // Without a stage, merged ideas are left out (they are listed under the idea they joined).
    let query = match stage {
        Some(stage) => query.push(" AND i.stage = ").value(stage.as_str()),
        None => query.push(" AND i.merged_into_id IS NULL"),
    };
    db.fetch_all(
        query
            .push(") ranked WHERE sort_key < ")
            .value(key)
            .push(" OR (sort_key = ")
            .value(key)
            .push(" AND id < ")
            .value(id)
            .push(") ORDER BY sort_key DESC, id DESC")
            .limit(limit),
    )
    .await
}

/// Ideas of a campaign the person has voted for (standing ideas only: a merged idea's votes moved).
pub async fn my_votes(db: &mut impl Exec, campaign_id: i64, user_id: i64) -> Result<Vec<i64>, sqlx::Error> {
    let rows: Vec<(i64,)> = db
        .fetch_all(
            sql("SELECT v.idea_id FROM idea_votes v JOIN ideas i ON i.id = v.idea_id
                 WHERE v.campaign_id = $1 AND v.user_id = $2 AND i.merged_into_id IS NULL")
            .bind(campaign_id)
            .bind(user_id),
        )
        .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// Why a vote was not counted.
#[derive(Debug, PartialEq, Eq)]
pub enum VoteRefused {
    BudgetSpent(i64),
}

/// Counts one vote for the idea, unless the person's vote budget for the campaign is spent. A
/// second vote for the same idea changes nothing.
pub async fn vote(
    tx: &mut Tx,
    idea: &IdeaRow,
    user_id: i64,
    budget: Option<i64>,
) -> Result<Result<(), VoteRefused>, sqlx::Error> {
    // One person's votes are taken one at a time (SQLite's write transactions already are).
    if tx.engine() == Engine::Postgres {
        tx.execute(sql("SELECT pg_advisory_xact_lock($1)").bind(user_id)).await?;
    }
    if let Some(budget) = budget {
        let used = my_votes(tx, idea.campaign_id, user_id).await?;
        if used.len() as i64 >= budget && !used.contains(&idea.id) {
            return Ok(Err(VoteRefused::BudgetSpent(budget)));
        }
    }
    let added = tx
        .execute(
            sql("INSERT INTO idea_votes (idea_id, user_id, campaign_id, created_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT DO NOTHING")
            .bind(idea.id)
            .bind(user_id)
            .bind(idea.campaign_id)
            .bind(now()),
        )
        .await?;
    if added == 1 {
        tx.execute(
            sql("UPDATE ideas SET vote_count = vote_count + 1, trend_score = trend_score + 1 + $2 WHERE id = $1")
                .bind(idea.id)
                .bind(RECENT_BONUS),
        )
        .await?;
    }
    Ok(Ok(()))
}

pub async fn unvote(tx: &mut Tx, idea: &IdeaRow, user_id: i64) -> Result<(), sqlx::Error> {
    let removed: Option<(i64,)> = tx
        .fetch_optional(
            sql("DELETE FROM idea_votes WHERE idea_id = $1 AND user_id = $2 RETURNING created_at")
                .bind(idea.id)
                .bind(user_id),
        )
        .await?;
    if let Some((voted_at,)) = removed {
        // A vote of this week also took its trending bonus with it.
        let bonus = if voted_at > now() - TRENDING_WINDOW { RECENT_BONUS } else { 0 };
        tx.execute(
            sql("UPDATE ideas SET vote_count = vote_count - 1, trend_score = trend_score - 1 - $2 WHERE id = $1")
                .bind(idea.id)
                .bind(bonus),
        )
        .await?;
    }
    Ok(())
}

/// A comment on an idea, with its author.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CommentRow {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub author_id: i64,
    pub body: String,
    /// Usernames it mentions that existed when it was written, space-separated.
    pub mentions: String,
    pub created_at: i64,
    pub edited_at: Option<i64>,
    pub hidden_at: Option<i64>,
    pub author_username: String,
    pub author_display_name: String,
}

pub async fn comments(db: &mut impl Exec, idea_id: i64) -> Result<Vec<CommentRow>, sqlx::Error> {
    db.fetch_all(
        sql("SELECT c.id, c.parent_id, c.author_id, c.body, c.mentions, c.created_at, c.edited_at, c.hidden_at,
                    u.username AS author_username, u.display_name AS author_display_name
             FROM idea_comments c JOIN users u ON u.id = c.author_id
             WHERE c.idea_id = $1 ORDER BY c.id LIMIT 5000")
        .bind(idea_id),
    )
    .await
}

/// Adds a comment (an answer to a top-level comment stays one level deep) and tells, once each: the
/// writer of the comment answered, the people it mentions, and the idea's author.
pub async fn add_comment(
    tx: &mut Tx,
    idea: &IdeaRow,
    author_id: i64,
    parent_id: Option<i64>,
    body: &str,
) -> Result<i64, sqlx::Error> {
    // Answers hang under the top-level comment they answer, so threads are one level deep.
    let parent = match parent_id {
        Some(id) => {
            let row: Option<(i64, Option<i64>, i64)> = tx
                .fetch_optional(
                    sql("SELECT id, parent_id, author_id FROM idea_comments WHERE id = $1 AND idea_id = $2")
                        .bind(id)
                        .bind(idea.id),
                )
                .await?;
            row.map(|(id, parent, answered)| (parent.unwrap_or(id), answered))
        }
        None => None,
    };
    let mentioned = crate::posts::store::existing_usernames(tx, crate::posts::text::mentions(body)).await?;
    let (id,): (i64,) = tx
        .fetch_one(
            sql("INSERT INTO idea_comments (idea_id, parent_id, author_id, body, mentions, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
            .bind(idea.id)
            .bind(parent.map(|(id, _)| id))
            .bind(author_id)
            .bind(body)
            .bind(mentioned.join(" "))
            .bind(now()),
        )
        .await?;
    tx.execute(sql("UPDATE ideas SET comment_count = comment_count + 1 WHERE id = $1").bind(idea.id)).await?;
    let mut told = vec![author_id];
    if let Some((_, answered)) = parent
        && !told.contains(&answered)
    {
        notify::notify(tx, answered, Kind::CommentReply, author_id, About::Idea(idea.id)).await?;
        told.push(answered);
    }
    for recipient in crate::posts::store::user_ids(tx, &mentioned).await? {
        if !told.contains(&recipient) {
            notify::notify(tx, recipient, Kind::IdeaMention, author_id, About::Idea(idea.id)).await?;
            told.push(recipient);
        }
    }
    if !told.contains(&idea.author_id) {
        notify::notify(tx, idea.author_id, Kind::IdeaComment, author_id, About::Idea(idea.id)).await?;
    }
    Ok(id)
}

/// Replaces a comment's text (its author's edit), marks it edited, and tells the people it now
/// mentions for the first time.
pub async fn edit_comment(tx: &mut Tx, comment: &CommentRow, idea_id: i64, body: &str) -> Result<(), sqlx::Error> {
    let mentioned = crate::posts::store::existing_usernames(tx, crate::posts::text::mentions(body)).await?;
    tx.execute(
        sql("UPDATE idea_comments SET body = $1, mentions = $2, edited_at = $3 WHERE id = $4")
            .bind(body)
            .bind(mentioned.join(" "))
            .bind(now())
            .bind(comment.id),
    )
    .await?;
    let before: Vec<&str> = comment.mentions.split_whitespace().collect();
    let new: Vec<String> = mentioned.iter().filter(|m| !before.contains(&m.as_str())).cloned().collect();
    for recipient in crate::posts::store::user_ids(tx, &new).await? {
        notify::notify(tx, recipient, Kind::IdeaMention, comment.author_id, About::Idea(idea_id)).await?;
    }
    Ok(())
}

/// One comment of an idea, with its author.
pub async fn comment(db: &mut impl Exec, idea_id: i64, comment_id: i64) -> Result<Option<CommentRow>, sqlx::Error> {
    db.fetch_optional(
        sql("SELECT c.id, c.parent_id, c.author_id, c.body, c.mentions, c.created_at, c.edited_at, c.hidden_at,
                    u.username AS author_username, u.display_name AS author_display_name
             FROM idea_comments c JOIN users u ON u.id = c.author_id
             WHERE c.idea_id = $1 AND c.id = $2")
        .bind(idea_id)
        .bind(comment_id),
    )
    .await
}

/// The author's edit of an idea still new: false when a manager moved (or merged) it meanwhile.
pub async fn edit_idea(db: &mut impl Exec, id: i64, title: &str, body: &str) -> Result<bool, sqlx::Error> {
    let changed = db
        .execute(
            sql("UPDATE ideas SET title = $1, body = $2, edited_at = $3, updated_at = $3
                 WHERE id = $4 AND stage = 'new' AND merged_into_id IS NULL")
            .bind(title)
            .bind(body)
            .bind(now())
            .bind(id),
        )
        .await?;
    Ok(changed == 1)
}

/// The author takes back an idea still new: it goes with its votes (voters get them back) and
/// comments. False when a manager moved it meanwhile.
pub async fn withdraw_idea(tx: &mut Tx, idea: &IdeaRow) -> Result<bool, sqlx::Error> {
    let standing = lock_standing(tx, &[idea.id]).await?;
    if standing.first().is_none_or(|(_, stage)| *stage != Stage::New) {
        return Ok(false);
    }
    delete_idea(tx, idea.id).await?;
    Ok(true)
}

/// A comment as moderation sees it: what it says, where it is and who wrote it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CommentFound {
    pub id: i64,
    pub idea_id: i64,
    pub author_id: i64,
    pub body: String,
    pub hidden_at: Option<i64>,
}

/// A comment by id, for moderation.
pub async fn find_comment(db: &mut impl Exec, id: i64) -> Result<Option<CommentFound>, sqlx::Error> {
    db.fetch_optional(sql("SELECT id, idea_id, author_id, body, hidden_at FROM idea_comments WHERE id = $1").bind(id))
        .await
}

/// Hides (`Some(time)`) or restores (`None`) an idea.
pub async fn set_idea_hidden(db: &mut impl Exec, id: i64, hidden_at: Option<i64>) -> Result<(), sqlx::Error> {
    db.execute(sql("UPDATE ideas SET hidden_at = $1 WHERE id = $2").bind(hidden_at).bind(id)).await?;
    Ok(())
}

/// Hides (`Some(time)`) or restores (`None`) a comment.
pub async fn set_comment_hidden(db: &mut impl Exec, id: i64, hidden_at: Option<i64>) -> Result<(), sqlx::Error> {
    db.execute(sql("UPDATE idea_comments SET hidden_at = $1 WHERE id = $2").bind(hidden_at).bind(id)).await?;
    Ok(())
}

/// Deletes an idea with its votes and comments (voters get their votes back). Ideas merged into it
/// stand again, under review.
pub async fn delete_idea(db: &mut impl Exec, id: i64) -> Result<(), sqlx::Error> {
    db.execute(
        sql("UPDATE ideas SET stage = 'under_review', merged_into_id = NULL WHERE merged_into_id = $1").bind(id),
    )
    .await?;
    db.execute(sql("DELETE FROM ideas WHERE id = $1").bind(id)).await?;
    Ok(())
}

/// Deletes a comment and the answers under it, and keeps the idea's count right.
pub async fn delete_comment(db: &mut impl Exec, id: i64) -> Result<(), sqlx::Error> {
    let row: Option<(i64,)> =
        db.fetch_optional(sql("SELECT idea_id FROM idea_comments WHERE id = $1").bind(id)).await?;
    let Some((idea_id,)) = row else { return Ok(()) };
    db.execute(sql("DELETE FROM idea_comments WHERE id = $1 OR parent_id = $1").bind(id)).await?;
    db.execute(
        sql("UPDATE ideas SET comment_count = (SELECT COUNT(*) FROM idea_comments WHERE idea_id = $1) WHERE id = $1")
            .bind(idea_id),
    )
    .await?;
    Ok(())
}

/// Ideas of the campaign that share a word of three letters or more with `title` (by stem and prefix,
/// as `/search` matches), best match first: shown before someone submits a likely duplicate. Merged
/// and hidden ideas are left out; the caller has checked that the person may see the campaign.
/// Relevance is ranked among the newest matches of the whole site, as search does. (id, title, votes)
pub async fn similar(
    db: &mut impl Exec,
    campaign_id: i64,
    title: &str,
) -> Result<Vec<(i64, String, i64)>, sqlx::Error> {
    let query = Parsed::parse(title).significant(3);
    if query.is_empty() {
        return Ok(Vec::new());
    }
    let engine = db.engine();
    let statement = match engine {
        Engine::Sqlite => sql("SELECT i.id, i.title, i.vote_count
             FROM (SELECT rowid AS hit, bm25(ideas_fts, 3.0, 1.0) AS score FROM ideas_fts WHERE ideas_fts MATCH $1
                   ORDER BY rowid DESC LIMIT $2) f
             JOIN ideas i ON i.id = f.hit
             WHERE i.campaign_id = $3 AND i.hidden_at IS NULL AND i.merged_into_id IS NULL
             ORDER BY f.score, i.id DESC LIMIT 5"),
        Engine::Postgres => sql("SELECT i.id, i.title, i.vote_count
             FROM (SELECT id AS hit FROM ideas WHERE search @@ to_tsquery('english', $1) ORDER BY id DESC LIMIT $2) f
             JOIN ideas i ON i.id = f.hit
             WHERE i.campaign_id = $3 AND i.hidden_at IS NULL AND i.merged_into_id IS NULL
             ORDER BY ts_rank(i.search, to_tsquery('english', $1)) DESC, i.id DESC LIMIT 5"),
    };
    let statement = statement.bind(query.expression(engine, true)).bind(RANKED_AMONG).bind(campaign_id);
    db.fetch_all(statement.planned_per_call()).await
}

/// The next ideas of a campaign after `after` by id, for exports.
pub async fn export_chunk(
    db: &mut impl Exec,
    campaign_id: Option<i64>,
    after: i64,
    limit: i64,
) -> Result<Vec<IdeaRow>, sqlx::Error> {
    match campaign_id {
        Some(campaign_id) => {
            db.fetch_all(
                sql(concat!(
                    "SELECT ",
                    idea_columns!(),
                    idea_joins!(),
                    "WHERE i.campaign_id = $1 AND i.id > $2 ORDER BY i.id"
                ))
                .bind(campaign_id)
                .bind(after)
                .limit(limit),
            )
            .await
        }
        None => {
            db.fetch_all(
                sql(concat!("SELECT ", idea_columns!(), idea_joins!(), "WHERE i.id > $1 ORDER BY i.id"))
                    .bind(after)
                    .limit(limit),
            )
            .await
        }
    }
}

/// Erases an author's ideas, comments and votes. Answers others wrote under their comments stay, as
/// top-level comments; vote and comment counts are recounted.
pub async fn erase_author(db: &mut impl Exec, author_id: i64) -> Result<(), sqlx::Error> {
    let voted: Vec<(i64,)> =
        db.fetch_all(sql("SELECT idea_id FROM idea_votes WHERE user_id = $1").bind(author_id)).await?;
    db.execute(sql("DELETE FROM idea_votes WHERE user_id = $1").bind(author_id)).await?;
    db.execute(sql("DELETE FROM merge_moved_votes WHERE user_id = $1").bind(author_id)).await?;
    let recent_since = now() - TRENDING_WINDOW;
    for (idea_id,) in voted {
        db.execute(
            sql("UPDATE ideas SET
                     vote_count = (SELECT COUNT(*) FROM idea_votes v WHERE v.idea_id = $1),
                     trend_score = (SELECT COUNT(*) + $2 * COUNT(CASE WHEN v.created_at > $3 THEN 1 END)
                                    FROM idea_votes v WHERE v.idea_id = $1)
                 WHERE id = $1")
            .bind(idea_id)
            .bind(RECENT_BONUS)
            .bind(recent_since),
        )
        .await?;
    }
    let commented: Vec<(i64,)> =
        db.fetch_all(sql("SELECT DISTINCT idea_id FROM idea_comments WHERE author_id = $1").bind(author_id)).await?;
    db.execute(
        sql("UPDATE idea_comments SET parent_id = NULL
             WHERE author_id <> $1 AND parent_id IN (SELECT id FROM idea_comments WHERE author_id = $1)")
        .bind(author_id),
    )
    .await?;
    db.execute(sql("DELETE FROM idea_comments WHERE author_id = $1").bind(author_id)).await?;
    for (idea_id,) in commented {
        db.execute(
            sql("UPDATE ideas SET comment_count = (SELECT COUNT(*) FROM idea_comments WHERE idea_id = $1) WHERE id = $1")
                .bind(idea_id),
        )
        .await?;
    }
    let ideas: Vec<(i64,)> = db.fetch_all(sql("SELECT id FROM ideas WHERE author_id = $1").bind(author_id)).await?;
    for (idea_id,) in ideas {
        delete_idea(db, idea_id).await?;
    }
    Ok(())
}

/// One person's ideas, anonymous ones included (for "download my data").
pub async fn ideas_by_author(db: &mut impl Exec, author_id: i64) -> Result<Vec<IdeaRow>, sqlx::Error> {
    db.fetch_all(
        sql(concat!("SELECT ", idea_columns!(), idea_joins!(), "WHERE i.author_id = $1 ORDER BY i.id")).bind(author_id),
    )
    .await
}

/// One person's idea votes: (idea id, idea title, when).
pub async fn votes_by(db: &mut impl Exec, user_id: i64) -> Result<Vec<(i64, String, i64)>, sqlx::Error> {
    db.fetch_all(
        sql("SELECT v.idea_id, i.title, v.created_at FROM idea_votes v JOIN ideas i ON i.id = v.idea_id
             WHERE v.user_id = $1 ORDER BY v.created_at")
        .bind(user_id),
    )
    .await
}

/// A comment on an idea, as its author's data export lists it.
#[derive(Debug, sqlx::FromRow)]
pub struct OwnComment {
    pub id: i64,
    pub idea_id: i64,
    pub body: String,
    pub created_at: i64,
}

/// One person's comments on ideas, oldest first.
pub async fn comments_by(db: &mut impl Exec, user_id: i64) -> Result<Vec<OwnComment>, sqlx::Error> {
    db.fetch_all(
        sql("SELECT id, idea_id, body, created_at FROM idea_comments WHERE author_id = $1 ORDER BY id").bind(user_id),
    )
    .await
}
