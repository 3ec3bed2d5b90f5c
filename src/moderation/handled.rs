//! The moderators' "handled" view: what moderators did, newest first, filtered by action, moderator
//! and dates, with a Restore button on whatever is still hidden. Read from the audit log, which every
//! moderation action writes in its own transaction.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

use super::target::load_target;
use super::{ObjectKind, require_moderator};
use crate::accounts::CurrentUser;
use crate::audit::{self, Filter};
use crate::web::form::{parse_day, percent_encode};
use crate::web::layout::{Layout, render};
use crate::web::{AppError, AppState};

/// The actions moderators take, as the audit log names them.
const MODERATION_ACTIONS: &[&str] = &[
    "post.hide",
    "post.restore",
    "post.delete",
    "post.dismiss_reports",
    "idea.hide",
    "idea.restore",
    "idea.delete",
    "idea.dismiss_reports",
    "idea.warn_author",
    "comment.hide",
    "comment.restore",
    "comment.delete",
    "comment.dismiss_reports",
    "user.warn",
    "user.suspend",
];

/// Entries on one page.
const PAGE: i64 = 100;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct HandledQuery {
    action: String,
    moderator: String,
    /// `YYYY-MM-DD`, inclusive.
    from: String,
    /// `YYYY-MM-DD`, inclusive.
    to: String,
}

struct Line {
    when: String,
    moderator: String,
    action: &'static str,
    /// The object as the entry names it, with a link when it still stands.
    object: String,
    link: Option<String>,
    reason: String,
    /// `(kind, id)` of an object that is hidden now: the line offers Restore.
    restore: Option<(&'static str, i64)>,
}

#[derive(Template)]
#[template(path = "moderation/handled.html")]
struct HandledPage {
    layout: Layout,
    query: HandledQuery,
    actions: &'static [&'static str],
    lines: Vec<Line>,
    /// This page's address, where a Restore comes back to.
    here: String,
}

pub async fn handled(
    State(state): State<AppState>,
    current: CurrentUser,
    Query(query): Query<HandledQuery>,
) -> Result<Response, AppError> {
    require_moderator(&current)?;
    let action = MODERATION_ACTIONS.iter().find(|a| **a == query.action.trim()).copied().unwrap_or("");
    let filter = Filter {
        actor: query.moderator.chars().take(60).collect(),
        action: action.to_owned(),
        from: parse_day(&query.from, "from")?,
        until: parse_day(&query.to, "to")?.map(|d| d + 86_400),
        only: MODERATION_ACTIONS,
    };
    let mut db = &state.db;
    let entries = audit::entries(&mut db, &filter, i64::MAX, PAGE).await?;
    let mut lines = Vec::with_capacity(entries.len());
    for entry in entries {
        let Some(action) = MODERATION_ACTIONS.iter().find(|a| **a == entry.action).copied() else { continue };
        let kind = ObjectKind::parse(&entry.object_type);
        // Only a hide can leave something hidden; each such line looks its object up once.
        let target = match kind {
            Some(kind) if action.ends_with(".hide") => load_target(&mut db, kind, entry.object_id).await?,
            _ => None,
        };
        let (object, link) = match (&entry.object_username, kind) {
            (Some(name), None) => (format!("@{name}"), Some(format!("/@{name}"))),
            (_, Some(kind)) => (format!("{} {}", kind.noun(), entry.object_id), None),
            _ => (format!("{} {}", entry.object_type, entry.object_id), None),
        };
        let link = link.or_else(|| target.as_ref().map(|t| t.link.clone()));
        lines.push(Line {
            when: crate::format::date_time(entry.created_at),
            moderator: entry.actor_name,
            action,
            object,
            link,
            reason: entry.reason,
            restore: target.filter(|t| t.hidden).map(|t| (t.kind.as_str(), t.id)),
        });
    }
    let here = format!(
        "/moderation/handled?action={}&moderator={}&from={}&to={}",
        percent_encode(action),
        percent_encode(&query.moderator),
        percent_encode(&query.from),
        percent_encode(&query.to)
    );
    render(&HandledPage {
        layout: Layout::for_user(&current, "Handled").await?,
        query,
        actions: MODERATION_ACTIONS,
        lines,
        here,
    })
}
