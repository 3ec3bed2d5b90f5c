//! What people do with ideas and their comments, one call each for any front door (these pages
//! today, a JSON API later): each finds the idea as the person may see it, checks that they may do
//! this now, runs one transaction, and then the keyword watch. Handlers only read the request and
//! show the result. Managers' actions are in `manage`; moderators' in moderation.

use super::store::{self, CommentRow, IdeaRow, VoteRefused};
use super::{Campaign, NewIdea, Phase, Stage, campaign_reach};
use crate::accounts::User;
use crate::db::{Db, now};
use crate::posts::PostRow;
use crate::watch::{ObjectKind, Watch};
use crate::web::AppError;

/// A campaign `viewer` may see (a 404 otherwise, as for one that does not exist).
pub async fn campaign(mut db: &Db, viewer: &User, id: i64) -> Result<Campaign, AppError> {
    store::find_campaign(&mut db, id, viewer.id, campaign_reach(viewer)).await?.ok_or(AppError::NotFound)
}

/// An idea with its campaign, if `viewer` may see the campaign; a 404 otherwise.
pub async fn find(db: &Db, viewer: &User, id: i64) -> Result<(IdeaRow, Campaign), AppError> {
    let idea = store::find_idea(&mut db.clone(), id).await?.ok_or(AppError::NotFound)?;
    let campaign = campaign(db, viewer, idea.campaign_id).await?;
    Ok((idea, campaign))
}

/// Refuses unless the campaign takes ideas now.
pub fn taking_ideas(campaign: &Campaign) -> Result<(), AppError> {
    if campaign.is_open(now()) {
        Ok(())
    } else {
        Err(AppError::BadRequest("This campaign is not taking ideas now.".into()))
    }
}

/// Submits an idea to an open campaign (the caller has shown similar ideas first), or turns the
/// author's post (found with [`convertible_post`]) into one, and the post links to it. Returns the
/// idea's id.
pub async fn submit(
    db: &Db,
    watch: &Watch,
    author: &User,
    campaign: &Campaign,
    idea: &NewIdea,
    from_post: Option<&PostRow>,
) -> Result<i64, AppError> {
    taking_ideas(campaign)?;
    let mut tx = db.begin().await?;
    let id = store::create_idea(&mut tx, campaign.id, author.id, idea, from_post.map(|p| p.id)).await?;
    tx.commit().await?;
    watch.check(db, ObjectKind::Idea, id, author.id, &format!("{}\n{}", idea.title, idea.body)).await;
    Ok(id)
}

/// A post of `author`'s that can still become an idea: top-level, standing, not turned yet.
pub async fn convertible_post(db: &Db, author: &User, post_id: i64) -> Result<PostRow, AppError> {
    let post = crate::posts::write::find(db, author, post_id).await?;
    if post.is_deleted() {
        return Err(AppError::NotFound);
    }
    if post.author_id != author.id || post.parent_id.is_some() {
        return Err(AppError::Forbidden("Only the author of a post can turn it into an idea."));
    }
    if post.idea_id.is_some() {
        return Err(AppError::BadRequest("This post became an idea already.".into()));
    }
    Ok(post)
}

/// Refuses unless the idea takes votes now: its campaign is open and it was not merged into another.
pub fn votable(idea: &IdeaRow, campaign: &Campaign) -> Result<(), AppError> {
    if !campaign.is_open(now()) {
        return Err(AppError::BadRequest("Voting is closed: the campaign is not open.".into()));
    }
    if idea.merged_into_id.is_some() {
        return Err(AppError::BadRequest("This idea was merged into another: vote for that one.".into()));
    }
    Ok(())
}

/// Counts the voter's vote for the idea, unless their vote budget in the campaign is spent (then
/// nothing changes and the refusal says why). A second vote for the same idea changes nothing.
pub async fn vote(
    db: &Db,
    voter: &User,
    idea: &IdeaRow,
    campaign: &Campaign,
) -> Result<Result<(), VoteRefused>, AppError> {
    votable(idea, campaign)?;
    let mut tx = db.begin().await?;
    let counted = store::vote(&mut tx, idea, voter.id, campaign.vote_budget).await?;
    tx.commit().await?;
    Ok(counted)
}

/// Takes the voter's vote for the idea back, while it takes votes.
pub async fn unvote(db: &Db, voter: &User, idea: &IdeaRow, campaign: &Campaign) -> Result<(), AppError> {
    votable(idea, campaign)?;
    let mut tx = db.begin().await?;
    store::unvote(&mut tx, idea, voter.id).await?;
    tx.commit().await?;
    Ok(())
}

/// Refuses unless the idea's discussion is open: an archived campaign's is closed.
pub fn discussable(campaign: &Campaign) -> Result<(), AppError> {
    if campaign.phase(now()) == Phase::Archived {
        return Err(AppError::BadRequest("The campaign is archived: its discussion is closed.".into()));
    }
    Ok(())
}

/// Adds a comment to an idea the author may see (an answer to `parent`, when given). Returns its id.
pub async fn comment(
    db: &Db,
    watch: &Watch,
    author: &User,
    idea: &IdeaRow,
    campaign: &Campaign,
    parent: Option<i64>,
    body: &str,
) -> Result<i64, AppError> {
    discussable(campaign)?;
    let mut tx = db.begin().await?;
    let id = store::add_comment(&mut tx, idea, author.id, parent, body).await?;
    tx.commit().await?;
    watch.check(db, ObjectKind::Comment, id, author.id, body).await;
    Ok(id)
}

/// Why the author may not change this idea now, if they may not.
pub fn edit_refusal(idea: &IdeaRow, campaign: &Campaign, viewer_id: i64, at: i64) -> Option<&'static str> {
    if idea.author_id != viewer_id {
        return Some("Only the idea's author can change it.");
    }
    if idea.stage != Stage::New || idea.merged_into_id.is_some() {
        return Some("A manager has taken this idea on, so it stays as it was. Add a comment instead.");
    }
    if idea.hidden_at.is_some() {
        return Some("A moderator hid this idea.");
    }
    if !matches!(campaign.phase(at), Phase::Open | Phase::Upcoming) {
        return Some("The campaign is closed.");
    }
    None
}

/// An idea `author` wrote and may still change, with its campaign.
pub async fn find_own(db: &Db, author: &User, id: i64) -> Result<(IdeaRow, Campaign), AppError> {
    let (idea, campaign) = find(db, author, id).await?;
    if idea.author_id != author.id {
        return Err(AppError::Forbidden("Only the idea's author can change it."));
    }
    if let Some(why) = edit_refusal(&idea, &campaign, author.id, now()) {
        return Err(AppError::Conflict(why));
    }
    Ok((idea, campaign))
}

/// Replaces the title and description of the author's idea (found with [`find_own`]).
pub async fn edit(db: &Db, watch: &Watch, idea: &IdeaRow, title: &str, body: &str) -> Result<(), AppError> {
    let mut tx = db.begin().await?;
    if !store::edit_idea(&mut tx, idea.id, title, body).await? {
        return Err(AppError::Conflict("A manager took this idea on meanwhile, so your edit was not saved."));
    }
    tx.commit().await?;
    watch.check(db, ObjectKind::Idea, idea.id, idea.author_id, &format!("{title}\n{body}")).await;
    Ok(())
}

/// The author takes back their idea (found with [`find_own`]) with its votes and comments.
pub async fn withdraw(db: &Db, idea: &IdeaRow) -> Result<(), AppError> {
    let mut tx = db.begin().await?;
    if !store::withdraw_idea(&mut tx, idea).await? {
        return Err(AppError::Conflict("A manager took this idea on meanwhile, so it stays."));
    }
    tx.commit().await?;
    Ok(())
}

/// The author's own comment on the idea, which they may still change or delete.
pub async fn find_own_comment(
    db: &Db,
    author: &User,
    idea: &IdeaRow,
    campaign: &Campaign,
    comment_id: i64,
) -> Result<CommentRow, AppError> {
    let comment = store::comment(&mut db.clone(), idea.id, comment_id).await?.ok_or(AppError::NotFound)?;
    if comment.author_id != author.id {
        return Err(AppError::Forbidden("Only its writer can change a comment."));
    }
    if comment.hidden_at.is_some() {
        return Err(AppError::Conflict("A moderator hid this comment, so it cannot be changed."));
    }
    discussable(campaign)?;
    Ok(comment)
}

/// Replaces the text of the author's comment (found with [`find_own_comment`]).
pub async fn edit_comment(
    db: &Db,
    watch: &Watch,
    idea: &IdeaRow,
    comment: &CommentRow,
    body: &str,
) -> Result<(), AppError> {
    let mut tx = db.begin().await?;
    store::edit_comment(&mut tx, comment, idea.id, body).await?;
    tx.commit().await?;
    watch.check(db, ObjectKind::Comment, comment.id, comment.author_id, body).await;
    Ok(())
}

/// Deletes the author's comment (found with [`find_own_comment`]) with the answers under it.
pub async fn delete_comment(db: &Db, comment: &CommentRow) -> Result<(), AppError> {
    let mut tx = db.begin().await?;
    store::delete_comment(&mut tx, comment.id).await?;
    tx.commit().await?;
    Ok(())
}

/// A manager moves an idea to another stage with a reason; its author and voters are told.
pub async fn move_stage(db: &Db, manager: &User, idea: &IdeaRow, stage: Stage, reason: &str) -> Result<(), AppError> {
    super::require_curator(manager)?;
    if !Stage::MOVABLE.contains(&stage) {
        return Err(AppError::BadRequest("Choose one of the stages.".into()));
    }
    if idea.merged_into_id.is_some() {
        return Err(AppError::BadRequest(
            "A merged idea follows the idea it was merged into; undo the merge first.".into(),
        ));
    }
    let mut tx = db.begin().await?;
    if !store::change_stage(&mut tx, idea, stage, reason, manager.id).await? {
        return Err(AppError::Conflict("The idea was merged meanwhile: its stage follows the idea it joined."));
    }
    tx.commit().await?;
    Ok(())
}

/// A manager publishes (or replaces) the official response; the author is told.
pub async fn respond(db: &Db, manager: &User, idea: &IdeaRow, text: &str) -> Result<(), AppError> {
    super::require_curator(manager)?;
    let mut tx = db.begin().await?;
    store::respond(&mut tx, idea, text, manager.id).await?;
    tx.commit().await?;
    Ok(())
}

/// A manager merges a duplicate into another idea of the same campaign; its voters count there.
pub async fn merge(db: &Db, manager: &User, source: &IdeaRow, target: &IdeaRow) -> Result<(), AppError> {
    super::require_curator(manager)?;
    if target.id == source.id || target.campaign_id != source.campaign_id {
        return Err(AppError::BadRequest("An idea merges into another idea of the same campaign.".into()));
    }
    if source.merged_into_id.is_some() || target.merged_into_id.is_some() {
        return Err(AppError::BadRequest("Neither idea may already be merged into another.".into()));
    }
    let mut tx = db.begin().await?;
    if !store::merge(&mut tx, source, target, manager.id).await? {
        return Err(AppError::Conflict("One of the two ideas was merged meanwhile. Reload the idea and try again."));
    }
    tx.commit().await?;
    Ok(())
}

/// A manager undoes a merge: the votes are as they were.
pub async fn unmerge(db: &Db, manager: &User, source: &IdeaRow) -> Result<(), AppError> {
    super::require_curator(manager)?;
    let mut tx = db.begin().await?;
    if !store::unmerge(&mut tx, source, manager.id).await? {
        return Err(AppError::BadRequest("This idea is not merged.".into()));
    }
    tx.commit().await?;
    Ok(())
}
