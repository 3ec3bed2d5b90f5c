//! What the benchmarks share: the real server on a loopback port with a signed-in client, a
//! throwaway PostgreSQL database, and percentiles.

use std::time::Duration;

use sqlx::Connection;
use townhall::config::Config;
use townhall::db::Db;

pub type Failure = Box<dyn std::error::Error>;

/// The server running on a database, and an HTTP client signed in as its first account (an admin).
pub struct Server {
    pub db: Db,
    pub base: String,
    pub client: reqwest::Client,
    stop: tokio::sync::oneshot::Sender<()>,
    handle: tokio::task::JoinHandle<Result<(), townhall::StartError>>,
}

impl Server {
    pub async fn start(database_url: &str) -> Result<Server, Failure> {
        let mut config = Config::from_lookup(|_| None)?;
        config.database_url = database_url.to_owned();
        let app = townhall::build(config).await?;
        let db = app.db.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let handle = tokio::spawn(townhall::serve_on(listener, app, async move {
            let _ = stopped.await;
        }));
        let client =
            reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build()?;
        // Sign up the benchmark's account, or sign in when the database has it already (a reused file).
        let signed_up = client
            .post(format!("{base}/signup"))
            .header("origin", &base)
            .form(&[
                ("username", "bench"),
                ("display_name", "Bench"),
                ("email", "bench@example.com"),
                ("password", "bench password"),
            ])
            .send()
            .await?;
        if !signed_up.status().is_redirection() {
            client
                .post(format!("{base}/login"))
                .header("origin", &base)
                .form(&[("login", "bench"), ("password", "bench password"), ("next", "/")])
                .send()
                .await?;
        }
        Ok(Server { db, base, client, stop, handle })
    }

    pub async fn stop(self) -> Result<(), Failure> {
        let _ = self.stop.send(());
        self.handle.await??;
        Ok(())
    }
}

/// Runs `bench` on a new database of the PostgreSQL server `server`, dropped afterwards.
pub async fn on_postgres<F, Fut>(server: &str, bench: F) -> Result<(), Failure>
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = Result<(), Failure>>,
{
    let name = format!("townhall_bench_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(server).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut admin).await?;
    let base = server.rsplit_once('/').map_or(server, |(b, _)| b);
    let result = bench(format!("{base}/{name}")).await;
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE {name} WITH (FORCE)"))).execute(&mut admin).await?;
    result
}

pub fn percentile(samples: &mut [Duration], p: usize) -> Duration {
    samples.sort();
    samples[(samples.len() * p / 100).min(samples.len() - 1)]
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
