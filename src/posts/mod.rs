//! Posts: short texts people write, and the feeds that show them newest first, paged by cursor.

pub mod routes;
pub mod store;
pub mod text;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Posts on one page of a feed.
pub const PAGE_SIZE: i64 = 30;

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
            return Err(format!(
                "A post has at most {max_chars} characters; this one has {len}."
            ));
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

/// A post as a feed row comes from the database.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PostRow {
    pub id: i64,
    pub author_id: i64,
    pub body: String,
    pub mentions: String,
    pub created_at: i64,
    pub author_username: String,
    pub author_display_name: String,
}

/// A post as a page shows it to one viewer.
pub struct PostView {
    pub id: i64,
    pub author_username: String,
    pub author_display_name: String,
    pub segments: Vec<text::Segment>,
    /// Machine-readable time, for `<time datetime>`.
    pub created_iso: String,
    /// "just now", "5 min ago", "24 Nov 2026".
    pub created_label: String,
    /// The viewer may delete it.
    pub deletable: bool,
}

impl PostView {
    pub fn new(row: PostRow, viewer_id: i64, now: i64) -> PostView {
        let known: Vec<&str> = row.mentions.split_whitespace().collect();
        PostView {
            id: row.id,
            segments: text::segments(&row.body, &known),
            created_iso: iso_time(row.created_at),
            created_label: relative_time(row.created_at, now),
            deletable: row.author_id == viewer_id,
            author_username: row.author_username,
            author_display_name: row.author_display_name,
        }
    }
}

/// One page of a feed, and the cursor of the next (older) page if there is one.
pub struct FeedPage {
    pub posts: Vec<PostView>,
    pub older_cursor: Option<i64>,
}

impl FeedPage {
    /// `rows` holds up to one more than a page, to tell whether an older page exists.
    pub fn from_rows(mut rows: Vec<PostRow>, viewer_id: i64) -> FeedPage {
        let more = rows.len() as i64 > PAGE_SIZE;
        rows.truncate(PAGE_SIZE as usize);
        let older_cursor = if more { rows.last().map(|r| r.id) } else { None };
        let now = crate::db::now();
        FeedPage {
            posts: rows.into_iter().map(|r| PostView::new(r, viewer_id, now)).collect(),
            older_cursor,
        }
    }
}

pub fn iso_time(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

pub fn relative_time(unix: i64, now: i64) -> String {
    let age = now - unix;
    match age {
        i64::MIN..=59 => "just now".into(),
        60..=3599 => format!("{} min ago", age / 60),
        3600..=86_399 => format!("{} h ago", age / 3600),
        _ => OffsetDateTime::from_unix_timestamp(unix)
            .ok()
            .and_then(|t| {
                t.format(time::macros::format_description!(
                    "[day padding:none] [month repr:short] [year]"
                ))
                .ok()
            })
            .unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_post_is_trimmed_and_limited_in_characters_not_bytes() {
        assert_eq!(
            PostBody::parse("  hello \r\n world ", 20).unwrap().as_str(),
            "hello \n world"
        );
        assert!(PostBody::parse("   ", 20).is_err());
        assert!(PostBody::parse(&"é".repeat(20), 20).is_ok());
        assert!(PostBody::parse(&"é".repeat(21), 20).is_err());
        assert!(PostBody::parse("bell \u{7}", 20).is_err());
    }

    #[test]
    fn times_read_as_a_person_would_say_them() {
        let now = 1_800_000_000;
        assert_eq!(relative_time(now - 5, now), "just now");
        assert_eq!(relative_time(now - 600, now), "10 min ago");
        assert_eq!(relative_time(now - 7200, now), "2 h ago");
        assert_eq!(relative_time(1_764_000_000, now), "24 Nov 2025");
    }
}
