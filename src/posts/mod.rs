//! Posts: short texts people write, replies that form threads, likes, and the feeds that show them
//! newest first, paged by cursor.

pub mod actions;
pub mod cache;
pub mod home;
pub mod routes;
pub mod store;
pub mod text;
pub mod views;
pub mod write;

pub use views::{FeedPage, PostView};

/// Posts on one page of a feed.
pub const PAGE_SIZE: i64 = 30;
/// Replies shown under a post in a feed.
pub const LATEST_REPLIES: i64 = 2;

/// A post's text: trimmed, not empty, at most the configured number of characters.
pub struct PostBody(String);

impl PostBody {
    pub fn parse(input: &str, max_chars: usize) -> Result<PostBody, String> {
        let body = input.trim().replace("\r\n", "\n");
        let len = body.chars().count();
        if len == 0 {
            return Err("Write something first.".into());
        }
        if len > max_chars {
            return Err(format!("A post has at most {max_chars} characters; this one has {len}."));
        }
        if body.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
            return Err("The post contains characters that cannot be shown.".into());
        }
        Ok(PostBody(body))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A post as it comes from the database.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PostRow {
    pub id: i64,
    pub author_id: i64,
    pub body: String,
    pub mentions: String,
    pub created_at: i64,
    pub parent_id: Option<i64>,
    pub root_id: Option<i64>,
    pub edited_at: Option<i64>,
    pub deleted_at: Option<i64>,
    pub reply_count: i64,
    pub like_count: i64,
    pub author_username: String,
    pub author_display_name: String,
    /// Who wrote the post this one answers, for replies.
    pub parent_username: Option<String>,
    pub community_id: Option<i64>,
    /// The community whose members alone may see this post (a private community's posts).
    pub members_only: Option<i64>,
    pub is_announcement: bool,
    pub community_slug: Option<String>,
    pub community_name: Option<String>,
    /// When the post's poll closes, if it has one.
    pub poll_closes_at: Option<i64>,
    /// The idea this post became, if its author turned it into one.
    pub idea_id: Option<i64>,
    /// When a moderator hid it, if one did.
    pub hidden_at: Option<i64>,
}

impl PostRow {
    /// The first post of the thread this post belongs to.
    pub fn thread_id(&self) -> i64 {
        self.root_id.unwrap_or(self.id)
    }

    pub fn is_deleted(&self) -> bool {
        self.deleted_at.is_some()
    }
}

/// A post a moderator hid takes no new likes, replies or poll votes until it is restored: it stays
/// readable for its author and moderators only, and new interaction would draw others to it.
pub fn refuse_if_hidden(post: &PostRow) -> Result<(), crate::web::AppError> {
    match post.hidden_at {
        Some(_) => Err(crate::web::AppError::BadRequest(
            "A moderator has hidden this post: it takes no new likes, replies or votes until it is restored.".into(),
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_post_is_trimmed_and_limited_in_characters_not_bytes() {
        assert_eq!(PostBody::parse("  hello \r\n world ", 20).unwrap().as_str(), "hello \n world");
        assert!(PostBody::parse("   ", 20).is_err());
        assert!(PostBody::parse(&"é".repeat(20), 20).is_ok());
        assert!(PostBody::parse(&"é".repeat(21), 20).is_err());
        assert!(PostBody::parse("bell \u{7}", 20).is_err());
    }
}
