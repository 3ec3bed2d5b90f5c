//! Confirming e-mail addresses by a mailed one-time link: a new account's own address (sign-up under
//! an e-mail domain policy, where the address is the proof of belonging), and a new address someone
//! changes to, which takes effect only once its link is used. Only a hash of each token is stored.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use tower_sessions::Session;

use super::current::set_notice;
use super::sessions::DbSessionStore;
use super::{CurrentUser, Email, MaybeUser, User, verify_password};
use crate::db::{Exec, unique_violation};
use crate::mail::{Action, Message, Outgoing};
use crate::web::client::ClientAddress;
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
        .route("/confirm/resend", post(resend))
        .route("/confirm/{token}", get(confirm_page).post(confirm))
        .route("/settings/email", get(settings_page).post(change))
}

/// How long a confirmation link works.
pub const LINK_HOURS: i64 = 48;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// The account's own address, before it may sign in.
    Confirm,
    /// A new address the account asked to change to.
    Change,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::Confirm => "confirm",
            Purpose::Change => "change",
        }
    }
}

pub mod store {
    use super::Purpose;
    use crate::accounts::invitations::store::{one_time_token, token_hash};
    use crate::db::{Exec, now, sql};

    /// A live link: its account, purpose and the address it confirms.
    #[derive(Debug, Clone)]
    pub struct Link {
        pub user_id: i64,
        pub purpose: Purpose,
        pub email: String,
    }

    /// Makes a link and returns its token (mailed, never stored). The account's earlier unused
    /// links of the same purpose stop working.
    pub async fn create(
        db: &mut impl Exec,
        user_id: i64,
        purpose: Purpose,
        email: &str,
        hours: i64,
    ) -> Result<String, sqlx::Error> {
        let at = now();
        db.execute(
            sql("UPDATE email_links SET expires_at = $1
                 WHERE user_id = $2 AND purpose = $3 AND used_at IS NULL AND expires_at > $1")
            .bind(at)
            .bind(user_id)
            .bind(purpose.as_str()),
        )
        .await?;
        let token = one_time_token();
        db.execute(
            sql("INSERT INTO email_links (user_id, token_hash, purpose, email, created_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(user_id)
            .bind(token_hash(&token))
            .bind(purpose.as_str())
            .bind(email)
            .bind(at)
            .bind(at + hours * 3600),
        )
        .await?;
        Ok(token)
    }

    fn link(row: (i64, String, String)) -> Link {
        let purpose = if row.1 == "change" { Purpose::Change } else { Purpose::Confirm };
        Link { user_id: row.0, purpose, email: row.2 }
    }

    pub async fn find(db: &mut impl Exec, token: &str) -> Result<Option<Link>, sqlx::Error> {
        let row: Option<(i64, String, String)> = db
            .fetch_optional(
                sql("SELECT l.user_id, l.purpose, l.email FROM email_links l JOIN users u ON u.id = l.user_id
                     WHERE l.token_hash = $1 AND l.used_at IS NULL AND l.expires_at > $2 AND u.deleted_at IS NULL")
                .bind(token_hash(token))
                .bind(now()),
            )
            .await?;
        Ok(row.map(link))
    }

    /// Uses the link up; what it was for when it was still live (of two tabs, one wins).
    pub async fn spend(db: &mut impl Exec, token: &str) -> Result<Option<Link>, sqlx::Error> {
        let at = now();
        let row: Option<(i64, String, String)> = db
            .fetch_optional(
                sql("UPDATE email_links SET used_at = $1
                     WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 RETURNING user_id, purpose, email")
                .bind(at)
                .bind(token_hash(token)),
            )
            .await?;
        Ok(row.map(link))
    }

    /// The address an account asked to change to and has not confirmed yet, if any.
    pub async fn pending_change(db: &mut impl Exec, user_id: i64) -> Result<Option<String>, sqlx::Error> {
        let row: Option<(String,)> = db
            .fetch_optional(
                sql("SELECT email FROM email_links
                     WHERE user_id = $1 AND purpose = 'change' AND used_at IS NULL AND expires_at > $2
                     ORDER BY id DESC LIMIT 1")
                .bind(user_id)
                .bind(now()),
            )
            .await?;
        Ok(row.map(|(email,)| email))
    }

    /// Changes the account's address, confirmed now.
    pub async fn set_email(db: &mut impl Exec, user_id: i64, email: &str, verified: bool) -> Result<(), sqlx::Error> {
        db.execute(
            sql("UPDATE users SET email = $1, email_verified_at = CASE WHEN $2 THEN $3 ELSE NULL END WHERE id = $4")
                .bind(email)
                .bind(verified)
                .bind(now())
                .bind(user_id),
        )
        .await?;
        Ok(())
    }
}

/// Queues the mail that confirms a new account's address, in the transaction that made it.
pub async fn queue_confirmation(
    tx: &mut crate::db::Tx,
    outgoing: &Outgoing<'_>,
    user: &User,
) -> Result<(), crate::mail::QueueError> {
    let token = store::create(tx, user.id, Purpose::Confirm, &user.email, LINK_HOURS).await?;
    let site = crate::site::name();
    let message = Message {
        subject: format!("Confirm your e-mail address for {site}"),
        greeting: format!("Hello {},", user.display_name),
        paragraphs: vec![format!(
            "Welcome to {site}! Confirm that {} is your address, and your account {} is ready.",
            user.email, user.username
        )],
        action: Some(Action { label: "Confirm my address".into(), url: outgoing.link(&format!("/confirm/{token}")) }),
        after: vec![format!(
            "The link works once, for {LINK_HOURS} hours. If you did not sign up, ignore this mail: without \
             confirmation the account cannot be used."
        )],
        footer: format!("You got this mail because someone signed up to {site} with this address."),
    };
    outgoing.queue(tx, &message, "confirm_address", Some(user.id), &user.email, &user.display_name).await?;
    Ok(())
}

#[derive(Template)]
#[template(path = "accounts/confirm.html")]
struct ConfirmPage {
    layout: Layout,
    /// The link's token, for the form; empty on the "check your mail" page.
    token: String,
    email: String,
    change: bool,
    /// After sign-up or a resend: the link is on its way.
    sent: bool,
}

/// "Check your mail": shown after a sign-up that must confirm its address, and after a resend.
pub fn sent_page(email: &str) -> Result<Response, AppError> {
    render(&ConfirmPage {
        layout: Layout::bare("Confirm your e-mail address"),
        token: String::new(),
        email: email.to_owned(),
        change: false,
        sent: true,
    })
}

const GONE: &str = "This confirmation link has been used, has expired, or a newer one was sent. Sign in to have a \
                    new one sent, or change your address again under Settings → E-mail.";

/// The page a mailed link opens: one button, so that a mail scanner opening links does not use it up.
async fn confirm_page(
    State(state): State<AppState>,
    _visitor: MaybeUser,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let link = if super::invitations::store::is_one_time_token(&token) {
        store::find(&mut &state.db, &token).await?
    } else {
        None
    };
    let Some(link) = link else { return Err(AppError::Gone(GONE)) };
    render(&ConfirmPage {
        layout: Layout::bare("Confirm your e-mail address"),
        token,
        email: link.email,
        change: link.purpose == Purpose::Change,
        sent: false,
    })
}

async fn confirm(
    State(state): State<AppState>,
    visitor: MaybeUser,
    session: Session,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    if !super::invitations::store::is_one_time_token(&token) {
        return Err(AppError::Gone(GONE));
    }
    let mut tx = state.db.begin().await?;
    let Some(link) = store::spend(&mut tx, &token).await? else { return Err(AppError::Gone(GONE)) };
    match link.purpose {
        Purpose::Confirm => {
            super::store::mark_email_verified(&mut tx, link.user_id).await?;
            crate::audit::record(&mut tx, link.user_id, "user.email_confirm", "user", link.user_id, &link.email)
                .await?;
            tx.commit().await?;
            let user = super::store::find_by_id(&mut &state.db, link.user_id).await?;
            if user.as_ref().is_some_and(|u| u.is_suspended(crate::db::now())) {
                return Ok(Redirect::to("/login").into_response());
            }
            super::routes::start_session(&session, link.user_id).await?;
            set_notice(
                &session,
                "Your e-mail address is confirmed. Welcome! Follow a few colleagues to fill your home feed.",
            )
            .await?;
            Ok(Redirect::to("/").into_response())
        }
        Purpose::Change => {
            if let Err(e) = store::set_email(&mut tx, link.user_id, &link.email, true).await {
                return match unique_violation(&e) {
                    Some(_) => Err(AppError::Conflict(
                        "Another account took that address meanwhile. Choose another one under Settings → E-mail.",
                    )),
                    None => Err(e.into()),
                };
            }
            crate::audit::record(&mut tx, link.user_id, "user.email_change", "user", link.user_id, &link.email).await?;
            tx.commit().await?;
            let notice = format!("Your e-mail address is now {}.", link.email);
            set_notice(&session, &notice).await?;
            let signed_in_here = visitor.user.as_ref().is_some_and(|u| u.id == link.user_id);
            Ok(Redirect::to(if signed_in_here { "/settings/email" } else { "/login" }).into_response())
        }
    }
}

/// Sends a new confirmation link to an account that waits for one (from the sign-in page). The same
/// answer whatever the name, and limited like "Forgot password?".
async fn resend(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    Form(form): Form<super::LinkForm>,
) -> Result<Response, AppError> {
    let typed = form.login.trim().to_lowercase();
    let shown =
        if typed.contains('@') { typed.chars().take(254).collect() } else { "the account's address".to_owned() };
    let no_mail = "This site does not send e-mail. Ask an administrator.";
    let Some((outgoing, user)) = super::link_asked_for(&state, client, &typed, no_mail).await? else {
        return sent_page(&shown);
    };
    if !super::store::confirm_required(&mut &state.db, user.id).await? {
        return sent_page(&shown);
    }
    let mut tx = state.db.begin().await?;
    queue_confirmation(&mut tx, &outgoing, &user).await?;
    tx.commit().await?;
    crate::mail::wake();
    sent_page(&shown)
}

#[derive(Template)]
#[template(path = "accounts/email.html")]
struct EmailPage {
    layout: Layout,
    email: String,
    verified: bool,
    pending: Option<String>,
    mails: bool,
    new_email: String,
    errors: FormErrors,
}

async fn email_page(
    state: &AppState,
    current: &CurrentUser,
    new_email: String,
    errors: FormErrors,
) -> Result<Response, AppError> {
    let mut db = &state.db;
    let verified = verified_at(&mut db, current.user.id).await?.is_some();
    let pending = store::pending_change(&mut db, current.user.id).await?;
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = EmailPage {
        layout: Layout::for_user(current, "E-mail address").await?,
        email: current.user.email.clone(),
        verified,
        pending,
        mails: state.config.mail.is_some(),
        new_email,
        errors,
    };
    render_status(status, &page)
}

async fn verified_at(db: &mut impl Exec, user_id: i64) -> Result<Option<i64>, sqlx::Error> {
    let row: Option<(Option<i64>,)> =
        db.fetch_optional(crate::db::sql("SELECT email_verified_at FROM users WHERE id = $1").bind(user_id)).await?;
    Ok(row.and_then(|(at,)| at))
}

async fn settings_page(State(state): State<AppState>, current: CurrentUser) -> Result<Response, AppError> {
    email_page(&state, &current, String::new(), FormErrors::default()).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ChangeForm {
    new_email: String,
    current_password: String,
}

/// Asks to change the address: with mail, a link goes to the new address (and a note to the old
/// one) and the change waits for it; without mail, it takes effect at once, unconfirmed.
async fn change(
    State(state): State<AppState>,
    current: CurrentUser,
    Form(form): Form<ChangeForm>,
) -> Result<Response, AppError> {
    let mut errors = FormErrors::default();
    let typed: String = form.new_email.chars().take(254).collect();
    let email = errors.check("new_email", Email::parse(&typed));
    if email.as_ref().is_some_and(|e| e.as_str() == current.user.email) {
        errors.add("new_email", "That is your address already.");
    }
    let checks = &state.limits.password_checks;
    let key = format!("#{}", current.user.id);
    if !checks.allow(&key) {
        return Err(AppError::TooMany("Too many wrong passwords. Wait five minutes, then try again."));
    }
    let stored = super::store::password_hash(&mut &state.db, current.user.id).await?;
    let password_ok =
        stored.is_some() && verify_password(form.current_password.chars().take(200).collect(), stored).await?;
    if password_ok {
        checks.forgive(&key);
    } else {
        errors.add("current_password", "That is not your current password.");
    }
    let (Some(email), true) = (email, errors.is_empty()) else {
        return email_page(&state, &current, typed, errors).await;
    };
    let taken = super::store::find_live_by_login(&mut &state.db, email.as_str()).await?.is_some();
    if taken {
        errors.add("new_email", "Another account uses that address.");
        return email_page(&state, &current, typed, errors).await;
    }
    let user = &current.user;
    let mut tx = state.db.begin().await?;
    let notice = match Outgoing::of(&state.config) {
        Some(outgoing) => {
            let token = store::create(&mut tx, user.id, Purpose::Change, email.as_str(), LINK_HOURS).await?;
            let site = crate::site::name();
            let confirm = Message {
                subject: format!("Confirm your new e-mail address for {site}"),
                greeting: format!("Hello {},", user.display_name),
                paragraphs: vec![format!(
                    "You asked to use {} for your account {} on {site}. Confirm it, and the change takes effect.",
                    email.as_str(),
                    user.username
                )],
                action: Some(Action {
                    label: "Confirm the new address".into(),
                    url: outgoing.link(&format!("/confirm/{token}")),
                }),
                after: vec![format!(
                    "The link works once, for {LINK_HOURS} hours. If you did not ask for this, ignore this mail."
                )],
                footer: format!("You got this mail because this address was entered for an account on {site}."),
            };
            outgoing
                .queue(&mut tx, &confirm, "confirm_change", Some(user.id), email.as_str(), &user.display_name)
                .await?;
            let heads_up = Message {
                subject: format!("Your e-mail address on {site} is being changed"),
                greeting: format!("Hello {},", user.display_name),
                paragraphs: vec![format!(
                    "Someone signed in to your account {} asked to change its address to {}. It changes once a link \
                     sent there is used.",
                    user.username,
                    email.as_str()
                )],
                action: None,
                after: vec!["If this was not you, change your password now and tell an administrator.".into()],
                footer: format!("You got this mail because it is the address of your account on {site}."),
            };
            outgoing
                .queue(&mut tx, &heads_up, "email_change_notice", Some(user.id), &user.email, &user.display_name)
                .await?;
            crate::audit::record(&mut tx, user.id, "user.email_change_asked", "user", user.id, email.as_str()).await?;
            format!("We sent a link to {}. Your address changes when you open it.", email.as_str())
        }
        None => {
            if let Err(e) = store::set_email(&mut tx, user.id, email.as_str(), false).await {
                return match unique_violation(&e) {
                    Some(_) => {
                        errors.add("new_email", "Another account uses that address.");
                        email_page(&state, &current, typed, errors).await
                    }
                    None => Err(e.into()),
                };
            }
            crate::audit::record(&mut tx, user.id, "user.email_change", "user", user.id, email.as_str()).await?;
            format!("Your e-mail address is now {}.", email.as_str())
        }
    };
    tx.commit().await?;
    crate::mail::wake();
    current.set_notice(&notice).await?;
    Ok(Redirect::to("/settings/email").into_response())
}
