//! One-time links that set an account's password: a "welcome" link for an account an admin made, a
//! "reset" link an admin makes for someone who forgot theirs (or `townhall user reset-password`), and
//! a "forgot" link people ask for themselves on the sign-in page, which is mailed to them. The person
//! opens the link, chooses a password, and is signed in. A link works once, expires, and ends the
//! account's other sessions when used. Only a hash of each token is stored.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use serde::Deserialize;
use tower_sessions::Session;

use super::MaybeUser;
use super::current::set_notice;
use super::sessions::DbSessionStore;
use super::{Password, hash_password};
use crate::db::Exec;
use crate::web::client::ClientAddress;
use crate::web::form::FormErrors;
use crate::web::layout::{Layout, render_status};
use crate::web::{AppError, AppState};
use axum::extract::FromRef;

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AppState: FromRef<S>,
    DbSessionStore: FromRef<S>,
{
    Router::new()
        .route("/password/forgot", get(forgot_page).post(forgot))
        .route("/password/{token}", get(page).post(set))
}

/// How long a welcome link works: people may not read it on the day it was made.
pub const WELCOME_DAYS: i64 = 7;
/// How long a reset link an admin made works.
pub const RESET_HOURS: i64 = 24;
/// How long a link asked for with "Forgot password?" works: it travels by mail, which others may read.
pub const FORGOT_MINUTES: i64 = 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Welcome,
    Reset,
    Forgot,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::Welcome => "welcome",
            Purpose::Reset => "reset",
            Purpose::Forgot => "forgot",
        }
    }

    fn parse(s: &str) -> Purpose {
        match s {
            "welcome" => Purpose::Welcome,
            "forgot" => Purpose::Forgot,
            _ => Purpose::Reset,
        }
    }

    fn lifetime(self) -> i64 {
        match self {
            Purpose::Welcome => WELCOME_DAYS * 86_400,
            Purpose::Reset => RESET_HOURS * 3600,
            Purpose::Forgot => FORGOT_MINUTES * 60,
        }
    }
}

pub mod store {
    use super::Purpose;
    use crate::accounts::invitations::store::{one_time_token, token_hash};
    use crate::db::{Exec, now, sql};

    /// Makes a link for `user_id` and returns its token (shown once, never stored). The account's
    /// earlier unused links stop working: only the newest one handed out is live.
    pub async fn create(
        db: &mut impl Exec,
        user_id: i64,
        purpose: Purpose,
        created_by: Option<i64>,
    ) -> Result<String, sqlx::Error> {
        let at = now();
        db.execute(
            sql("UPDATE password_links SET expires_at = $1 WHERE user_id = $2 AND used_at IS NULL AND expires_at > $1")
                .bind(at)
                .bind(user_id),
        )
        .await?;
        let token = one_time_token();
        db.execute(
            sql("INSERT INTO password_links (user_id, token_hash, purpose, created_by, created_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(user_id)
            .bind(token_hash(&token))
            .bind(purpose.as_str())
            .bind(created_by)
            .bind(at)
            .bind(at + purpose.lifetime()),
        )
        .await?;
        Ok(token)
    }

    /// The account and purpose of a live link.
    pub async fn find(db: &mut impl Exec, token: &str) -> Result<Option<(i64, Purpose)>, sqlx::Error> {
        let row: Option<(i64, String)> = db
            .fetch_optional(
                sql("SELECT l.user_id, l.purpose FROM password_links l JOIN users u ON u.id = l.user_id
                     WHERE l.token_hash = $1 AND l.used_at IS NULL AND l.expires_at > $2 AND u.deleted_at IS NULL")
                .bind(token_hash(token))
                .bind(now()),
            )
            .await?;
        Ok(row.map(|(user_id, purpose)| (user_id, Purpose::parse(&purpose))))
    }

    /// Uses the link up; the account's id when it was still live (so of two tabs, one wins).
    pub async fn spend(db: &mut impl Exec, token: &str) -> Result<Option<i64>, sqlx::Error> {
        let at = now();
        let row: Option<(i64,)> = db
            .fetch_optional(
                sql("UPDATE password_links SET used_at = $1
                     WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 RETURNING user_id")
                .bind(at)
                .bind(token_hash(token)),
            )
            .await?;
        Ok(row.map(|(id,)| id))
    }
}

/// A fresh link for `user_id`, audit-logged as made by `actor` (an admin) or by the command line.
pub async fn issue(
    db: &crate::db::Db,
    user_id: i64,
    purpose: Purpose,
    actor: Option<i64>,
) -> Result<String, sqlx::Error> {
    let mut tx = db.begin().await?;
    let token = issue_in(&mut tx, user_id, purpose, actor).await?;
    tx.commit().await?;
    Ok(token)
}

/// [`issue`] inside the caller's transaction.
pub async fn issue_in(
    tx: &mut crate::db::Tx,
    user_id: i64,
    purpose: Purpose,
    actor: Option<i64>,
) -> Result<String, sqlx::Error> {
    let token = store::create(tx, user_id, purpose, actor).await?;
    let action = match purpose {
        Purpose::Welcome => "password_link.welcome",
        Purpose::Reset => "password_link.reset",
        Purpose::Forgot => "password_link.forgot",
    };
    // The command line has no signed-in actor: the entry names the account and says where it came from.
    let (actor, detail) = match actor {
        Some(actor) => (actor, ""),
        None => (user_id, "made on the command line"),
    };
    crate::audit::record(tx, actor, action, "user", user_id, detail).await?;
    Ok(token)
}

/// The address a link's token is opened at, under the site's origin.
pub fn link(origin: &str, token: &str) -> String {
    format!("{}/password/{token}", origin.trim_end_matches('/'))
}

#[derive(Template)]
#[template(path = "accounts/set_password.html")]
struct SetPasswordPage {
    layout: Layout,
    token: String,
    username: String,
    welcome: bool,
    errors: FormErrors,
}

const GONE: &str = "This link has been used, has expired, or a newer one was made. Ask for a new one with \
     “Forgot password?” on the sign-in page, or ask an administrator.";

/// The set-password form for the account a live link is for.
async fn form_page(
    db: &mut impl Exec,
    token: String,
    user_id: i64,
    purpose: Purpose,
    errors: FormErrors,
) -> Result<Response, AppError> {
    let user = super::store::find_by_id(db, user_id).await?.ok_or(AppError::NotFound)?;
    let welcome = purpose == Purpose::Welcome;
    let title = if welcome { "Set your password" } else { "Choose a new password" };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = SetPasswordPage { layout: Layout::bare(title), token, username: user.username, welcome, errors };
    render_status(status, &page)
}

async fn page(
    State(state): State<AppState>,
    _visitor: MaybeUser,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let mut db = &state.db;
    let Some((user_id, purpose)) = live(&mut db, &token).await? else {
        return Err(AppError::Gone(GONE));
    };
    form_page(&mut db, token, user_id, purpose, FormErrors::default()).await
}

async fn live(db: &mut impl Exec, token: &str) -> Result<Option<(i64, Purpose)>, AppError> {
    if !super::invitations::store::is_one_time_token(token) {
        return Ok(None);
    }
    Ok(store::find(db, token).await?)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SetForm {
    new_password: String,
    confirm_password: String,
}

async fn set(
    State(state): State<AppState>,
    session: Session,
    Path(token): Path<String>,
    Form(form): Form<SetForm>,
) -> Result<Response, AppError> {
    let mut db = &state.db;
    let Some((user_id, purpose)) = live(&mut db, &token).await? else {
        return Err(AppError::Gone(GONE));
    };
    let mut errors = FormErrors::default();
    let password = errors.check("new_password", Password::parse(&form.new_password));
    if form.new_password != form.confirm_password {
        errors.add("confirm_password", "The two passwords differ.");
    }
    let (Some(password), true) = (password, errors.is_empty()) else {
        return form_page(&mut db, token, user_id, purpose, errors).await;
    };
    let hash = hash_password(password).await?;
    let mut tx = state.db.begin().await?;
    let Some(user_id) = store::spend(&mut tx, &token).await? else {
        return Err(AppError::Gone(GONE));
    };
    super::store::set_password_hash(&mut tx, user_id, &hash).await?;
    // Whoever knew the old password (or holds a stolen session) is out.
    super::store::delete_sessions(&mut tx, user_id).await?;
    crate::audit::record(&mut tx, user_id, "password.set_by_link", "user", user_id, purpose.as_str()).await?;
    tx.commit().await?;
    let user = super::store::find_by_id(&mut &state.db, user_id).await?;
    if user.as_ref().is_some_and(|u| u.is_suspended(crate::db::now())) {
        return Ok(Redirect::to("/login").into_response());
    }
    super::routes::start_session(&session, user_id).await?;
    let notice = match purpose {
        Purpose::Welcome => {
            "Your password is set. Welcome to Townhall! Follow a few colleagues to fill your home feed."
        }
        Purpose::Reset | Purpose::Forgot => "Your password was changed, and every other device was signed out.",
    };
    // Whoever used a mailed link has the mailbox: the address is confirmed. (A welcome link is
    // mailed when mail is configured; without it, and for an admin's reset link, it was handed on.)
    if purpose == Purpose::Forgot || (purpose == Purpose::Welcome && state.config.mail.is_some()) {
        super::store::mark_email_verified(&mut &state.db, user_id).await?;
    }
    set_notice(&session, notice).await?;
    Ok(Redirect::to("/").into_response())
}

#[derive(Template)]
#[template(path = "accounts/forgot.html")]
struct ForgotPage {
    layout: Layout,
    login: String,
    /// Mail is configured, so the form can send a link.
    mails: bool,
    /// The form was sent: the same words whether or not an account matched.
    asked: bool,
    minutes: i64,
}

async fn forgot_page(State(state): State<AppState>, visitor: MaybeUser) -> Result<Response, AppError> {
    if visitor.user.is_some() {
        return Ok(Redirect::to("/settings/password").into_response());
    }
    render_status(
        StatusCode::OK,
        &ForgotPage {
            layout: Layout::bare("Forgot password"),
            login: String::new(),
            mails: state.config.mail.is_some(),
            asked: false,
            minutes: FORGOT_MINUTES,
        },
    )
}

/// Mails a one-time link to the account named by username or address, within the limits of
/// [`super::link_asked_for`]; the answer is the same whether or not there is such an account.
async fn forgot(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    Form(form): Form<super::LinkForm>,
) -> Result<Response, AppError> {
    let no_mail = "This site does not send e-mail. Ask an administrator for a link to choose a new password.";
    let asked = ForgotPage {
        layout: Layout::bare("Forgot password"),
        login: String::new(),
        mails: true,
        asked: true,
        minutes: FORGOT_MINUTES,
    };
    let Some((outgoing, user)) = super::link_asked_for(&state, client, &form.login, no_mail).await? else {
        return render_status(StatusCode::OK, &asked);
    };
    let mut tx = state.db.begin().await?;
    let token = store::create(&mut tx, user.id, Purpose::Forgot, None).await?;
    crate::audit::record(&mut tx, user.id, "password_link.forgot", "user", user.id, "asked for on the sign-in page")
        .await?;
    let message = crate::mail::Message {
        subject: format!("Choose a new password for {}", crate::site::name()),
        greeting: format!("Hello {},", user.display_name),
        paragraphs: vec![format!(
            "Someone (we hope you) asked to choose a new password for the account {} on {}.",
            user.username,
            crate::site::name()
        )],
        action: Some(crate::mail::Action {
            label: "Choose a new password".into(),
            url: outgoing.link(&format!("/password/{token}")),
        }),
        after: vec![
            format!(
                "The link works once, for {FORGOT_MINUTES} minutes. Using it signs out every device signed in to your account."
            ),
            "If you did not ask for this, ignore this mail: your password stays as it is.".into(),
        ],
        footer: format!(
            "You got this mail because a new password was asked for your account on {}.",
            crate::site::name()
        ),
    };
    outgoing.queue(&mut tx, &message, "password_reset", Some(user.id), &user.email, &user.display_name).await?;
    tx.commit().await?;
    crate::mail::wake();
    render_status(StatusCode::OK, &asked)
}
