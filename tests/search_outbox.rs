//! The search outbox and the permission re-check that the Meilisearch adapter relies on, tested with
//! the built-in engine and a Meilisearch address where nothing listens (an outage): changes are
//! written in the same transaction, kept until delivered, and search keeps answering.

mod common;

use common::{Engine, TestApp, post_ids};
use townhall::config::MeiliConfig;
use townhall::db::{Exec, now, sql};
use townhall::search::outbox;
use townhall::search::store::{self, Filters};

on_both_engines!(
    with_meilisearch_down_changes_wait_in_the_outbox_and_search_still_answers,
    without_meilisearch_nothing_is_queued,
    hits_from_an_outside_engine_are_checked_again_against_the_database,
);

/// A Meilisearch address where nothing listens.
fn unreachable() -> MeiliConfig {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    MeiliConfig { url: format!("http://127.0.0.1:{port}"), key: Some("test-key".into()), prefix: "t".into() }
}

async fn queued(app: &TestApp) -> Vec<(String, i64)> {
    app.db.clone().fetch_all(sql("SELECT kind, object_id FROM search_outbox ORDER BY id")).await.unwrap()
}

async fn with_meilisearch_down_changes_wait_in_the_outbox_and_search_still_answers(engine: Engine) {
    let app = TestApp::spawn_with(engine, |c| c.meili = Some(unreachable())).await;
    let ana = app.signed_up("ana").await;
    ana.write_post("Outbox pelican").await;
    let post = post_ids(&ana.get("/@ana").await.body)[0];
    assert_eq!(ana.post(&format!("/posts/{post}/edit"), &[("body", "Outbox pelican, edited")]).await.status, 303);
    // A like changes no searchable text: no row for it.
    assert_eq!(ana.post(&format!("/posts/{post}/like"), &[]).await.status, 303);
    let rows = queued(&app).await;
    assert!(rows.contains(&("person".to_owned(), 1)));
    assert_eq!(rows.iter().filter(|(k, id)| k == "post" && *id == post).count(), 2, "{rows:?}");

    // A transaction that rolls back leaves nothing behind.
    let before = queued(&app).await.len();
    {
        let mut tx = app.db.begin().await.unwrap();
        tx.execute(
            sql("INSERT INTO posts (author_id, body, created_at) VALUES (1, 'never committed', $1)").bind(now()),
        )
        .await
        .unwrap();
    }
    assert_eq!(queued(&app).await.len(), before);

    // The worker cannot reach Meilisearch: after several attempts every row is still there.
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_eq!(queued(&app).await.len(), before, "nothing is lost while Meilisearch is down");
    let status = townhall::search::maintenance::status(&app.config, &app.db)
        .await
        .expect_err("an unreachable Meilisearch makes the status fail");
    assert!(status.contains("NOT answering"), "{status}");
    assert!(status.contains(&format!("outbox backlog: {before} change(s) waiting")), "{status}");

    // Search answers with the built-in engine meanwhile.
    let page = ana.get("/search?q=pelican").await;
    assert_eq!(page.status, 200);
    assert!(page.contains("Outbox <mark>pelican</mark>, edited"));
}

async fn without_meilisearch_nothing_is_queued(engine: Engine) {
    let mut app = TestApp::spawn_with(engine, |c| c.meili = Some(unreachable())).await;
    let ana = app.signed_up("ana").await;
    ana.write_post("Queued while configured").await;
    let waiting = queued(&app).await.len();
    assert!(waiting >= 2);
    // Restarted without Meilisearch: the outbox stops filling (and keeps what waited).
    app.config.meili = None;
    app.restart().await;
    let ana = app.person();
    assert_eq!(ana.sign_in("ana", common::PASSWORD).await.status, 303);
    ana.write_post("Not queued").await;
    assert_eq!(queued(&app).await.len(), waiting);
    let status = townhall::search::maintenance::status(&app.config, &app.db).await.unwrap();
    assert!(status.contains("engine: built-in"), "{status}");
}

async fn hits_from_an_outside_engine_are_checked_again_against_the_database(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ana = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    let md = app.signed_up("md").await;
    townhall::accounts::store::set_role(&mut app.db.clone(), "md", townhall::accounts::Role::Moderator).await.unwrap();
    ana.write_post("Public heron").await;
    let public = post_ids(&ana.get("/@ana").await.body)[0];
    ana.post("/communities/new", &[("name", "Board"), ("slug", "board"), ("visibility", "private")]).await;
    ana.post("/c/board/posts", &[("body", "Private heron")]).await;
    let private = post_ids(&ana.get("/c/board").await.body)[0];
    bo.write_post("Hidden heron").await;
    let hidden = post_ids(&bo.get("/@bo").await.body)[0];
    assert_eq!(md.post(&format!("/moderation/post/{hidden}/hide"), &[]).await.status, 303);
    let bo_id = townhall::accounts::store::find_by_username(&mut app.db.clone(), "bo").await.unwrap().unwrap().id;
    let ana_id = 1;

    // As an outside engine's stale index might answer: every id, in its order.
    let ids = [hidden, private, public, 999_999];
    let mut db = app.db.clone();
    let for_bo = store::posts_by_ids(&mut db, &ids, bo_id, &Filters::default()).await.unwrap();
    assert_eq!(for_bo.iter().map(|p| p.id).collect::<Vec<_>>(), vec![public]);
    let for_ana = store::posts_by_ids(&mut db, &ids, ana_id, &Filters::default()).await.unwrap();
    assert_eq!(for_ana.iter().map(|p| p.id).collect::<Vec<_>>(), vec![private, public], "ranked order kept");
    let by_bo = Filters { author: "bo".into(), ..Filters::default() };
    assert!(store::posts_by_ids(&mut db, &ids, ana_id, &by_bo).await.unwrap().is_empty());

    // People: former employees drop out.
    let people = store::people_by_ids(&mut db, &[bo_id, ana_id]).await.unwrap();
    assert_eq!(people.iter().map(|p| p.username.as_str()).collect::<Vec<_>>(), vec!["bo", "ana"]);
    let deleted =
        ana.post("/admin/users/bo/delete", &[("mode", "anonymise"), ("reason", "Left"), ("confirm", "bo")]).await;
    assert_eq!(deleted.status, 303);
    let people = store::people_by_ids(&mut db, &[bo_id, ana_id]).await.unwrap();
    assert_eq!(people.iter().map(|p| p.username.as_str()).collect::<Vec<_>>(), vec!["ana"]);

    // The documents an outside engine receives carry the permission fields.
    let docs = outbox::post_docs(&mut db, &[public, private, hidden]).await.unwrap();
    let doc = |id: i64| docs.iter().find(|d| d.id == id).unwrap();
    assert_eq!(doc(public).members_only, 0);
    assert!(doc(private).members_only > 0);
    assert!(doc(hidden).hidden);
    let ideas = store::ideas_by_ids(&mut db, &[1, 2], ana_id, townhall::ideas::Reach::Everything, &Filters::default())
        .await
        .unwrap();
    assert!(ideas.is_empty());
}
