//! What every page shares: the layout context (title, the signed-in person, a one-time notice) and
//! rendering a template into a response with a status.

use askama::Template;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::AppError;

/// The most unread notifications the header counts; beyond it shows "99+".
pub const UNREAD_SHOWN: i64 = 99;

/// The signed-in person as the header shows them (the accounts feature fills it in).
#[derive(Clone, Debug)]
pub struct Me {
    pub username: String,
    pub display_name: String,
    pub moderator: bool,
    pub admin: bool,
}

impl Me {
    pub fn is_moderator(&self) -> bool {
        self.moderator
    }

    pub fn is_admin(&self) -> bool {
        self.admin
    }
}

/// The part of every page that the base template reads.
pub struct Layout {
    pub title: String,
    pub me: Option<Me>,
    /// A notice shown once at the top of the page ("Your profile was saved.").
    pub notice: Option<String>,
    /// Unread notifications, for the header.
    pub unread: i64,
    /// The page's path, so the menu can mark where the person is.
    pub path: String,
}

/// An unread count as a badge shows it: "7", or "99+" beyond [`UNREAD_SHOWN`].
pub fn unread_label(count: i64) -> String {
    if count > UNREAD_SHOWN { format!("{UNREAD_SHOWN}+") } else { count.to_string() }
}

impl Layout {
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
        unread_label(self.unread)
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
