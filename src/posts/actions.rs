//! What people do to a post besides writing it: like it, see who liked it, vote in its poll, and
//! dismiss an announcement (making one is in `admin::announcements`).

use askama::Template;
use axum::extract::State;
use axum::response::{Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::routes::find_post;
use super::store;
use crate::accounts::CurrentUser;
use crate::accounts::sessions::DbSessionStore;
use crate::bus::Hub;
use crate::polls::store::VoteRefused;
use crate::web::form::local_path;
use crate::web::layout::{Layout, render};
use crate::web::{AppError, AppState, PathId};
use axum::extract::FromRef;

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AppState: FromRef<S>,
    DbSessionStore: FromRef<S>,
    Hub: FromRef<S>,
{
    Router::new()
        .route("/posts/{id}/like", post(like))
        .route("/posts/{id}/unlike", post(unlike))
        .route("/posts/{id}/likes", get(likers))
        .route("/posts/{id}/vote", post(vote))
        .route("/announcements/{id}/dismiss", post(dismiss))
}

/// Where a like button sends the person back to: the page it was on, at the post.
#[derive(Deserialize, Default)]
#[serde(default)]
struct BackForm {
    back: String,
}

fn back_to(form: &BackForm, post_id: i64) -> Redirect {
    let path = local_path(Some(&form.back));
    let path = path.split('#').next().unwrap_or("/");
    Redirect::to(&format!("{path}#post-{post_id}"))
}

async fn like(
    State(state): State<AppState>,
    State(live): State<Hub>,
    current: CurrentUser,
    PathId(id): PathId,
    Form(form): Form<BackForm>,
) -> Result<Redirect, AppError> {
    let post = find_post(&state, &current, id).await?;
    super::write::like(&state.db, &live, &current.user, &post).await?;
    Ok(back_to(&form, post.id))
}

async fn unlike(
    State(state): State<AppState>,
    current: CurrentUser,
    PathId(id): PathId,
    Form(form): Form<BackForm>,
) -> Result<Redirect, AppError> {
    let post = find_post(&state, &current, id).await?;
    super::write::unlike(&state.db, &current.user, &post).await?;
    Ok(back_to(&form, post.id))
}

#[derive(Template)]
#[template(path = "posts/likes.html")]
struct LikersTemplate {
    layout: Layout,
    post_id: i64,
    thread_id: i64,
    people: Vec<(String, String)>,
}

async fn likers(State(state): State<AppState>, current: CurrentUser, PathId(id): PathId) -> Result<Response, AppError> {
    let post = find_post(&state, &current, id).await?;
    // Who liked a hidden post is hidden like its text: from everyone but its author and moderators.
    if post.hidden_at.is_some() && post.author_id != current.user.id && !current.user.is_moderator() {
        return Err(AppError::NotFound);
    }
    let people = store::likers(&mut &state.db, post.id).await?;
    render(&LikersTemplate {
        layout: Layout::for_user(&current, "Liked by").await?,
        post_id: post.id,
        thread_id: post.thread_id(),
        people,
    })
}

async fn dismiss(
    State(state): State<AppState>,
    current: CurrentUser,
    PathId(id): PathId,
) -> Result<Redirect, AppError> {
    let post = find_post(&state, &current, id).await?;
    store::dismiss_announcement(&mut &state.db, post.id, current.user.id).await?;
    Ok(Redirect::to("/"))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct VoteForm {
    option: String,
    back: String,
}

/// Votes in a post's poll, or changes the vote while it is open.
async fn vote(
    State(state): State<AppState>,
    current: CurrentUser,
    PathId(id): PathId,
    Form(form): Form<VoteForm>,
) -> Result<Redirect, AppError> {
    let post = find_post(&state, &current, id).await?;
    super::refuse_if_hidden(&post)?;
    let option = form.option.parse::<i64>().map_err(|_| AppError::BadRequest("Choose one of the options.".into()))?;
    match crate::polls::store::vote(&mut &state.db, post.id, option, current.user.id).await? {
        Ok(()) => Ok(back_to(&BackForm { back: form.back }, post.id)),
        Err(VoteRefused::Closed) => {
            Err(AppError::BadRequest("This poll has closed; votes are no longer taken.".into()))
        }
        Err(VoteRefused::NoSuchOption) => Err(AppError::BadRequest("Choose one of the poll's options.".into())),
    }
}
