//! Announcements: a post shown above everyone's home until each person dismisses it. Site admins
//! announce any standing top-level post; a community's admins, that community's posts.

use axum::Router;
use axum::extract::{FromRef, State};
use axum::response::Redirect;
use axum::routing::post;

use crate::accounts::CurrentUser;
use crate::accounts::sessions::DbSessionStore;
use crate::communities::{self, Standing};
use crate::posts::routes::find_post;
use crate::posts::{PostRow, store};
use crate::web::{AppError, AppState, PathId};

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AppState: FromRef<S>,
    DbSessionStore: FromRef<S>,
{
    Router::new().route("/posts/{id}/announce", post(announce)).route("/posts/{id}/unannounce", post(unannounce))
}

/// Site admins may announce any top-level post; a community's admins, that community's posts.
async fn may_announce(state: &AppState, current: &CurrentUser, post: &PostRow) -> Result<(), AppError> {
    if post.parent_id.is_some() || post.is_deleted() {
        return Err(AppError::BadRequest("Only a standing top-level post can be an announcement.".into()));
    }
    if current.user.is_admin() {
        return Ok(());
    }
    if let Some(community_id) = post.community_id {
        let standing = communities::store::standing(&mut &state.db, community_id, current.user.id).await?;
        if standing == Standing::Admin {
            return Ok(());
        }
    }
    Err(AppError::Forbidden("Only admins, and community admins in their community, make announcements."))
}

async fn set_announcement(state: AppState, current: CurrentUser, id: i64, on: bool) -> Result<Redirect, AppError> {
    let post = find_post(&state, &current, id).await?;
    may_announce(&state, &current, &post).await?;
    store::set_announcement(&mut &state.db, post.id, on).await?;
    let notice = if on {
        "The post is announced: it shows above everyone's home until dismissed."
    } else {
        "The announcement was withdrawn."
    };
    current.set_notice(notice).await?;
    Ok(Redirect::to(&format!("/posts/{}", post.id)))
}

async fn announce(
    State(state): State<AppState>,
    current: CurrentUser,
    PathId(id): PathId,
) -> Result<Redirect, AppError> {
    set_announcement(state, current, id, true).await
}

async fn unannounce(
    State(state): State<AppState>,
    current: CurrentUser,
    PathId(id): PathId,
) -> Result<Redirect, AppError> {
    set_announcement(state, current, id, false).await
}
