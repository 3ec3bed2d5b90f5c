//! What people do with posts, one call each for any front door (these pages today, a JSON API
//! later): each finds the post as the person may see it, checks that they may do this, runs one
//! transaction, and then the after-effects (the keyword watch, live updates, the delivery worker).
//! Handlers only read the request and show the result.

use super::store::{self, Placement};
use super::{PostBody, PostRow, refuse_if_hidden};
use crate::accounts::User;
use crate::bus::{Event, Hub};
use crate::db::Db;
use crate::polls::NewPoll;
use crate::watch::{ObjectKind, Watch};
use crate::web::AppError;

/// A post `viewer` may see; a 404 whether it is missing or in a private community they are not in
/// (the two look the same from outside).
pub async fn find(mut db: &Db, viewer: &User, id: i64) -> Result<PostRow, AppError> {
    store::find_visible(&mut db, id, viewer.id).await?.ok_or(AppError::NotFound)
}

/// A post `author` wrote and that still stands: only its author changes or deletes it.
pub async fn find_own(db: &Db, author: &User, id: i64) -> Result<PostRow, AppError> {
    let post = find(db, author, id).await?;
    if post.is_deleted() {
        return Err(AppError::NotFound);
    }
    if post.author_id != author.id {
        return Err(AppError::Forbidden("Only the author of a post can change or delete it."));
    }
    Ok(post)
}

/// What publishing needs besides the post: the keyword watch and the live updates.
pub struct Effects<'a> {
    pub watch: &'a Watch,
    pub live: &'a Hub,
}

/// Publishes a top-level post to the whole company or (the caller has checked membership) a
/// community, with its poll. Returns its id.
pub async fn publish(
    db: &Db,
    effects: Effects<'_>,
    author: &User,
    body: &PostBody,
    poll: Option<&NewPoll>,
    placement: Placement<'_>,
) -> Result<i64, AppError> {
    let mut tx = db.begin().await?;
    let id = store::create(&mut tx, author.id, body, poll, placement).await?;
    tx.commit().await?;
    crate::timeline::worker::wake();
    tracing::info!(post_id = id, author_id = author.id, "post created");
    effects.watch.check(db, ObjectKind::Post, id, author.id, body.as_str()).await;
    let event = match placement {
        Placement::Community { id: community, private } => {
            Event::Post { post_id: id, community_id: Some(community), members_only: private.then_some(community) }
        }
        _ => Event::Post { post_id: id, community_id: None, members_only: None },
    };
    effects.live.publish(event).await;
    Ok(id)
}

/// Answers `parent` (a post the person may see; a hidden one takes no replies). Returns the
/// reply's id.
pub async fn reply(
    db: &Db,
    effects: Effects<'_>,
    author: &User,
    parent: &PostRow,
    body: &PostBody,
) -> Result<i64, AppError> {
    refuse_if_hidden(parent)?;
    let mut tx = db.begin().await?;
    let id = store::create(&mut tx, author.id, body, None, Placement::Reply(parent)).await?;
    tx.commit().await?;
    effects.watch.check(db, ObjectKind::Post, id, author.id, body.as_str()).await;
    effects.live.publish(Event::Notified { user_id: parent.author_id }).await;
    Ok(id)
}

/// Replaces the text of the author's own post (found with [`find_own`]).
pub async fn edit(db: &Db, watch: &Watch, post: &PostRow, body: &PostBody) -> Result<(), AppError> {
    let mut tx = db.begin().await?;
    store::edit(&mut tx, post, body).await?;
    tx.commit().await?;
    watch.check(db, ObjectKind::Post, post.id, post.author_id, body.as_str()).await;
    Ok(())
}

/// Deletes the author's own post (found with [`find_own`]).
pub async fn delete(db: &Db, post: &PostRow) -> Result<(), AppError> {
    let mut tx = db.begin().await?;
    store::delete(&mut tx, post).await?;
    tx.commit().await?;
    tracing::info!(post_id = post.id, author_id = post.author_id, "post deleted");
    Ok(())
}

/// Likes a post the person may see: not a deleted or hidden one. Its author hears of it at once.
pub async fn like(db: &Db, live: &Hub, liker: &User, post: &PostRow) -> Result<(), AppError> {
    if post.is_deleted() {
        return Err(AppError::BadRequest("A deleted post cannot be liked.".into()));
    }
    refuse_if_hidden(post)?;
    let mut tx = db.begin().await?;
    let new = store::like(&mut tx, post, liker.id).await?;
    tx.commit().await?;
    if new {
        live.publish(Event::Notified { user_id: post.author_id }).await;
    }
    Ok(())
}

/// Takes a like back (its unread notification goes too).
pub async fn unlike(db: &Db, liker: &User, post: &PostRow) -> Result<(), AppError> {
    let mut tx = db.begin().await?;
    store::unlike(&mut tx, post, liker.id).await?;
    tx.commit().await?;
    Ok(())
}
