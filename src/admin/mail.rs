//! The admin's view of the mail outbox: how many mails wait, were sent, failed (with the server's
//! answer) or may have been sent; sending a failed one again; and a test mail to check the settings.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::require_admin;
use crate::accounts::CurrentUser;
use crate::accounts::sessions::DbSessionStore;
use crate::db::now;
use crate::mail::outbox::{self, Line};
use crate::web::layout::{Layout, render};
use crate::web::{AppError, AppState, PathId};
use axum::extract::FromRef;

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AppState: FromRef<S>,
    DbSessionStore: FromRef<S>,
{
    Router::new()
        .route("/admin/mail", get(page))
        .route("/admin/mail/test", post(test_mail))
        .route("/admin/mail/{id}/again", post(send_again))
}

/// Mails on one page of the list.
const PAGE: i64 = 50;

/// The states an admin can filter by, with their names on the page.
const STATES: [(&str, &str); 5] = [
    ("waiting", "Waiting"),
    ("sent", "Sent"),
    ("failed", "Failed"),
    ("uncertain", "Possibly sent"),
    ("sending", "Being sent"),
];

struct Row {
    line: Line,
    state: &'static str,
    created: String,
    when: String,
}

#[derive(Template)]
#[template(path = "admin/mail.html")]
struct MailPage {
    layout: Layout,
    /// Mail is configured: where it goes and from whom.
    server: Option<String>,
    counts: Vec<(&'static str, &'static str, i64)>,
    filter: String,
    rows: Vec<Row>,
    older: Option<i64>,
    my_email: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct MailQuery {
    state: String,
    before: Option<i64>,
}

async fn page(
    State(state): State<AppState>,
    current: CurrentUser,
    Query(query): Query<MailQuery>,
) -> Result<Response, AppError> {
    require_admin(&current)?;
    let filter = STATES.iter().find(|(s, _)| *s == query.state).map(|(s, _)| *s);
    let mut db = &state.db;
    let stored = outbox::counts(&mut db).await?;
    let counts = STATES
        .iter()
        .map(|(key, label)| {
            let n =
                stored.iter().filter(|(s, _)| s == key || (*key == "waiting" && s == "claimed")).map(|(_, n)| n).sum();
            (*key, *label, n)
        })
        .collect();
    let lines = outbox::recent(&mut db, filter, query.before, PAGE + 1).await?;
    let older = (lines.len() as i64 > PAGE).then(|| lines[PAGE as usize - 1].id);
    let rows = lines
        .into_iter()
        .take(PAGE as usize)
        .map(|line| {
            let state = STATES.iter().find(|(s, _)| *s == line.state).map_or("Waiting", |(_, label)| label);
            let when = match (line.state.as_str(), line.sent_at) {
                (_, Some(at)) => crate::format::date_time(at),
                ("waiting", None) if line.attempts > 0 => {
                    format!("next try {}", crate::format::date_time(line.next_attempt_at))
                }
                _ => String::new(),
            };
            Row { created: crate::format::date_time(line.created_at), state, when, line }
        })
        .collect();
    let server = state.config.mail.as_ref().map(|m| format!("{}:{} as {}", m.host, m.port, m.from));
    render(&MailPage {
        layout: Layout::for_user(&current, "Mail").await?,
        server,
        counts,
        filter: filter.unwrap_or("").to_owned(),
        rows,
        older,
        my_email: current.user.email.clone(),
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct TestForm {
    to: String,
}

async fn test_mail(
    State(state): State<AppState>,
    current: CurrentUser,
    Form(form): Form<TestForm>,
) -> Result<Redirect, AppError> {
    require_admin(&current)?;
    let Some(outgoing) = crate::mail::Outgoing::of(&state.config) else {
        return Err(AppError::BadRequest(
            "No mail server is configured: set TOWNHALL_SMTP_URL, TOWNHALL_MAIL_FROM and TOWNHALL_PUBLIC_URL.".into(),
        ));
    };
    let to = crate::accounts::Email::parse(&form.to).map_err(AppError::BadRequest)?;
    let site = crate::site::name();
    let message = crate::mail::Message {
        subject: format!("Test mail from {site}"),
        greeting: "Hello,".into(),
        paragraphs: vec![format!(
            "{} sent this test mail from {site}'s administration. If you read it, mail works.",
            current.user.display_name
        )],
        action: Some(crate::mail::Action { label: format!("Open {site}"), url: outgoing.link("/") }),
        after: vec![],
        footer: format!("You got this mail because an administrator of {site} sent a test to this address."),
    };
    let mut tx = state.db.begin().await?;
    outgoing.queue(&mut tx, &message, "test", None, to.as_str(), "").await?;
    crate::audit::record(&mut tx, current.user.id, "mail.test", "user", current.user.id, to.as_str()).await?;
    tx.commit().await?;
    crate::mail::wake();
    current.set_notice(&format!("A test mail to {} is queued; it shows below as sent or failed.", to.as_str())).await?;
    Ok(Redirect::to("/admin/mail"))
}

async fn send_again(
    State(state): State<AppState>,
    current: CurrentUser,
    PathId(id): PathId,
) -> Result<Redirect, AppError> {
    require_admin(&current)?;
    let mut tx = state.db.begin().await?;
    if !outbox::send_again(&mut tx, id, now()).await? {
        return Err(AppError::Conflict(
            "Only a failed or possibly sent mail that still has its text can be sent again.",
        ));
    }
    crate::audit::record(&mut tx, current.user.id, "mail.send_again", "mail", id, "").await?;
    tx.commit().await?;
    crate::mail::wake();
    current.set_notice("The mail is queued again.").await?;
    Ok(Redirect::to("/admin/mail"))
}
