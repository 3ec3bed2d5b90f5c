//! Live updates: an open page hears of new posts for its feed and of new notifications, without a
//! reload; on PostgreSQL, across two Townhall processes.

mod common;

use std::time::Duration;

use common::{Engine, Person, Stream, TestApp, post_ids, start_process, wait_until_healthy};

on_both_engines!(
    an_open_home_hears_of_a_followed_persons_new_post_and_of_new_notifications,
    a_private_community_stream_is_only_for_members,
    stopping_the_server_ends_open_streams_instead_of_waiting_for_them,
);

async fn an_open_home_hears_of_a_followed_persons_new_post_and_of_new_notifications(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ana = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    let cy = app.signed_up("cy").await;
    ana.post("/people/bo/follow", &[]).await;
    ana.write_post("Ana's post").await;
    let ana_post = post_ids(&ana.get("/").await.body)[0];

    let mut home = Stream::open(&ana, "home").await;
    let mut all = Stream::open(&ana, "all").await;
    cy.write_post("Cy is not followed by ana").await;
    bo.write_post("Bo is").await;
    // Cy's post came first but is not for ana's home: the first count is Bo's, and it is 1.
    home.expect("event: posts\ndata: 1\n").await;
    all.expect("event: posts\ndata: 2\n").await;

    bo.post(&format!("/posts/{ana_post}/like"), &[]).await;
    home.expect("event: notifications\ndata: 1\n").await;
    cy.post(&format!("/posts/{ana_post}/like"), &[]).await;
    // Two likes of one post are one line on the notifications page, so the count stays 1; a follow
    // makes it 2.
    cy.post("/people/ana/follow", &[]).await;
    home.expect("event: notifications\ndata: 2\n").await;

    // Her own new post, written from another tab, is new on this one too.
    ana.write_post("Ana again").await;
    home.expect("event: posts\ndata: 2\n").await;
}

async fn a_private_community_stream_is_only_for_members(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ana = app.signed_up("ana").await;
    let eve = app.signed_up("eve").await;
    ana.post("/communities/new", &[("name", "Board"), ("slug", "board"), ("visibility", "private")]).await;
    let refused = eve.client.get(format!("{}/events?feed=c/board", app.base)).send().await.unwrap();
    assert_eq!(refused.status().as_u16(), 404);
    let mut board = Stream::open(&ana, "c/board").await;
    let mut eve_all = Stream::open(&eve, "all").await;
    ana.post("/c/board/posts", &[("body", "Board only")]).await;
    ana.write_post("For everyone").await;
    board.expect("event: posts\ndata: 1\n").await;
    // The private post is not counted in the company feed's stream.
    eve_all.expect("event: posts\ndata: 1\n").await;
    assert!(!eve_all.text.contains("data: 2"));
}

async fn stopping_the_server_ends_open_streams_instead_of_waiting_for_them(engine: Engine) {
    let mut app = TestApp::spawn(engine).await;
    let ana = app.signed_up("ana").await;
    let mut stream = Stream::open(&ana, "home").await;
    // `stop` fails the test if the server has not stopped within 10 seconds.
    app.stop().await;
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        while let Ok(Some(chunk)) = stream.response.chunk().await {
            stream.text.push_str(&String::from_utf8_lossy(&chunk));
        }
    })
    .await;
    assert!(ended.is_ok(), "the stream was ended by the server");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgresql_a_post_made_through_one_process_reaches_a_page_served_by_another() {
    let Some(mut app) =
        TestApp::spawn_postgres_only("on_postgresql_a_post_made_through_one_process_reaches_a_page_served_by_another")
            .await
    else {
        return;
    };
    app.signed_up("ana").await;
    app.signed_up("bo").await;
    app.stop().await;
    let url = app.config.database_url.clone();
    let mut first = start_process(&url);
    let mut second = start_process(&url);
    wait_until_healthy(&first.base).await;
    wait_until_healthy(&second.base).await;

    let ana = Person::new(&first.base);
    let bo = Person::new(&second.base);
    assert_eq!(ana.sign_in("ana", common::PASSWORD).await.status, 303);
    assert_eq!(bo.sign_in("bo", common::PASSWORD).await.status, 303);
    ana.post("/people/bo/follow", &[]).await;
    let mut home = Stream::open(&ana, "home").await;
    bo.write_post("Written through the second process").await;
    home.expect("event: posts\ndata: 1\n").await;
    let ana_post = {
        ana.write_post("Ana through the first").await;
        post_ids(&ana.get("/").await.body)[0]
    };
    bo.post(&format!("/posts/{ana_post}/like"), &[]).await;
    home.expect("event: notifications\ndata: 1\n").await;
    for process in [&mut first, &mut second] {
        process.child.kill().unwrap();
        process.child.wait().unwrap();
    }
}
