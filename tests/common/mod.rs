//! The test harness: the real server on a random loopback port with a fresh database (an SQLite file,
//! or a new database on the PostgreSQL named by TOWNHALL_TEST_POSTGRES_URL), and people who use it
//! through a real HTTP client with their own cookie jar.
#![allow(dead_code)]

pub mod mail;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use sqlx::{AssertSqlSafe, Connection};
use tokio::sync::oneshot;
use townhall::config::Config;
use townhall::db::{Db, Exec, sql};

/// Waits (up to 30 s) until nothing is queued for the delivery worker of the server on `db`.
pub async fn delivered(db: &Db) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (queued,): (i64,) =
            db.clone().fetch_one(sql("SELECT CAST(COUNT(*) AS BIGINT) FROM deliveries")).await.unwrap();
        if queued == 0 {
            return;
        }
        assert!(Instant::now() < deadline, "{queued} deliveries still queued after 30 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// Writes each test twice: once on SQLite, once on PostgreSQL. The PostgreSQL case needs
/// TOWNHALL_TEST_POSTGRES_URL; without it the case says it was skipped, and fails under CI=true.
#[macro_export]
macro_rules! on_both_engines {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name($crate::common::Engine::Sqlite).await }
            )*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                if $crate::common::postgres_url(stringify!($name)).is_some() {
                    super::$name($crate::common::Engine::Postgres).await
                }
            })*
        }
    };
}

/// The PostgreSQL server URL for tests, or `None` (with a note) when there is none. Under CI a
/// missing server is a failure, not a skip.
pub fn postgres_url(test: &str) -> Option<String> {
    match std::env::var("TOWNHALL_TEST_POSTGRES_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI=true but TOWNHALL_TEST_POSTGRES_URL is not set: the PostgreSQL case of {test} cannot run")
        }
        _ => {
            eprintln!("SKIPPED {test} on PostgreSQL: set TOWNHALL_TEST_POSTGRES_URL to run it");
            None
        }
    }
}

pub struct TestApp {
    pub engine: Engine,
    pub addr: SocketAddr,
    pub base: String,
    pub db: Db,
    pub config: Config,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    sqlite_dir: Option<PathBuf>,
    /// The PostgreSQL server's URL and the test database made on it, dropped with the app.
    postgres_database: Option<(String, String)>,
}

impl TestApp {
    pub async fn spawn(engine: Engine) -> TestApp {
        TestApp::spawn_with(engine, |_| {}).await
    }

    /// Starts the server on PostgreSQL for a test of PostgreSQL alone, named `test`; `None` (the
    /// test skips, or fails under CI=true) when no test server is configured ([`postgres_url`]).
    pub async fn spawn_postgres_only(test: &str) -> Option<TestApp> {
        postgres_url(test)?;
        Some(TestApp::spawn(Engine::Postgres).await)
    }

    /// Starts the server with the default configuration changed by `adjust`.
    pub async fn spawn_with(engine: Engine, adjust: impl FnOnce(&mut Config)) -> TestApp {
        let mut config = Config::from_lookup(|_| None).expect("the default configuration is valid");
        let id = uuid::Uuid::new_v4().simple().to_string();
        let mut sqlite_dir = None;
        let mut postgres_database = None;
        match engine {
            Engine::Sqlite => {
                let dir = std::env::temp_dir().join(format!("townhall-test-{id}"));
                config.database_url = format!("sqlite://{}", dir.join("townhall.db").display());
                config.data_dir = dir.clone();
                sqlite_dir = Some(dir);
            }
            Engine::Postgres => {
                let server = postgres_url("spawn").expect("checked by the caller");
                let name = format!("townhall_test_{id}");
                let mut admin = sqlx::PgConnection::connect(&server).await.expect("connect to the test PostgreSQL");
                sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut admin)
                    .await
                    .expect("create a test database");
                config.database_url = database_url_with_name(&server, &name);
                postgres_database = Some((server, name));
            }
        }
        adjust(&mut config);
        let mut app = TestApp {
            engine,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            base: String::new(),
            db: townhall::open_database(&config).await.expect("open the test database"),
            config,
            stop: None,
            server: None,
            sqlite_dir,
            postgres_database,
        };
        app.start().await;
        app
    }

    async fn start(&mut self) {
        let app = townhall::build(self.config.clone()).await.expect("build the app");
        self.db = app.db.clone();
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.expect("bind a port");
        self.addr = listener.local_addr().expect("a bound port");
        self.base = format!("http://{}", self.addr);
        let (stop, stopped) = oneshot::channel::<()>();
        self.stop = Some(stop);
        self.server = Some(tokio::spawn(async move {
            let shutdown = async move {
                let _ = stopped.await;
            };
            townhall::serve_on(listener, app, shutdown).await.expect("serve");
        }));
    }

    /// Stops the server as SIGTERM would (requests in flight finish) and waits for it.
    pub async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            tokio::time::timeout(Duration::from_secs(10), server)
                .await
                .expect("the server stops within 10 s")
                .expect("the server task ends cleanly");
        }
    }

    /// Stops the server and starts a new one on the same database (a new port).
    pub async fn restart(&mut self) {
        self.stop().await;
        self.start().await;
    }

    pub fn person(&self) -> Person {
        Person::new(&self.base)
    }

    /// Waits until the server's worker has written every queued home: a post reaches its readers'
    /// homes in the background, soon after it is acknowledged.
    pub async fn delivered(&self) {
        delivered(&self.db).await
    }

    /// The id of the account with this username.
    pub async fn user_id(&self, username: &str) -> i64 {
        let query = townhall::db::sql("SELECT id FROM users WHERE username = $1").bind(username);
        let (id,): (i64,) = townhall::db::Exec::fetch_one(&mut self.db.clone(), query).await.expect("the account");
        id
    }

    /// A new person who signs up (display name from the username) and stays signed in.
    pub async fn signed_up(&self, username: &str) -> Person {
        let person = self.person();
        let page =
            person.sign_up(username, &display_name(username), &format!("{username}@example.com"), PASSWORD).await;
        assert_eq!(page.status, 303, "sign-up of {username} failed: {}", page.body);
        person
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(dir) = &self.sqlite_dir {
            let _ = std::fs::remove_dir_all(dir);
        }
        // Each test's database goes with it (the suite makes hundreds, about 9 MB each). `FORCE`
        // ends the connections still open to it; a runtime of its own, since `drop` cannot await.
        if let Some((server, name)) = self.postgres_database.take() {
            let dropped = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
                runtime.block_on(async {
                    let mut admin = sqlx::PgConnection::connect(&server).await.ok()?;
                    sqlx::query(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
                        .execute(&mut admin)
                        .await
                        .ok()
                })
            });
            let _ = dropped.join();
        }
    }
}

/// The password every test person uses.
pub const PASSWORD: &str = "correct horse battery";

/// "ana_b" becomes "Ana_b Example".
pub fn display_name(username: &str) -> String {
    let mut chars = username.chars();
    let first = chars.next().map(|c| c.to_uppercase().collect::<String>()).unwrap_or_default();
    format!("{first}{} Example", chars.as_str())
}

fn database_url_with_name(server: &str, name: &str) -> String {
    let (without_query, query) = server.split_once('?').map_or((server, None), |(a, q)| (a, Some(q)));
    let scheme_end = without_query.find("://").map_or(0, |i| i + 3);
    let base = match without_query[scheme_end..].find('/') {
        Some(slash) => &without_query[..scheme_end + slash],
        None => without_query,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

/// A response as a person's browser would get it, redirects not followed.
#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    pub fn contains(&self, text: &str) -> bool {
        self.body.contains(text)
    }

    /// On a notifications page, the newest notification shown, as its "Mark all as read" form
    /// sends it.
    pub fn notifications_up_to(&self) -> String {
        let at = self.body.find(r#"name="up_to" value=""#).expect("a Mark all as read button") + 20;
        self.body[at..].split('"').next().unwrap_or_default().to_owned()
    }
}

/// Someone with a browser-like HTTP client: a cookie jar, and an Origin header on every form post
/// (as browsers send), so requests pass the CSRF check as a browser's would.
pub struct Person {
    pub client: reqwest::Client,
    pub base: String,
}

impl Person {
    pub fn new(base: &str) -> Person {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("an HTTP client");
        Person { client, base: base.to_owned() }
    }

    pub async fn get(&self, path: &str) -> Page {
        let response = self.client.get(format!("{}{path}", self.base)).send().await.expect("GET reaches the server");
        Page::read(response).await
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header("origin", &self.base)
            .form(form)
            .send()
            .await
            .expect("POST reaches the server");
        Page::read(response).await
    }

    /// Follows a redirect the way a browser does after a form post.
    pub async fn follow(&self, page: &Page) -> Page {
        let location = page.location.as_deref().expect("a redirect");
        self.get(location).await
    }

    /// Sends the sign-up form as typed; returns the response.
    pub async fn sign_up(&self, username: &str, display_name: &str, email: &str, password: &str) -> Page {
        let form = [("username", username), ("display_name", display_name), ("email", email), ("password", password)];
        self.post("/signup", &form).await
    }

    /// Signs in with a username or e-mail and the test password; returns the response.
    pub async fn sign_in(&self, login: &str, password: &str) -> Page {
        self.post("/login", &[("login", login), ("password", password), ("next", "/")]).await
    }

    /// Writes a post and checks that it was accepted.
    pub async fn write_post(&self, body: &str) {
        let page = self.post("/posts", &[("body", body)]).await;
        assert_eq!(page.status, 303, "post refused: {}", page.body);
    }
}

impl Page {
    async fn read(response: reqwest::Response) -> Page {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let location = headers.get("location").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let body = response.text().await.expect("a readable body");
        Page { status, location, headers, body }
    }
}

/// The ids of the posts on a page, in the order shown.
pub fn post_ids(body: &str) -> Vec<i64> {
    body.match_indices("id=\"post-")
        .filter_map(|(at, m)| {
            let rest = &body[at + m.len()..];
            rest[..rest.find('"')?].parse().ok()
        })
        .collect()
}

/// A server process of its own, so it can be killed outright.
pub struct Process {
    pub child: std::process::Child,
    pub base: String,
}

pub fn start_process(database_url: &str) -> Process {
    start_process_with(database_url, &[])
}

/// [`start_process`] with more environment variables.
pub fn start_process_with(database_url: &str, vars: &[(&str, &str)]) -> Process {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_townhall"))
        .arg("serve")
        .envs(vars.iter().copied())
        .env("DATABASE_URL", database_url)
        .env("TOWNHALL_LISTEN", format!("127.0.0.1:{port}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start townhall");
    Process { child, base: format!("http://127.0.0.1:{port}") }
}

pub async fn wait_until_healthy(base: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let client = reqwest::Client::new();
    while std::time::Instant::now() < deadline {
        if let Ok(r) = client.get(format!("{base}/healthz")).send().await
            && r.status().as_u16() == 200
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{base} did not become healthy within 30 s");
}

/// An open event stream, read as a browser's EventSource would.
pub struct Stream {
    pub response: reqwest::Response,
    pub text: String,
}

impl Stream {
    pub async fn open(person: &Person, feed: &str) -> Stream {
        let response = person.client.get(format!("{}/events?feed={feed}", person.base)).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200);
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
        Stream { response, text: String::new() }
    }

    /// Reads until the stream has said `expected` (an `event:` line and its `data:` line), or fails
    /// after 15 seconds.
    pub async fn expect(&mut self, expected: &str) {
        let deadline = Instant::now() + Duration::from_secs(15);
        while !self.text.contains(expected) {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, self.response.chunk()).await {
                Ok(Ok(Some(chunk))) => self.text.push_str(&String::from_utf8_lossy(&chunk)),
                _ => panic!("the stream never said {expected:?}; it said {:?}", self.text),
            }
        }
    }
}
