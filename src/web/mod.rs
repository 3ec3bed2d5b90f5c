//! The HTTP side: router assembly, middleware (sessions, CSRF, security headers, limits, request ids),
//! health, static files and the not-found page.

pub mod auth;
pub mod client;
pub mod error;
pub mod export;
pub mod form;
pub mod layout;
pub mod limits;
pub mod request_id;
pub mod server;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use time::Duration;
use tower_http::csrf::CsrfLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

pub use auth::{CurrentUser, MaybeUser};
pub use error::AppError;

use crate::accounts::sessions::DbSessionStore;
use crate::config::Config;
use crate::db::Db;

/// What every handler can reach. Cloned per request; every field is cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    /// The session store (shared with the session layer), which hands a request its account.
    pub sessions: DbSessionStore,
    pub config: Arc<Config>,
    pub live: crate::live::Hub,
    pub limits: Arc<limits::Limits>,
    pub site: crate::site::Cache,
    pub watch: crate::moderation::watch::Watch,
    /// Meilisearch, when configured; otherwise the built-in search.
    pub meili: Option<crate::search::meili::Meili>,
    /// Post rows recently shown on homes, kept up to date from `post_changes`.
    pub posts: crate::posts::cache::PostCache,
}

impl AppState {
    /// The site settings (cached for a few seconds).
    pub async fn site(&self) -> Arc<crate::site::Site> {
        self.site.get(&self.db).await
    }
}

/// Largest request body accepted (forms are small; this leaves room for a long post with margin).
const BODY_LIMIT_BYTES: usize = 64 * 1024;
/// A session lasts this long after the last request.
const SESSION_IDLE_DAYS: i64 = 14;

const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

pub fn router(state: AppState) -> Result<Router, tower_http::csrf::ConfigError> {
    let sessions = SessionManagerLayer::new(state.sessions.clone())
        .with_name(auth::SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.config.secure_cookies())
        .with_expiry(Expiry::OnInactivity(Duration::days(SESSION_IDLE_DAYS)));
    let mut csrf = CsrfLayer::new();
    if let Some(origin) = &state.config.public_url {
        csrf = csrf.add_trusted_origin(origin)?;
    }
    let header = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
    };

    let pages = Router::new()
        .merge(crate::accounts::routes::router())
        .merge(crate::profiles::routes::router())
        .merge(crate::posts::routes::router())
        .merge(crate::follows::routes::router())
        .merge(crate::topics::routes::router())
        .merge(crate::communities::routes::router())
        .merge(crate::live::routes::router())
        .merge(crate::ideas::campaigns::router())
        .merge(crate::ideas::routes::router())
        .merge(crate::ideas::export::router())
        .merge(crate::ideas::dashboard::router())
        .merge(crate::notifications::routes::router())
        .merge(crate::moderation::routes::router())
        .merge(crate::admin::router())
        .merge(crate::search::routes::router())
        .merge(crate::accounts::invitations::router())
        .merge(crate::accounts::password_links::router())
        .merge(crate::privacy::data::router())
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(state.clone(), error::with_header))
        .layer(axum::middleware::from_fn_with_state((state.site.clone(), state.db.clone()), crate::site::middleware))
        .with_state(state.clone())
        .layer(sessions)
        .layer(csrf)
        // Pages are for the person who asked: no browser or proxy cache may keep them for another.
        .layer(header(header::CACHE_CONTROL, "no-store"));
    // Health and static files never wait for the database's settings or sessions: a load balancer
    // and a browser get their answer at once even while the database is away.
    let open =
        Router::new().route("/healthz", get(healthz)).route("/static/{file}", get(static_file)).with_state(state);

    Ok(open
        .merge(pages)
        .layer(axum::middleware::from_fn(|request, next| server::read_body_first(BODY_LIMIT_BYTES, request, next)))
        .layer(header(header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .layer(header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(header(header::REFERRER_POLICY, "same-origin"))
        .layer(header(header::X_FRAME_OPTIONS, "DENY"))
        .layer(axum::middleware::from_fn(request_id::middleware)))
}

/// 200 when the database answers (within a second) and takes writes; 503 otherwise, saying which.
/// Open to everyone (load balancers).
async fn healthz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    if !state.db.is_ready().await {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n")
    } else if state.db.health().storage_full() {
        (StatusCode::SERVICE_UNAVAILABLE, "writes failing: the database's disk is full\n")
    } else {
        (StatusCode::OK, "ok\n")
    }
}

/// The stylesheet and scripts, built into the binary so it runs from anywhere.
async fn static_file(Path(file): Path<String>) -> Result<Response, AppError> {
    let (body, content_type) = match file.as_str() {
        "style.css" => (include_str!("../../static/style.css"), "text/css; charset=utf-8"),
        "compose.js" => (include_str!("../../static/compose.js"), "text/javascript; charset=utf-8"),
        "live.js" => (include_str!("../../static/live.js"), "text/javascript; charset=utf-8"),
        "ideas.js" => (include_str!("../../static/ideas.js"), "text/javascript; charset=utf-8"),
        "page.js" => (include_str!("../../static/page.js"), "text/javascript; charset=utf-8"),
        "mentions.js" => (include_str!("../../static/mentions.js"), "text/javascript; charset=utf-8"),
        _ => return Err(AppError::NotFound),
    };
    Ok(([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "public, max-age=3600")], body).into_response())
}

/// A missing page: sign in first (an internal network does not say what exists), then a 404 page.
async fn not_found(_signed_in: CurrentUser) -> AppError {
    AppError::NotFound
}
