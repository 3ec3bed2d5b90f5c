//! Extractors that gate pages: `CurrentUser` (a signed-in person or a redirect to sign in) and
//! `MaybeUser` (pages open to everyone). Handlers take one of them, so none can forget the check.

use axum::extract::FromRequestParts;
use axum::http::Method;
use axum::http::request::Parts;
use tower_sessions::Session;

use super::{AppError, AppState};
use crate::accounts::sessions::USER_ID_KEY;
use crate::accounts::{User, store};
use crate::db::Db;

const NOTICE_KEY: &str = "notice";

/// The signed-in person, with their session.
pub struct CurrentUser {
    pub user: User,
    pub session: Session,
    /// The path the request asked for, for the menu's "you are here".
    pub path: String,
    /// Their unread notifications as the request began, when the session's load read them.
    unread: Option<i64>,
    db: Db,
}

impl CurrentUser {
    /// Their unread notifications as the header shows them (at most `UNREAD_SHOWN + 1`), as the
    /// request began: read with the session in the same statement, or now when it was not.
    pub async fn unread_notifications(&self) -> Result<i64, sqlx::Error> {
        match self.unread {
            Some(count) => Ok(count),
            None => crate::notifications::store::unread_count(&mut self.db.clone(), self.user.id).await,
        }
    }

    /// Leaves a notice for the next page this person sees.
    pub async fn set_notice(&self, message: impl Into<String>) -> Result<(), AppError> {
        set_notice(&self.session, message).await
    }

    pub async fn take_notice(&self) -> Option<String> {
        self.session.remove::<String>(NOTICE_KEY).await.ok().flatten()
    }
}

pub async fn set_notice(session: &Session, message: impl Into<String>) -> Result<(), AppError> {
    session.insert(NOTICE_KEY, message.into()).await?;
    Ok(())
}

/// The person signed in to this session, if any, with their unread notifications when the session's
/// load read them.
async fn signed_in(parts: &mut Parts, state: &AppState) -> Result<(Option<(User, Option<i64>)>, Session), AppError> {
    let session = Session::from_request_parts(parts, state)
        .await
        .map_err(|(_, why)| AppError::Internal(format!("session layer missing: {why}")))?;
    let user = session_user(&session, state).await?;
    Ok((user, session))
}

/// The person signed in to `session`, if any (see `signed_in`).
pub(super) async fn session_user(session: &Session, state: &AppState) -> Result<Option<(User, Option<i64>)>, AppError> {
    let Some(user_id) = session.get::<i64>(USER_ID_KEY).await? else {
        return Ok(None);
    };
    // The session's load read its account in the same statement; read it again only if not.
    let loaded = session.id().and_then(|id| state.sessions.take_account(&id)).filter(|(u, _)| u.id == user_id);
    let (user, unread) = match loaded {
        Some((user, unread)) => (Some(user), Some(unread)),
        None => (store::find_by_id(&mut state.db.clone(), user_id).await?, None),
    };
    let Some(user) = user.filter(|u| u.deleted_at.is_none() && !u.is_suspended(crate::db::now())) else {
        // The account is gone or suspended: end this session rather than ask again on every request.
        // (Suspending deletes the account's sessions already; this covers one racing that.)
        session.flush().await?;
        return Ok(None);
    };
    // From here on, this request shows and reads times in the person's own zone, if they chose one.
    if let Some(zone) = crate::format::Zone::named(&user.time_zone) {
        crate::format::use_zone(zone);
    }
    Ok(Some((user, unread)))
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match signed_in(parts, state).await? {
            (Some((user, unread)), session) => {
                let path = parts.uri.path().to_owned();
                Ok(CurrentUser { user, session, path, unread, db: state.db.clone() })
            }
            (None, _) => {
                if let Some(why) = suspended_since_last_request(parts, state).await? {
                    return Err(AppError::Suspended(why));
                }
                // Come back to the page that asked; a refused form post comes back to home.
                let next = if parts.method == Method::GET {
                    parts.uri.path_and_query().map_or("/", |pq| pq.as_str()).to_owned()
                } else {
                    "/".to_owned()
                };
                Err(AppError::SignInRequired { next })
            }
        }
    }
}

/// When this request's session cookie names a session that a suspension ended, what to tell the
/// person (once): until when, and the reason given.
async fn suspended_since_last_request(parts: &Parts, state: &AppState) -> Result<Option<String>, AppError> {
    let cookies = parts.headers.get_all(axum::http::header::COOKIE);
    let Some(id) = cookies
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(SESSION_COOKIE).and_then(|rest| rest.strip_prefix('=')))
        .filter(|id| !id.is_empty() && id.len() <= 64)
    else {
        return Ok(None);
    };
    let mut db = state.db.clone();
    let Some(user_id) = store::take_suspended_session(&mut db, id).await? else { return Ok(None) };
    let Some(user) = store::find_by_id(&mut db, user_id).await?.filter(|u| u.is_suspended(crate::db::now())) else {
        return Ok(None);
    };
    let reason = if user.suspension_reason.is_empty() {
        String::new()
    } else {
        format!(" The reason given: {}", user.suspension_reason)
    };
    Ok(Some(format!(
        "You were signed out: an administrator or moderator suspended your account {}.{reason}",
        user.suspension_label()
    )))
}

/// The name of the session cookie.
pub const SESSION_COOKIE: &str = "townhall_session";

/// The signed-in person if there is one, for pages open to everyone.
pub struct MaybeUser {
    pub user: Option<User>,
    pub session: Session,
}

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let (user, session) = signed_in(parts, state).await?;
        Ok(MaybeUser { user: user.map(|(user, _)| user), session })
    }
}
