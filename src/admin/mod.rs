//! Administration (role `admin`): people and their roles, suspensions and account deletion; site
//! settings and the sign-up policy; the audit log; exports.

pub mod announcements;
pub mod audit;
pub mod exports;
pub mod mail;
pub mod new_accounts;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use crate::accounts::CurrentUser;
use crate::accounts::sessions::DbSessionStore;
use crate::accounts::{self, Role, User};
use crate::bus::Hub;
use crate::config::SignupPolicy;
use crate::db::now;
use crate::moderation::{DURATIONS, suspension_end};
use crate::site::Site;
use crate::web::form::{Field, FormErrors};
use crate::web::layout::{Layout, render, render_status};
use crate::web::{AppError, AppState};
use axum::extract::FromRef;

/// Why an account is suspended (the person is shown it).
pub const SUSPENSION_REASON: Field = Field::new("The reason", 1, 1000);
/// The site's name.
pub const SITE_NAME: Field = Field::new("The name", 1, 60);
/// The welcome text on the sign-in page.
pub const WELCOME: Field = Field::new("The welcome text", 0, 500);

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AppState: FromRef<S>,
    DbSessionStore: FromRef<S>,
    Hub: FromRef<S>,
{
    Router::new()
        .route("/admin", get(home))
        .route("/admin/users", get(users))
        .route("/admin/users/{username}/role", post(change_role))
        .route("/admin/users/{username}/suspend", post(suspend))
        .route("/admin/users/{username}/reinstate", post(reinstate))
        .route("/admin/users/{username}/confirm-email", post(confirm_email))
        .route("/admin/users/{username}/delete", get(delete_page).post(delete))
        .route("/admin/settings", get(settings_page).post(save_settings))
        .merge(announcements::router())
        .merge(audit::router())
        .merge(new_accounts::router())
        .merge(exports::router())
        .merge(mail::router())
}

async fn home(current: CurrentUser) -> Result<Redirect, AppError> {
    require_admin(&current)?;
    Ok(Redirect::to("/admin/users"))
}

pub fn require_admin(current: &CurrentUser) -> Result<(), AppError> {
    if current.user.is_admin() { Ok(()) } else { Err(AppError::Forbidden("Only administrators can do that.")) }
}

/// People on one page of the list.
const USERS_PAGE: i64 = 50;

struct UserLine {
    user: User,
    suspended: String,
    is_me: bool,
    /// The account waits for its address to be confirmed by a mailed link.
    unconfirmed: bool,
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersPage {
    layout: Layout,
    q: String,
    /// The role filter (empty: every role).
    role: &'static str,
    lines: Vec<UserLine>,
    next_url: Option<String>,
    roles: [Role; 4],
    durations: &'static [(&'static str, &'static str, Option<i64>)],
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct UsersQuery {
    q: String,
    role: String,
    after: String,
}

async fn users(
    State(state): State<AppState>,
    current: CurrentUser,
    Query(query): Query<UsersQuery>,
) -> Result<Response, AppError> {
    require_admin(&current)?;
    let q: String = query.q.chars().take(100).collect();
    let after: String = query.after.chars().take(30).collect();
    let role = match query.role.as_str() {
        "" => None,
        name => Some(Role::parse(name).ok_or_else(|| AppError::BadRequest(format!("There is no role “{name}”.")))?),
    };
    let mut rows = accounts::store::search(&mut &state.db, &q, role, &after, USERS_PAGE + 1).await?;
    let more = rows.len() as i64 > USERS_PAGE;
    rows.truncate(USERS_PAGE as usize);
    let next_url = match (more, rows.last()) {
        (true, Some(last)) => Some(format!(
            "/admin/users?q={}&role={}&after={}",
            crate::web::form::percent_encode(&q),
            role.map_or("", Role::as_str),
            crate::web::form::percent_encode(&last.username)
        )),
        _ => None,
    };
    let at = now();
    let ids: Vec<i64> = rows.iter().map(|u| u.id).collect();
    let unconfirmed = accounts::store::awaiting_confirmation(&mut &state.db, &ids).await?;
    let lines = rows
        .into_iter()
        .map(|user| UserLine {
            suspended: if user.is_suspended(at) { user.suspension_label() } else { String::new() },
            is_me: user.id == current.user.id,
            unconfirmed: unconfirmed.contains(&user.id),
            user,
        })
        .collect();
    render(&UsersPage {
        layout: Layout::for_user(&current, "People and roles").await?,
        q,
        role: role.map_or("", Role::as_str),
        lines,
        next_url,
        roles: Role::ALL,
        durations: &DURATIONS,
    })
}

/// The account a path names, for an admin action; not the admin's own (a slip there locks them out).
async fn other_account(state: &AppState, current: &CurrentUser, username: &str) -> Result<User, AppError> {
    let user = accounts::find_named(&mut &state.db, username).await?;
    if user.deleted_at.is_some() {
        return Err(AppError::BadRequest("This account was deleted already.".into()));
    }
    if user.id == current.user.id {
        return Err(AppError::BadRequest("You cannot do this to your own account. Ask another administrator.".into()));
    }
    Ok(user)
}

fn back_to_user(user: &User) -> Redirect {
    Redirect::to(&format!("/admin/users?q={}", crate::web::form::percent_encode(&user.username)))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RoleForm {
    role: String,
}

async fn change_role(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(username): Path<String>,
    Form(form): Form<RoleForm>,
) -> Result<Redirect, AppError> {
    require_admin(&current)?;
    let user = other_account(&state, &current, &username).await?;
    let role = Role::parse(&form.role).ok_or_else(|| AppError::BadRequest("Choose one of the roles.".into()))?;
    let mut tx = state.db.begin().await?;
    accounts::store::set_role_of(&mut tx, user.id, role).await?;
    let reason = format!("{} → {}", user.role(), role);
    crate::audit::record(&mut tx, current.user.id, "user.role", "user", user.id, &reason).await?;
    tx.commit().await?;
    current.set_notice(format!("{} is now {} {}.", user.display_name, article(role), role)).await?;
    Ok(back_to_user(&user))
}

fn article(role: Role) -> &'static str {
    if role == Role::Admin { "an" } else { "a" }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SuspendForm {
    duration: String,
    reason: String,
}

async fn suspend(
    State(state): State<AppState>,
    State(live): State<Hub>,
    current: CurrentUser,
    Path(username): Path<String>,
    Form(form): Form<SuspendForm>,
) -> Result<Redirect, AppError> {
    require_admin(&current)?;
    let user = other_account(&state, &current, &username).await?;
    let reason = SUSPENSION_REASON.read(&form.reason).map_err(AppError::BadRequest)?;
    let until = suspension_end(&form.duration, now())
        .ok_or_else(|| AppError::BadRequest("Choose how long the suspension lasts.".into()))?;
    crate::moderation::suspend(&state.db, &live, &current.user, &user, until, &reason).await?;
    current.set_notice(format!("{} is suspended and was signed out everywhere.", user.display_name)).await?;
    Ok(back_to_user(&user))
}

async fn reinstate(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(username): Path<String>,
) -> Result<Redirect, AppError> {
    require_admin(&current)?;
    let user = other_account(&state, &current, &username).await?;
    let mut tx = state.db.begin().await?;
    accounts::store::reinstate(&mut tx, user.id).await?;
    crate::audit::record(&mut tx, current.user.id, "user.reinstate", "user", user.id, "").await?;
    tx.commit().await?;
    current.set_notice(format!("{} can sign in again.", user.display_name)).await?;
    Ok(back_to_user(&user))
}

/// An admin vouches for a person's address (their confirmation mail never came, say): the account
/// can sign in. Audit-logged.
async fn confirm_email(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(username): Path<String>,
) -> Result<Redirect, AppError> {
    require_admin(&current)?;
    let user = other_account(&state, &current, &username).await?;
    let mut tx = state.db.begin().await?;
    accounts::store::mark_email_verified(&mut tx, user.id).await?;
    crate::audit::record(&mut tx, current.user.id, "user.email_confirm_by_admin", "user", user.id, &user.email).await?;
    tx.commit().await?;
    current
        .set_notice(format!("{}'s address {} is confirmed; they can sign in.", user.display_name, user.email))
        .await?;
    Ok(back_to_user(&user))
}

#[derive(Template)]
#[template(path = "admin/delete_user.html")]
struct DeletePage {
    layout: Layout,
    person: User,
    errors: FormErrors,
}

async fn delete_page(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(username): Path<String>,
) -> Result<Response, AppError> {
    require_admin(&current)?;
    let person = other_account(&state, &current, &username).await?;
    render(&DeletePage {
        layout: Layout::for_user(&current, format!("Delete {}", person.display_name)).await?,
        person,
        errors: FormErrors::default(),
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DeleteForm {
    /// `anonymise` or `erase`.
    mode: String,
    reason: String,
    /// The username typed again, so that nobody deletes the wrong account by a slip.
    confirm: String,
}

async fn delete(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(username): Path<String>,
    Form(form): Form<DeleteForm>,
) -> Result<Response, AppError> {
    require_admin(&current)?;
    let person = other_account(&state, &current, &username).await?;
    let mut errors = FormErrors::default();
    if !matches!(form.mode.as_str(), "anonymise" | "erase") {
        errors.add("mode", "Choose what happens to what they wrote.");
    }
    let reason = errors.check("reason", SUSPENSION_REASON.read(&form.reason));
    if form.confirm.trim().trim_start_matches('@').to_lowercase() != person.username {
        errors.add("confirm", format!("Type {} to confirm.", person.username));
    }
    let Some(reason) = reason.filter(|_| errors.is_empty()) else {
        let page = DeletePage {
            layout: Layout::for_user(&current, format!("Delete {}", person.display_name)).await?,
            person,
            errors,
        };
        return render_status(StatusCode::UNPROCESSABLE_ENTITY, &page);
    };
    let mut tx = state.db.begin().await?;
    if person.is_admin() && accounts::store::active_admins(&mut tx).await? <= 1 {
        return Err(AppError::BadRequest("This is the last administrator who can sign in.".into()));
    }
    let action = if form.mode == "erase" {
        crate::privacy::erase(&mut tx, person.id).await?;
        "user.erase"
    } else {
        crate::privacy::anonymise(&mut tx, person.id).await?;
        "user.anonymise"
    };
    let why = format!("@{} ({}): {reason}", person.username, person.display_name);
    crate::audit::record(&mut tx, current.user.id, action, "user", person.id, &why).await?;
    tx.commit().await?;
    tracing::info!(admin = current.user.id, user = person.id, action, "account deleted");
    let notice = if form.mode == "erase" {
        format!("{}'s account and everything they wrote were deleted.", person.display_name)
    } else {
        format!("{}'s account was deleted; what they wrote now shows as “Former employee”.", person.display_name)
    };
    current.set_notice(notice).await?;
    Ok(Redirect::to("/admin/users").into_response())
}

#[derive(Template)]
#[template(path = "admin/settings.html")]
struct SettingsPage {
    layout: Layout,
    form: SettingsForm,
    errors: FormErrors,
    zones: &'static [&'static str],
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SettingsForm {
    name: String,
    welcome: String,
    max_post_chars: String,
    /// `open`, `domains`, `invite` or `closed`.
    signup: String,
    domains: String,
    members_invite: String,
    time_zone: String,
}

impl SettingsForm {
    fn from_site(site: &Site) -> SettingsForm {
        let (signup, domains) = match &site.signup {
            SignupPolicy::Open => ("open", String::new()),
            SignupPolicy::Domains(d) => ("domains", d.join(", ")),
            SignupPolicy::Invitation => ("invite", String::new()),
            SignupPolicy::Closed => ("closed", String::new()),
        };
        SettingsForm {
            name: site.name.clone(),
            welcome: site.welcome.clone(),
            max_post_chars: site.max_post_chars.to_string(),
            signup: signup.into(),
            domains,
            members_invite: if site.members_invite { "on".into() } else { String::new() },
            time_zone: site.time_zone.clone(),
        }
    }

    fn parse(&self) -> Result<Site, FormErrors> {
        let mut errors = FormErrors::default();
        let name = errors.check("name", SITE_NAME.read(&self.name));
        let welcome = errors.check("welcome", WELCOME.read(&self.welcome));
        let max_post_chars = self.max_post_chars.trim().parse::<usize>().ok().filter(|n| (1..=10_000).contains(n));
        if max_post_chars.is_none() {
            errors.add("max_post_chars", "A whole number from 1 to 10000.");
        }
        let signup = match self.signup.as_str() {
            "open" => Some(SignupPolicy::Open),
            "invite" => Some(SignupPolicy::Invitation),
            "closed" => Some(SignupPolicy::Closed),
            "domains" => {
                let policy = SignupPolicy::parse(&self.domains).filter(|p| matches!(p, SignupPolicy::Domains(_)));
                if policy.is_none() {
                    errors.add("domains", "List e-mail domains separated by commas, such as example.com, example.org.");
                }
                policy
            }
            _ => {
                errors.add("signup", "Choose who may sign up.");
                None
            }
        };
        let time_zone = match self.time_zone.trim() {
            "" => Some(crate::format::Zone::UTC),
            name => crate::format::Zone::named(name),
        };
        if time_zone.is_none() {
            errors.add("time_zone", "Choose a time zone from the list.");
        }
        match (name, welcome, max_post_chars, signup, time_zone, errors.is_empty()) {
            (Some(name), Some(welcome), Some(max_post_chars), Some(signup), Some(zone), true) => Ok(Site {
                name: name.into(),
                welcome: welcome.into(),
                max_post_chars,
                signup,
                members_invite: !self.members_invite.is_empty(),
                time_zone: zone.name().to_owned(),
            }),
            _ => Err(errors),
        }
    }
}

async fn settings_page(State(state): State<AppState>, current: CurrentUser) -> Result<Response, AppError> {
    require_admin(&current)?;
    let site = state.site().await;
    render(&SettingsPage {
        layout: Layout::for_user(&current, "Site settings").await?,
        form: SettingsForm::from_site(&site),
        errors: FormErrors::default(),
        zones: crate::format::zone_names(),
    })
}

async fn save_settings(
    State(state): State<AppState>,
    current: CurrentUser,
    Form(form): Form<SettingsForm>,
) -> Result<Response, AppError> {
    require_admin(&current)?;
    match form.parse() {
        Ok(site) => {
            let mut tx = state.db.begin().await?;
            let changes = state.site.write(&mut tx, &site).await?;
            crate::audit::record(&mut tx, current.user.id, "settings.update", "site", 0, &changes).await?;
            tx.commit().await?;
            state.site.adopt(site);
            current.set_notice("Settings saved.").await?;
            Ok(Redirect::to("/admin/settings").into_response())
        }
        Err(errors) => {
            let page = SettingsPage {
                layout: Layout::for_user(&current, "Site settings").await?,
                form,
                errors,
                zones: crate::format::zone_names(),
            };
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}
