//! Topics: `#tags` in posts. Each has a page of its posts, and can be followed so that its posts
//! reach your home.

pub mod routes;
pub mod store;

use crate::db::Db;
use crate::web::AppError;

/// `person` follows `topic` (from [`parse_topic`]): its recent posts join their home.
pub async fn follow(db: &Db, person: i64, topic: &str) -> Result<(), AppError> {
    let mut tx = db.begin().await?;
    store::follow(&mut tx, person, topic).await?;
    tx.commit().await?;
    Ok(())
}

/// `person` stops following `topic`; its posts leave their home.
pub async fn unfollow(db: &Db, person: i64, topic: &str) -> Result<(), AppError> {
    let mut tx = db.begin().await?;
    store::unfollow(&mut tx, person, topic).await?;
    tx.commit().await?;
    Ok(())
}

/// A topic name from a URL: lower-cased, 1-50 letters, digits or underscores.
pub fn parse_topic(raw: &str) -> Option<String> {
    let topic = raw.trim().trim_start_matches('#').to_lowercase();
    let valid = (1..=50).contains(&topic.chars().count()) && topic.chars().all(|c| c.is_alphanumeric() || c == '_');
    valid.then_some(topic)
}
