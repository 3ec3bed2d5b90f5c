//! The Meilisearch adapter against a real Meilisearch (`MEILI_URL`, and `MEILI_MASTER_KEY` if the
//! server needs one). `.ci/run` starts the server from `../shared/tools`; under `CI=true` a missing
//! `MEILI_URL` fails these tests, in a developer's plain `cargo test` they say they were skipped.
//! Each test works on indexes of its own prefix and deletes them at the end, also when it fails.

mod common;

use std::io::Write;
use std::time::{Duration, Instant};

use common::{Engine, Person, TestApp};
use townhall::config::MeiliConfig;

fn meili() -> Option<MeiliConfig> {
    match std::env::var("MEILI_URL") {
        Ok(url) if !url.trim().is_empty() => Some(MeiliConfig {
            url: url.trim().trim_end_matches('/').to_owned(),
            key: std::env::var("MEILI_MASTER_KEY").ok().filter(|k| !k.is_empty()),
            prefix: format!("test_{}", uuid::Uuid::new_v4().simple()),
        }),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI=true but MEILI_URL is not set: the Meilisearch tests cannot run (see .ci/run)")
        }
        _ => {
            // Written past the test harness's capture, so that the skip shows in every run's output.
            let _ = writeln!(std::io::stderr(), "SKIPPED the Meilisearch tests: MEILI_URL is not set");
            None
        }
    }
}

/// Meilisearch's own HTTP API, for what the tests check behind Townhall's back.
struct Raw {
    config: MeiliConfig,
    http: reqwest::Client,
}

impl Raw {
    fn new(config: &MeiliConfig) -> Raw {
        Raw { config: config.clone(), http: reqwest::Client::new() }
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let request = self.http.request(method, format!("{}{path}", self.config.url));
        match &self.config.key {
            Some(key) => request.bearer_auth(key),
            None => request,
        }
    }

    /// The document `id` of one of this test's indexes, if Meilisearch holds it.
    async fn document(&self, index: &str, id: i64) -> Option<serde_json::Value> {
        let path = format!("/indexes/{}_{index}/documents/{id}", self.config.prefix);
        let response = self.request(reqwest::Method::GET, &path).send().await.expect("Meilisearch answers");
        if response.status() == 404 {
            return None;
        }
        assert!(response.status().is_success(), "GET {path}: {}", response.status());
        Some(serde_json::from_str(&response.text().await.expect("a body")).expect("JSON"))
    }

    async fn wait_for_tasks(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let body = self
                .request(reqwest::Method::GET, "/tasks?statuses=enqueued,processing&limit=1")
                .send()
                .await
                .expect("Meilisearch answers")
                .text()
                .await
                .expect("a body");
            let tasks: serde_json::Value = serde_json::from_str(&body).expect("JSON");
            if tasks["total"].as_u64() == Some(0) {
                return;
            }
            assert!(Instant::now() < deadline, "Meilisearch still busy: {body}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn run(&self, method: reqwest::Method, path: &str, body: Option<&str>) {
        let mut request = self.request(method, path);
        if let Some(body) = body {
            request = request.header("content-type", "application/json").body(body.to_owned());
        }
        let response = request.send().await.expect("Meilisearch answers");
        assert!(response.status().is_success(), "{path}: {}", response.status());
        self.wait_for_tasks().await;
    }
}

/// Deletes every index of the test's prefix when dropped (the end of the test, or its panic).
struct Cleanup(MeiliConfig);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let config = self.0.clone();
        let cleaned = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            runtime.block_on(async {
                let raw = Raw::new(&config);
                let body =
                    raw.request(reqwest::Method::GET, "/indexes?limit=1000").send().await.ok()?.text().await.ok()?;
                let indexes: serde_json::Value = serde_json::from_str(&body).ok()?;
                for index in indexes["results"].as_array()? {
                    let uid = index["uid"].as_str()?;
                    if uid.starts_with(&format!("{}_", config.prefix)) {
                        raw.request(reqwest::Method::DELETE, &format!("/indexes/{uid}")).send().await.ok()?;
                    }
                }
                Some(())
            })
        })
        .join();
        if !matches!(cleaned, Ok(Some(()))) {
            eprintln!("could not delete the Meilisearch indexes of {}", self.0.prefix);
        }
    }
}

/// Waits until `path` shows `text` (indexing is asynchronous in Meilisearch).
async fn eventually(person: &Person, path: &str, text: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let page = person.get(path).await;
        if page.contains(text) {
            return;
        }
        assert!(Instant::now() < deadline, "{path} never showed {text:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn status(app: &TestApp) -> Result<String, String> {
    townhall::search::maintenance::status(&app.config, &app.db).await
}

/// Waits until the server has built Meilisearch's indexes and delivered every change.
async fn settled(app: &TestApp) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let now = status(app).await.unwrap_or_else(|e| e);
        if now.contains("indexes built") && now.contains("backlog: 0 ") && now.contains(" 0 task(s) pending") {
            return;
        }
        assert!(Instant::now() < deadline, "Meilisearch never settled: {now}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A misspelt word finds nothing in the built-in engines and the word in Meilisearch (typo
/// tolerance): what a page shows for it proves which engine answered.
const MISSPELT: &str = "/search?q=kingfsher";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn meilisearch_itself_answers_what_each_person_may_see_with_the_built_in_promise() {
    let Some(config) = meili() else { return };
    let _cleanup = Cleanup(config.clone());
    let app = TestApp::spawn_with(Engine::Sqlite, |c| c.meili = Some(config)).await;
    let ana = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    ana.write_post("Meili kingfisher sighting by the packaging line").await;
    ana.write_post("Kingfisher nests are protected").await;
    ana.write_post("The packaging line stops on Friday").await;
    ana.post("/communities/new", &[("name", "Board"), ("slug", "board"), ("visibility", "private")]).await;
    ana.post("/c/board/posts", &[("body", "Meili kingfisher board secret")]).await;
    settled(&app).await;

    // Only Meilisearch forgives the typo: the answer is its own.
    assert!(!bo.get(MISSPELT).await.contains("Nothing found"), "Meilisearch did not answer");
    assert!(ana.get(MISSPELT).await.contains("board secret"));
    assert!(!bo.get(MISSPELT).await.contains("board secret"), "a private community's post leaked");
    assert!(bo.get("/search?q=ana&type=people").await.contains("@ana"));
    // As in the built-in engines: every word must match, words match by their stems, the last
    // word also as a prefix.
    let both = bo.get("/search?q=kingfisher+packages&type=posts").await;
    assert!(both.contains("sighting"), "stems: packages finds packaging");
    assert!(!both.contains("nests") && !both.contains("Friday"), "a post with only one of two words was found");
    assert!(bo.get("/search?q=kingfisher+pack&type=posts").await.contains("sighting"), "the last word is a prefix");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn turning_meilisearch_on_keeps_search_answering_until_its_indexes_are_built() {
    let Some(config) = meili() else { return };
    let _cleanup = Cleanup(config.clone());
    let mut app = TestApp::spawn(Engine::Sqlite).await;
    let ana = app.signed_up("ana").await;
    for n in 0..30 {
        ana.write_post(&format!("Kingfisher report number {n}")).await;
    }
    app.config.meili = Some(config);
    app.restart().await;
    let ana = Person::new(&app.base);
    ana.sign_in("ana", common::PASSWORD).await;
    // From the first request on, every search finds the posts (the built-in engine while the
    // indexes are built, then Meilisearch), and the status says which.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut said_not_built = false;
    loop {
        let now = status(&app).await.expect("Meilisearch is usable");
        said_not_built |= now.contains("NOT built") || now.contains("being built");
        let page = ana.get("/search?q=kingfisher").await;
        assert!(page.contains("report number"), "search went empty: {}", page.body);
        if now.contains("indexes built") && now.contains(" 0 task(s) pending") {
            break;
        }
        assert!(Instant::now() < deadline, "the indexes were never built: {now}");
    }
    let _ = said_not_built; // the build may finish before the first status on a fast machine
    eventually(&ana, MISSPELT, "report number").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reindex_after_running_without_meilisearch_forgets_what_was_erased_and_renamed() {
    let Some(config) = meili() else { return };
    let _cleanup = Cleanup(config.clone());
    let raw = Raw::new(&config);
    let mut app = TestApp::spawn_with(Engine::Sqlite, |c| c.meili = Some(config.clone())).await;
    let ana = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    let cy = app.signed_up("cy").await;
    bo.write_post("Kingfisher photos from bo").await;
    cy.write_post("Kingfisher photos from cy").await;
    settled(&app).await;
    let bo_post = common::post_ids(&bo.get("/@bo").await.body)[0];
    let cy_post = common::post_ids(&cy.get("/@cy").await.body)[0];
    assert_eq!(raw.document("posts", bo_post).await.expect("indexed")["author"], "bo");

    // Anonymised while Meilisearch runs: the old name leaves its posts there too.
    ana.post("/admin/users/cy/delete", &[("mode", "anonymise"), ("reason", "Left"), ("confirm", "cy")]).await;
    settled(&app).await;
    let author = raw.document("posts", cy_post).await.expect("still indexed")["author"].clone();
    assert_ne!(author, "cy", "the anonymised username stayed in Meilisearch");

    // A while without Meilisearch: bo is erased, and nothing tells Meilisearch.
    app.config.meili = None;
    app.restart().await;
    let ana = Person::new(&app.base);
    ana.sign_in("ana", common::PASSWORD).await;
    ana.post("/admin/users/bo/delete", &[("mode", "erase"), ("reason", "Asked"), ("confirm", "bo")]).await;
    // The operator rebuilds, then turns Meilisearch back on.
    let mut with_meili = app.config.clone();
    with_meili.meili = Some(config.clone());
    townhall::search::maintenance::reindex(&with_meili, &app.db, false).await.expect("reindex");
    assert!(raw.document("posts", bo_post).await.is_none(), "an erased post survived the reindex");
    app.config.meili = Some(config);
    app.restart().await;
    settled(&app).await;
    let ana = Person::new(&app.base);
    ana.sign_in("ana", common::PASSWORD).await;
    let page = ana.get("/search?q=kingfishr").await;
    assert!(page.contains("photos from"), "Meilisearch did not find the live post: {}", page.body);
    assert!(!page.contains("from bo"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_meilisearch_refuses_stays_in_the_outbox_until_it_is_indexed() {
    let Some(config) = meili() else { return };
    let _cleanup = Cleanup(config.clone());
    let raw = Raw::new(&config);
    let app = TestApp::spawn_with(Engine::Sqlite, |c| c.meili = Some(config.clone())).await;
    let ana = app.signed_up("ana").await;
    settled(&app).await;
    // The posts index is replaced by one whose primary key is another field: Meilisearch accepts
    // the next documents and fails the task later.
    let posts = format!("{}_posts", config.prefix);
    raw.run(reqwest::Method::DELETE, &format!("/indexes/{posts}"), None).await;
    raw.run(reqwest::Method::POST, "/indexes", Some(&format!(r#"{{"uid": "{posts}", "primaryKey": "uid"}}"#))).await;
    ana.write_post("Kingfisher refused at first").await;
    let id = common::post_ids(&ana.get("/@ana").await.body)[0];
    tokio::time::sleep(Duration::from_secs(2)).await;
    let now = status(&app).await.expect("usable");
    assert!(now.contains("backlog: 1 "), "the refused change left the outbox: {now}");
    assert!(raw.document("posts", id).await.is_none());
    // Once the index is fit again, the change is sent again and lands.
    raw.run(reqwest::Method::DELETE, &format!("/indexes/{posts}"), None).await;
    let deadline = Instant::now() + Duration::from_secs(90);
    while raw.document("posts", id).await.is_none() {
        assert!(Instant::now() < deadline, "the change was never delivered again");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_key_is_reported_and_search_still_answers() {
    let Some(mut config) = meili() else { return };
    let _cleanup = Cleanup(config.clone());
    config.key = Some("not-the-key-of-this-server".into());
    let app = TestApp::spawn_with(Engine::Sqlite, |c| c.meili = Some(config)).await;
    let ana = app.signed_up("ana").await;
    ana.write_post("Kingfisher under a wrong key").await;
    let problem = status(&app).await.expect_err("a refused key is not healthy");
    assert!(problem.contains("refuses the key"), "{problem}");
    assert!(ana.get("/search?q=kingfisher").await.contains("wrong key"), "the built-in engine answers");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_meilisearch_costs_one_short_wait_then_none() {
    // A server that accepts connections and never answers (no Meilisearch needed for this one).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let held = std::thread::spawn(move || {
        let mut open = Vec::new();
        for stream in listener.incoming().take(64).flatten() {
            open.push(stream);
        }
    });
    let config = MeiliConfig { url, key: None, prefix: "hung".into() };
    let app = TestApp::spawn_with(Engine::Sqlite, |c| c.meili = Some(config)).await;
    let ana = app.signed_up("ana").await;
    ana.write_post("Kingfisher while Meilisearch hangs").await;
    // As if the indexes had been built before Meilisearch hung.
    let built = townhall::db::sql(
        "INSERT INTO site_settings (key, value) VALUES ('search.meili.hung', 'ready')
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    );
    townhall::db::Exec::execute(&mut &app.db, built).await.expect("mark built");
    let started = Instant::now();
    assert!(ana.get("/search?q=kingfisher").await.contains("Meilisearch hangs"));
    let first = started.elapsed();
    assert!(first < Duration::from_secs(5), "the first search waited {first:?}");
    let started = Instant::now();
    for _ in 0..10 {
        assert!(ana.get("/search?q=kingfisher").await.contains("Meilisearch hangs"));
    }
    // Without the breaker each would wait the whole deadline again (15 s in all).
    assert!(started.elapsed() < Duration::from_secs(8), "ten searches took {:?}", started.elapsed());
    let started = Instant::now();
    let problem = status(&app).await.expect_err("a hung server is not healthy");
    assert!(problem.contains("NOT answering"), "{problem}");
    assert!(started.elapsed() < Duration::from_secs(30), "status hung");
    drop(held);
}
