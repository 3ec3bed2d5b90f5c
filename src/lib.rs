//! Townhall: builds the application from its configuration (config -> database -> router) and serves it.

pub mod accounts;
pub mod admin;
pub mod app;
pub mod audit;
pub mod bus;
pub mod communities;
pub mod config;
pub mod db;
pub mod follows;
pub mod format;
pub mod ideas;
pub mod live;
pub mod mail;
pub mod moderation;
pub mod notifications;
pub mod notify;
pub mod polls;
pub mod posts;
pub mod privacy;
pub mod profiles;
pub mod search;
pub mod seed;
pub mod site;
pub mod timeline;
pub mod topics;
pub mod watch;
pub mod web;

use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tower_sessions_core::session_store::ExpiredDeletion;

use config::Config;
use db::Db;

/// Why the server could not start; each message says what to fix.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot create the data directory {path}: {source}")]
    DataDir { path: String, source: std::io::Error },
    #[error("cannot open the database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("cannot bring the database schema up to date: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot listen on {addr}: {source}")]
    Listen { addr: String, source: std::io::Error },
    #[error("TOWNHALL_PUBLIC_URL cannot be used as a trusted origin: {0:?}")]
    Origin(tower_http::csrf::ConfigError),
    #[error("MEILI_URL cannot be used: {0}")]
    Meili(String),
    #[error("the mail settings cannot be used: {0}")]
    Mail(String),
    #[error("the server stopped: {0}")]
    Serve(std::io::Error),
}

/// Opens the database named by the configuration, creating an SQLite file's folder if needed, and
/// migrates it.
pub async fn open_database(config: &Config) -> Result<Db, StartError> {
    if let Some(path) = sqlite_file(&config.database_url)
        && let Some(folder) = Path::new(path).parent().filter(|p| !p.as_os_str().is_empty())
    {
        std::fs::create_dir_all(folder)
            .map_err(|source| StartError::DataDir { path: folder.display().to_string(), source })?;
    }
    let db = Db::connect(&config.database_url).await?;
    db.migrate().await?;
    Ok(db)
}

/// The file path of an `sqlite:` URL, if it names a file.
fn sqlite_file(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && path != ":memory:").then_some(path)
}

/// The application: its router and the database it runs on.
pub struct App {
    pub router: axum::Router,
    pub connections: web::server::ConnectionLimits,
    pub db: Db,
    pub live: bus::Hub,
    pub meili: Option<search::meili::Meili>,
    /// The SMTP server the mail worker sends through, when configured.
    pub smtp: Option<mail::smtp::Smtp>,
    /// The site's settings as this process reads them (shared with the router).
    pub site: site::Cache,
    pub config: Arc<Config>,
}

pub async fn build(config: Config) -> Result<App, StartError> {
    web::server::return_large_blocks();
    let db = open_database(&config).await?;
    let live = bus::Hub::start(db.clone());
    let limits = Arc::new(web::limits::Limits::default());
    let site = site::Cache::new(site::Site::defaults(&config));
    let meili = match &config.meili {
        Some(settings) => Some(search::meili::Meili::new(settings).map_err(StartError::Meili)?),
        None => None,
    };
    let smtp = config.mail.as_ref().map(mail::smtp::Smtp::new).transpose().map_err(StartError::Mail)?;
    // The outbox fills only while an outside engine is there to empty it.
    search::outbox::set_enabled(&mut &db, meili.is_some()).await?;
    let config = Arc::new(config);
    let state = app::Shared {
        web: web::AppState { db: db.clone(), config: config.clone(), limits, site: site.clone() },
        sessions: accounts::sessions::DbSessionStore::new(db.clone(), notifications::store::unread_count_select),
        live: live.clone(),
        watch: Default::default(),
        meili: meili.clone(),
        rankings: Default::default(),
        posts: Default::default(),
    };
    let connections = web::server::ConnectionLimits::new(
        config.max_connections,
        config.max_connections_per_address,
        config.trusted_proxies.clone(),
    );
    let router = app::router(state).map_err(StartError::Origin)?;
    Ok(App { router, connections, db, live, meili, smtp, site, config })
}

/// Serves `app` on `listener` until `shutdown` completes, then lets requests in flight finish.
pub async fn serve_on(
    listener: TcpListener,
    app: App,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    let cleanup = tokio::spawn(
        accounts::sessions::DbSessionStore::new(app.db.clone(), notifications::store::unread_count_select)
            .continuously_delete_expired(Duration::from_secs(3600)),
    );
    let trending = tokio::spawn(refresh_trending(app.db.clone()));
    let changes = tokio::spawn(prune_post_changes(app.db.clone()));
    let deliveries = tokio::spawn(timeline::worker::run_worker(app.db.clone(), app.live.clone()));
    let outbox = app.meili.clone().map(|meili| tokio::spawn(search::meili::run_worker(app.db.clone(), meili)));
    let (stop_mail, mail_stopped) = tokio::sync::watch::channel(false);
    let mailer = match (app.smtp.clone(), app.config.mail.as_ref()) {
        (Some(smtp), Some(settings)) => Some(tokio::spawn(mail::worker::run(
            app.db.clone(),
            smtp,
            settings.first_retry,
            settings.timeout,
            mail_stopped,
        ))),
        _ => None,
    };
    let notifier = match (&app.config.mail, &app.config.public_url) {
        (Some(settings), Some(origin)) => Some(tokio::spawn(notifications::mail::run(
            app.db.clone(),
            notifications::mail::Mailer {
                origin: origin.clone(),
                after: settings.notify_after,
                site: app.site.clone(),
            },
        ))),
        _ => None,
    };
    let mail_timeout = app.config.mail.as_ref().map_or(Duration::ZERO, |m| m.timeout);
    let live = app.live.clone();
    let shutdown = async move {
        shutdown.await;
        live.close();
    };
    let served = web::server::serve(listener, app.router, app.connections, shutdown).await;
    cleanup.abort();
    trending.abort();
    changes.abort();
    deliveries.abort();
    if let Some(outbox) = outbox {
        outbox.abort();
    }
    if let Some(notifier) = notifier {
        notifier.abort();
    }
    // A mail being handed over finishes (or times out) rather than being left possibly sent.
    let _ = stop_mail.send(true);
    if let Some(mailer) = mailer {
        let _ = tokio::time::timeout(mail_timeout + Duration::from_secs(2), mailer).await;
    }
    app.db.close().await;
    served.map_err(StartError::Serve)
}

/// Lets votes age out of "trending" every ten minutes; forgets old suspended sessions (see
/// `accounts::store::take_suspended_session`) on the same beat.
async fn refresh_trending(db: Db) {
    every(Duration::from_secs(600), "trending scores not refreshed", || {
        let mut db = db.clone();
        async move {
            ideas::store::refresh_trending(&mut db).await?;
            accounts::store::prune_suspended_sessions(&mut db).await
        }
    })
    .await
}

/// Deletes old rows of `post_changes` every minute (see `posts::cache`).
async fn prune_post_changes(db: Db) {
    every(Duration::from_secs(60), "old post changes not pruned", || {
        let mut db = db.clone();
        async move { posts::cache::prune(&mut db).await.map(drop) }
    })
    .await
}

/// Runs `job` now and then every `period` for as long as the server runs; a failure is logged as
/// `failed` and the job tried again at its next turn.
async fn every<F, Fut>(period: Duration, failed: &'static str, mut job: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), sqlx::Error>>,
{
    let mut ticks = tokio::time::interval(period);
    loop {
        ticks.tick().await;
        if let Err(e) = job().await {
            tracing::warn!(error = %e, "{failed}");
        }
    }
}

/// `townhall serve`: listen on the configured address until SIGTERM or Ctrl-C.
pub async fn serve(config: Config) -> Result<(), StartError> {
    let addr = config.listen;
    let engine = if config.is_sqlite() { "SQLite" } else { "PostgreSQL" };
    let app = build(config).await?;
    let listener =
        TcpListener::bind(addr).await.map_err(|source| StartError::Listen { addr: addr.to_string(), source })?;
    tracing::info!(%addr, engine, "Townhall is listening on http://{addr}");
    serve_on(listener, app, shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
