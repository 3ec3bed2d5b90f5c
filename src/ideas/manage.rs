//! What innovation managers and admins do to an idea: move it to another stage with a reason, answer
//! it officially, merge it into another (and undo that), and (admins) reveal an anonymous author.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Redirect, Response};
use axum::routing::post;
use axum::{Form, Router};
use serde::Deserialize;

use super::routes::{find_idea, idea_page};
use super::{Stage, write};
use crate::accounts::CurrentUser;
use crate::accounts::sessions::DbSessionStore;
use crate::web::path::parse_id;
use crate::web::{AppError, AppState, PathId};
use axum::extract::FromRef;

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AppState: FromRef<S>,
    DbSessionStore: FromRef<S>,
{
    Router::new()
        .route("/ideas/{id}/stage", post(move_stage))
        .route("/ideas/{id}/response", post(respond))
        .route("/ideas/{id}/merge", post(merge))
        .route("/ideas/{id}/unmerge", post(unmerge))
        .route("/ideas/{id}/reveal", post(reveal))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct StageForm {
    stage: String,
    reason: String,
}

async fn move_stage(
    State(state): State<AppState>,
    current: CurrentUser,
    PathId(id): PathId,
    Form(form): Form<StageForm>,
) -> Result<Redirect, AppError> {
    super::require_manager(&current)?;
    let (idea, _) = find_idea(&state, &current, id).await?;
    let stage = Stage::parse(&form.stage).ok_or_else(|| AppError::BadRequest("Choose one of the stages.".into()))?;
    let reason = super::STAGE_REASON.read(&form.reason).map_err(AppError::BadRequest)?;
    write::move_stage(&state.db, &current.user, &idea, stage, &reason).await?;
    current.set_notice(format!("The idea is now “{}”. Its author and voters were told.", stage.label())).await?;
    Ok(Redirect::to(&format!("/ideas/{}", idea.id)))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ResponseForm {
    response: String,
}

async fn respond(
    State(state): State<AppState>,
    current: CurrentUser,
    PathId(id): PathId,
    Form(form): Form<ResponseForm>,
) -> Result<Redirect, AppError> {
    super::require_manager(&current)?;
    let (idea, _) = find_idea(&state, &current, id).await?;
    let text = super::RESPONSE.read(&form.response).map_err(AppError::BadRequest)?;
    write::respond(&state.db, &current.user, &idea, &text).await?;
    current.set_notice("The official response is published above the discussion.").await?;
    Ok(Redirect::to(&format!("/ideas/{}", idea.id)))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct MergeForm {
    target: String,
}

async fn merge(
    State(state): State<AppState>,
    current: CurrentUser,
    PathId(id): PathId,
    Form(form): Form<MergeForm>,
) -> Result<Redirect, AppError> {
    super::require_manager(&current)?;
    let (source, _) = find_idea(&state, &current, id).await?;
    let (target, _) = find_idea(&state, &current, parse_id(&form.target).unwrap_or(0))
        .await
        .map_err(|_| AppError::BadRequest("Choose the idea to merge this one into.".into()))?;
    write::merge(&state.db, &current.user, &source, &target).await?;
    current.set_notice(format!("Merged into “{}”: its voters now count there, once each.", target.title)).await?;
    Ok(Redirect::to(&format!("/ideas/{}", source.id)))
}

async fn unmerge(
    State(state): State<AppState>,
    current: CurrentUser,
    PathId(id): PathId,
) -> Result<Redirect, AppError> {
    super::require_manager(&current)?;
    let (source, _) = find_idea(&state, &current, id).await?;
    write::unmerge(&state.db, &current.user, &source).await?;
    current.set_notice("The merge was undone: the votes are as they were.").await?;
    Ok(Redirect::to(&format!("/ideas/{}", source.id)))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RevealForm {
    reason: String,
}

/// Shows an anonymous idea's author to an admin, once, and writes the reveal to the audit log.
async fn reveal(
    State(state): State<AppState>,
    current: CurrentUser,
    PathId(id): PathId,
    Form(form): Form<RevealForm>,
) -> Result<Response, AppError> {
    if !current.user.is_admin() {
        return Err(AppError::Forbidden("Only admins can reveal who wrote an anonymous idea."));
    }
    let (idea, campaign) = find_idea(&state, &current, id).await?;
    if !idea.anonymous {
        return Err(AppError::BadRequest("This idea is not anonymous.".into()));
    }
    let reason = super::REVEAL_REASON.read(&form.reason).map_err(AppError::BadRequest)?;
    let mut tx = state.db.begin().await?;
    crate::audit::record(&mut tx, current.user.id, "reveal_author", "idea", idea.id, &reason).await?;
    tx.commit().await?;
    tracing::warn!(idea_id = idea.id, admin = current.user.id, "anonymous author revealed");
    let who = format!("{} (@{})", idea.author_display_name, idea.author_username);
    idea_page(&state, &current, idea, campaign, Some(who), None, StatusCode::OK).await
}
