//! Exports: every post in a date range (JSON lines) and the member list (CSV) for admins, streamed in
//! chunks; and "download my data" for everyone. (All ideas of all campaigns are in `ideas::export`.)

use askama::Template;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use time::macros::format_description;

use super::require_admin;
use crate::accounts::User;
use crate::db::{Db, now};
use crate::ideas::export::csv_cell;
use crate::posts::PostRow;
use crate::posts::views::iso_time;
use crate::web::layout::{Layout, render};
use crate::web::{AppError, AppState, CurrentUser};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/export", get(index))
        .route("/admin/export/posts.jsonl", get(posts))
        .route("/admin/export/members.csv", get(members))
        .route("/settings/data", get(my_data_page))
        .route("/settings/data.json", get(my_data))
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
    render(&ExportPage { layout: Layout::for_user(&current, "Exports").await, today })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RangeQuery {
    /// `YYYY-MM-DD`, inclusive; empty for the beginning.
    from: String,
    /// `YYYY-MM-DD`, inclusive; empty for today.
    to: String,
}

fn day(value: &str, label: &str) -> Result<Option<i64>, AppError> {
    if value.trim().is_empty() {
        return Ok(None);
    }
    time::Date::parse(value.trim(), format_description!("[year]-[month]-[day]"))
        .map(|d| Some(d.midnight().assume_utc().unix_timestamp()))
        .map_err(|_| AppError::BadRequest(format!("The {label} date must look like 2026-11-24.")))
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

/// Streams chunks from `next` (given the last id) until it returns nothing, after `head`.
fn stream_chunks<F, Fut>(db: Db, head: &'static str, next: F) -> Body
where
    F: Fn(Db, i64) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<Option<(String, i64)>, sqlx::Error>> + Send + 'static,
{
    let start = (db, 0_i64, false, false);
    Body::from_stream(futures_util::stream::unfold(start, move |(db, after, started, done)| {
        let chunk = if done || !started { None } else { Some(next(db.clone(), after)) };
        async move {
            if done {
                return None;
            }
            if !started {
                return Some((Ok::<Bytes, sqlx::Error>(Bytes::from(head)), (db, after, true, false)));
            }
            match chunk?.await {
                Ok(Some((text, last))) => Some((Ok(Bytes::from(text)), (db, last, true, false))),
                Ok(None) => None,
                Err(e) => {
                    tracing::error!(error = %e, "export failed part way");
                    Some((Err(e), (db, after, true, true)))
                }
            }
        }
    }))
}

async fn posts(
    State(state): State<AppState>,
    current: CurrentUser,
    Query(range): Query<RangeQuery>,
) -> Result<Response, AppError> {
    require_admin(&current)?;
    let from = day(&range.from, "from")?.unwrap_or(i64::MIN);
    let until = day(&range.to, "to")?.map_or(i64::MAX, |d| d + 86_400);
    if from >= until {
        return Err(AppError::BadRequest("The from date must come before the to date.".into()));
    }
    let body = stream_chunks(state.db.clone(), "", move |mut db, after| async move {
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
    let body = stream_chunks(state.db.clone(), head, |mut db, after| async move {
        let users = crate::accounts::store::chunk(&mut db, after, CHUNK).await?;
        let at = now();
        let text = users
            .iter()
            .map(|u| {
                let cells = [
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
                ];
                let mut row = cells.iter().map(|c| csv_cell(c)).collect::<Vec<_>>().join(",");
                row.push_str("\r\n");
                row
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

#[derive(Template)]
#[template(path = "accounts/data.html")]
struct MyDataPage {
    layout: Layout,
}

async fn my_data_page(current: CurrentUser) -> Result<Response, AppError> {
    render(&MyDataPage { layout: Layout::for_user(&current, "Your data").await })
}

/// Everything a person put into Townhall, as one JSON document.
async fn my_data(State(state): State<AppState>, current: CurrentUser) -> Result<Response, AppError> {
    let mut db = state.db.clone();
    let me = &current.user;
    let posts = crate::posts::store::all_by_author(&mut db, me.id).await?;
    let ideas = crate::ideas::store::ideas_by_author(&mut db, me.id).await?;
    let votes = crate::ideas::store::votes_by(&mut db, me.id).await?;
    let comments = crate::ideas::store::comments_by(&mut db, me.id).await?;
    let document = serde_json::json!({
        "exported_at": iso_time(now()),
        "profile": {
            "username": me.username,
            "display_name": me.display_name,
            "email": me.email,
            "role": me.role,
            "job_title": me.job_title,
            "department": me.department,
            "location": me.location,
            "bio": me.bio,
            "joined": iso_time(me.created_at),
        },
        "posts": posts.iter().filter(|p| p.parent_id.is_none()).map(|p| serde_json::json!({
            "id": p.id, "created_at": iso_time(p.created_at), "edited_at": p.edited_at.map(iso_time),
            "community": p.community_slug, "body": p.body, "likes": p.like_count, "replies": p.reply_count,
        })).collect::<Vec<_>>(),
        "replies": posts.iter().filter(|p| p.parent_id.is_some()).map(|p| serde_json::json!({
            "id": p.id, "reply_to": p.parent_id, "thread": p.thread_id(), "created_at": iso_time(p.created_at),
            "edited_at": p.edited_at.map(iso_time), "body": p.body,
        })).collect::<Vec<_>>(),
        "ideas": ideas.iter().map(|i| serde_json::json!({
            "id": i.id, "campaign_id": i.campaign_id, "title": i.title, "body": i.body, "anonymous": i.anonymous,
            "stage": i.stage, "votes": i.vote_count, "created_at": iso_time(i.created_at),
        })).collect::<Vec<_>>(),
        "votes": votes.iter().map(|(idea, title, at)| serde_json::json!({
            "idea_id": idea, "idea_title": title, "at": iso_time(*at),
        })).collect::<Vec<_>>(),
        "comments": comments.iter().map(|(id, idea, body, at)| serde_json::json!({
            "id": id, "idea_id": idea, "body": body, "created_at": iso_time(*at),
        })).collect::<Vec<_>>(),
    });
    let disposition = format!("attachment; filename=\"townhall-{}.json\"", me.username);
    Ok((
        [(header::CONTENT_TYPE, "application/json".to_owned()), (header::CONTENT_DISPOSITION, disposition)],
        document.to_string(),
    )
        .into_response())
}
