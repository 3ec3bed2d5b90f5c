//! Writing, showing and deleting posts, and the feeds: home, all company, topics, paging.

mod common;

use common::{Engine, TestApp, post_ids};

on_both_engines!(
    a_post_shows_at_once_with_links_mentions_and_topics_and_nothing_else_as_markup,
    empty_and_over_long_posts_are_refused_and_the_text_is_kept,
    home_holds_your_posts_and_those_of_people_you_follow_while_all_holds_everyone,
    feeds_page_by_cursor_thirty_at_a_time_without_gaps_or_repeats,
    a_post_is_deleted_by_its_author_after_confirming_and_by_nobody_else,
    a_post_has_its_own_page_and_a_missing_one_is_a_404_page,
    a_topic_page_lists_the_posts_tagged_with_it,
    many_people_posting_at_once_all_get_their_posts_in,
);

async fn a_post_shows_at_once_with_links_mentions_and_topics_and_nothing_else_as_markup(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    app.signed_up("bo").await;
    let ana = app.signed_up("ana").await;
    let page = ana
        .post(
            "/posts",
            &[(
                "body",
                "Ask @Bo or @ghost about https://intra.example/doc?a=1&b=2. #Packaging <script>alert('x')</script>",
            )],
        )
        .await;
    assert_eq!(page.status, 303);
    assert_eq!(page.location.as_deref(), Some("/"));
    let home = ana.follow(&page).await;
    assert!(home.contains(r#"<a href="/@bo" class="mention">@Bo</a>"#), "{}", home.body);
    assert!(home.contains("@ghost"), "an unknown name stays as text");
    assert!(!home.contains("href=\"/@ghost\""));
    assert!(home.contains(r#"<a href="https://intra.example/doc?a=1&#38;b=2" class="link""#), "{}", home.body);
    assert!(home.contains(r#"<a href="/topics/packaging" class="topic">#Packaging</a>"#));
    assert!(home.contains("&#60;script&#62;alert(&#39;x&#39;)&#60;/script&#62;"));
    assert!(!home.contains("<script>alert"));
}

async fn empty_and_over_long_posts_are_refused_and_the_text_is_kept(engine: Engine) {
    let app = TestApp::spawn_with(engine, |c| c.max_post_chars = 20).await;
    let ana = app.signed_up("ana").await;
    let empty = ana.post("/posts", &[("body", "   \n ")]).await;
    assert_eq!(empty.status, 422);
    assert!(empty.contains("Write something first."));
    let long_text = "twenty-one characters";
    let long = ana.post("/posts", &[("body", long_text)]).await;
    assert_eq!(long.status, 422);
    assert!(long.contains("A post has at most 20 characters; this one has 21."));
    assert!(long.contains(&format!(">{long_text}</textarea>")), "the draft is kept");
    assert!(long.contains("maxlength=\"20\""));
    // Twenty accented letters are twenty characters, not forty bytes.
    ana.write_post(&"é".repeat(20)).await;
    assert!(post_ids(&ana.get("/all").await.body).len() == 1);
}

async fn home_holds_your_posts_and_those_of_people_you_follow_while_all_holds_everyone(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ana = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    let cy = app.signed_up("cy").await;
    ana.write_post("Ana's own words").await;
    bo.write_post("Bo on the roadmap").await;
    cy.write_post("Cy on lunch").await;

    let home = ana.get("/").await;
    assert!(home.contains("Ana&#39;s own words"));
    assert!(!home.contains("Bo on the roadmap"));

    assert_eq!(ana.post("/people/bo/follow", &[]).await.status, 303);
    let home = ana.get("/").await;
    assert!(home.contains("Bo on the roadmap"));
    assert!(!home.contains("Cy on lunch"));
    let texts: Vec<&str> = ["Bo on the roadmap", "Ana&#39;s own words"].to_vec();
    let positions: Vec<usize> = texts.iter().map(|t| home.body.find(t).unwrap()).collect();
    assert!(positions[0] < positions[1], "newest first");

    let all = ana.get("/all").await;
    for text in ["Ana&#39;s own words", "Bo on the roadmap", "Cy on lunch"] {
        assert!(all.contains(text), "{text}");
    }

    ana.post("/people/bo/unfollow", &[]).await;
    assert!(!ana.get("/").await.contains("Bo on the roadmap"));
}

async fn feeds_page_by_cursor_thirty_at_a_time_without_gaps_or_repeats(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ana = app.signed_up("ana").await;
    for n in 1..=65 {
        ana.write_post(&format!("Note number {n}")).await;
    }
    for feed in ["/", "/all", "/@ana"] {
        let mut seen = Vec::new();
        let mut path = feed.to_owned();
        let mut pages = 0;
        loop {
            let page = ana.get(&path).await;
            assert_eq!(page.status, 200);
            let ids = post_ids(&page.body);
            assert!(ids.len() <= 30);
            seen.extend(ids);
            pages += 1;
            let Some(at) = page.body.find("?before=") else { break };
            let cursor: String = page.body[at + 8..].chars().take_while(char::is_ascii_digit).collect();
            path = format!("{}?before={cursor}", feed.trim_end_matches('/'));
            if feed == "/" {
                path = format!("/?before={cursor}");
            }
        }
        assert_eq!(pages, 3, "{feed}: 30 + 30 + 5");
        assert_eq!(seen.len(), 65, "{feed}");
        assert!(seen.windows(2).all(|w| w[0] > w[1]), "{feed}: newest first, no repeats");
    }
    // A damaged cursor is a clear 400 page, not a crash.
    let page = ana.get("/all?before=abc").await;
    assert_eq!(page.status, 400);
    assert!(page.contains("page link is damaged"));
}

async fn a_post_is_deleted_by_its_author_after_confirming_and_by_nobody_else(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ana = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    ana.write_post("A thought to take back").await;
    let id = post_ids(&ana.get("/").await.body)[0];

    let confirm = ana.get(&format!("/posts/{id}/delete")).await;
    assert_eq!(confirm.status, 200);
    assert!(confirm.contains("Delete this post?"));
    assert!(confirm.contains(&format!("action=\"/posts/{id}/delete\"")));

    assert_eq!(bo.get(&format!("/posts/{id}/delete")).await.status, 403);
    let refused = bo.post(&format!("/posts/{id}/delete"), &[]).await;
    assert_eq!(refused.status, 403);
    assert!(bo.get(&format!("/posts/{id}")).await.contains("A thought to take back"));
    assert!(!bo.get("/all").await.contains("/delete\""), "no delete link on others' posts");

    let deleted = ana.post(&format!("/posts/{id}/delete"), &[]).await;
    assert_eq!(deleted.status, 303);
    assert!(ana.follow(&deleted).await.contains("Your post was deleted."));
    assert_eq!(ana.get(&format!("/posts/{id}")).await.status, 404);
    assert!(!ana.get("/all").await.contains("A thought to take back"));
    assert_eq!(ana.post(&format!("/posts/{id}/delete"), &[]).await.status, 404);
}

async fn a_post_has_its_own_page_and_a_missing_one_is_a_404_page(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ana = app.signed_up("ana").await;
    ana.write_post("Permalink me").await;
    let id = post_ids(&ana.get("/").await.body)[0];
    let page = ana.get(&format!("/posts/{id}")).await;
    assert_eq!(page.status, 200);
    assert!(page.contains("Permalink me"));
    for missing in ["/posts/999999", "/posts/abc", "/posts/-1", "/posts/99999999999999999999999", "/nothing-here"] {
        let page = ana.get(missing).await;
        assert_eq!(page.status, 404, "{missing}");
        assert!(page.contains("Page not found"));
    }
}

async fn a_topic_page_lists_the_posts_tagged_with_it(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ana = app.signed_up("ana").await;
    ana.write_post("Less plastic in #Packaging").await;
    ana.write_post("Nothing to see").await;
    ana.write_post("Café talk #café").await;
    let topic = ana.get("/topics/packaging").await;
    assert_eq!(topic.status, 200);
    assert!(topic.contains("Less plastic"));
    assert!(!topic.contains("Nothing to see"));
    assert!(ana.get("/topics/PACKAGING").await.contains("Less plastic"));
    assert!(ana.get("/topics/caf%C3%A9").await.contains("Café talk"));
    assert!(ana.get("/topics/unknown").await.contains("No posts with this topic yet."));
}

async fn many_people_posting_at_once_all_get_their_posts_in(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let mut writers = Vec::new();
    for n in 0..12 {
        writers.push(app.signed_up(&format!("writer{n}")).await);
    }
    // Each post looks up a mention and writes a topic: a read, then writes, in one transaction.
    let tasks: Vec<_> = writers
        .into_iter()
        .enumerate()
        .map(|(n, person)| {
            tokio::spawn(async move {
                let mut statuses = Vec::new();
                for k in 0..15 {
                    let body = format!("@writer0 note {n}-{k} #busy");
                    statuses.push(person.post("/posts", &[("body", body.as_str())]).await.status);
                }
                statuses
            })
        })
        .collect();
    for task in tasks {
        assert!(task.await.unwrap().iter().all(|s| *s == 303), "every post is accepted");
    }
    let reader = app.signed_up("reader").await;
    let mut count = 0;
    let mut path = "/topics/busy".to_owned();
    loop {
        let page = reader.get(&path).await;
        let ids = post_ids(&page.body);
        count += ids.len();
        match ids.last() {
            Some(last) if page.contains("?before=") => path = format!("/topics/busy?before={last}"),
            _ => break,
        }
    }
    assert_eq!(count, 12 * 15);
}
