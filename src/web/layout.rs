//! What every page shares: the layout context (title, the signed-in person, a one-time notice) and
//! rendering a template into a response with a status.

use askama::Template;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::AppError;
use super::auth::CurrentUser;
use crate::accounts::User;

/// The part of every page that the base template reads.
pub struct Layout {
    pub title: String,
    pub me: Option<User>,
    /// A notice shown once at the top of the page ("Your profile was saved.").
    pub notice: Option<String>,
    /// Unread notifications, for the header.
    pub unread: i64,
    /// The page's path, so the menu can mark where the person is.
    pub path: String,
}

impl Layout {
    /// For a signed-in person's page; takes the pending notice out of the session.
    pub async fn for_user(current: &CurrentUser, title: impl Into<String>) -> Result<Layout, AppError> {
        let unread = current.unread_notifications().await?;
        let notice = current.take_notice().await;
        Ok(Layout { title: title.into(), me: Some(current.user.clone()), notice, unread, path: current.path.clone() })
    }

    /// For pages shown to someone not signed in, and for error pages.
    pub fn bare(title: impl Into<String>) -> Layout {
        Layout { title: title.into(), me: None, notice: None, unread: 0, path: String::new() }
    }

    /// Whether this page is in the menu's `section`: home only on `/`, other sections with the
    /// pages below them (`/campaigns` marks `/campaigns/7` too).
    pub fn is_current(&self, section: &str) -> bool {
        if section == "/" {
            self.path == "/"
        } else {
            self.path == section || self.path.strip_prefix(section).is_some_and(|rest| rest.starts_with('/'))
        }
    }

    /// The header's unread badge.
    pub fn unread_shown(&self) -> String {
        crate::notifications::unread_label(self.unread)
    }

    pub fn site_name(&self) -> String {
        crate::site::name()
    }
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub layout: Layout,
    pub message: String,
    pub request_id: String,
    pub back: Option<super::error::Back>,
}

/// Renders a page with status 200.
pub fn render(page: &impl Template) -> Result<Response, AppError> {
    render_status(StatusCode::OK, page)
}

/// Renders a page with the given status (422 for a refused form, 404 for a missing page, …).
pub fn render_status(status: StatusCode, page: &impl Template) -> Result<Response, AppError> {
    let html = page.render()?;
    Ok((status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response())
}
