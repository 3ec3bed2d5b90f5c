//! Sign-up, sign-in, sign-out and password change.

use std::net::IpAddr;
use std::time::Duration;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use tower_sessions::Session;

use super::current::set_notice;
use super::sessions::DbSessionStore;
use super::{CurrentUser, MaybeUser};
use super::{Email, Password, Username, hash_password, invitations, store, verify_password};
use crate::accounts::sessions::USER_ID_KEY;
use crate::config::SignupPolicy;
use crate::db::unique_violation;
use crate::site::Site;
use crate::web::client::ClientAddress;
use crate::web::form::{FormErrors, local_path};
use crate::web::layout::{Layout, render, render_status};
use crate::web::limits::{Limits, Throttle};
use crate::web::{AppError, AppState};
use axum::extract::FromRef;

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AppState: FromRef<S>,
    DbSessionStore: FromRef<S>,
{
    Router::new()
        .route("/signup", get(signup_page).post(signup))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/settings/password", get(password_page).post(change_password))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SignupForm {
    username: String,
    display_name: String,
    email: String,
    password: String,
    /// An invitation link's token, carried from `/signup?invite=`.
    invite: String,
}

#[derive(Template)]
#[template(path = "accounts/signup.html")]
struct SignupPage {
    layout: Layout,
    form: SignupForm,
    errors: FormErrors,
    domains: Vec<String>,
    welcome: String,
    /// Why nobody can sign up here now (closed, or an invitation is needed or no longer valid).
    refused: Option<&'static str>,
}

impl SignupPage {
    fn new(site: &Site, form: SignupForm, errors: FormErrors, refused: Option<&'static str>) -> SignupPage {
        let domains = match (&site.signup, form.invite.is_empty()) {
            (SignupPolicy::Domains(domains), true) => domains.clone(),
            _ => Vec::new(),
        };
        SignupPage { layout: Layout::bare("Sign up"), form, errors, domains, welcome: site.welcome.clone(), refused }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SignupQuery {
    invite: String,
}

/// Why a sign-up cannot go ahead without (or with this) invitation, if it cannot.
async fn signup_refusal(state: &AppState, site: &Site, invite: &str) -> Result<Option<&'static str>, AppError> {
    // Closed means closed: the settings page says invitation links stop working with it.
    if site.signup == SignupPolicy::Closed {
        return Ok(Some("Sign-up is closed. An administrator creates accounts and sends each person a link."));
    }
    if !invite.is_empty() {
        let valid = invitations::store::is_valid(&mut &state.db, invite).await?;
        return Ok((!valid).then_some(
            "This invitation link has been used, has expired or was withdrawn. Ask whoever sent it for a new one.",
        ));
    }
    Ok(match site.signup {
        SignupPolicy::Invitation => Some("Sign-up needs an invitation link. Ask a colleague or an administrator."),
        _ => None,
    })
}

async fn signup_page(
    State(state): State<AppState>,
    visitor: MaybeUser,
    Query(query): Query<SignupQuery>,
) -> Result<Response, AppError> {
    if visitor.user.is_some() {
        return Ok(Redirect::to("/").into_response());
    }
    let site = state.site().await;
    let invite: String = query.invite.chars().take(64).collect();
    let refused = signup_refusal(&state, &site, &invite).await?;
    let form = SignupForm { invite, ..SignupForm::default() };
    let status = if refused.is_some() { StatusCode::FORBIDDEN } else { StatusCode::OK };
    render_status(status, &SignupPage::new(&site, form, FormErrors::default(), refused))
}

async fn signup(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    session: Session,
    Form(form): Form<SignupForm>,
) -> Result<Response, AppError> {
    if !state.limits.signup_by_address.allow(&client.to_string()) {
        return Err(AppError::TooMany("Too many accounts were made from this address. Try again in an hour."));
    }
    let site = state.site().await;
    if form.invite.len() > 64 {
        return Err(AppError::BadRequest("That invitation link is not one of ours.".into()));
    }
    if let Some(why) = signup_refusal(&state, &site, &form.invite).await? {
        return render_status(StatusCode::FORBIDDEN, &SignupPage::new(&site, form, FormErrors::default(), Some(why)));
    }
    let refuse = |errors: FormErrors, form: SignupForm| {
        render_status(StatusCode::UNPROCESSABLE_ENTITY, &SignupPage::new(&site, form, errors, None))
    };
    let (username, display_name, email, password) = match checked_signup(&site, &form) {
        Ok(fields) => fields,
        Err(errors) => return refuse(errors, form),
    };
    let errors = FormErrors::default();
    let hash = hash_password(password).await?;
    let account = store::NewAccount {
        username: username.as_str(),
        email: email.as_str(),
        display_name: &display_name,
        password_hash: &hash,
        department: "",
        role: None,
        invitation: (!form.invite.is_empty()).then_some(form.invite.as_str()),
    };
    // Under an e-mail domain policy the address is the proof of belonging: with mail configured, the
    // account waits for its address to be confirmed by a mailed link (an invitation vouches instead).
    let outgoing = crate::mail::Outgoing::of(&state.config)
        .filter(|_| form.invite.is_empty() && matches!(site.signup, SignupPolicy::Domains(_)));
    let made = async {
        let mut tx = state.db.begin().await?;
        let user = store::insert_in(&mut tx, account).await?;
        // An invitation mailed to this very address proves it reaches the person.
        if !form.invite.is_empty() && invitations::store::email_of(&mut tx, &form.invite).await? == user.email {
            store::mark_email_verified(&mut tx, user.id).await?;
        }
        if let Some(outgoing) = &outgoing {
            store::require_confirmation(&mut tx, user.id).await?;
            super::addresses::queue_confirmation(&mut tx, outgoing, &user).await?;
        }
        tx.commit().await?;
        Ok::<_, crate::mail::QueueError>(user)
    };
    let user = match made.await {
        Ok(user) if outgoing.is_some() => {
            tracing::info!(user_id = user.id, username = %user.username, "account created; waiting for its address");
            crate::mail::wake();
            return super::addresses::sent_page(&user.email);
        }
        Ok(user) => user,
        Err(crate::mail::QueueError::Database(e)) => return signup_refused(e, &site, form, errors),
        Err(e) => return Err(e.into()),
    };
    tracing::info!(user_id = user.id, username = %user.username, role = %user.role, "account created");
    start_session(&session, user.id).await?;
    let welcome = if user.is_admin() {
        "Welcome to Townhall! You are the first person here, so you are its administrator."
    } else {
        "Welcome to Townhall! Follow a few colleagues to fill your home feed."
    };
    set_notice(&session, welcome).await?;
    Ok(Redirect::to("/").into_response())
}

/// The page for a sign-up the database refused: a spent invitation, or a taken name or address.
fn signup_refused(e: sqlx::Error, site: &Site, form: SignupForm, mut errors: FormErrors) -> Result<Response, AppError> {
    let refuse = |errors: FormErrors, form: SignupForm| {
        render_status(StatusCode::UNPROCESSABLE_ENTITY, &SignupPage::new(site, form, errors, None))
    };
    match e {
        sqlx::Error::RowNotFound => {
            let why = "This invitation link was used or expired while you filled in the form. Ask for a new one.";
            render_status(StatusCode::FORBIDDEN, &SignupPage::new(site, form, FormErrors::default(), Some(why)))
        }
        e => match unique_violation(&e) {
            Some(what) if what.contains("username") => {
                errors.add("username", "That username is taken.");
                refuse(errors, form)
            }
            Some(_) => {
                errors.add("email", "An account with that e-mail address exists already. Sign in instead.");
                refuse(errors, form)
            }
            None => Err(e.into()),
        },
    }
}

/// The sign-up form's fields, each valid, or what is wrong with them.
fn checked_signup(site: &Site, form: &SignupForm) -> Result<(Username, String, Email, Password), FormErrors> {
    let mut errors = FormErrors::default();
    let username = errors.check("username", Username::parse(&form.username));
    let display_name = errors.check("display_name", super::display_name(&form.display_name, "Your name"));
    let email = errors.check("email", Email::parse(&form.email));
    if let Some(email) = &email
        && form.invite.is_empty()
        && !site.signup.allows(email.as_str())
    {
        errors.add("email", "Sign-up is open only to the company's e-mail domains listed above.");
    }
    let password = errors.check("password", Password::parse(&form.password));
    match (username, display_name, email, password, errors.is_empty()) {
        (Some(username), Some(display_name), Some(email), Some(password), true) => {
            Ok((username, display_name, email, password))
        }
        _ => Err(errors),
    }
}

/// Signs a person in: a fresh session id (against fixation) that holds their account id.
pub(super) async fn start_session(session: &Session, user_id: i64) -> Result<(), AppError> {
    session.cycle_id().await?;
    session.insert(USER_ID_KEY, user_id).await?;
    Ok(())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LoginForm {
    login: String,
    password: String,
    next: String,
}

#[derive(Template)]
#[template(path = "accounts/login.html")]
struct LoginPage {
    layout: Layout,
    login: String,
    next: String,
    error: Option<String>,
    welcome: String,
    /// The password was right but the account's address is not confirmed yet: offer a new link.
    unconfirmed: bool,
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

async fn login_page(
    State(state): State<AppState>,
    visitor: MaybeUser,
    Query(query): Query<NextQuery>,
) -> Result<Response, AppError> {
    let next = local_path(query.next.as_deref());
    if visitor.user.is_some() {
        return Ok(Redirect::to(&next).into_response());
    }
    let welcome = state.site().await.welcome.clone();
    render(&LoginPage {
        layout: Layout::bare("Sign in"),
        login: String::new(),
        next,
        error: None,
        welcome,
        unconfirmed: false,
    })
}

async fn login(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    session: Session,
    Form(form): Form<LoginForm>,
) -> Result<Response, AppError> {
    let next = local_path(Some(&form.next));
    let found =
        if form.login.len() <= 254 { store::find_credentials(&mut &state.db, &form.login).await? } else { None };
    // A username and an e-mail address of one account are one key; an unknown name is its own.
    let account = match &found {
        Some((id, _)) => format!("#{id}"),
        None => form.login.trim().to_lowercase().chars().take(254).collect(),
    };
    let attempt = SignInAttempt::count(&state.limits, &account, client).await?;
    let (user_id, hash) = found.map_or((None, None), |(id, hash)| (Some(id), Some(hash)));
    let password = form.password.chars().take(200).collect();
    match (user_id, verify_password(password, hash).await?) {
        (Some(user_id), true) => {
            attempt.succeeded();
            let user = store::find_by_id(&mut &state.db, user_id).await?;
            if let Some(user) = user.filter(|u| u.is_suspended(crate::db::now())) {
                let reason = if user.suspension_reason.is_empty() {
                    String::new()
                } else {
                    format!(" The reason given: {}", user.suspension_reason)
                };
                let page = LoginPage {
                    layout: Layout::bare("Sign in"),
                    login: form.login.chars().take(254).collect(),
                    next,
                    error: Some(format!("This account is suspended {}.{reason}", user.suspension_label())),
                    welcome: state.site().await.welcome.clone(),
                    unconfirmed: false,
                };
                return render_status(StatusCode::FORBIDDEN, &page);
            }
            if store::confirm_required(&mut &state.db, user_id).await? {
                let page = LoginPage {
                    layout: Layout::bare("Sign in"),
                    login: form.login.chars().take(254).collect(),
                    next,
                    error: Some(
                        "Confirm your e-mail address first: open the link we mailed you when you signed up.".into(),
                    ),
                    welcome: state.site().await.welcome.clone(),
                    unconfirmed: true,
                };
                return render_status(StatusCode::FORBIDDEN, &page);
            }
            start_session(&session, user_id).await?;
            Ok(Redirect::to(&next).into_response())
        }
        _ => {
            let page = LoginPage {
                layout: Layout::bare("Sign in"),
                login: form.login.chars().take(254).collect(),
                next,
                error: Some("That username or e-mail and password do not match an account.".into()),
                welcome: state.site().await.welcome.clone(),
                unconfirmed: false,
            };
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}

/// One sign-in attempt, counted against the keys of [`crate::web::limits::Limits`].
struct SignInAttempt<'a> {
    limits: &'a Limits,
    keys: [(&'a Throttle, String); 3],
}

impl<'a> SignInAttempt<'a> {
    /// Counts the attempt, or refuses it: the account from this address or this address has used
    /// up its allowance. Past the account's overall allowance the check waits its turn (one a
    /// second), so a distributed guess is slow while the owner still gets in.
    async fn count(limits: &'a Limits, account: &str, client: IpAddr) -> Result<SignInAttempt<'a>, AppError> {
        let attempt = SignInAttempt {
            limits,
            keys: [
                (&limits.login_by_account_and_address, format!("{account} {client}")),
                (&limits.login_by_address, client.to_string()),
                (&limits.login_by_account, account.to_owned()),
            ],
        };
        let [pair, address, overall] = attempt.keys.each_ref().map(|(throttle, key)| throttle.allow(key));
        if !pair || !address {
            return Err(AppError::TooMany("Too many sign-in attempts. Wait five minutes, then try again."));
        }
        if !overall {
            let turn = tokio::time::timeout(SLOWED_WAIT, attempt.limits.slowed.lock())
                .await
                .map_err(|_| AppError::TooMany("Many sign-in attempts are waiting. Try again in a minute."))?;
            tokio::time::sleep(Duration::from_secs(1)).await;
            drop(turn);
        }
        Ok(attempt)
    }

    /// The password was right: the attempt does not count against anyone.
    fn succeeded(&self) {
        for (throttle, key) in &self.keys {
            throttle.forgive(key);
        }
    }
}

/// How long a slowed sign-in waits for its turn before it is refused.
const SLOWED_WAIT: Duration = Duration::from_secs(10);

async fn logout(session: Session) -> Result<Redirect, AppError> {
    session.flush().await?;
    Ok(Redirect::to("/login"))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PasswordForm {
    current_password: String,
    new_password: String,
    confirm_password: String,
}

#[derive(Template)]
#[template(path = "accounts/password.html")]
struct PasswordPage {
    layout: Layout,
    errors: FormErrors,
}

async fn password_page(current: CurrentUser) -> Result<Response, AppError> {
    render(&PasswordPage {
        layout: Layout::for_user(&current, "Change password").await?,
        errors: FormErrors::default(),
    })
}

async fn change_password(
    State(state): State<AppState>,
    current: CurrentUser,
    Form(form): Form<PasswordForm>,
) -> Result<Response, AppError> {
    let mut db = &state.db;
    let mut errors = FormErrors::default();
    // Guessing the current password from a signed-in session is limited like signing in, and so
    // cannot fill the password hashing's queue for everyone else either.
    let checks = &state.limits.password_checks;
    let key = format!("#{}", current.user.id);
    if !checks.allow(&key) {
        return Err(AppError::TooMany("Too many wrong current passwords. Wait five minutes, then try again."));
    }
    let stored = store::password_hash(&mut db, current.user.id).await?;
    let current_ok =
        stored.is_some() && verify_password(form.current_password.chars().take(200).collect(), stored).await?;
    if current_ok {
        checks.forgive(&key);
    } else {
        errors.add("current_password", "That is not your current password.");
    }
    let new_password = errors.check("new_password", Password::parse(&form.new_password));
    if form.new_password != form.confirm_password {
        errors.add("confirm_password", "The two new passwords differ.");
    }
    let (Some(new_password), true) = (new_password, errors.is_empty()) else {
        let page = PasswordPage { layout: Layout::for_user(&current, "Change password").await?, errors };
        return render_status(StatusCode::UNPROCESSABLE_ENTITY, &page);
    };
    let hash = hash_password(new_password).await?;
    let mut tx = state.db.begin().await?;
    store::set_password_hash(&mut tx, current.user.id, &hash).await?;
    // Every other device signs in again with the new password; this one carries on.
    store::delete_sessions(&mut tx, current.user.id).await?;
    tx.commit().await?;
    start_session(&current.session, current.user.id).await?;
    current.set_notice("Your password was changed. Other devices have been signed out.").await?;
    Ok(Redirect::to("/settings/password").into_response())
}
