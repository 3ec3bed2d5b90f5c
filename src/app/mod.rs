//! The application assembled: its state (the plumbing every handler reaches and each feature's own
//! services) and its router (every feature's pages, middleware, health and static files). This is
//! the top of the import graph: it uses every feature, and nothing but `lib.rs` uses it.

use axum::Router;
use axum::extract::{FromRef, Path, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use time::Duration;
use tower_http::csrf::CsrfLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::accounts::CurrentUser;
use crate::accounts::sessions::{DbSessionStore, SESSION_COOKIE};
use crate::web::{AppError, AppState};

/// Everything handlers can reach. Each feature's router is generic over its state and names the
/// parts it uses (`AppState: FromRef<S>`, `Hub: FromRef<S>`, …), so features never name this type.
#[derive(Clone, FromRef)]
pub struct Shared {
    pub web: AppState,
    /// The session store (shared with the session layer), which hands a request its account.
    pub sessions: DbSessionStore,
    pub live: crate::bus::Hub,
    pub watch: crate::watch::Watch,
    /// Meilisearch, when configured; otherwise the built-in search.
    pub meili: Option<crate::search::meili::Meili>,
    /// Search rankings recently made, reused for a few seconds.
    pub rankings: crate::search::cache::RankCache,
    /// Post rows recently shown on homes, kept up to date from `post_changes`.
    pub posts: crate::posts::cache::PostCache,
}

/// Largest request body accepted (forms are small; this leaves room for a long post with margin).
const BODY_LIMIT_BYTES: usize = 64 * 1024;
/// A session lasts this long after the last request.
const SESSION_IDLE_DAYS: i64 = 14;

const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// The whole site: every feature's pages behind sessions, CSRF checks and the site's settings, and
/// health and static files in front of them.
pub fn router(state: Shared) -> Result<Router, tower_http::csrf::ConfigError> {
    let config = state.web.config.clone();
    let sessions = SessionManagerLayer::new(state.sessions.clone())
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(config.secure_cookies())
        .with_expiry(Expiry::OnInactivity(Duration::days(SESSION_IDLE_DAYS)));
    let mut csrf = CsrfLayer::new();
    if let Some(origin) = &config.public_url {
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
        .merge(crate::live::router())
        .merge(crate::ideas::campaigns::router())
        .merge(crate::ideas::routes::router())
        .merge(crate::ideas::export::router())
        .merge(crate::ideas::dashboard::router())
        .merge(crate::notifications::routes::router())
        .merge(crate::notifications::settings::router())
        .merge(crate::moderation::routes::router())
        .merge(crate::admin::router())
        .merge(crate::search::routes::router())
        .merge(crate::accounts::invitations::router())
        .merge(crate::accounts::password_links::router())
        .merge(crate::accounts::addresses::router())
        .merge(crate::privacy::data::router())
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(state.sessions.clone(), crate::accounts::current::with_header))
        .layer(axum::middleware::from_fn_with_state(
            (state.web.site.clone(), state.web.db.clone()),
            crate::site::middleware,
        ))
        .with_state(state.clone())
        .layer(sessions)
        .layer(csrf)
        // Pages are for the person who asked: no browser or proxy cache may keep them for another.
        .layer(header(header::CACHE_CONTROL, "no-store"));
    // Health and static files never wait for the database's settings or sessions: a load balancer
    // and a browser get their answer at once even while the database is away.
    let open =
        Router::new().route("/healthz", get(healthz)).route("/static/{file}", get(static_file)).with_state(state.web);

    Ok(open
        .merge(pages)
        .layer(axum::middleware::from_fn(|request, next| {
            crate::web::server::read_body_first(BODY_LIMIT_BYTES, request, next)
        }))
        .layer(header(header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .layer(header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(header(header::REFERRER_POLICY, "same-origin"))
        .layer(header(header::X_FRAME_OPTIONS, "DENY"))
        .layer(axum::middleware::from_fn(crate::web::request_id::middleware)))
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
