//! Posts as a page shows them to one viewer, with what that needs loaded for the whole page at once.

use crate::format::iso_time;

use std::sync::Arc;

use super::cache::Synced;
use super::{PAGE_SIZE, PostRow, store, text};
use crate::accounts::User;
use crate::db::Exec;
use crate::polls::PollView;

/// A post as a page shows it to one viewer.
pub struct PostView {
    pub id: i64,
    pub thread_id: i64,
    pub author_username: String,
    pub author_display_name: String,
    pub segments: Vec<text::Segment>,
    /// Machine-readable time, for `<time datetime>`.
    pub created_iso: String,
    /// "just now", "5 min ago", "24 Nov 2026".
    pub created_label: String,
    /// The exact time, in the viewer's zone, shown on hover and focus.
    pub created_exact: String,
    /// "edited 5 min ago", when it was.
    pub edited_label: Option<String>,
    pub deleted: bool,
    /// A moderator hid it; the viewer (its author or a moderator) still sees it, marked.
    pub hidden: bool,
    /// A moderator hid it, and this viewer sees only that it was hidden.
    pub concealed: bool,
    /// For a reply to a reply: whom it answers.
    pub replying_to: Option<String>,
    pub is_reply: bool,
    pub reply_count: i64,
    pub like_count: i64,
    pub liked: bool,
    /// The viewer wrote it, so may edit and delete it.
    pub mine: bool,
    /// In feeds: the newest replies, oldest first.
    pub latest_replies: Vec<PostView>,
    pub community_slug: Option<String>,
    pub community_name: Option<String>,
    pub is_announcement: bool,
    /// Set when the viewer runs the post's community: the slug, for pin and remove buttons.
    pub moderated_in: Option<String>,
    /// The viewer may announce the post (or withdraw its announcement).
    pub can_announce: bool,
    pub poll: Option<PollView>,
    /// The idea this post became.
    pub idea_id: Option<i64>,
}

impl PostView {
    pub fn new(row: PostRow, viewer: &User, liked: bool, now: i64) -> PostView {
        let viewer_id = viewer.id;
        let hidden = row.hidden_at.is_some();
        let concealed = hidden && row.author_id != viewer_id && !viewer.is_moderator();
        let known: Vec<&str> = row.mentions.split_whitespace().collect();
        let replying_to = match (row.parent_id, row.root_id) {
            (Some(parent), Some(root)) if parent != root => row.parent_username.clone(),
            _ => None,
        };
        PostView {
            id: row.id,
            thread_id: row.thread_id(),
            segments: if concealed { Vec::new() } else { text::segments(&row.body, &known) },
            created_iso: iso_time(row.created_at),
            created_label: crate::format::relative(row.created_at, now),
            created_exact: crate::format::date_time(row.created_at),
            edited_label: row.edited_at.map(|t| format!("edited {}", crate::format::relative(t, now))),
            deleted: row.is_deleted(),
            hidden: hidden && !concealed,
            concealed,
            replying_to,
            is_reply: row.parent_id.is_some(),
            reply_count: row.reply_count,
            like_count: row.like_count,
            liked,
            mine: row.author_id == viewer_id && !row.is_deleted(),
            author_username: row.author_username,
            author_display_name: row.author_display_name,
            latest_replies: Vec::new(),
            community_slug: row.community_slug,
            community_name: row.community_name,
            is_announcement: row.is_announcement,
            moderated_in: None,
            can_announce: false,
            poll: None,
            idea_id: row.idea_id,
        }
    }
}

/// Which newest replies a page shows under each post.
#[derive(Clone, Copy)]
pub enum Replies<'s> {
    /// None (a thread's own page, announcements).
    None,
    /// Read from the database.
    Read,
    /// From the cache of post rows, which this request has brought up to date (home).
    Cached(&'s Synced<'s>),
}

/// Views of `rows` for one viewer, with their likes (and, for feeds, latest replies) loaded in one
/// query each for the whole page.
pub async fn load_views(
    db: &mut impl Exec,
    rows: Vec<PostRow>,
    viewer: &User,
    replies: Replies<'_>,
) -> Result<Vec<PostView>, sqlx::Error> {
    let roots = || -> Vec<i64> { rows.iter().filter(|r| r.reply_count > 0).map(|r| r.id).collect() };
    let replies = match replies {
        Replies::None => Vec::new(),
        Replies::Read => store::latest_replies(db, &roots()).await?,
        Replies::Cached(synced) => cached_latest_replies(db, synced, &roots()).await?,
    };
    let mut ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    ids.extend(replies.iter().map(|r| r.id));
    let viewer_id = viewer.id;
    let liked = store::liked_among(db, viewer_id, &ids).await?;
    let with_polls: Vec<(i64, i64)> =
        rows.iter().chain(replies.iter()).filter_map(|r| r.poll_closes_at.map(|at| (r.id, at))).collect();
    let mut polls = crate::polls::store::load(db, &with_polls, viewer_id).await?;
    let now = crate::db::now();
    let mut view = |row: PostRow| {
        let is_liked = liked.contains(&row.id);
        let poll = polls.remove(&row.id);
        PostView { poll, ..PostView::new(row, viewer, is_liked, now) }
    };
    let mut reply_views: Vec<PostView> = replies.into_iter().map(&mut view).collect();
    let mut views: Vec<PostView> = rows.into_iter().map(&mut view).collect();
    for post in &mut views {
        let (mine, rest): (Vec<_>, Vec<_>) = reply_views.into_iter().partition(|r| r.thread_id == post.id);
        post.latest_replies = mine;
        reply_views = rest;
    }
    Ok(views)
}

/// One page of a feed, and the cursor of the next (older) page if there is one.
pub struct FeedPage {
    pub posts: Vec<PostView>,
    pub older_cursor: Option<i64>,
}

impl FeedPage {
    /// `rows` holds up to one more than a page, to tell whether an older page exists.
    pub async fn load(db: &mut impl Exec, rows: Vec<PostRow>, viewer: &User) -> Result<FeedPage, sqlx::Error> {
        FeedPage::load_with(db, rows, viewer, Replies::Read).await
    }

    /// [`FeedPage::load`] with the threads' newest replies taken from the cache of post rows.
    pub async fn load_cached(
        db: &mut impl Exec,
        synced: &Synced<'_>,
        rows: Vec<PostRow>,
        viewer: &User,
    ) -> Result<FeedPage, sqlx::Error> {
        FeedPage::load_with(db, rows, viewer, Replies::Cached(synced)).await
    }

    async fn load_with(
        db: &mut impl Exec,
        mut rows: Vec<PostRow>,
        viewer: &User,
        replies: Replies<'_>,
    ) -> Result<FeedPage, sqlx::Error> {
        let more = rows.len() as i64 > PAGE_SIZE;
        rows.truncate(PAGE_SIZE as usize);
        let older_cursor = if more { rows.last().map(|r| r.id) } else { None };
        let posts = load_views(db, rows, viewer, replies).await?;
        Ok(FeedPage { posts, older_cursor })
    }
}

/// [`store::latest_replies`] through the cache: each thread's list of newest replies, and each
/// reply's row, from the cache where it has them; the rest in one statement each.
async fn cached_latest_replies(
    db: &mut impl Exec,
    synced: &Synced<'_>,
    roots: &[i64],
) -> Result<Vec<PostRow>, sqlx::Error> {
    let mut listed = Vec::new();
    let mut unlisted = Vec::new();
    for &root in roots {
        match synced.replies(root) {
            Some(ids) => listed.extend(ids.iter().copied()),
            None => unlisted.push(root),
        }
    }
    let mut replies = synced.rows(db, &listed).await?;
    if !unlisted.is_empty() {
        let epoch = synced.epoch();
        let read: Vec<Arc<PostRow>> = store::latest_replies(db, &unlisted).await?.into_iter().map(Arc::new).collect();
        synced.keep(epoch, &read);
        for &root in &unlisted {
            let ids: Vec<i64> = read.iter().filter(|r| r.root_id == Some(root)).map(|r| r.id).collect();
            synced.keep_replies(epoch, root, ids.into());
        }
        replies.extend(read.iter().map(|row| PostRow::clone(row)));
    }
    Ok(replies)
}
