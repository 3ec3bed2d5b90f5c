//! Home and all-company feeds; writing, replying to, editing, deleting and liking posts; threads.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::store::Placement;
use super::views::{Replies, load_views};
use super::{FeedPage, PostBody, PostRow, PostView, store, write};
use crate::accounts::CurrentUser;
use crate::accounts::sessions::DbSessionStore;
use crate::bus::Hub;
use crate::polls::{NewPoll, PollForm};
use crate::posts::cache::PostCache;
use crate::watch::Watch;
use crate::web::layout::{Layout, render, render_status};
use crate::web::{AppError, AppState, PathId};
use axum::extract::FromRef;

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AppState: FromRef<S>,
    DbSessionStore: FromRef<S>,
    Hub: FromRef<S>,
    Watch: FromRef<S>,
    PostCache: FromRef<S>,
{
    Router::new()
        .route("/", get(super::home::home))
        .route("/all", get(all))
        .route("/posts", post(create))
        .route("/posts/{id}", get(show))
        .route("/posts/{id}/replies", post(reply))
        .route("/posts/{id}/edit", get(edit_page).post(edit))
        .route("/posts/{id}/delete", get(confirm_delete).post(delete))
        .merge(super::actions::router())
}

/// `?before=ID`: the cursor of an older page.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CursorQuery {
    before: Option<String>,
}

impl CursorQuery {
    pub fn cursor(&self) -> Result<Option<i64>, AppError> {
        match self.before.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(v) => v
                .parse::<i64>()
                .map(Some)
                .map_err(|_| AppError::BadRequest("That page link is damaged: go back to the newest posts.".into())),
        }
    }
}

/// The post a path names, if the viewer may see it ([`write::find`]); otherwise a 404.
pub async fn find_post(state: &AppState, current: &CurrentUser, id: i64) -> Result<PostRow, AppError> {
    write::find(&state.db, &current.user, id).await
}

/// The post a path names, if the viewer wrote it and it still stands ([`write::find_own`]).
async fn find_own_post(state: &AppState, current: &CurrentUser, id: i64) -> Result<PostRow, AppError> {
    write::find_own(&state.db, &current.user, id).await
}

/// A compose box, with what was typed when it was refused.
pub struct Compose {
    pub draft: String,
    pub error: Option<String>,
    pub max_chars: usize,
    /// The poll fields, for boxes that may start a poll (not replies or edits).
    pub poll: Option<PollForm>,
    pub poll_error: Option<String>,
}

impl Compose {
    /// An empty box for a reply or an edit.
    pub fn empty() -> Compose {
        Compose {
            draft: String::new(),
            error: None,
            max_chars: crate::site::current().max_post_chars,
            poll: None,
            poll_error: None,
        }
    }

    /// An empty box for a new top-level post, which may carry a poll.
    pub fn with_poll() -> Compose {
        Compose { poll: Some(PollForm { poll_hours: "24".into(), ..PollForm::default() }), ..Compose::empty() }
    }

    /// A box showing a refused text again (with its own error), keeping the poll fields if it had them.
    pub fn refused(draft: String, error: Option<String>) -> Compose {
        Compose { draft, error, ..Compose::empty() }
    }

    pub fn durations(&self) -> &'static [(i64, &'static str)] {
        &crate::polls::DURATIONS
    }
}

/// A new top-level post's form: its text and, optionally, a poll.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NewPostForm {
    pub body: String,
    #[serde(flatten)]
    pub poll: PollForm,
}

/// The text and poll of a new post, or the compose box to show again with what was wrong.
pub fn parse_new_post(form: NewPostForm) -> Result<(PostBody, Option<NewPoll>), Box<Compose>> {
    let max_chars = crate::site::current().max_post_chars;
    let body = PostBody::parse(&form.body, max_chars);
    let poll = form.poll.parse();
    match (body, poll) {
        (Ok(body), Ok(poll)) => Ok((body, poll)),
        (body, poll) => Err(Box::new(Compose {
            draft: form.body,
            error: body.err(),
            max_chars,
            poll_error: poll.err(),
            poll: Some(form.poll),
        })),
    }
}

#[derive(Template)]
#[template(path = "posts/feed.html")]
pub struct FeedTemplate {
    pub layout: Layout,
    pub heading: String,
    pub intro: String,
    pub compose: Option<Compose>,
    /// A follow button for the feed's subject (a topic): (action, label).
    pub follow_action: Option<(String, &'static str)>,
    /// Announcements shown above the feed until dismissed (home only).
    pub announcements: Vec<PostView>,
    /// Which live stream announces new posts for this feed (`home`, `all`, or none).
    pub live_feed: &'static str,
    pub feed: FeedPage,
    pub base_url: String,
    pub empty: &'static str,
}

async fn all(
    State(state): State<AppState>,
    current: CurrentUser,
    Query(query): Query<CursorQuery>,
) -> Result<Response, AppError> {
    let mut db = &state.db;
    let rows = store::all(&mut db, query.cursor()?).await?;
    render(&FeedTemplate {
        layout: Layout::for_user(&current, "All company").await?,
        heading: "All company".into(),
        intro: "Every post in the company, newest first.".into(),
        compose: None,
        follow_action: None,
        announcements: Vec::new(),
        live_feed: "all",
        feed: FeedPage::load(&mut db, rows, &current.user).await?,
        base_url: "/all".into(),
        empty: "Nobody has posted yet.",
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PostForm {
    body: String,
}

async fn create(
    State(state): State<AppState>,
    State(posts): State<PostCache>,
    State(live): State<Hub>,
    State(watch): State<Watch>,
    current: CurrentUser,
    Form(form): Form<NewPostForm>,
) -> Result<Response, AppError> {
    let (body, poll) = match parse_new_post(form) {
        Ok(parsed) => parsed,
        Err(compose) => {
            return super::home::home_page(&state, &posts, &current, None, *compose, StatusCode::UNPROCESSABLE_ENTITY)
                .await;
        }
    };
    let effects = write::Effects { watch: &watch, live: &live };
    write::publish(&state.db, effects, &current.user, &body, poll.as_ref(), Placement::Company).await?;
    Ok(Redirect::to("/").into_response())
}

#[derive(Template)]
#[template(path = "posts/thread.html")]
struct ThreadTemplate {
    layout: Layout,
    root: PostView,
    replies: Vec<PostView>,
    /// The order shown, and the links to either order.
    newest_first: bool,
    oldest_link: String,
    newest_link: String,
    /// "Show N more replies": the next page's link and its label.
    more: Option<(String, String)>,
    /// This page starts inside the thread: a link back to its start.
    from_start: Option<String>,
    compose: Compose,
    /// Where the reply box posts: an answer to the first post, or to a reply chosen with "Reply".
    reply_action: String,
    reply_label: String,
    /// This page, for the like buttons to come back to.
    back: String,
}

/// Replies on one page of a thread.
const THREAD_PAGE: i64 = 20;
/// "Show N more" counts the replies left up to this many ("more than 1,000").
const MORE_CAP: i64 = 1000;

/// Which replies of a thread a page shows: an order, and the reply it starts at.
#[derive(Debug, Clone, Copy, Default)]
struct Paging {
    order: store::ReplyOrder,
    from: Option<i64>,
}

impl Paging {
    fn url(&self, root_id: i64) -> String {
        let order = if self.order == store::ReplyOrder::Newest { Some("order=newest") } else { None };
        let from = self.from.map(|id| format!("from={id}"));
        match [order.map(str::to_owned), from].into_iter().flatten().collect::<Vec<_>>().join("&") {
            query if query.is_empty() => format!("/posts/{root_id}"),
            query => format!("/posts/{root_id}?{query}"),
        }
    }
}

/// A thread page: the first post, a page of its replies, and a reply box.
async fn thread_page(
    state: &AppState,
    current: &CurrentUser,
    root_row: PostRow,
    paging: Paging,
    reply_to: Option<i64>,
    compose: Compose,
    status: StatusCode,
) -> Result<Response, AppError> {
    let mut db = &state.db;
    let viewer = current.user.id;
    let root_id = root_row.id;
    let mut rows = store::replies(&mut db, root_id, viewer, paging.order, paging.from, THREAD_PAGE + 1).await?;
    let next = (rows.len() as i64 > THREAD_PAGE).then(|| rows.remove(THREAD_PAGE as usize).id);
    // The reply being answered may be on another page: the box still names it.
    let answered_row = match reply_to {
        Some(id) if !rows.iter().any(|r| r.id == id) => {
            store::find_visible(&mut db, id, viewer).await?.filter(|r| r.root_id == Some(root_id))
        }
        _ => None,
    };
    rows.insert(0, root_row);
    let mut posts = load_views(&mut db, rows, &current.user, Replies::None).await?.into_iter();
    let mut root = posts.next().ok_or(AppError::NotFound)?;
    root.can_announce = !root.deleted && current.user.is_admin();
    let replies: Vec<PostView> = posts.collect();
    let (answered_id, answered_name) = match (reply_to, &answered_row) {
        (_, Some(row)) if row.deleted_at.is_none() => (row.id, row.author_display_name.clone()),
        (Some(id), _) => match replies.iter().find(|r| r.id == id && !r.deleted) {
            Some(r) => (r.id, r.author_display_name.clone()),
            None => (root.id, root.author_display_name.clone()),
        },
        _ => (root.id, root.author_display_name.clone()),
    };
    let more = match next {
        Some(next) => {
            let left = store::replies_from(&mut db, root_id, paging.order, next, MORE_CAP).await?;
            let label = match left {
                1 => "Show 1 more reply".to_owned(),
                n if n >= MORE_CAP => format!("Show more ({n}+ replies left)"),
                n => format!("Show {n} more replies"),
            };
            Some((Paging { from: Some(next), ..paging }.url(root_id), label))
        }
        None => None,
    };
    let from_start = paging.from.map(|_| Paging { from: None, ..paging }.url(root_id));
    let page = ThreadTemplate {
        layout: Layout::for_user(current, format!("Post by {}", root.author_display_name)).await?,
        newest_first: paging.order == store::ReplyOrder::Newest,
        oldest_link: Paging::default().url(root_id),
        newest_link: Paging { order: store::ReplyOrder::Newest, from: None }.url(root_id),
        more,
        from_start,
        back: paging.url(root_id),
        reply_action: format!("/posts/{answered_id}/replies"),
        reply_label: format!("Reply to {answered_name}"),
        root,
        replies,
        compose,
    };
    render_status(status, &page)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ThreadQuery {
    reply_to: Option<String>,
    /// `newest` for newest first; oldest first otherwise.
    order: String,
    /// The reply a page starts at.
    from: Option<String>,
}

/// A post's own page; for a reply, the page of its thread that shows it.
async fn show(
    State(state): State<AppState>,
    current: CurrentUser,
    PathId(id): PathId,
    Query(query): Query<ThreadQuery>,
) -> Result<Response, AppError> {
    let post = find_post(&state, &current, id).await?;
    if let Some(root) = post.root_id {
        return Ok(Redirect::to(&reply_location(&state, root, post.id).await?).into_response());
    }
    let order = if query.order == "newest" { store::ReplyOrder::Newest } else { store::ReplyOrder::Oldest };
    let from = query.from.as_deref().map(crate::web::path::parse_id).transpose()?;
    let reply_to = query.reply_to.and_then(|r| r.parse().ok());
    let paging = Paging { order, from };
    thread_page(&state, &current, post, paging, reply_to, Compose::empty(), StatusCode::OK).await
}

/// Where a reply is shown: its thread's first page when it is among the first replies, otherwise
/// a page that starts at it.
async fn reply_location(state: &AppState, root: i64, id: i64) -> Result<String, AppError> {
    let before = store::replies_before(&mut &state.db, root, id, THREAD_PAGE).await?;
    Ok(if before < THREAD_PAGE {
        format!("/posts/{root}#post-{id}")
    } else {
        format!("/posts/{root}?from={id}#post-{id}")
    })
}

async fn reply(
    State(state): State<AppState>,
    State(live): State<Hub>,
    State(watch): State<Watch>,
    current: CurrentUser,
    PathId(id): PathId,
    Form(form): Form<PostForm>,
) -> Result<Response, AppError> {
    let parent = find_post(&state, &current, id).await?;
    let body = match PostBody::parse(&form.body, state.site().await.max_post_chars) {
        Ok(body) => body,
        Err(message) => {
            let compose = Compose::refused(form.body, Some(message));
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            let root = match parent.root_id {
                Some(root) => find_post(&state, &current, root).await?,
                None => parent.clone(),
            };
            return thread_page(&state, &current, root, Paging::default(), Some(parent.id), compose, status).await;
        }
    };
    let effects = write::Effects { watch: &watch, live: &live };
    let reply_id = write::reply(&state.db, effects, &current.user, &parent, &body).await?;
    Ok(Redirect::to(&reply_location(&state, parent.thread_id(), reply_id).await?).into_response())
}

#[derive(Template)]
#[template(path = "posts/edit.html")]
struct EditTemplate {
    layout: Layout,
    id: i64,
    action: String,
    compose: Compose,
}

async fn edit_page(
    State(state): State<AppState>,
    current: CurrentUser,
    PathId(id): PathId,
) -> Result<Response, AppError> {
    let post = find_own_post(&state, &current, id).await?;
    let compose = Compose::refused(post.body, None);
    let layout = Layout::for_user(&current, "Edit post").await?;
    render(&EditTemplate { layout, id: post.id, action: format!("/posts/{}/edit", post.id), compose })
}

async fn edit(
    State(state): State<AppState>,
    State(watch): State<Watch>,
    current: CurrentUser,
    PathId(id): PathId,
    Form(form): Form<PostForm>,
) -> Result<Response, AppError> {
    let post = find_own_post(&state, &current, id).await?;
    let body = match PostBody::parse(&form.body, state.site().await.max_post_chars) {
        Ok(body) => body,
        Err(message) => {
            let compose = Compose::refused(form.body, Some(message));
            let layout = Layout::for_user(&current, "Edit post").await?;
            let page = EditTemplate { layout, id: post.id, action: format!("/posts/{}/edit", post.id), compose };
            return render_status(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    write::edit(&state.db, &watch, &post, &body).await?;
    Ok(Redirect::to(&format!("/posts/{}#post-{}", post.thread_id(), post.id)).into_response())
}

#[derive(Template)]
#[template(path = "posts/confirm_delete.html")]
struct ConfirmDeleteTemplate {
    layout: Layout,
    post: PostView,
}

async fn confirm_delete(
    State(state): State<AppState>,
    current: CurrentUser,
    PathId(id): PathId,
) -> Result<Response, AppError> {
    let row = find_own_post(&state, &current, id).await?;
    let post = PostView::new(row, &current.user, false, crate::db::now());
    render(&ConfirmDeleteTemplate { layout: Layout::for_user(&current, "Delete post").await?, post })
}

async fn delete(State(state): State<AppState>, current: CurrentUser, PathId(id): PathId) -> Result<Response, AppError> {
    let post = find_own_post(&state, &current, id).await?;
    write::delete(&state.db, &post).await?;
    current.set_notice("Your post was deleted.").await?;
    let back = match post.root_id {
        Some(root) => format!("/posts/{root}"),
        None => "/".to_owned(),
    };
    Ok(Redirect::to(&back).into_response())
}
