//! What an operator relies on: health, failures that explain themselves, durable writes, the CLI.

mod common;

use std::process::{Command, Stdio};

use sqlx::Connection;

use common::{Engine, PASSWORD, Person, TestApp, post_ids, start_process, wait_until_healthy};
use townhall::db::{Exec, sql};

on_both_engines!(
    health_is_200_while_the_database_answers_and_503_when_it_is_gone,
    an_internal_failure_shows_a_plain_page_with_the_request_id,
    the_cli_creates_accounts_and_sets_roles,
    acknowledged_posts_survive_a_killed_process,
    whatever_refers_to_a_post_an_idea_or_a_comment_is_found_by_an_index,
);

/// Deleting a post, an idea or a comment makes the database find every row that refers to it (to
/// delete it or clear the reference). Without an index on the referring column that is a read of the
/// whole table per row deleted: one post's deletion read all 100,000 ideas of the benchmark's
/// company. (References to people and communities are left out: deleting those is an admin's rare
/// act.)
async fn whatever_refers_to_a_post_an_idea_or_a_comment_is_found_by_an_index(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let unindexed: Vec<(String, String, String)> = app
        .db
        .clone()
        .fetch_all(sql(match engine {
            Engine::Sqlite => {
                "SELECT m.name, f.\"from\", f.\"table\" FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f
                 WHERE m.type = 'table' AND f.\"table\" IN ('posts', 'ideas', 'idea_comments')
                   AND NOT EXISTS (SELECT 1 FROM pragma_index_list(m.name) il JOIN pragma_index_info(il.name) ii
                                   WHERE ii.seqno = 0 AND ii.name = f.\"from\")
                 ORDER BY 1, 2"
            }
            Engine::Postgres => {
                "SELECT child.relname::text, a.attname::text, parent.relname::text
                 FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
                 JOIN pg_class child ON child.oid = c.conrelid JOIN pg_class parent ON parent.oid = c.confrelid
                 WHERE c.contype = 'f' AND parent.relname IN ('posts', 'ideas', 'idea_comments')
                   AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.conrelid AND i.indkey[0] = c.conkey[1])
                 ORDER BY 1, 2"
            }
        }))
        .await
        .unwrap();
    let (references,): (i64,) = app
        .db
        .clone()
        .fetch_one(sql(match engine {
            Engine::Sqlite => {
                "SELECT COUNT(*) FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f
                 WHERE m.type = 'table' AND f.\"table\" IN ('posts', 'ideas', 'idea_comments')"
            }
            Engine::Postgres => {
                "SELECT COUNT(*) FROM pg_constraint c JOIN pg_class parent ON parent.oid = c.confrelid
                 WHERE c.contype = 'f' AND parent.relname IN ('posts', 'ideas', 'idea_comments')"
            }
        }))
        .await
        .unwrap();
    assert!(references >= 20, "the check sees the references ({references})");
    assert_eq!(unindexed, Vec::<(String, String, String)>::new(), "referring columns without an index");
}

/// The bundled SQLite is built with the settings of `.cargo/config.toml`. Without the query planner
/// stability guarantee SQLite 3.51 compiles a kept statement again each time a `LIMIT $n` (or, with
/// statistics, another parameter) gets a new value, which under load cost a quarter of the server's
/// time; without the other two, every page fetch and every allocation of SQLite takes a
/// process-wide lock (docs/benchmarks.md). A build that loses the settings fails here.
#[tokio::test]
async fn sqlite_is_built_with_the_settings_of_cargo_config() {
    let app = TestApp::spawn(Engine::Sqlite).await;
    let (qpsg,): (i64,) =
        app.db.clone().fetch_one(sql("SELECT sqlite_compileoption_used('ENABLE_QPSG')")).await.unwrap();
    assert_eq!(qpsg, 1, "SQLite was built without SQLITE_ENABLE_QPSG (see .cargo/config.toml)");
    let (shared_cache_lock,): (i64,) =
        app.db.clone().fetch_one(sql("SELECT sqlite_compileoption_used('ENABLE_MEMORY_MANAGEMENT')")).await.unwrap();
    assert_eq!(shared_cache_lock, 0, "connections share one page cache under a lock (see .cargo/config.toml)");
    let (memstatus,): (i64,) =
        app.db.clone().fetch_one(sql("SELECT sqlite_compileoption_used('DEFAULT_MEMSTATUS=0')")).await.unwrap();
    assert_eq!(memstatus, 1, "SQLite counts its memory under a lock on every allocation (see .cargo/config.toml)");
}

/// Townhall's PostgreSQL connections plan without Memoize. PostgreSQL 15 builds a Memoize node's
/// hash table for the rows a join would give without its `LIMIT`, on every execution: it made the
/// `/all` page's query take 0.75 ms instead of 0.13 (docs/benchmarks.md).
#[tokio::test]
async fn postgres_connections_plan_without_memoize() {
    let Some(app) = TestApp::spawn_postgres_only("postgres_connections_plan_without_memoize").await else {
        return;
    };
    for _ in 0..3 {
        // Each read may be served by another connection of the pool.
        let (memoize,): (String,) = app.db.clone().fetch_one(sql("SHOW enable_memoize")).await.unwrap();
        assert_eq!(memoize, "off");
    }
}

/// When PostgreSQL drops Townhall's connections (a restart, a failover, an administrator's
/// `pg_terminate_backend`), the pages asked for next are served, not answered with an error for a
/// connection that died while it sat in the pool.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_connections_dropped_by_the_server_do_not_fail_the_next_requests() {
    let Some(app) =
        TestApp::spawn_postgres_only("postgres_connections_dropped_by_the_server_do_not_fail_the_next_requests").await
    else {
        return;
    };
    let ana = app.signed_up("ana").await;
    ana.write_post("Before the restart").await;
    let pages = ["/", "/all", "/@ana", "/notifications", "/communities", "/campaigns", "/search?q=restart"];
    // Several at once, so that the pool holds several connections.
    let served = futures_util::future::join_all(pages.iter().map(|path| ana.get(path))).await;
    assert!(served.iter().all(|page| page.status == 200));

    let mut admin = sqlx::PgConnection::connect(&app.config.database_url).await.unwrap();
    let kill = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                WHERE datname = current_database() AND pid <> pg_backend_pid()";
    let killed: Vec<(bool,)> = sqlx::query_as(kill).fetch_all(&mut admin).await.unwrap();
    assert!(killed.len() >= 2, "the server held {} connections", killed.len());
    for path in pages {
        let page = ana.get(path).await;
        assert_eq!(page.status, 200, "{path}: {}", page.body);
    }

    // And with writes first: posting, liking and following, all at once.
    let bo = app.signed_up("bo").await;
    let served = futures_util::future::join_all(pages.iter().map(|path| bo.get(path))).await;
    assert!(served.iter().all(|page| page.status == 200));
    let killed: Vec<(bool,)> = sqlx::query_as(kill).fetch_all(&mut admin).await.unwrap();
    assert!(killed.len() >= 2, "the server held {} connections", killed.len());
    let post = post_ids(&ana.get("/@ana").await.body)[0];
    let like = format!("/posts/{post}/like");
    let written = futures_util::future::join3(
        bo.post("/posts", &[("body", "After the restart")]),
        bo.post(&like, &[]),
        bo.post("/people/ana/follow", &[]),
    )
    .await;
    for page in [written.0, written.1, written.2] {
        assert_eq!(page.status, 303, "{}", page.body);
    }
    assert!(bo.get("/").await.contains("After the restart"));
    assert!(ana.get("/notifications").await.contains("liked"));
}

async fn health_is_200_while_the_database_answers_and_503_when_it_is_gone(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ana = app.signed_up("ana").await;
    let health = app.person().get("/healthz").await;
    assert_eq!(health.status, 200);
    app.db.close().await;
    assert_eq!(app.person().get("/healthz").await.status, 503);
    let page = ana.get("/").await;
    assert_eq!(page.status, 503);
    assert!(page.contains("cannot reach its database"), "{}", page.body);
}

async fn an_internal_failure_shows_a_plain_page_with_the_request_id(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ana = app.signed_up("ana").await;
    // Break the schema under the running server.
    app.db.clone().execute(sql("DROP TABLE post_topics")).await.unwrap();
    let page = ana.get("/topics/anything").await;
    assert_eq!(page.status, 500);
    let request_id = page.headers.get("x-request-id").and_then(|v| v.to_str().ok()).unwrap().to_owned();
    assert!(page.contains("Something went wrong"));
    assert!(page.contains(&request_id), "the page quotes the request id");
    assert!(!page.contains("post_topics"), "no internals on the page");
}

fn townhall(database_url: &str, args: &[&str], stdin: &str) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_townhall"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env_remove("TOWNHALL_MAX_POST_CHARS")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run townhall");
    use std::io::Write;
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

async fn the_cli_creates_accounts_and_sets_roles(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let url = app.config.database_url.clone();
    let (ok, out, err) = tokio::task::spawn_blocking(move || {
        townhall(
            &url,
            &["user", "create", "--username", "Boss", "--email", "boss@example.com", "--role", "admin"],
            "a long enough secret\n",
        )
    })
    .await
    .unwrap();
    assert!(ok, "{err}");
    assert!(out.contains("Created @boss"), "{out}");

    let boss = Person::new(&app.base);
    assert_eq!(boss.sign_in("boss", "a long enough secret").await.status, 303);
    assert!(boss.get("/@boss").await.contains("· admin"));

    let url = app.config.database_url.clone();
    let results = tokio::task::spawn_blocking(move || {
        [
            townhall(&url, &["user", "set-role", "boss", "manager"], ""),
            townhall(&url, &["user", "set-role", "nobody", "manager"], ""),
            townhall(&url, &["user", "set-role", "boss", "emperor"], ""),
            townhall(
                &url,
                &["user", "create", "--username", "boss", "--email", "b2@example.com"],
                "another long secret\n",
            ),
            townhall(&url, &["user", "create", "--username", "shorty", "--email", "s@example.com"], "short\n"),
        ]
    })
    .await
    .unwrap();
    assert!(results[0].0, "{}", results[0].2);
    assert!(boss.get("/@boss").await.contains("· manager"));
    assert!(!results[1].0 && results[1].2.contains("no account is called @nobody"));
    assert!(!results[2].0 && results[2].2.contains("`emperor` is not member, manager, moderator or admin"));
    assert!(!results[3].0 && results[3].2.contains("that username is taken"), "{}", results[3].2);
    assert!(!results[4].0 && results[4].2.contains("at least 10 characters"));
    // The first account made by the CLI does not make the next sign-up an admin either.
    let member = app.signed_up("ana").await;
    assert!(!member.get("/").await.contains("administrator"));
}

async fn acknowledged_posts_survive_a_killed_process(engine: Engine) {
    let mut app = TestApp::spawn(engine).await;
    app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    assert_eq!(bo.post("/people/ana/follow", &[]).await.status, 303);
    app.stop().await;
    let url = app.config.database_url.clone();

    let mut process = start_process(&url);
    wait_until_healthy(&process.base).await;
    let ana = Person::new(&process.base);
    assert_eq!(ana.sign_in("ana", PASSWORD).await.status, 303);
    // Eight writers post at once; the process is killed the moment the last answer arrives.
    let mut writers = Vec::new();
    for w in 0..8 {
        let client = ana.client.clone();
        let base = process.base.clone();
        writers.push(tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            for n in 0..10 {
                let body = format!("durable {w}-{n}");
                let r =
                    client.post(format!("{base}/posts")).header("origin", &base).form(&[("body", &body)]).send().await;
                if r.is_ok_and(|r| r.status().as_u16() == 303) {
                    acknowledged.push(body);
                }
            }
            acknowledged
        }));
    }
    let mut acknowledged = Vec::new();
    for writer in writers {
        acknowledged.extend(writer.await.unwrap());
    }
    process.child.kill().unwrap();
    process.child.wait().unwrap();
    assert_eq!(acknowledged.len(), 80);

    let mut process = start_process(&url);
    wait_until_healthy(&process.base).await;
    let ana = Person::new(&process.base);
    ana.sign_in("ana", PASSWORD).await;
    let shown = every_page(&ana, "/all").await;
    // Homes still queued when the process was killed are written by the next one (51 to 70 of the
    // 80 posts' deliveries were queued at the kill in six runs).
    common::delivered(&townhall::db::Db::connect(&url).await.unwrap()).await;
    let bo = Person::new(&process.base);
    bo.sign_in("bo", PASSWORD).await;
    let home = every_page(&bo, "/").await;
    process.child.kill().unwrap();
    process.child.wait().unwrap();
    for body in &acknowledged {
        assert!(shown.contains(&format!(">{body}<")), "{body} was acknowledged but is gone");
        assert!(home.contains(&format!(">{body}<")), "{body} is missing from a follower's home");
    }
}

/// A feed's pages, all of them, one after another.
async fn every_page(person: &Person, feed: &str) -> String {
    let mut shown = String::new();
    let mut path = feed.to_owned();
    loop {
        let page = person.get(&path).await;
        shown.push_str(&page.body);
        match post_ids(&page.body).last() {
            Some(last) if page.contains("?before=") => path = format!("{feed}?before={last}"),
            _ => return shown,
        }
    }
}

/// Logs written to a file or a pipe carry no terminal colour codes.
#[tokio::test]
async fn logs_to_a_pipe_have_no_colour_codes() {
    let dir = std::env::temp_dir().join(format!("townhall-logs-{}", uuid::Uuid::new_v4().simple()));
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_townhall"))
        .arg("serve")
        .env("DATABASE_URL", format!("sqlite://{}", dir.join("townhall.db").display()))
        .env("TOWNHALL_LISTEN", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_until_healthy(&format!("http://127.0.0.1:{port}")).await;
    child.kill().unwrap();
    let output = child.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(log.contains("Townhall is listening"), "{log}");
    assert!(!log.contains('\u{1b}'), "colour codes in a piped log: {log:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
