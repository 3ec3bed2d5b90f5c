//! Following people: whose posts reach your home feed. The actions below are the only way in for
//! any front door: each checks the rule, runs one transaction and tells the followed person live.

pub mod routes;
pub mod store;

use crate::accounts::User;
use crate::bus::{Event, Hub};
use crate::db::Db;
use crate::web::AppError;

/// `follower` follows `other`: their recent posts join the follower's home and they are told.
/// Following twice changes nothing.
pub async fn follow(db: &Db, live: &Hub, follower: &User, other: &User) -> Result<(), AppError> {
    if other.id == follower.id {
        return Err(AppError::BadRequest("You cannot follow yourself; your own posts are always on your home.".into()));
    }
    let mut tx = db.begin().await?;
    if !store::follow(&mut tx, follower.id, other.id).await? {
        // The account was deleted while the follow waited for it.
        return Err(AppError::NotFound);
    }
    tx.commit().await?;
    live.publish(Event::Notified { user_id: other.id }).await;
    Ok(())
}

/// `follower` stops following `other`; their posts leave the follower's home.
pub async fn unfollow(db: &Db, follower: &User, other: &User) -> Result<(), AppError> {
    let mut tx = db.begin().await?;
    store::unfollow(&mut tx, follower.id, other.id).await?;
    tx.commit().await?;
    Ok(())
}
