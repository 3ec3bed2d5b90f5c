//! What people do with their own ideas and comments: edit an idea while it is still new, withdraw
//! it, and edit or delete their comments (an edit is marked). Managers' and moderators' actions are
//! elsewhere (`manage`, moderation).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::routes::find_idea;
use super::store::{self, IdeaRow};
use super::{Campaign, write};
use crate::accounts::CurrentUser;
use crate::accounts::sessions::DbSessionStore;
use crate::watch::Watch;
use crate::web::form::FormErrors;
use crate::web::layout::{Layout, render_status};
use crate::web::path::parse_id;
use crate::web::{AppError, AppState, PathId};
use axum::extract::FromRef;

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AppState: FromRef<S>,
    DbSessionStore: FromRef<S>,
    Watch: FromRef<S>,
{
    Router::new()
        .route("/ideas/{id}/edit", get(edit_page).post(edit))
        .route("/ideas/{id}/withdraw", post(withdraw))
        .route("/ideas/{id}/comments/{comment}/edit", post(edit_comment))
        .route("/ideas/{id}/comments/{comment}/delete", post(delete_comment))
}

/// The viewer's own idea, which they may still change ([`write::find_own`]).
async fn own_idea(state: &AppState, current: &CurrentUser, id: i64) -> Result<(IdeaRow, Campaign), AppError> {
    write::find_own(&state.db, &current.user, id).await
}

#[derive(Template)]
#[template(path = "ideas/edit.html")]
struct EditTemplate {
    layout: Layout,
    idea_id: i64,
    title: String,
    body: String,
    errors: FormErrors,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct EditForm {
    title: String,
    body: String,
}

async fn edit_page(
    State(state): State<AppState>,
    current: CurrentUser,
    PathId(id): PathId,
) -> Result<Response, AppError> {
    let (idea, _) = own_idea(&state, &current, id).await?;
    let layout = Layout::for_user(&current, "Edit your idea").await?;
    let page =
        EditTemplate { layout, idea_id: idea.id, title: idea.title, body: idea.body, errors: FormErrors::default() };
    render_status(StatusCode::OK, &page)
}

async fn edit(
    State(state): State<AppState>,
    State(watch): State<Watch>,
    current: CurrentUser,
    PathId(id): PathId,
    Form(form): Form<EditForm>,
) -> Result<Response, AppError> {
    let (idea, _) = own_idea(&state, &current, id).await?;
    let mut errors = FormErrors::default();
    let title = errors.check("title", super::IDEA_TITLE.read(&form.title));
    let body = errors.check("body", super::IDEA_BODY.read(&form.body));
    let (Some(title), Some(body), true) = (title, body, errors.is_empty()) else {
        let layout = Layout::for_user(&current, "Edit your idea").await?;
        let page = EditTemplate { layout, idea_id: idea.id, title: form.title, body: form.body, errors };
        return render_status(StatusCode::UNPROCESSABLE_ENTITY, &page);
    };
    write::edit(&state.db, &watch, &idea, &title, &body).await?;
    current.set_notice("Your idea was saved.").await?;
    Ok(Redirect::to(&format!("/ideas/{}", idea.id)).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ConfirmForm {
    confirm: String,
}

async fn withdraw(
    State(state): State<AppState>,
    current: CurrentUser,
    PathId(id): PathId,
    Form(form): Form<ConfirmForm>,
) -> Result<Response, AppError> {
    let (idea, campaign) = own_idea(&state, &current, id).await?;
    if form.confirm != "yes" {
        return Err(AppError::BadRequest("Confirm that you want to withdraw the idea.".into()));
    }
    write::withdraw(&state.db, &idea).await?;
    current.set_notice("Your idea was withdrawn; its votes went back to the people who gave them.").await?;
    Ok(Redirect::to(&format!("/campaigns/{}", campaign.id)).into_response())
}

/// The viewer's own comment on the idea, which they may still change.
async fn own_comment(
    state: &AppState,
    current: &CurrentUser,
    id: &str,
    comment: &str,
) -> Result<(IdeaRow, Campaign, store::CommentRow), AppError> {
    let (idea, campaign) = find_idea(state, current, parse_id(id)?).await?;
    let comment_id = parse_id(comment)?;
    let comment = write::find_own_comment(&state.db, &current.user, &idea, &campaign, comment_id).await?;
    Ok((idea, campaign, comment))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CommentForm {
    body: String,
}

async fn edit_comment(
    State(state): State<AppState>,
    State(watch): State<Watch>,
    current: CurrentUser,
    Path((id, comment)): Path<(String, String)>,
    Form(form): Form<CommentForm>,
) -> Result<Response, AppError> {
    let (idea, campaign, comment) = own_comment(&state, &current, &id, &comment).await?;
    let body = match super::COMMENT.read(&form.body) {
        Ok(body) => body,
        Err(message) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return super::routes::idea_page(&state, &current, idea, campaign, None, Some(message), status).await;
        }
    };
    write::edit_comment(&state.db, &watch, &idea, &comment, &body).await?;
    Ok(Redirect::to(&format!("/ideas/{}#comment-{}", idea.id, comment.id)).into_response())
}

async fn delete_comment(
    State(state): State<AppState>,
    current: CurrentUser,
    Path((id, comment)): Path<(String, String)>,
    Form(form): Form<ConfirmForm>,
) -> Result<Response, AppError> {
    let (idea, _, comment) = own_comment(&state, &current, &id, &comment).await?;
    if form.confirm != "yes" {
        return Err(AppError::BadRequest("Confirm that you want to delete the comment.".into()));
    }
    write::delete_comment(&state.db, &comment).await?;
    current.set_notice("Your comment was deleted, with the answers under it.").await?;
    Ok(Redirect::to(&format!("/ideas/{}#comments", idea.id)).into_response())
}
