//! Reporting (any member), the queue and its actions, and the keyword watch list (moderators).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::act::{Action, Asked};
use super::store::{OpenReport, QueueEntry};
use super::target::{Target, excerpt, load_target, reportable};
use super::{
    DURATIONS, ObjectKind, Outcome, REASONS, may_suspend, reason_label, require_moderator, state_label, store,
};
use crate::accounts;
use crate::accounts::sessions::DbSessionStore;
use crate::accounts::{CurrentUser, User};
use crate::bus::Hub;
use crate::db::{Exec, now};
use crate::watch;
use crate::web::form::{FormErrors, local_path};
use crate::web::layout::{Layout, render, render_status};
use crate::web::path::parse_id;
use crate::web::{AppError, AppState, PathId};
use axum::extract::FromRef;

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AppState: FromRef<S>,
    DbSessionStore: FromRef<S>,
    Hub: FromRef<S>,
{
    Router::new()
        .route("/report/{kind}/{id}", get(report_page).post(report))
        .route("/reports", get(my_reports))
        .route("/moderation", get(queue))
        .route("/moderation/handled", get(super::handled::handled))
        .route("/moderation/{kind}/{id}/{action}", post(act))
        .route("/moderation/keywords", get(keywords).post(add_keyword))
        .route("/moderation/keywords/{id}/delete", post(remove_keyword))
}

#[derive(Template)]
#[template(path = "moderation/report.html")]
struct ReportPage {
    layout: Layout,
    target: Target,
    excerpt: String,
    reasons: &'static [(&'static str, &'static str)],
    chosen: String,
    note: String,
    errors: FormErrors,
    /// Set when this person reported it already: how that report stands.
    already: Option<String>,
}

async fn already_reported(
    state: &AppState,
    current: &CurrentUser,
    target: &Target,
) -> Result<Option<String>, AppError> {
    let mine = store::mine(&mut &state.db, current.user.id).await?;
    Ok(mine
        .into_iter()
        .find(|r| r.object_type == target.kind.as_str() && r.object_id == target.id)
        .map(|r| state_label(r.outcome.as_deref()).to_owned()))
}

async fn report_page(
    State(state): State<AppState>,
    current: CurrentUser,
    Path((kind, id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let target = reportable(&state.db, &current.user, &kind, &id).await?;
    let already = already_reported(&state, &current, &target).await?;
    render(&ReportPage {
        layout: Layout::for_user(&current, format!("Report this {}", target.kind.noun())).await?,
        excerpt: excerpt(&target.text, 280),
        target,
        reasons: &REASONS,
        chosen: String::new(),
        note: String::new(),
        errors: FormErrors::default(),
        already,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ReportForm {
    reason: String,
    note: String,
}

async fn report(
    State(state): State<AppState>,
    current: CurrentUser,
    Path((kind, id)): Path<(String, String)>,
    Form(form): Form<ReportForm>,
) -> Result<Response, AppError> {
    let target = reportable(&state.db, &current.user, &kind, &id).await?;
    let mut errors = FormErrors::default();
    if target.author_id == current.user.id {
        errors.add("reason", format!("This is your own {}: edit or delete it instead.", target.kind.noun()));
    }
    if !REASONS.iter().any(|(v, _)| *v == form.reason) {
        errors.add("reason", "Choose what is wrong with it.");
    }
    let note = errors.check("note", super::NOTE.read(&form.note));
    let mut already = None;
    if errors.is_empty() {
        let added = store::report(
            &mut &state.db,
            target.kind,
            target.id,
            target.author_id,
            current.user.id,
            &form.reason,
            note.as_deref().unwrap_or(""),
        )
        .await?;
        if added {
            tracing::info!(kind = target.kind.as_str(), id = target.id, reporter = current.user.id, "reported");
            current.set_notice("Thank you. A moderator will look at it; you will hear what they decide.").await?;
            return Ok(Redirect::to("/reports").into_response());
        }
        already = already_reported(&state, &current, &target).await?;
    }
    let status = if already.is_some() { StatusCode::CONFLICT } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = ReportPage {
        layout: Layout::for_user(&current, format!("Report this {}", target.kind.noun())).await?,
        excerpt: excerpt(&target.text, 280),
        target,
        reasons: &REASONS,
        chosen: form.reason,
        note: form.note.chars().take(super::NOTE.max).collect(),
        errors,
        already,
    };
    render_status(status, &page)
}

struct MyReportLine {
    what: String,
    link: String,
    reason: String,
    when: String,
    state: &'static str,
}

#[derive(Template)]
#[template(path = "moderation/my_reports.html")]
struct MyReportsPage {
    layout: Layout,
    reports: Vec<MyReportLine>,
}

async fn my_reports(State(state): State<AppState>, current: CurrentUser) -> Result<Response, AppError> {
    let at = now();
    let reports = store::mine(&mut &state.db, current.user.id)
        .await?
        .into_iter()
        .map(|r| MyReportLine {
            what: format!("A {}", ObjectKind::parse(&r.object_type).map_or("post", ObjectKind::noun)),
            link: match r.object_type.as_str() {
                "idea" => format!("/ideas/{}", r.object_id),
                "comment" => format!("/report/comment/{}", r.object_id),
                _ => format!("/posts/{}", r.object_id),
            },
            reason: reason_label(&r.reason).to_owned(),
            when: crate::format::relative(r.created_at, at),
            state: state_label(r.outcome.as_deref()),
        })
        .collect();
    render(&MyReportsPage { layout: Layout::for_user(&current, "Your reports").await?, reports })
}

/// A line of the queue: the object, its reports, and what happened to its author before.
struct QueueItem {
    kind: &'static str,
    noun: &'static str,
    id: i64,
    link: String,
    author: String,
    author_username: Option<String>,
    text: String,
    hidden: bool,
    anonymous: bool,
    reports: Vec<(String, String, String)>,
    count: i64,
    record: String,
    /// "suspended until 3 Dec 2026", when the author is.
    author_state: String,
    /// The moderator may suspend this author (not themselves, not someone of their rank or above).
    can_suspend: bool,
}

#[derive(Template)]
#[template(path = "moderation/queue.html")]
struct QueuePage {
    layout: Layout,
    items: Vec<QueueItem>,
    newest: bool,
    open: i64,
    durations: &'static [(&'static str, &'static str, Option<i64>)],
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct QueueQuery {
    sort: String,
}

/// Objects shown on one page of the queue.
const QUEUE_PAGE: i64 = 50;

async fn queue(
    State(state): State<AppState>,
    current: CurrentUser,
    Query(query): Query<QueueQuery>,
) -> Result<Response, AppError> {
    require_moderator(&current)?;
    let newest = query.sort == "newest";
    let mut db = &state.db;
    let entries = store::queue(&mut db, newest, QUEUE_PAGE).await?;
    let keys: Vec<(String, i64)> = entries.iter().map(|e| (e.object_type.clone(), e.object_id)).collect();
    let reports = store::open_reports(&mut db, &keys).await?;
    let at = now();
    let mut items = Vec::new();
    for entry in entries {
        if let Some(item) = queue_item(&mut db, &current.user, &entry, &reports, at).await? {
            items.push(item);
        }
    }
    let open = store::open_count(&mut db).await?;
    render(&QueuePage {
        layout: Layout::for_user(&current, "Moderation").await?,
        items,
        newest,
        open,
        durations: &DURATIONS,
    })
}

/// One reported item as the queue shows it, with its open reports and its author's record; `None`
/// when the item is gone (its open reports are then closed as deleted).
async fn queue_item(
    db: &mut impl Exec,
    moderator: &User,
    entry: &QueueEntry,
    reports: &[OpenReport],
    at: i64,
) -> Result<Option<QueueItem>, AppError> {
    let Some(kind) = ObjectKind::parse(&entry.object_type) else { return Ok(None) };
    let lines: Vec<(String, String, String)> = reports
        .iter()
        .filter(|r| r.object_type == entry.object_type && r.object_id == entry.object_id)
        .map(|r| {
            let by = match &r.reporter {
                Some(name) => format!("@{name}"),
                None => format!("keyword rule “{}”", r.rule_pattern),
            };
            (
                reason_label(&r.reason).to_owned(),
                r.note.clone(),
                format!("{by}, {}", crate::format::relative(r.created_at, at)),
            )
        })
        .collect();
    let target = load_target(db, kind, entry.object_id).await?;
    let Some(target) = target else {
        // The content is gone (its author deleted it): nothing left to decide.
        store::resolve(db, kind, entry.object_id, Outcome::Deleted, moderator.id).await?;
        return Ok(None);
    };
    let author = accounts::store::find_by_id(db, target.author_id).await?;
    let record = if target.anonymous {
        String::new()
    } else {
        store::author_record(db, target.author_id)
            .await?
            .into_iter()
            .map(|(outcome, n)| format!("{n} {outcome}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let author_state = match &author {
        Some(a) if a.is_suspended(at) && !target.anonymous => format!("suspended {}", a.suspension_label()),
        _ => String::new(),
    };
    let can_suspend =
        !target.anonymous && author.as_ref().is_some_and(|a| may_suspend(moderator, a) && a.deleted_at.is_none());
    Ok(Some(QueueItem {
        kind: kind.as_str(),
        noun: kind.noun(),
        id: target.id,
        link: target.link,
        author: target.author,
        author_username: target.author_username,
        text: excerpt(&target.text, 600),
        hidden: target.hidden,
        anonymous: target.anonymous,
        reports: lines,
        count: entry.reports,
        record,
        author_state,
        can_suspend,
    }))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ActionForm {
    /// A warning's text, or why the author is suspended.
    message: String,
    duration: String,
    /// Where to go afterwards (the post a Restore button was on); the queue when empty.
    back: String,
    /// "yes" from the confirmation a deletion asks for.
    confirm: String,
}

async fn act(
    State(state): State<AppState>,
    State(live): State<Hub>,
    current: CurrentUser,
    Path((kind, id, action)): Path<(String, String, String)>,
    Form(form): Form<ActionForm>,
) -> Result<Response, AppError> {
    require_moderator(&current)?;
    let kind = ObjectKind::parse(&kind).ok_or(AppError::NotFound)?;
    let id = parse_id(&id)?;
    let action = Action::parse(&action).ok_or(AppError::NotFound)?;
    let message = super::MESSAGE.read(&form.message).map_err(AppError::BadRequest)?;
    let asked = Asked { message: &message, duration: &form.duration, confirmed: form.confirm == "yes" };
    let notice = super::act::act(&state.db, &live, &current.user, kind, id, action, asked).await?;
    current.set_notice(notice).await?;
    let back = if form.back.is_empty() { "/moderation".to_owned() } else { local_path(Some(&form.back)) };
    Ok(Redirect::to(&back).into_response())
}

#[derive(Template)]
#[template(path = "moderation/keywords.html")]
struct KeywordsPage {
    layout: Layout,
    rules: Vec<watch::Rule>,
    pattern: String,
    is_regex: bool,
    errors: FormErrors,
}

async fn keywords_page(
    state: &AppState,
    current: &CurrentUser,
    pattern: String,
    is_regex: bool,
    errors: FormErrors,
) -> Result<Response, AppError> {
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let rules = watch::rules(&mut &state.db).await?;
    let page =
        KeywordsPage { layout: Layout::for_user(current, "Keyword watch").await?, rules, pattern, is_regex, errors };
    render_status(status, &page)
}

async fn keywords(State(state): State<AppState>, current: CurrentUser) -> Result<Response, AppError> {
    require_moderator(&current)?;
    keywords_page(&state, &current, String::new(), false, FormErrors::default()).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct KeywordForm {
    pattern: String,
    /// "on" when the pattern is a regular expression.
    regex: String,
}

async fn add_keyword(
    State(state): State<AppState>,
    current: CurrentUser,
    Form(form): Form<KeywordForm>,
) -> Result<Response, AppError> {
    require_moderator(&current)?;
    let is_regex = !form.regex.is_empty();
    let mut errors = FormErrors::default();
    if let Err(e) = watch::compile(&form.pattern, is_regex) {
        errors.add("pattern", e);
        let pattern = form.pattern.chars().take(watch::MAX_PATTERN_CHARS * 2).collect();
        return keywords_page(&state, &current, pattern, is_regex, errors).await;
    }
    let mut tx = state.db.begin().await?;
    let id = watch::add_rule(&mut tx, &form.pattern, is_regex, current.user.id).await?;
    crate::audit::record(&mut tx, current.user.id, "keyword.add", "keyword_rule", id, form.pattern.trim()).await?;
    tx.commit().await?;
    current.set_notice("The rule is watching new and edited text from now on.").await?;
    Ok(Redirect::to("/moderation/keywords").into_response())
}

async fn remove_keyword(
    State(state): State<AppState>,
    current: CurrentUser,
    PathId(id): PathId,
) -> Result<Redirect, AppError> {
    require_moderator(&current)?;
    let mut tx = state.db.begin().await?;
    if !watch::remove_rule(&mut tx, id).await? {
        return Err(AppError::NotFound);
    }
    crate::audit::record(&mut tx, current.user.id, "keyword.remove", "keyword_rule", id, "").await?;
    tx.commit().await?;
    current.set_notice("The rule was removed.").await?;
    Ok(Redirect::to("/moderation/keywords"))
}
