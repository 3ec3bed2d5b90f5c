//! What Townhall holds about a person, as a whole: "download my data" (everything they put in, as
//! one JSON document) and deleting an account (anonymise, or erase what they wrote too). Both reach
//! into every feature that stores something of a person, so they sit above all of them; the
//! features know nothing of this module.

pub mod data;

use crate::db::Exec;

/// Deletes an account but keeps what it wrote, attributed to "Former employee": the name, e-mail,
/// profile and password go, sessions end, follows and memberships end.
pub async fn anonymise(db: &mut impl Exec, user_id: i64) -> Result<(), sqlx::Error> {
    crate::follows::store::forget(db, user_id).await?;
    crate::accounts::store::forget_account(db, user_id).await?;
    crate::communities::store::forget_member(db, user_id).await
}

/// Deletes an account and everything it wrote: posts (a post others answered stays as a "deleted"
/// placeholder), replies, likes, poll votes, ideas, comments and idea votes; then anonymises it.
pub async fn erase(db: &mut impl Exec, user_id: i64) -> Result<(), sqlx::Error> {
    crate::posts::store::erase_author(db, user_id).await?;
    crate::ideas::store::erase_author(db, user_id).await?;
    anonymise(db, user_id).await
}
