//! Exports for admins: every post in a date range (JSON lines) and the member list (CSV), streamed in
//! chunks. (All ideas of all campaigns are in `ideas::export`; "download my data" in `privacy::data`.)

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use time::macros::format_description;

use super::require_admin;
use crate::accounts::CurrentUser;
use crate::accounts::User;
use crate::accounts::sessions::DbSessionStore;
use crate::db::now;
use crate::format::iso_time;
use crate::posts::PostRow;
use crate::web::export::{csv_row, stream_chunks};
use crate::web::form::parse_day;
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
        .route("/admin/export", get(index))
        .route("/admin/export/posts.jsonl", get(posts))
        .route("/admin/export/members.csv", get(members))
}

/// Rows read per round trip.
const CHUNK: i64 = 1000;

#[derive(Template)]
#[template(path = "admin/export.html")]
struct ExportPage {
    layout: Layout,
    today: String,
}

async fn index(current: CurrentUser) -> Result<Response, AppError> {
    require_admin(&current)?;
    let today = time::OffsetDateTime::from_unix_timestamp(now())
        .ok()
        .and_then(|t| t.format(format_description!("[year]-[month]-[day]")).ok())
        .unwrap_or_default();
    render(&ExportPage { layout: Layout::for_user(&current, "Exports").await?, today })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RangeQuery {
    /// `YYYY-MM-DD`, inclusive; empty for the beginning.
    from: String,
    /// `YYYY-MM-DD`, inclusive; empty for today.
    to: String,
}

fn post_line(post: &PostRow) -> String {
    let value = serde_json::json!({
        "id": post.id,
        "author": post.author_username,
        "author_name": post.author_display_name,
        "created_at": iso_time(post.created_at),
        "edited_at": post.edited_at.map(iso_time),
        "deleted": post.is_deleted(),
        "hidden": post.hidden_at.is_some(),
        "reply_to": post.parent_id,
        "thread": post.thread_id(),
        "community": post.community_slug,
        "members_only": post.members_only.is_some(),
        "announcement": post.is_announcement,
        "likes": post.like_count,
        "replies": post.reply_count,
        "body": post.body,
    });
    format!("{value}\n")
}

async fn posts(
    State(state): State<AppState>,
    current: CurrentUser,
    Query(range): Query<RangeQuery>,
) -> Result<Response, AppError> {
    require_admin(&current)?;
    let from = parse_day(&range.from, "from")?.unwrap_or(i64::MIN);
    let until = parse_day(&range.to, "to")?.map_or(i64::MAX, |d| d + 86_400);
    if from >= until {
        return Err(AppError::BadRequest("The from date must come before the to date.".into()));
    }
    let body = stream_chunks(state.db.clone(), "", 0, move |mut db, after| async move {
        let rows = crate::posts::store::export_chunk(&mut db, from, until, after, CHUNK).await?;
        Ok(rows.last().map(|last| last.id).map(|last| (rows.iter().map(post_line).collect(), last)))
    });
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-ndjson; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"posts.jsonl\""),
        ],
        body,
    )
        .into_response())
}

fn member_status(user: &User, at: i64) -> &'static str {
    if user.deleted_at.is_some() {
        "deleted"
    } else if user.is_suspended(at) {
        "suspended"
    } else {
        "active"
    }
}

async fn members(State(state): State<AppState>, current: CurrentUser) -> Result<Response, AppError> {
    require_admin(&current)?;
    let head = "\u{feff}id,username,display_name,email,role,job_title,department,location,joined,status\r\n";
    let body = stream_chunks(state.db.clone(), head, 0, |mut db, after| async move {
        let users = crate::accounts::store::chunk(&mut db, after, CHUNK).await?;
        let at = now();
        let text = users
            .iter()
            .map(|u| {
                csv_row([
                    u.id.to_string(),
                    u.username.clone(),
                    u.display_name.clone(),
                    u.email.clone(),
                    u.role.clone(),
                    u.job_title.clone(),
                    u.department.clone(),
                    u.location.clone(),
                    iso_time(u.created_at),
                    member_status(u, at).to_owned(),
                ])
            })
            .collect();
        Ok(users.last().map(|last| (text, last.id)))
    });
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"members.csv\""),
        ],
        body,
    )
        .into_response())
}
