//! The notifications page: grouped, newest first; seeing it marks everything read.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;

use super::{Group, group, store};
use crate::web::layout::{Layout, render};
use crate::web::{AppError, AppState, CurrentUser};

pub fn router() -> Router<AppState> {
    Router::new().route("/notifications", get(notifications))
}

#[derive(Template)]
#[template(path = "notifications/index.html")]
struct NotificationsTemplate {
    layout: Layout,
    groups: Vec<Group>,
}

async fn notifications(State(state): State<AppState>, current: CurrentUser) -> Result<Response, AppError> {
    let mut db = state.db.clone();
    let rows = store::recent(&mut db, current.user.id).await?;
    let groups = group(rows, crate::db::now());
    store::mark_all_read(&mut db, current.user.id).await?;
    let mut layout = Layout::for_user(&current, "Notifications").await?;
    layout.unread = 0;
    render(&NotificationsTemplate { layout, groups })
}
