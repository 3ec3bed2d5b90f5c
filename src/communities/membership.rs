//! Who is in a community, one call per action for any front door: each runs one transaction, and
//! the rules that keep a community whole (at least one admin) are checked inside it. Handlers find
//! the community and check the caller's standing ([`super::Standing`]) first.

use super::store::{self, StepDown};
use super::{Community, Standing};
use crate::accounts::User;
use crate::db::Db;
use crate::web::AppError;

/// What joining did.
pub enum Joined {
    Already,
    StillWaiting,
    /// A private community: its admins were asked.
    Asked,
    Member,
}

/// `person` joins a public community or one they were invited to, or asks to join a private one.
pub async fn join(db: &Db, person: &User, community: &Community, standing: Standing) -> Result<Joined, AppError> {
    let joined = match standing {
        Standing::Member | Standing::Admin => return Ok(Joined::Already),
        Standing::Requested => return Ok(Joined::StillWaiting),
        Standing::Outsider if community.is_private => Joined::Asked,
        Standing::Outsider | Standing::Invited => Joined::Member,
    };
    let mut tx = db.begin().await?;
    match joined {
        Joined::Asked => store::request(&mut tx, community.id, person.id).await?,
        _ => store::join(&mut tx, community.id, person.id).await?,
    }
    tx.commit().await?;
    Ok(joined)
}

/// `person` leaves (or withdraws their request to join), unless they are its last admin.
pub async fn leave(db: &Db, person: &User, community: &Community, standing: Standing) -> Result<(), AppError> {
    let mut tx = db.begin().await?;
    if standing.is_member() && !store::step_down(&mut tx, community.id, person.id, StepDown::Leave).await? {
        return Err(AppError::BadRequest(
            "You are the community's only admin: make someone else an admin first.".into(),
        ));
    }
    store::deny(&mut tx, community.id, person.id).await?;
    tx.commit().await?;
    Ok(())
}

/// A community admin invites `person` (someone who had asked is let in at once).
pub async fn invite(db: &Db, admin: &User, community: &Community, person: &User) -> Result<(), AppError> {
    let mut tx = db.begin().await?;
    store::invite(&mut tx, community.id, person.id, admin.id).await?;
    tx.commit().await?;
    Ok(())
}

/// A community admin lets in `person`, who asked; false when there was no request.
pub async fn approve(db: &Db, admin: &User, community: &Community, person: &User) -> Result<bool, AppError> {
    let mut tx = db.begin().await?;
    let approved = store::approve(&mut tx, community.id, person.id, admin.id).await?;
    tx.commit().await?;
    Ok(approved)
}

/// A community admin demotes or removes `person`, unless that would leave it without an admin.
pub async fn step_down(db: &Db, community: &Community, person: &User, how: StepDown) -> Result<(), AppError> {
    let mut tx = db.begin().await?;
    if !store::step_down(&mut tx, community.id, person.id, how).await? {
        return Err(AppError::BadRequest("A community keeps at least one admin.".into()));
    }
    tx.commit().await?;
    Ok(())
}
