//! Home shows posts from the process's cache of post rows (`posts::cache`). Whatever changes a
//! post after a home page showed it (an edit, a like, a reply, a deleted reply, a moderator hiding
//! it, its author's new name) is on the next home page, on both engines, after old changes are
//! pruned, and on PostgreSQL also when the change was made through another Townhall process.
//!
//! Each step first loads the reader's home, so the post is cached before it changes.

mod common;

use common::{Engine, Person, TestApp, post_ids};
use townhall::accounts::Role;
use townhall::db::{Exec, sql};

on_both_engines!(
    a_home_page_shows_every_change_to_a_post_it_showed_before,
    changes_made_after_old_ones_were_pruned_still_reach_home,
    every_column_shown_with_a_post_is_watched_by_a_trigger,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgresql_a_change_made_through_another_process_reaches_home_in_this_one() {
    let Some(app) = TestApp::spawn_postgres_only("a change through another process").await else {
        return;
    };
    let ana = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    assert_eq!(bo.post("/people/ana/follow", &[]).await.status, 303);
    ana.write_post("Canteen opens at eight").await;
    app.delivered().await;
    let id = post_ids(&ana.get("/@ana").await.body)[0];
    assert!(bo.get("/").await.contains("Canteen opens at eight"));

    // A second process on the same database, as a company running several behind a proxy would.
    let other = townhall::build(app.config.clone()).await.expect("a second process");
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.expect("a port");
    let base = format!("http://{}", listener.local_addr().expect("an address"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(townhall::serve_on(listener, other, async move {
        let _ = stopped.await;
    }));
    let ana_there = Person::new(&base);
    assert_eq!(ana_there.sign_in("ana", common::PASSWORD).await.status, 303);
    let edited = ana_there.post(&format!("/posts/{id}/edit"), &[("body", "Canteen opens at nine")]).await;
    assert_eq!(edited.status, 303, "{}", edited.body);
    let cy_there = Person::new(&base);
    cy_there.sign_up("cy", "Cy Example", "cy@example.com", common::PASSWORD).await;
    assert_eq!(cy_there.post(&format!("/posts/{id}/like"), &[]).await.status, 303);

    let home = bo.get("/").await;
    assert!(home.contains("Canteen opens at nine"), "the edit made in the other process");
    assert!(!home.contains("Canteen opens at eight"));
    assert!(home.contains("1 like"), "the like made in the other process");
    let _ = stop.send(());
    server.await.expect("the second process ends").expect("it served");
}

async fn a_home_page_shows_every_change_to_a_post_it_showed_before(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ana = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    let cy = app.signed_up("cy").await;
    let md = app.signed_up("md").await;
    townhall::accounts::store::set_role(&mut app.db.clone(), "md", Role::Moderator).await.unwrap();
    assert_eq!(bo.post("/people/ana/follow", &[]).await.status, 303);
    ana.write_post("Packaging review on Thursday").await;
    app.delivered().await;
    let id = post_ids(&ana.get("/@ana").await.body)[0];
    let home = bo.get("/").await;
    assert!(home.contains("Packaging review on Thursday") && home.contains("Ana Example"));

    // Edited.
    let edited = ana.post(&format!("/posts/{id}/edit"), &[("body", "Packaging review moved to Friday")]).await;
    assert_eq!(edited.status, 303, "{}", edited.body);
    let home = bo.get("/").await;
    assert!(home.contains("Packaging review moved to Friday"), "the edit");
    assert!(!home.contains("Packaging review on Thursday"));

    // Liked, then answered: the count, and the reply under the post.
    assert_eq!(cy.post(&format!("/posts/{id}/like"), &[]).await.status, 303);
    assert!(bo.get("/").await.contains("1 like"), "the like");
    assert_eq!(cy.post(&format!("/posts/{id}/replies"), &[("body", "Friday suits me")]).await.status, 303);
    let home = bo.get("/").await;
    assert!(home.contains("Friday suits me") && home.contains("1 reply"), "the reply");
    assert_eq!(md.post(&format!("/posts/{id}/replies"), &[("body", "I will book a room")]).await.status, 303);
    let home = bo.get("/").await;
    assert!(home.contains("I will book a room") && home.contains("2 replies"), "the second reply");

    // The reply deleted by its author leaves the thread's preview.
    let reply = post_ids(&cy.get(&format!("/posts/{id}")).await.body)
        .into_iter()
        .find(|&r| r != id)
        .expect("cy's reply is on the thread page");
    assert_eq!(cy.post(&format!("/posts/{reply}/delete"), &[]).await.status, 303);
    let home = bo.get("/").await;
    assert!(!home.contains("Friday suits me"), "the deleted reply");
    assert!(home.contains("I will book a room") && home.contains("1 reply"));

    // The author's new name.
    let renamed = ana
        .post(
            "/settings/profile",
            &[("display_name", "Ana Lindqvist"), ("job_title", ""), ("department", ""), ("location", ""), ("bio", "")],
        )
        .await;
    assert_eq!(renamed.status, 303, "{}", renamed.body);
    let home = bo.get("/").await;
    assert!(home.contains("Ana Lindqvist") && !home.contains("Ana Example"), "the new name");

    // Hidden by a moderator: the reader sees only that.
    assert_eq!(md.post(&format!("/moderation/post/{id}/hide"), &[]).await.status, 303);
    let home = bo.get("/").await;
    assert!(!home.contains("Packaging review moved to Friday"), "the hidden post's text");
    assert!(home.contains("hidden by a moderator"));

    // Deleted by its author (it has a reply, so it stays as a placeholder).
    assert_eq!(md.post(&format!("/moderation/post/{id}/restore"), &[]).await.status, 303);
    assert!(bo.get("/").await.contains("Packaging review moved to Friday"), "shown again");
    assert_eq!(ana.post(&format!("/posts/{id}/delete"), &[]).await.status, 303);
    assert!(!bo.get("/").await.contains("Packaging review moved to Friday"), "the deleted post");
}

async fn changes_made_after_old_ones_were_pruned_still_reach_home(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ana = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    assert_eq!(bo.post("/people/ana/follow", &[]).await.status, 303);
    ana.write_post("First draft").await;
    ana.write_post("Second draft").await;
    app.delivered().await;
    let ids = post_ids(&ana.get("/@ana").await.body);
    let mut db = app.db.clone();
    for (n, id) in ids.iter().enumerate() {
        let edited = ana.post(&format!("/posts/{id}/edit"), &[("body", &format!("Edit {n}"))]).await;
        assert_eq!(edited.status, 303);
    }
    assert!(bo.get("/").await.contains("Edit 1"));

    // Every change is ten minutes old and pruned, as the server does every minute.
    db.execute(sql("UPDATE post_changes SET changed_at = changed_at - 3600")).await.unwrap();
    townhall::posts::cache::prune(&mut db).await.unwrap();
    let (left,): (i64,) = db.fetch_one(sql("SELECT COUNT(*) FROM post_changes")).await.unwrap();
    assert!(left <= 1, "{left} changes left after pruning");

    let edited = ana.post(&format!("/posts/{}/edit", ids[0]), &[("body", "Final text")]).await;
    assert_eq!(edited.status, 303);
    let home = bo.get("/").await;
    assert!(home.contains("Final text"), "a change made after the pruning");
}

/// The cache of post rows is right only while every column a shown post is read with fires a
/// `post_changes` trigger when it changes. This reads the columns from the post query itself and the
/// triggers from each engine's catalogue, so a new column shown with a post (say the author's job
/// title) fails here until a trigger covers it.
async fn every_column_shown_with_a_post_is_watched_by_a_trigger(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    // alias -> table, from "FROM posts p JOIN users u ON … LEFT JOIN communities c ON …".
    let words: Vec<&str> = townhall::posts::store::SHOWN_FROM.split_whitespace().collect();
    let mut tables = std::collections::HashMap::new();
    for pair in words.windows(3) {
        if matches!(pair[0], "FROM" | "JOIN") {
            tables.insert(pair[2], pair[1]);
        }
    }
    let shown: Vec<(String, String)> = townhall::posts::store::SHOWN_COLUMNS
        .split(',')
        .map(|c| c.split_whitespace().next().unwrap_or_default())
        .filter_map(|c| c.split_once('.'))
        .map(|(alias, column)| (tables[alias].to_owned(), column.to_owned()))
        .collect();
    assert!(shown.len() > 20 && shown.iter().any(|(t, c)| t == "communities" && c == "name"), "{shown:?}");

    // (table, event, columns or empty for all) of every trigger that records a post change.
    let watched: Vec<(String, String, Vec<String>)> = match engine {
        Engine::Sqlite => {
            let rows: Vec<(String,)> = app
                .db
                .clone()
                .fetch_all(sql("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND sql LIKE '%post_changes%'"))
                .await
                .unwrap();
            rows.into_iter().filter_map(|(text,)| trigger_event(&text)).collect()
        }
        Engine::Postgres => {
            let rows: Vec<(String,)> = app
                .db
                .clone()
                .fetch_all(sql("SELECT pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN pg_proc f ON f.oid = t.tgfoid
                                WHERE NOT t.tgisinternal AND f.prosrc LIKE '%post_change%'"))
                .await
                .unwrap();
            rows.into_iter().filter_map(|(text,)| trigger_event(&text.replace("public.", ""))).collect()
        }
    };
    let covers = |table: &str, event: &str, column: &str| {
        watched.iter().any(|(t, e, columns)| {
            t == table && e.contains(event) && (columns.is_empty() || columns.iter().any(|c| c == column))
        })
    };
    let missing: Vec<String> =
        shown.iter().filter(|(t, c)| !covers(t, "UPDATE", c)).map(|(t, c)| format!("{t}.{c}")).collect();
    assert!(missing.is_empty(), "shown with a post but no trigger records its change: {missing:?} ({watched:?})");
    assert!(covers("posts", "DELETE", "id"), "a deleted post must be recorded too: {watched:?}");
}

/// "AFTER UPDATE OF a, b ON t …" or "AFTER UPDATE OR DELETE ON t …" as (t, events, [a, b]).
fn trigger_event(text: &str) -> Option<(String, String, Vec<String>)> {
    let upper = text.to_uppercase();
    let after = upper.find("AFTER ")? + 6;
    let on = upper[after..].find(" ON ")? + after;
    let events = &text[after..on];
    let table = text[on + 4..].split_whitespace().next()?.to_owned();
    let (events, columns) = match events.to_uppercase().find(" OF ") {
        Some(of) => (events[..of].to_uppercase(), events[of + 4..].split(',').map(|c| c.trim().to_owned()).collect()),
        None => (events.to_uppercase(), Vec::new()),
    };
    Some((table, events, columns))
}
