//! Accounts made by admins (one, or many from pasted CSV lines "name,e-mail,department"), each with a
//! one-time welcome link to set a password; and reset links for people who forgot theirs. With mail
//! configured the welcome link is mailed to each person; without, the admin copies it and sends it on.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::require_admin;
use crate::accounts::CurrentUser;
use crate::accounts::password_links::{self, Purpose};
use crate::accounts::sessions::DbSessionStore;
use crate::accounts::{self, Email, store};
use crate::db::unique_violation;
use crate::web::client::SiteOrigin;
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
        .route("/admin/users/new", get(new_page).post(create))
        .route("/admin/users/{username}/reset-link", post(reset_link))
}

/// Accounts one form may make (a department's worth; larger lists go in several pastes).
const MOST_AT_ONCE: usize = 200;

/// One account to make, as typed.
struct Wanted {
    line: usize,
    name: String,
    email: String,
    department: String,
}

/// What became of one line.
struct Made {
    line: usize,
    name: String,
    email: String,
    username: String,
    /// The welcome link, or why this line made no account.
    outcome: Result<String, String>,
    /// The link went by mail (and is not shown).
    mailed: bool,
}

#[derive(Template)]
#[template(path = "admin/new_users.html")]
struct NewUsersPage {
    layout: Layout,
    form: NewUsersForm,
    error: Option<String>,
    made: Vec<Made>,
    /// Some links went by mail.
    any_mailed: bool,
    welcome_days: i64,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NewUsersForm {
    name: String,
    email: String,
    department: String,
    csv: String,
}

/// The page with the form as typed, a refusal, and what was made.
async fn page(
    current: &CurrentUser,
    form: NewUsersForm,
    error: Option<String>,
    made: Vec<Made>,
) -> Result<Response, AppError> {
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let layout = Layout::for_user(current, "Create accounts").await?;
    let any_mailed = made.iter().any(|m| m.mailed);
    render_status(
        status,
        &NewUsersPage { layout, form, error, made, any_mailed, welcome_days: password_links::WELCOME_DAYS },
    )
}

async fn new_page(current: CurrentUser) -> Result<Response, AppError> {
    require_admin(&current)?;
    page(&current, NewUsersForm::default(), None, Vec::new()).await
}

/// The fields of one CSV line; a field may be quoted ("Lee, Ana"), with `""` for a quote inside.
fn csv_fields(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            '"' => quoted = !quoted,
            ',' | ';' | '\t' if !quoted => fields.push(std::mem::take(&mut field)),
            _ => field.push(c),
        }
    }
    fields.push(field);
    fields.into_iter().map(|f| f.trim().to_owned()).collect()
}

/// The accounts the form asks for: the single fields, then each CSV line (a header line is skipped).
fn wanted(form: &NewUsersForm) -> Result<Vec<Wanted>, String> {
    let mut wanted = Vec::new();
    if !(form.name.trim().is_empty() && form.email.trim().is_empty()) {
        let (name, email, department) = (form.name.trim(), form.email.trim(), form.department.trim());
        wanted.push(Wanted {
            line: 0,
            name: name.to_owned(),
            email: email.to_owned(),
            department: department.to_owned(),
        });
    }
    for (index, line) in form.csv.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let fields = csv_fields(line);
        let field = |i: usize| fields.get(i).cloned().unwrap_or_default();
        if index == 0 && !field(1).contains('@') && field(1).to_lowercase().contains("mail") {
            continue;
        }
        wanted.push(Wanted { line: index + 1, name: field(0), email: field(1), department: field(2) });
    }
    if wanted.is_empty() {
        return Err("Type a name and an e-mail address, or paste lines of name,e-mail,department.".into());
    }
    if wanted.len() > MOST_AT_ONCE {
        return Err(format!("At most {MOST_AT_ONCE} accounts at once; paste the rest in a second round."));
    }
    Ok(wanted)
}

/// Makes one account with a welcome link, or says why not.
async fn make(state: &AppState, admin: i64, origin: &str, wanted: &Wanted) -> Result<(String, String, bool), String> {
    let name = accounts::display_name(&wanted.name, "The name")?;
    let email = Email::parse(&wanted.email)?;
    if wanted.department.chars().count() > 100 {
        return Err("The department has at most 100 characters.".into());
    }
    let local = email.as_str().split('@').next().unwrap_or_default().to_owned();
    let db_error = |e: sqlx::Error| {
        tracing::error!(error = %e, "an account was not created");
        "The database refused this account; try this line again.".to_owned()
    };
    // Two admins pasting the same names at once may pick the same free name: try the next one.
    for _ in 0..3 {
        let username = store::free_username(&mut &state.db, &local).await.map_err(db_error)?;
        let account = store::NewAccount {
            username: &username,
            email: email.as_str(),
            display_name: &name,
            password_hash: "!",
            department: &wanted.department,
            role: Some(accounts::Role::Member),
            invitation: None,
        };
        // The account, its audit entry and its link commit together: no account without its link.
        let made = async {
            let mut tx = state.db.begin().await?;
            let user = store::insert_in(&mut tx, account).await?;
            crate::audit::record(&mut tx, admin, "user.create", "user", user.id, email.as_str()).await?;
            let token = password_links::issue_in(&mut tx, user.id, Purpose::Welcome, Some(admin)).await?;
            let mailed = match crate::mail::Outgoing::of(&state.config) {
                Some(outgoing) => {
                    let message = welcome_message(&user, &password_links::link(origin, &token));
                    outgoing
                        .queue(&mut tx, &message, "welcome", Some(user.id), &user.email, &user.display_name)
                        .await?;
                    true
                }
                None => false,
            };
            tx.commit().await?;
            Ok::<_, crate::mail::QueueError>((token, mailed))
        };
        match made.await {
            Ok((token, mailed)) => return Ok((username, password_links::link(origin, &token), mailed)),
            Err(crate::mail::QueueError::Database(e)) => match unique_violation(&e) {
                Some(what) if what.contains("username") => continue,
                Some(_) => return Err("An account with this e-mail address exists already.".into()),
                None => return Err(db_error(e)),
            },
            Err(e) => return Err(e.to_string()),
        }
    }
    Err("No free username was found; try this line again.".into())
}

async fn create(
    State(state): State<AppState>,
    current: CurrentUser,
    SiteOrigin(origin): SiteOrigin,
    Form(form): Form<NewUsersForm>,
) -> Result<Response, AppError> {
    require_admin(&current)?;
    let wanted = match wanted(&form) {
        Ok(wanted) => wanted,
        Err(error) => return page(&current, form, Some(error), Vec::new()).await,
    };
    let mut made = Vec::with_capacity(wanted.len());
    for one in &wanted {
        let outcome = make(&state, current.user.id, &origin, one).await;
        let (username, outcome, mailed) = match outcome {
            Ok((username, link, mailed)) => (username, Ok(link), mailed),
            Err(why) => (String::new(), Err(why), false),
        };
        made.push(Made { line: one.line, name: one.name.clone(), email: one.email.clone(), username, outcome, mailed });
    }
    if made.iter().any(|m| m.mailed) {
        crate::mail::wake();
    }
    // The form comes back empty: what was made is listed, and a second submit would only repeat it.
    page(&current, NewUsersForm::default(), None, made).await
}

/// The mail that brings a person to an account an admin made for them.
fn welcome_message(user: &accounts::User, link: &str) -> crate::mail::Message {
    let site = crate::site::name();
    crate::mail::Message {
        subject: format!("Your account on {site}"),
        greeting: format!("Hello {},", user.display_name),
        paragraphs: vec![format!(
            "An administrator made you an account on {site}, the company's own social network. Your username is {}. \
             Choose your password, and you are in.",
            user.username
        )],
        action: Some(crate::mail::Action { label: "Set my password".into(), url: link.to_owned() }),
        after: vec![format!(
            "The link works once, for {} days. If it has expired, use “Forgot password?” on the sign-in page.",
            password_links::WELCOME_DAYS
        )],
        footer: format!("You got this mail because an administrator of {site} made an account with this address."),
    }
}

#[derive(Template)]
#[template(path = "admin/reset_link.html")]
struct ResetLinkPage {
    layout: Layout,
    username: String,
    display_name: String,
    link: String,
    hours: i64,
}

async fn reset_link(
    State(state): State<AppState>,
    current: CurrentUser,
    SiteOrigin(origin): SiteOrigin,
    Path(username): Path<String>,
) -> Result<Response, AppError> {
    require_admin(&current)?;
    let user = super::other_account(&state, &current, &username).await?;
    let token = password_links::issue(&state.db, user.id, Purpose::Reset, Some(current.user.id)).await?;
    render(&ResetLinkPage {
        layout: Layout::for_user(&current, "Password reset link").await?,
        username: user.username,
        display_name: user.display_name,
        link: password_links::link(&origin, &token),
        hours: password_links::RESET_HOURS,
    })
}

#[cfg(test)]
mod tests {
    use super::csv_fields;

    #[test]
    fn csv_lines_split_on_commas_outside_quotes() {
        assert_eq!(csv_fields("Ana Lee, ana@acme.example ,Sales"), ["Ana Lee", "ana@acme.example", "Sales"]);
        assert_eq!(
            csv_fields(r#""Lee, Ana",ana@acme.example,"R&D ""North""""#),
            ["Lee, Ana", "ana@acme.example", r#"R&D "North""#]
        );
        assert_eq!(csv_fields("Bo;bo@acme.example"), ["Bo", "bo@acme.example"]);
    }
}
