//! A topic's page and its follow button.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{Redirect, Response};
use axum::routing::{get, post};

use super::{parse_topic, store};
use crate::accounts::CurrentUser;
use crate::accounts::sessions::DbSessionStore;
use crate::posts::routes::{CursorQuery, FeedTemplate};
use crate::posts::{self, FeedPage};
use crate::web::form::percent_encode;
use crate::web::layout::{Layout, render};
use crate::web::{AppError, AppState};
use axum::extract::FromRef;

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AppState: FromRef<S>,
    DbSessionStore: FromRef<S>,
{
    Router::new()
        .route("/topics/{topic}", get(topic))
        .route("/topics/{topic}/follow", post(follow))
        .route("/topics/{topic}/unfollow", post(unfollow))
}

async fn topic(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(raw): Path<String>,
    Query(query): Query<CursorQuery>,
) -> Result<Response, AppError> {
    let topic = parse_topic(&raw).ok_or(AppError::NotFound)?;
    let mut db = &state.db;
    let rows = posts::store::by_topic(&mut db, &topic, current.user.id, query.cursor()?).await?;
    let following = store::is_following(&mut db, current.user.id, &topic).await?;
    let base_url = format!("/topics/{}", percent_encode(&topic));
    let follow_action = if following {
        (format!("{base_url}/unfollow"), "Unfollow topic")
    } else {
        (format!("{base_url}/follow"), "Follow topic")
    };
    render(&FeedTemplate {
        layout: Layout::for_user(&current, format!("#{topic}")).await?,
        heading: format!("#{topic}"),
        intro: if following {
            format!("Posts tagged #{topic}. You follow this topic: its posts reach your home.")
        } else {
            format!("Posts tagged #{topic}.")
        },
        compose: None,
        follow_action: Some(follow_action),
        announcements: Vec::new(),
        live_feed: "",
        feed: FeedPage::load(&mut db, rows, &current.user).await?,
        base_url,
        empty: "No posts with this topic yet.",
    })
}

async fn follow(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(raw): Path<String>,
) -> Result<Redirect, AppError> {
    let topic = parse_topic(&raw).ok_or(AppError::NotFound)?;
    super::follow(&state.db, current.user.id, &topic).await?;
    current.set_notice(format!("You follow #{topic} now: its posts reach your home.")).await?;
    Ok(Redirect::to(&format!("/topics/{}", percent_encode(&topic))))
}

async fn unfollow(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(raw): Path<String>,
) -> Result<Redirect, AppError> {
    let topic = parse_topic(&raw).ok_or(AppError::NotFound)?;
    super::unfollow(&state.db, current.user.id, &topic).await?;
    current.set_notice(format!("You no longer follow #{topic}.")).await?;
    Ok(Redirect::to(&format!("/topics/{}", percent_encode(&topic))))
}
