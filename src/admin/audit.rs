//! The audit log page and its CSV export, filtered by actor, action and date (admins).

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use super::require_admin;
use crate::accounts::CurrentUser;
use crate::accounts::sessions::DbSessionStore;
use crate::audit::{self, Entry, Filter};
use crate::format::iso_time;
use crate::web::export::{csv_row, stream_chunks};
use crate::web::form::{parse_day, percent_encode};
use crate::web::layout::{Layout, render};
use crate::web::{AppError, AppState};
use axum::extract::FromRef;

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AppState: FromRef<S>,
    DbSessionStore: FromRef<S>,
{
    Router::new().route("/admin/audit", get(page)).route("/admin/audit.csv", get(csv))
}

const PAGE: i64 = 100;
/// Entries read per round trip of the CSV export.
const CHUNK: i64 = 1000;

#[derive(Deserialize, Default)]
#[serde(default)]
struct AuditQuery {
    actor: String,
    action: String,
    /// `YYYY-MM-DD`, inclusive.
    from: String,
    /// `YYYY-MM-DD`, inclusive.
    to: String,
    before: String,
}

impl AuditQuery {
    fn filter(&self) -> Result<Filter, AppError> {
        Ok(Filter {
            actor: self.actor.chars().take(60).collect(),
            action: self.action.chars().take(60).collect(),
            from: parse_day(&self.from, "from")?,
            until: parse_day(&self.to, "to")?.map(|d| d + 86_400),
            only: &[],
        })
    }

    fn params(&self) -> String {
        format!(
            "actor={}&action={}&from={}&to={}",
            percent_encode(&self.actor),
            percent_encode(&self.action),
            percent_encode(&self.from),
            percent_encode(&self.to)
        )
    }
}

struct Line {
    when: String,
    actor: String,
    action: String,
    object: String,
    link: Option<String>,
    reason: String,
}

fn object_link(entry: &Entry) -> Option<String> {
    match entry.object_type.as_str() {
        "post" => Some(format!("/posts/{}", entry.object_id)),
        "idea" => Some(format!("/ideas/{}", entry.object_id)),
        "campaign" => Some(format!("/campaigns/{}", entry.object_id)),
        "user" => entry.object_username.as_ref().map(|u| format!("/@{u}")),
        _ => None,
    }
}

fn object_label(entry: &Entry) -> String {
    match (&entry.object_username, entry.object_type.as_str()) {
        (Some(name), "user") => format!("user @{name}"),
        (_, "site") => "site settings".into(),
        (_, kind) => format!("{kind} {}", entry.object_id),
    }
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    layout: Layout,
    query: AuditQuery,
    actions: Vec<String>,
    lines: Vec<Line>,
    csv_url: String,
    older_url: Option<String>,
}

async fn page(
    State(state): State<AppState>,
    current: CurrentUser,
    Query(query): Query<AuditQuery>,
) -> Result<Response, AppError> {
    require_admin(&current)?;
    let filter = query.filter()?;
    let before = query.before.parse::<i64>().unwrap_or(i64::MAX);
    let mut db = &state.db;
    let mut entries = audit::entries(&mut db, &filter, before, PAGE + 1).await?;
    let more = entries.len() as i64 > PAGE;
    entries.truncate(PAGE as usize);
    let older_url = match (more, entries.last()) {
        (true, Some(last)) => Some(format!("/admin/audit?{}&before={}", query.params(), last.id)),
        _ => None,
    };
    let lines = entries
        .iter()
        .map(|e| Line {
            when: crate::format::date_time(e.created_at),
            actor: e.actor_name.clone(),
            action: e.action.clone(),
            object: object_label(e),
            link: object_link(e),
            reason: e.reason.clone(),
        })
        .collect();
    let actions = audit::actions(&mut db).await?;
    render(&AuditPage {
        layout: Layout::for_user(&current, "Audit log").await?,
        csv_url: format!("/admin/audit.csv?{}", query.params()),
        query,
        actions,
        lines,
        older_url,
    })
}

async fn csv(
    State(state): State<AppState>,
    current: CurrentUser,
    Query(query): Query<AuditQuery>,
) -> Result<Response, AppError> {
    require_admin(&current)?;
    let filter = query.filter()?;
    let head = "\u{feff}id,time,actor,action,object_type,object_id,object,reason\r\n";
    // Newest first, like the page: the cursor is the last id sent, and the next chunk is below it.
    let body = stream_chunks(state.db.clone(), head, i64::MAX, move |mut db, before| {
        let filter = filter.clone();
        async move {
            let entries = audit::entries(&mut db, &filter, before, CHUNK).await?;
            let text: String = entries
                .iter()
                .map(|e| {
                    csv_row([
                        e.id.to_string(),
                        iso_time(e.created_at),
                        e.actor_name.clone(),
                        e.action.clone(),
                        e.object_type.clone(),
                        e.object_id.to_string(),
                        object_label(e),
                        e.reason.clone(),
                    ])
                })
                .collect();
            Ok(entries.last().map(|last| (text, last.id)))
        }
    });
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"audit-log.csv\""),
        ],
        body,
    )
        .into_response())
}
