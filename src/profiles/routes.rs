//! A person's profile page, profile settings and the people directory.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use serde::Deserialize;

use super::{PersonRow, ProfileCounts, ProfileForm, ProfileRow, store};
use crate::accounts::CurrentUser;
use crate::accounts::User;
use crate::accounts::sessions::DbSessionStore;
use crate::posts::routes::CursorQuery;
use crate::posts::{self, FeedPage};
use crate::web::form::FormErrors;
use crate::web::layout::{Layout, render, render_status};
use crate::web::{AppError, AppState};
use axum::extract::FromRef;

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AppState: FromRef<S>,
    DbSessionStore: FromRef<S>,
{
    Router::new()
        .route("/@{username}", get(profile))
        .route("/people", get(directory))
        .route("/people/suggest", get(suggest))
        .route("/settings", get(settings))
        .route("/settings/profile", get(edit_page).post(update))
}

#[derive(Template)]
#[template(path = "profiles/show.html")]
struct ProfileTemplate {
    layout: Layout,
    person: User,
    counts: ProfileCounts,
    is_me: bool,
    following: bool,
    feed: FeedPage,
    base_url: String,
    empty: &'static str,
    /// The account is suspended now.
    suspended: bool,
    /// The viewer is an admin, who manages accounts.
    admin: bool,
}

async fn profile(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(username): Path<String>,
    Query(query): Query<CursorQuery>,
) -> Result<Response, AppError> {
    let mut db = &state.db;
    // `/@Ana` is Ana's profile too.
    let ProfileRow { person, counts, viewer_follows } =
        store::profile(&mut db, &username.to_lowercase(), current.user.id).await?.ok_or(AppError::NotFound)?;
    let is_me = person.id == current.user.id;
    let following = !is_me && viewer_follows;
    let rows = posts::store::by_author(&mut db, person.id, current.user.id, query.cursor()?).await?;
    render(&ProfileTemplate {
        layout: Layout::for_user(&current, format!("{} (@{})", person.display_name, person.username)).await?,
        base_url: format!("/@{}", person.username),
        suspended: person.is_suspended(crate::db::now()),
        admin: current.user.is_admin(),
        person,
        counts,
        is_me,
        following,
        feed: FeedPage::load(&mut db, rows, &current.user).await?,
        empty: "No posts yet.",
    })
}

/// Settings start with the profile.
async fn settings(_signed_in: CurrentUser) -> Redirect {
    Redirect::to("/settings/profile")
}

#[derive(Template)]
#[template(path = "profiles/edit.html")]
struct EditTemplate {
    layout: Layout,
    form: ProfileForm,
    errors: FormErrors,
    zones: &'static [&'static str],
    /// The zone people who chose none see times in.
    site_zone: String,
}

async fn edit_page(current: CurrentUser) -> Result<Response, AppError> {
    let u = &current.user;
    let form = ProfileForm {
        display_name: u.display_name.clone(),
        job_title: u.job_title.clone(),
        department: u.department.clone(),
        location: u.location.clone(),
        bio: u.bio.clone(),
        time_zone: u.time_zone.clone(),
    };
    let site_zone = crate::site::current().time_zone.clone();
    render(&EditTemplate {
        layout: Layout::for_user(&current, "Your profile").await?,
        form,
        errors: FormErrors::default(),
        zones: crate::format::zone_names(),
        site_zone,
    })
}

async fn update(
    State(state): State<AppState>,
    current: CurrentUser,
    Form(form): Form<ProfileForm>,
) -> Result<Response, AppError> {
    let fields = match form.parse() {
        Ok(fields) => fields,
        Err(errors) => {
            let page = EditTemplate {
                layout: Layout::for_user(&current, "Your profile").await?,
                form,
                errors,
                zones: crate::format::zone_names(),
                site_zone: crate::site::current().time_zone.clone(),
            };
            return render_status(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    store::update(&mut &state.db, current.user.id, &fields).await?;
    current.set_notice("Your profile was saved.").await?;
    Ok(Redirect::to("/settings/profile").into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DirectoryQuery {
    q: String,
    after: String,
}

#[derive(Template)]
#[template(path = "profiles/directory.html")]
struct DirectoryTemplate {
    layout: Layout,
    query: String,
    people: Vec<PersonRow>,
    next_url: Option<String>,
}

async fn directory(
    State(state): State<AppState>,
    current: CurrentUser,
    Query(params): Query<DirectoryQuery>,
) -> Result<Response, AppError> {
    let query: String = params.q.trim().chars().take(100).collect();
    let after: String = params.after.chars().take(30).collect();
    let mut people = store::directory(&mut &state.db, &query, &after).await?;
    let more = people.len() as i64 > store::DIRECTORY_PAGE_SIZE;
    people.truncate(store::DIRECTORY_PAGE_SIZE as usize);
    let next_url = match people.last() {
        Some(last) if more => Some(format!(
            "/people?q={}&after={}",
            crate::web::form::percent_encode(&query),
            crate::web::form::percent_encode(&last.username)
        )),
        _ => None,
    };
    render(&DirectoryTemplate { layout: Layout::for_user(&current, "People").await?, query, people, next_url })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SuggestQuery {
    q: String,
}

#[derive(serde::Serialize)]
struct Suggestion {
    username: String,
    name: String,
}

/// Suggestions shown in the list.
const SUGGESTIONS: i64 = 8;

/// People to @mention, as JSON for the text boxes' suggestion list: signed-in people only (like the
/// directory, which shows the same names), limited per person so it cannot be used to page through
/// the company at speed. Bad input is a JSON error with a 4xx status.
async fn suggest(
    State(state): State<AppState>,
    current: CurrentUser,
    Query(query): Query<SuggestQuery>,
) -> Result<Response, AppError> {
    let refuse = |status: StatusCode, message: &str| {
        (status, axum::Json(serde_json::json!({ "error": message }))).into_response()
    };
    if !state.limits.suggestions.allow(&format!("#{}", current.user.id)) {
        return Ok(refuse(StatusCode::TOO_MANY_REQUESTS, "Too many suggestions asked for; wait a moment."));
    }
    let prefix = query.q.trim().trim_start_matches('@');
    if prefix.is_empty() || prefix.chars().count() > 30 || prefix.chars().any(char::is_control) {
        return Ok(refuse(StatusCode::BAD_REQUEST, "Type 1 to 30 characters of a name or username."));
    }
    let found = store::suggest(&mut &state.db, prefix, SUGGESTIONS).await?;
    let list: Vec<Suggestion> = found.into_iter().map(|(username, name)| Suggestion { username, name }).collect();
    Ok(axum::Json(list).into_response())
}
