//! Follow and unfollow buttons (forms that post and return to the profile).

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Redirect;
use axum::routing::post;

use crate::accounts;
use crate::accounts::CurrentUser;
use crate::accounts::sessions::DbSessionStore;
use crate::bus::Hub;
use crate::web::{AppError, AppState};
use axum::extract::FromRef;

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AppState: FromRef<S>,
    DbSessionStore: FromRef<S>,
    Hub: FromRef<S>,
{
    Router::new().route("/people/{username}/follow", post(follow)).route("/people/{username}/unfollow", post(unfollow))
}

async fn follow(
    State(state): State<AppState>,
    State(live): State<Hub>,
    current: CurrentUser,
    Path(username): Path<String>,
) -> Result<Redirect, AppError> {
    let mut db = &state.db;
    let other = accounts::find_named(&mut db, &username).await?;
    super::follow(&state.db, &live, &current.user, &other).await?;
    current.set_notice(format!("You follow {} now: their posts appear on your home.", other.display_name)).await?;
    Ok(Redirect::to(&format!("/@{}", other.username)))
}

async fn unfollow(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(username): Path<String>,
) -> Result<Redirect, AppError> {
    let mut db = &state.db;
    let other = accounts::find_named(&mut db, &username).await?;
    super::unfollow(&state.db, &current.user, &other).await?;
    current.set_notice(format!("You no longer follow {}.", other.display_name)).await?;
    Ok(Redirect::to(&format!("/@{}", other.username)))
}
