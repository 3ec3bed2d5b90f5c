//! The one error type of request handlers, and how each kind is shown to a person.

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::layout::{ErrorPage, Layout, render_status};
use super::request_id;

/// Marks a session store error that means "the database is out of reach", so pages can answer 503.
pub const UNAVAILABLE: &str = "database unavailable: ";

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// The page needs a signed-in person; `next` is where to go back after signing in.
    #[error("sign-in required")]
    SignInRequired { next: String },
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("too many requests: {0}")]
    TooMany(&'static str),
    /// Someone else changed the thing meanwhile, so the action no longer applies.
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// The database did not answer in time or at all.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// The database refused a write for want of disk space.
    #[error("storage full: {0}")]
    StorageFull(String),
    /// A one-time link that was used, expired or withdrawn; says what to do instead.
    #[error("gone: {0}")]
    Gone(&'static str),
    /// The signed-in person's account was suspended since their last request; says until when and why.
    #[error("suspended: {0}")]
    Suspended(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<sqlx::Error> for AppError {
    fn from(error: sqlx::Error) -> Self {
        use crate::db::health;
        if health::storage_full(&error) {
            AppError::StorageFull(error.to_string())
        } else if health::unavailable(&error) {
            AppError::Unavailable(error.to_string())
        } else {
            AppError::Internal(format!("database: {error}"))
        }
    }
}

impl From<askama::Error> for AppError {
    fn from(error: askama::Error) -> Self {
        AppError::Internal(format!("template: {error}"))
    }
}

impl From<tower_sessions::session::Error> for AppError {
    fn from(error: tower_sessions::session::Error) -> Self {
        let message = error.to_string();
        if message.contains(UNAVAILABLE) {
            AppError::Unavailable(message)
        } else {
            AppError::Internal(format!("session: {message}"))
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, title, message) = match &self {
            AppError::SignInRequired { next } => {
                let target = if next == "/" {
                    "/login".to_owned()
                } else {
                    format!("/login?next={}", super::form::percent_encode(next))
                };
                return Redirect::to(&target).into_response();
            }
            AppError::NotFound => {
                (StatusCode::NOT_FOUND, "Page not found", "There is nothing at this address.".to_owned())
            }
            AppError::Forbidden(why) => (StatusCode::FORBIDDEN, "Not allowed", (*why).to_owned()),
            AppError::BadRequest(why) => (StatusCode::BAD_REQUEST, "That did not work", why.clone()),
            AppError::TooMany(why) => (StatusCode::TOO_MANY_REQUESTS, "Please wait a moment", (*why).to_owned()),
            AppError::Conflict(why) => (StatusCode::CONFLICT, "That changed meanwhile", (*why).to_owned()),
            AppError::Gone(why) => (StatusCode::GONE, "This link no longer works", (*why).to_owned()),
            AppError::Suspended(why) => (StatusCode::FORBIDDEN, "Your account is suspended", why.clone()),
            AppError::Unavailable(cause) => {
                tracing::error!(cause = %cause, "database unavailable");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Temporarily unavailable",
                    "Townhall cannot reach its database right now. Please try again in a moment.".to_owned(),
                )
            }
            AppError::StorageFull(cause) => {
                tracing::error!(cause = %cause, "a write was refused: the database's disk is full");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Storage is full",
                    "Townhall's storage is full, so what you sent was not saved. Go back to keep what you \
                     typed, and try again in a few minutes."
                        .to_owned(),
                )
            }
            AppError::Internal(cause) => {
                tracing::error!(cause = %cause, "request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "Townhall could not finish this request. The problem has been logged.".to_owned(),
                )
            }
        };
        let shown = Shown { title: title.to_owned(), message };
        let mut response = shown.render(status, Layout::bare(title), None);
        response.extensions_mut().insert(shown);
        response
    }
}

/// What an error page said, kept on its response so that `with_header` can show it again inside
/// the signed-in person's own header and menu.
#[derive(Clone)]
pub struct Shown {
    pub title: String,
    message: String,
}

impl Shown {
    /// A framework refusal's plain text (or none) as an error page says it.
    pub fn refusal(status: StatusCode, text: &str) -> Shown {
        let mut message = text.trim().to_owned();
        if message.is_empty() {
            message = match status {
                StatusCode::METHOD_NOT_ALLOWED => "This address does not take that kind of request.".to_owned(),
                _ => format!("The request was refused ({status})."),
            };
        }
        Shown { title: "That did not work".to_owned(), message }
    }

    pub fn render(&self, status: StatusCode, layout: Layout, back: Option<Back>) -> Response {
        let page = ErrorPage { layout, message: self.message.clone(), request_id: request_id::current(), back };
        match render_status(status, &page) {
            Ok(response) => response,
            // The error page itself failed to render: answer in plain text rather than not at all.
            Err(_) => {
                (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], self.title.clone()).into_response()
            }
        }
    }
}

/// A link from an error page back to where the person was.
pub struct Back {
    pub href: String,
    pub label: &'static str,
}

/// The framework's own refusals: plain text, or no body at all (405).
pub fn is_plain_text(response: &Response) -> bool {
    match response.headers().get(header::CONTENT_TYPE) {
        None => true,
        Some(value) => value.to_str().is_ok_and(|value| value.starts_with("text/plain")),
    }
}

/// The path of a same-site `Referer` (the site sends it only to itself: `Referrer-Policy: same-origin`).
pub fn came_from(headers: &HeaderMap) -> Option<String> {
    let referer = headers.get(header::REFERER)?.to_str().ok()?;
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let rest = referer.strip_prefix("http://").or_else(|| referer.strip_prefix("https://"))?;
    let (referer_host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    (referer_host.eq_ignore_ascii_case(host) && !path.is_empty()).then(|| super::form::local_path(Some(path)))
}

/// The campaign, idea, thread or community an address belongs to, when it names one below it.
pub fn enclosing(path: &str) -> Option<Back> {
    let mut parts = path.trim_start_matches('/').split('/');
    let (section, key, below) = (parts.next()?, parts.next()?, parts.next());
    below?;
    let label = match section {
        "campaigns" => "Back to the campaign",
        "ideas" => "Back to the idea",
        "posts" => "Back to the thread",
        "c" => "Back to the community",
        _ => return None,
    };
    Some(Back { href: format!("/{section}/{key}"), label })
}
