//! Invitation links: single-use, expiring links to sign up with when sign-up is by invitation (or to
//! let someone in from outside the listed e-mail domains). Admins create them, and members too when
//! the site settings allow it. Only a hash of each token is stored.

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
    Router::new().route("/invitations", get(list).post(create)).route("/invitations/{id}/withdraw", post(withdraw))
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
    }

    /// Creates an invitation valid for `days` and returns its token (shown once, never stored).
    pub async fn create(
        db: &mut impl Exec,
        creator_id: i64,
        days: i64,
        note: &str,
    ) -> Result<(i64, String), sqlx::Error> {
        let token = uuid::Uuid::new_v4().simple().to_string();
        let at = now();
        let (id,): (i64,) = db
            .fetch_one(
                sql("INSERT INTO invitations (token_hash, created_by, created_at, expires_at, note)
                     VALUES ($1, $2, $3, $4, $5) RETURNING id")
                .bind(token_hash(&token))
                .bind(creator_id)
                .bind(at)
                .bind(at + days * 86_400)
                .bind(note),
            )
            .await?;
        Ok((id, token))
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
                        u.username AS used_by_username, i.note
                 FROM invitations i JOIN users c ON c.id = i.created_by LEFT JOIN users u ON u.id = i.used_by
                 WHERE ($1 IS NULL OR i.created_by = $1) ORDER BY i.id DESC LIMIT 100")
            .bind(creator_id),
        )
        .await
    }

    pub async fn find(db: &mut impl Exec, id: i64) -> Result<Option<InvitationRow>, sqlx::Error> {
        db.fetch_optional(
            sql("SELECT i.id, i.created_by, c.username AS creator_username, i.created_at, i.expires_at, i.used_at,
                        u.username AS used_by_username, i.note
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
}

async fn page(
    state: &AppState,
    current: &CurrentUser,
    new_link: Option<(String, String)>,
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
            InvitationLine { id: r.id, creator: r.creator_username, note: r.note, state, open }
        })
        .collect();
    let layout = Layout::for_user(current, "Invitations").await?;
    render(&InvitationsPage { layout, allowed, closed, lines, new_link })
}

async fn list(State(state): State<AppState>, current: CurrentUser) -> Result<Response, AppError> {
    page(&state, &current, None).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CreateForm {
    days: String,
    note: String,
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
    let mut tx = state.db.begin().await?;
    let (id, token) = store::create(&mut tx, current.user.id, days, note).await?;
    crate::audit::record(&mut tx, current.user.id, "invitation.create", "invitation", id, note).await?;
    tx.commit().await?;
    page(&state, &current, Some((format!("{origin}/signup?invite={token}"), note.to_owned()))).await
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
