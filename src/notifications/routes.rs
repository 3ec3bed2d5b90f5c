//! The notifications page: grouped, newest first, with a button that marks what it showed as read.
//! Reading the page changes no count, so a link from another site cannot clear anyone's; it only
//! notes that the person has seen what is there, which is then not mailed to them.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::{Group, group, store};
use crate::accounts::CurrentUser;
use crate::accounts::sessions::DbSessionStore;
use crate::web::layout::{Layout, render};
use crate::web::{AppError, AppState};
use axum::extract::FromRef;

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AppState: FromRef<S>,
    DbSessionStore: FromRef<S>,
{
    Router::new().route("/notifications", get(notifications)).route("/notifications/read", post(mark_read))
}

#[derive(Template)]
#[template(path = "notifications/index.html")]
struct NotificationsTemplate {
    layout: Layout,
    groups: Vec<Group>,
    /// The newest notification shown, which "Mark all as read" reads up to.
    newest: i64,
}

async fn notifications(State(state): State<AppState>, current: CurrentUser) -> Result<Response, AppError> {
    let mut db = &state.db;
    let rows = store::recent(&mut db, current.user.id).await?;
    let newest = rows.iter().map(|r| r.id).max().unwrap_or(0);
    if let Some(newest_at) = rows.iter().map(|r| r.created_at).max() {
        store::mark_seen(&mut db, current.user.id, newest_at).await?;
    }
    let groups = group(rows, crate::db::now());
    render(&NotificationsTemplate { layout: Layout::for_user(&current, "Notifications").await?, groups, newest })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct MarkReadForm {
    /// Marks read what the page showed: one that arrived after it stays unread.
    up_to: i64,
}

async fn mark_read(
    State(state): State<AppState>,
    current: CurrentUser,
    Form(form): Form<MarkReadForm>,
) -> Result<Response, AppError> {
    store::mark_read_up_to(&mut &state.db, current.user.id, form.up_to).await?;
    Ok(Redirect::to("/notifications").into_response())
}
