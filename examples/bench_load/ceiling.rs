//! The machine's ceiling: the least a web handler can do, with the same runtime, HTTP stack and
//! SQLite driver as Townhall (a fixed page, and 30 rows read by an indexed key from the same file).

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Html;
use axum::routing::get;
use townhall::db::{Db, Exec, sql};

use crate::common::Failure;
use crate::driver::{MakeRequest, Outcome, Process, drive, plain_clients};

/// The bare axum + SQLite ceiling's server, up for the whole run: measured once at the start, and its
/// 30-row handler again for half a scenario's time just before each Townhall scenario, whose share of
/// the ceiling is taken against that. The machines drift within minutes (docs/benchmarks.md), and a
/// single measurement at the start let that drift into every ratio.
pub struct Ceiling {
    server: Process,
    clients: Vec<reqwest::Client>,
    authors: Arc<Vec<i64>>,
}

impl Ceiling {
    pub async fn start(sqlite: &std::path::Path, clients: usize) -> Result<Ceiling, Failure> {
        let server = Process::start(&["ceiling", &sqlite.display().to_string()], &[]).await?;
        let db = Db::connect(&format!("sqlite://{}", sqlite.display())).await?;
        let authors: Vec<(i64,)> = db
            .clone()
            .fetch_all(sql("SELECT author_id FROM posts GROUP BY author_id HAVING COUNT(*) >= 30 LIMIT 1000"))
            .await?;
        db.close().await;
        let authors = Arc::new(authors.into_iter().map(|(a,)| a).collect());
        Ok(Ceiling { server, clients: plain_clients(clients)?, authors })
    }

    pub async fn fixed(&self, seconds: f64) -> Outcome {
        let base = self.server.base.clone();
        drive(
            "bare axum: fixed page",
            &self.clients,
            seconds,
            Arc::new(move |c, _, _| c.get(format!("{base}/fixed"))),
            None,
            0,
        )
        .await
    }

    pub async fn rows(&self, seconds: f64) -> Outcome {
        let (base, authors) = (self.server.base.clone(), self.authors.clone());
        let make: MakeRequest = Arc::new(move |c, i, n| {
            c.get(format!("{base}/rows/{}", authors[(i * 7919 + n as usize) % authors.len().max(1)]))
        });
        drive("bare axum + SQLite: 30 rows", &self.clients, seconds, make, None, 0).await
    }
}

/// Serves the ceiling's handlers at TOWNHALL_BENCH_LISTEN (the benchmark runs this in a process of its own).
pub async fn serve(file: PathBuf) -> Result<(), Failure> {
    let listen = std::env::var("TOWNHALL_BENCH_LISTEN")?;
    let db = Db::connect(&format!("sqlite://{}", file.display())).await?;
    let page: &'static str = Box::leak(fixed_page().into_boxed_str());
    let app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/fixed", get(move || async move { Html(page) }))
        .route("/rows/{author}", get(rows))
        .with_state(db);
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    axum::serve(listener, app).await?;
    Ok(())
}

async fn rows(State(mut db): State<Db>, Path(author): Path<i64>) -> Result<Html<String>, StatusCode> {
    let rows: Vec<(i64, i64, String, i64)> = db
        .fetch_all(
            sql("SELECT id, author_id, body, created_at FROM posts WHERE author_id = $1 ORDER BY id DESC LIMIT 30")
                .bind(author),
        )
        .await
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    let mut html = String::from("<!doctype html><title>rows</title><ul>");
    for (id, author, body, at) in rows {
        html.push_str(&format!(
            "<li id=\"p{id}\">{author} at {at}: {}</li>",
            body.replace('&', "&amp;").replace('<', "&lt;")
        ));
    }
    html.push_str("</ul>");
    Ok(Html(html))
}

fn fixed_page() -> String {
    let mut page = String::from("<!doctype html><html><head><title>Fixed</title></head><body><main>");
    for i in 0..30 {
        page.push_str(&format!(
            "<article id=\"p{i}\"><p>A fixed post of about the length of a real one, number {i}.</p></article>"
        ));
    }
    page.push_str("</main></body></html>");
    page
}
