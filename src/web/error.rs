//! The one error type of request handlers, and how each kind is shown to a person.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::layout::{ErrorPage, Layout, render_status};
use super::request_id;

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
        if message.contains(crate::db::sessions::UNAVAILABLE) {
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
        let page = ErrorPage { layout: Layout::bare(title), message, request_id: request_id::current() };
        match render_status(status, &page) {
            Ok(response) => response,
            // The error page itself failed to render: answer in plain text rather than not at all.
            Err(_) => (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], title).into_response(),
        }
    }
}
