//! Feeds (home, all company, a topic), writing, showing and deleting posts.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use serde::Deserialize;

use super::{FeedPage, PostBody, PostView, store};
use crate::web::layout::{Layout, render, render_status};
use crate::web::{AppError, AppState, CurrentUser};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/all", get(all))
        .route("/topics/{topic}", get(topic))
        .route("/posts", axum::routing::post(create))
        .route("/posts/{id}", get(show))
        .route("/posts/{id}/delete", get(confirm_delete).post(delete))
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

/// A post id from the path; anything that is not one is a missing page.
pub fn parse_id(raw: &str) -> Result<i64, AppError> {
    raw.parse::<i64>().map_err(|_| AppError::NotFound)
}

/// The compose box on the home page, with what was typed when it was refused.
pub struct Compose {
    pub draft: String,
    pub error: Option<String>,
    pub max_chars: usize,
}

#[derive(Template)]
#[template(path = "posts/feed.html")]
struct FeedTemplate {
    layout: Layout,
    heading: String,
    intro: String,
    compose: Option<Compose>,
    feed: FeedPage,
    base_url: String,
    empty: &'static str,
}

async fn home(
    State(state): State<AppState>,
    current: CurrentUser,
    Query(query): Query<CursorQuery>,
) -> Result<Response, AppError> {
    let compose = Compose {
        draft: String::new(),
        error: None,
        max_chars: state.config.max_post_chars,
    };
    home_page(&state, &current, query.cursor()?, compose, StatusCode::OK).await
}

async fn home_page(
    state: &AppState,
    current: &CurrentUser,
    cursor: Option<i64>,
    compose: Compose,
    status: StatusCode,
) -> Result<Response, AppError> {
    let rows = store::home(&mut state.db.clone(), current.user.id, cursor).await?;
    let page = FeedTemplate {
        layout: Layout::for_user(current, "Home").await,
        heading: "Home".into(),
        intro: "Your posts and those of the people you follow.".into(),
        compose: Some(compose),
        feed: FeedPage::from_rows(rows, current.user.id),
        base_url: "/".into(),
        empty: "Nothing here yet. Write the first post, or find colleagues to follow under People.",
    };
    render_status(status, &page)
}

async fn all(
    State(state): State<AppState>,
    current: CurrentUser,
    Query(query): Query<CursorQuery>,
) -> Result<Response, AppError> {
    let rows = store::all(&mut state.db.clone(), query.cursor()?).await?;
    render(&FeedTemplate {
        layout: Layout::for_user(&current, "All company").await,
        heading: "All company".into(),
        intro: "Every post in the company, newest first.".into(),
        compose: None,
        feed: FeedPage::from_rows(rows, current.user.id),
        base_url: "/all".into(),
        empty: "Nobody has posted yet.",
    })
}

async fn topic(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(topic): Path<String>,
    Query(query): Query<CursorQuery>,
) -> Result<Response, AppError> {
    let topic = topic.to_lowercase();
    if topic.chars().count() > 50 {
        return Err(AppError::NotFound);
    }
    let rows = store::by_topic(&mut state.db.clone(), &topic, query.cursor()?).await?;
    render(&FeedTemplate {
        layout: Layout::for_user(&current, format!("#{topic}")).await,
        heading: format!("#{topic}"),
        intro: format!("Posts tagged #{topic}."),
        compose: None,
        feed: FeedPage::from_rows(rows, current.user.id),
        base_url: format!("/topics/{}", crate::web::form::percent_encode(&topic)),
        empty: "No posts with this topic yet.",
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PostForm {
    body: String,
}

async fn create(
    State(state): State<AppState>,
    current: CurrentUser,
    Form(form): Form<PostForm>,
) -> Result<Response, AppError> {
    let max_chars = state.config.max_post_chars;
    let body = match PostBody::parse(&form.body, max_chars) {
        Ok(body) => body,
        Err(message) => {
            let compose = Compose {
                draft: form.body,
                error: Some(message),
                max_chars,
            };
            return home_page(&state, &current, None, compose, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    let id = store::create(&state.db, current.user.id, &body).await?;
    tracing::info!(post_id = id, author_id = current.user.id, "post created");
    Ok(Redirect::to("/").into_response())
}

#[derive(Template)]
#[template(path = "posts/show.html")]
struct ShowTemplate {
    layout: Layout,
    post: PostView,
}

/// The post a path names, as the viewer sees it, or a 404.
async fn load_post(state: &AppState, current: &CurrentUser, raw_id: &str) -> Result<PostView, AppError> {
    let row = store::find(&mut state.db.clone(), parse_id(raw_id)?)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(PostView::new(row, current.user.id, crate::db::now()))
}

async fn show(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let post = load_post(&state, &current, &id).await?;
    render(&ShowTemplate {
        layout: Layout::for_user(&current, format!("Post by {}", post.author_display_name)).await,
        post,
    })
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
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let post = load_post(&state, &current, &id).await?;
    if !post.deletable {
        return Err(AppError::Forbidden("Only the author of a post can delete it."));
    }
    render(&ConfirmDeleteTemplate {
        layout: Layout::for_user(&current, "Delete post").await,
        post,
    })
}

async fn delete(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let mut db = state.db.clone();
    if !store::delete_own(&mut db, id, current.user.id).await? {
        return match store::find(&mut db, id).await? {
            Some(_) => Err(AppError::Forbidden("Only the author of a post can delete it.")),
            None => Err(AppError::NotFound),
        };
    }
    tracing::info!(post_id = id, author_id = current.user.id, "post deleted");
    current.set_notice("Your post was deleted.").await?;
    Ok(Redirect::to("/").into_response())
}
