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
use super::{Campaign, Phase, Stage};
use crate::accounts::CurrentUser;
use crate::accounts::profile_text;
use crate::accounts::sessions::DbSessionStore;
use crate::db::now;
use crate::watch::Watch;
use crate::web::form::FormErrors;
use crate::web::layout::{Layout, render_status};
use crate::web::{AppError, AppState};
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

/// Why the author may not change this idea now, if they may not.
pub fn edit_refusal(idea: &IdeaRow, campaign: &Campaign, viewer_id: i64, at: i64) -> Option<&'static str> {
    if idea.author_id != viewer_id {
        return Some("Only the idea's author can change it.");
    }
    if idea.stage != Stage::New.as_str() || idea.merged_into_id.is_some() {
        return Some("A manager has taken this idea on, so it stays as it was. Add a comment instead.");
    }
    if idea.hidden_at.is_some() {
        return Some("A moderator hid this idea.");
    }
    if !matches!(campaign.phase(at), Phase::Open | Phase::Upcoming) {
        return Some("The campaign is closed.");
    }
    None
}

async fn own_idea(state: &AppState, current: &CurrentUser, id: &str) -> Result<(IdeaRow, Campaign), AppError> {
    let (idea, campaign) = find_idea(state, current, id).await?;
    if idea.author_id != current.user.id {
        return Err(AppError::Forbidden("Only the idea's author can change it."));
    }
    if let Some(why) = edit_refusal(&idea, &campaign, current.user.id, now()) {
        return Err(AppError::Conflict(why));
    }
    Ok((idea, campaign))
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
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (idea, _) = own_idea(&state, &current, &id).await?;
    let layout = Layout::for_user(&current, "Edit your idea").await?;
    let page =
        EditTemplate { layout, idea_id: idea.id, title: idea.title, body: idea.body, errors: FormErrors::default() };
    render_status(StatusCode::OK, &page)
}

async fn edit(
    State(state): State<AppState>,
    State(watch): State<Watch>,
    current: CurrentUser,
    Path(id): Path<String>,
    Form(form): Form<EditForm>,
) -> Result<Response, AppError> {
    let (idea, _) = own_idea(&state, &current, &id).await?;
    let mut errors = FormErrors::default();
    let title = errors.check("title", profile_text(&form.title, "The title", 1, 140));
    let body = errors.check("body", profile_text(&form.body, "The description", 1, 5000));
    let (Some(title), Some(body), true) = (title, body, errors.is_empty()) else {
        let layout = Layout::for_user(&current, "Edit your idea").await?;
        let page = EditTemplate { layout, idea_id: idea.id, title: form.title, body: form.body, errors };
        return render_status(StatusCode::UNPROCESSABLE_ENTITY, &page);
    };
    if !store::edit_idea(&mut state.db.clone(), idea.id, &title, &body).await? {
        return Err(AppError::Conflict("A manager took this idea on meanwhile, so your edit was not saved."));
    }
    let text = format!("{title}\n{body}");
    watch.check(&state.db, crate::watch::ObjectKind::Idea, idea.id, current.user.id, &text).await;
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
    Path(id): Path<String>,
    Form(form): Form<ConfirmForm>,
) -> Result<Response, AppError> {
    let (idea, campaign) = own_idea(&state, &current, &id).await?;
    if form.confirm != "yes" {
        return Err(AppError::BadRequest("Confirm that you want to withdraw the idea.".into()));
    }
    if !store::withdraw_idea(&state.db, &idea).await? {
        return Err(AppError::Conflict("A manager took this idea on meanwhile, so it stays."));
    }
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
    let (idea, campaign) = find_idea(state, current, id).await?;
    let comment_id = comment.parse::<i64>().map_err(|_| AppError::NotFound)?;
    let comment = store::comment(&mut state.db.clone(), idea.id, comment_id).await?.ok_or(AppError::NotFound)?;
    if comment.author_id != current.user.id {
        return Err(AppError::Forbidden("Only its writer can change a comment."));
    }
    if comment.hidden_at.is_some() {
        return Err(AppError::Conflict("A moderator hid this comment, so it cannot be changed."));
    }
    if campaign.phase(now()) == Phase::Archived {
        return Err(AppError::BadRequest("The campaign is archived: its discussion is closed.".into()));
    }
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
    let body = match profile_text(&form.body, "A comment", 1, 2000) {
        Ok(body) => body,
        Err(message) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return super::routes::idea_page(&state, &current, idea, campaign, None, Some(message), status).await;
        }
    };
    store::edit_comment(&state.db, &comment, idea.id, &body).await?;
    watch.check(&state.db, crate::watch::ObjectKind::Comment, comment.id, current.user.id, &body).await;
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
    let mut tx = state.db.begin().await?;
    store::delete_comment(&mut tx, comment.id).await?;
    tx.commit().await?;
    current.set_notice("Your comment was deleted, with the answers under it.").await?;
    Ok(Redirect::to(&format!("/ideas/{}#comments", idea.id)).into_response())
}
