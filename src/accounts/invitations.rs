//! Invitation links: single-use, expiring links to sign up with when sign-up is by invitation (or to
//! let someone in from outside the listed e-mail domains). Admins create them, and members too when
//! the site settings allow it. With mail configured they can be mailed to one or many addresses at
//! once, with the inviter's note, and mailed again. Only a hash of each token is stored.

use askama::Template;
use axum::extract::State;
use axum::response::{Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::CurrentUser;
use super::sessions::DbSessionStore;
use crate::config::SignupPolicy;
use crate::web::client::SiteOrigin;
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
        .route("/invitations", get(list).post(create))
        .route("/invitations/{id}/withdraw", post(withdraw))
        .route("/invitations/{id}/resend", post(resend))
}

/// Days an invitation stays valid, unless its creator chooses otherwise (1 to 30).
const DEFAULT_DAYS: i64 = 7;

pub mod store {
    use blake2::{Blake2s256, Digest};

    use crate::db::{Exec, now, sql};

    /// The stored form of a token.
    pub fn token_hash(token: &str) -> String {
        Blake2s256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
    }

    /// A fresh token for a one-time link that goes to one person (set a password, confirm an
    /// address): 64 hex digits, 244 random bits.
    pub fn one_time_token() -> String {
        format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
    }

    /// Whether `token` has the shape [`one_time_token`] makes (anything else is not looked up).
    pub fn is_one_time_token(token: &str) -> bool {
        token.len() == 64 && token.chars().all(|c| c.is_ascii_hexdigit())
    }

    #[derive(Debug, Clone, sqlx::FromRow)]
    pub struct InvitationRow {
        pub id: i64,
        pub created_by: i64,
        pub creator_username: String,
        pub created_at: i64,
        pub expires_at: i64,
        pub used_at: Option<i64>,
        pub used_by_username: Option<String>,
        /// Whom the link was meant for, as its creator noted.
        pub note: String,
        /// The address it was mailed to, or empty.
        pub email: String,
    }

    /// Creates an invitation valid for `days` and returns its token (shown once, never stored).
    pub async fn create(
        db: &mut impl Exec,
        creator_id: i64,
        days: i64,
        note: &str,
        email: &str,
    ) -> Result<(i64, String), sqlx::Error> {
        let token = uuid::Uuid::new_v4().simple().to_string();
        let at = now();
        let (id,): (i64,) = db
            .fetch_one(
                sql("INSERT INTO invitations (token_hash, created_by, created_at, expires_at, note, email)
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
                .bind(token_hash(&token))
                .bind(creator_id)
                .bind(at)
                .bind(at + days * 86_400)
                .bind(note)
                .bind(email),
            )
            .await?;
        Ok((id, token))
    }

    /// A new token for an open invitation, valid `days` from now (the old link stops working).
    pub async fn renew(db: &mut impl Exec, id: i64, days: i64) -> Result<Option<String>, sqlx::Error> {
        let token = uuid::Uuid::new_v4().simple().to_string();
        let at = now();
        let changed = db
            .execute(
                sql("UPDATE invitations SET token_hash = $1, expires_at = $2
                     WHERE id = $3 AND used_at IS NULL AND expires_at > $4")
                .bind(token_hash(&token))
                .bind(at + days * 86_400)
                .bind(id)
                .bind(at),
            )
            .await?;
        Ok((changed == 1).then_some(token))
    }

    /// The address the invitation with this token was mailed to (empty if none), used or not.
    pub async fn email_of(db: &mut impl Exec, token: &str) -> Result<String, sqlx::Error> {
        let row: Option<(String,)> = db
            .fetch_optional(sql("SELECT email FROM invitations WHERE token_hash = $1").bind(token_hash(token)))
            .await?;
        Ok(row.map(|(email,)| email).unwrap_or_default())
    }

    pub async fn is_valid(db: &mut impl Exec, token: &str) -> Result<bool, sqlx::Error> {
        let row: Option<(i64,)> = db
            .fetch_optional(
                sql("SELECT id FROM invitations WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2")
                    .bind(token_hash(token))
                    .bind(now()),
            )
            .await?;
        Ok(row.is_some())
    }

    /// Marks the invitation used by `user_id`; false when it was not valid (any more).
    pub async fn spend(db: &mut impl Exec, token: &str, user_id: i64) -> Result<bool, sqlx::Error> {
        let at = now();
        let changed = db
            .execute(
                sql("UPDATE invitations SET used_by = $1, used_at = $2
                     WHERE token_hash = $3 AND used_at IS NULL AND expires_at > $2")
                .bind(user_id)
                .bind(at)
                .bind(token_hash(token)),
            )
            .await?;
        Ok(changed == 1)
    }

    /// The newest invitations: one person's, or (None) everyone's.
    pub async fn recent(db: &mut impl Exec, creator_id: Option<i64>) -> Result<Vec<InvitationRow>, sqlx::Error> {
        db.fetch_all(
            sql("SELECT i.id, i.created_by, c.username AS creator_username, i.created_at, i.expires_at, i.used_at,
                        u.username AS used_by_username, i.note, i.email
                 FROM invitations i JOIN users c ON c.id = i.created_by LEFT JOIN users u ON u.id = i.used_by
                 WHERE ($1 IS NULL OR i.created_by = $1) ORDER BY i.id DESC LIMIT 100")
            .bind(creator_id),
        )
        .await
    }

    pub async fn find(db: &mut impl Exec, id: i64) -> Result<Option<InvitationRow>, sqlx::Error> {
        db.fetch_optional(
            sql("SELECT i.id, i.created_by, c.username AS creator_username, i.created_at, i.expires_at, i.used_at,
                        u.username AS used_by_username, i.note, i.email
                 FROM invitations i JOIN users c ON c.id = i.created_by LEFT JOIN users u ON u.id = i.used_by
                 WHERE i.id = $1")
            .bind(id),
        )
        .await
    }

    /// Ends an unused invitation now.
    pub async fn withdraw(db: &mut impl Exec, id: i64) -> Result<(), sqlx::Error> {
        db.execute(
            sql("UPDATE invitations SET expires_at = $1 WHERE id = $2 AND used_at IS NULL").bind(now()).bind(id),
        )
        .await?;
        Ok(())
    }
}

/// Admins may always invite; members when the settings allow it (and nobody while suspended).
async fn may_invite(state: &AppState, current: &CurrentUser) -> bool {
    current.user.is_admin() || state.site().await.members_invite
}

struct InvitationLine {
    id: i64,
    creator: String,
    note: String,
    email: String,
    state: String,
    open: bool,
}

#[derive(Template)]
#[template(path = "accounts/invitations.html")]
struct InvitationsPage {
    layout: Layout,
    allowed: bool,
    /// Sign-up is closed, so invitation links do not work.
    closed: bool,
    lines: Vec<InvitationLine>,
    /// The link just made, and whom it is for; shown once.
    new_link: Option<(String, String)>,
    /// The addresses just mailed an invitation.
    mailed: Vec<String>,
    /// Mail is configured, so invitations can be mailed.
    mails: bool,
}

async fn page(
    state: &AppState,
    current: &CurrentUser,
    new_link: Option<(String, String)>,
    mailed: Vec<String>,
) -> Result<Response, AppError> {
    let closed = state.site().await.signup == SignupPolicy::Closed;
    let allowed = may_invite(state, current).await && !closed;
    let scope = if current.user.is_admin() { None } else { Some(current.user.id) };
    let rows = store::recent(&mut &state.db, scope).await?;
    let at = crate::db::now();
    let lines = rows
        .into_iter()
        .map(|r| {
            let open = r.used_at.is_none() && r.expires_at > at;
            let state = match (&r.used_by_username, r.used_at) {
                (Some(who), Some(_)) => format!("used by @{who}"),
                (None, Some(_)) => "used".to_owned(),
                _ if open => format!("open until {}", crate::format::date_time(r.expires_at)),
                _ => "expired or withdrawn".to_owned(),
            };
            InvitationLine { id: r.id, creator: r.creator_username, note: r.note, email: r.email, state, open }
        })
        .collect();
    let layout = Layout::for_user(current, "Invitations").await?;
    let mails = state.config.mail.is_some();
    render(&InvitationsPage { layout, allowed, closed, lines, new_link, mailed, mails })
}

async fn list(State(state): State<AppState>, current: CurrentUser) -> Result<Response, AppError> {
    page(&state, &current, None, Vec::new()).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CreateForm {
    days: String,
    note: String,
    /// Addresses to mail the invitation to (commas, semicolons, spaces or lines between them).
    emails: String,
}

/// Addresses one form may invite at once.
const MOST_MAILED: usize = 50;

/// The addresses typed, each valid, or what is wrong with them.
fn addresses(typed: &str) -> Result<Vec<String>, String> {
    let mut found: Vec<String> = Vec::new();
    for word in typed.split(|c: char| c == ',' || c == ';' || c.is_whitespace()).filter(|w| !w.is_empty()) {
        let email = super::Email::parse(word)
            .map_err(|_| format!("`{}` is not an e-mail address.", word.chars().take(80).collect::<String>()))?;
        if !found.iter().any(|f| f == email.as_str()) {
            found.push(email.as_str().to_owned());
        }
    }
    if found.len() > MOST_MAILED {
        return Err(format!("At most {MOST_MAILED} addresses at once."));
    }
    Ok(found)
}

/// The mail that carries an invitation link.
fn invitation_message(inviter: &super::User, note: &str, link: &str, days: i64) -> crate::mail::Message {
    let site = crate::site::name();
    let mut paragraphs = vec![format!(
        "{} invites you to {site}, the company's own social network: short posts, communities and idea campaigns.",
        inviter.display_name
    )];
    if !note.is_empty() {
        paragraphs.push(format!("{} wrote: “{note}”", inviter.display_name));
    }
    crate::mail::Message {
        subject: format!("{} invites you to {site}", inviter.display_name),
        greeting: "Hello,".into(),
        paragraphs,
        action: Some(crate::mail::Action { label: "Create my account".into(), url: link.to_owned() }),
        after: vec![format!("The link works once, for {days} days.")],
        footer: format!(
            "You got this mail because {} (@{}) invited this address to {site}.",
            inviter.display_name, inviter.username
        ),
    }
}

async fn create(
    State(state): State<AppState>,
    current: CurrentUser,
    SiteOrigin(origin): SiteOrigin,
    Form(form): Form<CreateForm>,
) -> Result<Response, AppError> {
    if !may_invite(&state, &current).await {
        return Err(AppError::Forbidden("Only administrators can create invitation links here."));
    }
    if state.site().await.signup == SignupPolicy::Closed {
        return Err(AppError::BadRequest(
            "Sign-up is closed, so invitation links do not work. Administrators create accounts under Admin → People."
                .into(),
        ));
    }
    let note = form.note.trim();
    if note.chars().count() > 200 || note.chars().any(char::is_control) {
        return Err(AppError::BadRequest("The note has at most 200 characters on one line.".into()));
    }
    let days = match form.days.trim() {
        "" => DEFAULT_DAYS,
        d => d
            .parse::<i64>()
            .ok()
            .filter(|d| (1..=30).contains(d))
            .ok_or_else(|| AppError::BadRequest("An invitation lasts 1 to 30 days.".into()))?,
    };
    if !form.emails.trim().is_empty() {
        let Some(outgoing) = crate::mail::Outgoing::of(&state.config) else {
            return Err(AppError::BadRequest(
                "This site does not send e-mail: create a link and send it yourself.".into(),
            ));
        };
        let emails = addresses(&form.emails).map_err(AppError::BadRequest)?;
        let mut tx = state.db.begin().await?;
        for email in &emails {
            let (id, token) = store::create(&mut tx, current.user.id, days, note, email).await?;
            crate::audit::record(&mut tx, current.user.id, "invitation.mail", "invitation", id, email).await?;
            let message =
                invitation_message(&current.user, note, &outgoing.link(&format!("/signup?invite={token}")), days);
            outgoing.queue(&mut tx, &message, "invitation", None, email, "").await?;
        }
        tx.commit().await?;
        crate::mail::wake();
        return page(&state, &current, None, emails).await;
    }
    let mut tx = state.db.begin().await?;
    let (id, token) = store::create(&mut tx, current.user.id, days, note, "").await?;
    crate::audit::record(&mut tx, current.user.id, "invitation.create", "invitation", id, note).await?;
    tx.commit().await?;
    page(&state, &current, Some((format!("{origin}/signup?invite={token}"), note.to_owned())), Vec::new()).await
}

/// Mails an open invitation again, with a new link (the old one stops working) valid for the
/// default number of days from now.
async fn resend(State(state): State<AppState>, current: CurrentUser, PathId(id): PathId) -> Result<Redirect, AppError> {
    let Some(outgoing) = crate::mail::Outgoing::of(&state.config) else {
        return Err(AppError::BadRequest("This site does not send e-mail.".into()));
    };
    let mut tx = state.db.begin().await?;
    let invitation = store::find(&mut tx, id).await?.ok_or(AppError::NotFound)?;
    if invitation.created_by != current.user.id && !current.user.is_admin() {
        return Err(AppError::NotFound);
    }
    if invitation.email.is_empty() {
        return Err(AppError::BadRequest("This invitation was not mailed to anyone; create a new one.".into()));
    }
    let Some(token) = store::renew(&mut tx, id, DEFAULT_DAYS).await? else {
        return Err(AppError::Conflict("This invitation was used, has expired or was withdrawn: create a new one."));
    };
    let link = outgoing.link(&format!("/signup?invite={token}"));
    let message = invitation_message(&current.user, &invitation.note, &link, DEFAULT_DAYS);
    outgoing.queue(&mut tx, &message, "invitation", None, &invitation.email, "").await?;
    crate::audit::record(&mut tx, current.user.id, "invitation.resend", "invitation", id, &invitation.email).await?;
    tx.commit().await?;
    crate::mail::wake();
    current.set_notice(&format!("The invitation was mailed again to {}.", invitation.email)).await?;
    Ok(Redirect::to("/invitations"))
}

async fn withdraw(
    State(state): State<AppState>,
    current: CurrentUser,
    PathId(id): PathId,
) -> Result<Redirect, AppError> {
    let mut tx = state.db.begin().await?;
    let invitation = store::find(&mut tx, id).await?.ok_or(AppError::NotFound)?;
    if invitation.created_by != current.user.id && !current.user.is_admin() {
        return Err(AppError::NotFound);
    }
    store::withdraw(&mut tx, id).await?;
    crate::audit::record(&mut tx, current.user.id, "invitation.withdraw", "invitation", id, "").await?;
    tx.commit().await?;
    current.set_notice("The invitation link no longer works.").await?;
    Ok(Redirect::to("/invitations"))
}
