//! Extractors that gate pages: `CurrentUser` (a signed-in person or a redirect to sign in) and
//! `MaybeUser` (pages open to everyone). Handlers take one of them, so none can forget the check.
//! Also the signed-in person's header on every page, error pages included.

use axum::extract::{FromRef, FromRequestParts, Request, State};
use axum::http::Method;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use tower_sessions::Session;

use super::sessions::{DbSessionStore, SESSION_COOKIE, USER_ID_KEY};
use super::{User, store};
use crate::web::AppError;
use crate::web::error::{Back, Shown, came_from, enclosing, is_plain_text};
use crate::web::layout::{Layout, Me};

const NOTICE_KEY: &str = "notice";

/// The signed-in person, with their session.
pub struct CurrentUser {
    pub user: User,
    pub session: Session,
    /// The path the request asked for, for the menu's "you are here".
    pub path: String,
    /// Their unread notifications as the request began, when the session's load read them.
    unread: Option<i64>,
    sessions: DbSessionStore,
}

impl CurrentUser {
    /// Their unread notifications as the header shows them (at most `UNREAD_SHOWN + 1`), as the
    /// request began: read with the session in the same statement, or now when it was not.
    pub async fn unread_notifications(&self) -> Result<i64, sqlx::Error> {
        match self.unread {
            Some(count) => Ok(count),
            None => self.sessions.unread_count(self.user.id).await,
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

impl From<&User> for Me {
    fn from(user: &User) -> Me {
        Me {
            username: user.username.clone(),
            display_name: user.display_name.clone(),
            moderator: user.is_moderator(),
            admin: user.is_admin(),
        }
    }
}

impl Layout {
    /// For a signed-in person's page; takes the pending notice out of the session.
    pub async fn for_user(current: &CurrentUser, title: impl Into<String>) -> Result<Layout, AppError> {
        let unread = current.unread_notifications().await?;
        let notice = current.take_notice().await;
        Ok(Layout {
            title: title.into(),
            me: Some(Me::from(&current.user)),
            notice,
            unread,
            path: current.path.clone(),
        })
    }
}

/// The person signed in to this session, if any, with their unread notifications when the session's
/// load read them.
async fn signed_in<S: Send + Sync>(
    parts: &mut Parts,
    state: &S,
    sessions: &DbSessionStore,
) -> Result<(Option<(User, Option<i64>)>, Session), AppError> {
    let session = Session::from_request_parts(parts, state)
        .await
        .map_err(|(_, why)| AppError::Internal(format!("session layer missing: {why}")))?;
    let user = session_user(&session, sessions).await?;
    Ok((user, session))
}

/// The person signed in to `session`, if any (see `signed_in`).
async fn session_user(session: &Session, sessions: &DbSessionStore) -> Result<Option<(User, Option<i64>)>, AppError> {
    let Some(user_id) = session.get::<i64>(USER_ID_KEY).await? else {
        return Ok(None);
    };
    // The session's load read its account in the same statement; read it again only if not.
    let loaded = session.id().and_then(|id| sessions.take_account(&id)).filter(|(u, _)| u.id == user_id);
    let (user, unread) = match loaded {
        Some((user, unread)) => (Some(user), Some(unread)),
        None => (store::find_by_id(&mut sessions.db().clone(), user_id).await?, None),
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

impl<S> FromRequestParts<S> for CurrentUser
where
    S: Send + Sync,
    DbSessionStore: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let sessions = DbSessionStore::from_ref(state);
        match signed_in(parts, state, &sessions).await? {
            (Some((user, unread)), session) => {
                let path = parts.uri.path().to_owned();
                Ok(CurrentUser { user, session, path, unread, sessions })
            }
            (None, _) => {
                if let Some(why) = suspended_since_last_request(parts, &sessions).await? {
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
async fn suspended_since_last_request(parts: &Parts, sessions: &DbSessionStore) -> Result<Option<String>, AppError> {
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
    let mut db = sessions.db().clone();
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

/// The signed-in person if there is one, for pages open to everyone.
pub struct MaybeUser {
    pub user: Option<User>,
    pub session: Session,
}

impl<S> FromRequestParts<S> for MaybeUser
where
    S: Send + Sync,
    DbSessionStore: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let sessions = DbSessionStore::from_ref(state);
        let (user, session) = signed_in(parts, state, &sessions).await?;
        Ok(MaybeUser { user: user.map(|(user, _)| user), session })
    }
}

/// Shows error pages to a signed-in person with their header and menu, and a way back to where they
/// were: the page they came from, or the campaign, thread or community the failed address belongs to.
/// Also turns the framework's plain-text refusals (a malformed id or filter value) into such pages.
pub async fn with_header(State(sessions): State<DbSessionStore>, request: Request, next: Next) -> Response {
    let session = request.extensions().get::<Session>().cloned();
    let path = request.uri().path().to_owned();
    let came_from = came_from(request.headers());
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let (shown, response) = match response.extensions().get::<Shown>().cloned() {
        Some(shown) => (shown, response),
        None if is_plain_text(&response) => {
            let text = axum::body::to_bytes(response.into_body(), 4096).await.unwrap_or_default();
            let shown = Shown::refusal(status, &String::from_utf8_lossy(&text));
            let bare = shown.render(status, Layout::bare(shown.title.clone()), None);
            (shown, bare)
        }
        None => return response,
    };
    // Only an error page for someone signed in changes; the database being away keeps the plain one.
    let Some(session) = session else { return response };
    let Ok(Some((user, unread))) = session_user(&session, &sessions).await else {
        return response;
    };
    let unread = match unread {
        Some(count) => count,
        None => match sessions.unread_count(user.id).await {
            Ok(count) => count,
            Err(_) => return response,
        },
    };
    let back =
        came_from.filter(|from| from != &path).map(|href| Back { href, label: "Back to the page you came from" });
    let back = back.or_else(|| enclosing(&path));
    let layout = Layout { title: shown.title.clone(), me: Some(Me::from(&user)), notice: None, unread, path };
    shown.render(status, layout, back)
}
