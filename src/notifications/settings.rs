//! Choosing which notification mails come and how (Settings → Mail), and the one-click unsubscribe
//! links in those mails (RFC 8058: a mail program may POST to the link without anyone signed in).

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use std::collections::HashMap;

use super::mail::{Cadence, Topic, choices, choose, genuine, unsubscribe};
use crate::accounts::sessions::DbSessionStore;
use crate::accounts::{CurrentUser, MaybeUser};
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
        .route("/settings/mail", get(page).post(save))
        .route("/mail/unsubscribe/{user}/{what}/{sig}", get(unsubscribe_page).post(unsubscribe_now))
}

struct Line {
    key: &'static str,
    label: &'static str,
    chosen: &'static str,
    /// Announcements come only in digests.
    digest_only: bool,
}

#[derive(Template)]
#[template(path = "notifications/mail_settings.html")]
struct MailSettingsPage {
    layout: Layout,
    lines: Vec<Line>,
    cadences: Vec<(&'static str, &'static str)>,
    mails: bool,
    email: String,
}

async fn page(State(state): State<AppState>, current: CurrentUser) -> Result<Response, AppError> {
    let chosen = choices(&mut &state.db, current.user.id).await?;
    let lines = chosen
        .into_iter()
        .map(|(topic, cadence)| Line {
            key: topic.key(),
            label: topic.label(),
            chosen: cadence.key(),
            digest_only: topic == Topic::Announcements,
        })
        .collect();
    render(&MailSettingsPage {
        layout: Layout::for_user(&current, "Mail").await?,
        lines,
        cadences: Cadence::ALL.iter().map(|c| (c.key(), c.label())).collect(),
        mails: state.config.mail.is_some(),
        email: current.user.email.clone(),
    })
}

async fn save(
    State(state): State<AppState>,
    current: CurrentUser,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Redirect, AppError> {
    let mut tx = state.db.begin().await?;
    for topic in Topic::ALL {
        let Some(value) = form.get(topic.key()) else { continue };
        let cadence = Cadence::parse(value)
            .filter(|c| !(topic == Topic::Announcements && *c == Cadence::Now))
            .ok_or_else(|| {
                AppError::BadRequest(format!(
                    "`{}` is not a choice for {}.",
                    value.chars().take(20).collect::<String>(),
                    topic.key()
                ))
            })?;
        choose(&mut tx, current.user.id, topic, cadence).await?;
    }
    tx.commit().await?;
    current.set_notice("Your mail settings are saved.").await?;
    Ok(Redirect::to("/settings/mail"))
}

#[derive(Template)]
#[template(path = "notifications/unsubscribe.html")]
struct UnsubscribePage {
    layout: Layout,
    action: String,
    what: String,
    done: bool,
}

fn described(what: &str) -> String {
    match Topic::parse(what) {
        Some(topic) => format!("mails about: {}", topic.label().to_lowercase()),
        None if what == "digest" => "digests".into(),
        None => "mails about what happens at once".into(),
    }
}

async fn checked(state: &AppState, user: i64, what: &str, sig: &str) -> Result<(), AppError> {
    let known = Topic::parse(what).is_some() || what == "digest" || what == "now";
    if !known || sig.len() != 32 || !genuine(&mut &state.db, user, what, sig).await? {
        return Err(AppError::NotFound);
    }
    Ok(())
}

async fn unsubscribe_page(
    State(state): State<AppState>,
    _visitor: MaybeUser,
    Path((user, what, sig)): Path<(i64, String, String)>,
) -> Result<Response, AppError> {
    checked(&state, user, &what, &sig).await?;
    render(&UnsubscribePage {
        layout: Layout::bare("Stop these mails"),
        action: format!("/mail/unsubscribe/{user}/{what}/{sig}"),
        what: described(&what),
        done: false,
    })
}

/// The one-click unsubscribe (a mail program's POST, or the page's button).
async fn unsubscribe_now(
    State(state): State<AppState>,
    _visitor: MaybeUser,
    Path((user, what, sig)): Path<(i64, String, String)>,
) -> Result<Response, AppError> {
    checked(&state, user, &what, &sig).await?;
    let mut tx = state.db.begin().await?;
    // "now" (a mail about several topics at once) turns off every topic mailed at once.
    if what == "now" {
        for (topic, cadence) in choices(&mut tx, user).await? {
            if cadence == Cadence::Now {
                choose(&mut tx, user, topic, Cadence::Never).await?;
            }
        }
    } else {
        unsubscribe(&mut tx, user, &what).await?;
    }
    tx.commit().await?;
    let page = UnsubscribePage {
        layout: Layout::bare("Stop these mails"),
        action: String::new(),
        what: described(&what),
        done: true,
    };
    Ok(render(&page)?.into_response())
}
