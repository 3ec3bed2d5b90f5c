//! Replies and threads, edits, deletions that keep threads, likes, notifications and followed topics.

mod common;

use common::{Engine, Person, TestApp, post_ids};
use townhall::db::{Exec, sql};
use townhall::posts::PostBody;
use townhall::posts::store::{self, Placement};

on_both_engines!(
    replies_form_a_thread_and_the_feed_shows_the_count_and_latest_replies,
    a_reply_to_a_reply_says_whom_it_answers_and_a_refused_reply_keeps_its_text,
    an_edited_post_is_marked_edited_and_only_its_author_can_edit_it,
    a_deleted_post_with_replies_leaves_a_placeholder_and_one_without_goes,
    likes_count_once_per_person_can_be_undone_and_show_who_liked,
    notifications_tell_of_replies_mentions_likes_and_follows_grouped_and_marked_read,
    the_unread_badge_counts_to_99_and_then_says_99_plus,
    following_a_topic_brings_its_posts_home_and_unfollowing_takes_them_away,
    unfollowing_a_person_keeps_their_posts_that_reach_home_through_a_topic,
    a_feed_of_any_length_shows_each_threads_own_latest_replies_and_likes,
    a_reply_that_names_its_author_tells_them_once,
    a_long_thread_is_read_a_page_at_a_time_in_either_order,
);

/// The id of the newest post on a person's home.
async fn newest_on_home(person: &Person) -> i64 {
    post_ids(&person.get("/").await.body)[0]
}

async fn replies_form_a_thread_and_the_feed_shows_the_count_and_latest_replies(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ana = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    ana.write_post("What should we do about packaging?").await;
    let root = newest_on_home(&ana).await;
    for text in ["First: fewer boxes", "Second: reusable crates", "Third: ask suppliers"] {
        let page = bo.post(&format!("/posts/{root}/replies"), &[("body", text)]).await;
        assert_eq!(page.status, 303);
        assert!(page.location.as_deref().is_some_and(|l| l.starts_with(&format!("/posts/{root}#post-"))));
    }
    let thread = ana.get(&format!("/posts/{root}")).await;
    assert!(thread.contains("3 replies"));
    let positions: Vec<usize> = ["What should we do", "First: fewer", "Second: reusable", "Third: ask"]
        .iter()
        .map(|t| thread.body.find(t).unwrap_or_else(|| panic!("{t} missing")))
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "the thread reads in order");

    let feed = ana.get("/all").await;
    assert_eq!(post_ids(&feed.body).iter().filter(|id| **id == root).count(), 1);
    assert!(feed.contains("3 replies"));
    assert!(feed.contains("Second: reusable crates") && feed.contains("Third: ask suppliers"));
    assert!(!feed.contains("First: fewer boxes"), "only the latest two replies are shown in the feed");
    assert!(feed.contains("See all 3 replies"));
    // A reply's own address leads to its place in the thread.
    let reply_id = *post_ids(&thread.body).last().unwrap();
    let page = ana.get(&format!("/posts/{reply_id}")).await;
    assert_eq!(page.location.as_deref(), Some(format!("/posts/{root}#post-{reply_id}").as_str()));
}

async fn a_reply_to_a_reply_says_whom_it_answers_and_a_refused_reply_keeps_its_text(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ana = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    ana.write_post("Lunch ideas?").await;
    let root = newest_on_home(&ana).await;
    bo.post(&format!("/posts/{root}/replies"), &[("body", "Tacos")]).await;
    let bo_reply = *post_ids(&ana.get(&format!("/posts/{root}")).await.body).last().unwrap();

    let form = ana.get(&format!("/posts/{root}?reply_to={bo_reply}")).await;
    assert!(form.contains("Reply to Bo Example"));
    assert!(form.contains(&format!("action=\"/posts/{bo_reply}/replies\"")));
    ana.post(&format!("/posts/{bo_reply}/replies"), &[("body", "Tacos it is")]).await;
    let thread = ana.get(&format!("/posts/{root}")).await;
    assert!(thread.contains(r#"replying to <a href="/@bo">@bo</a>"#), "{}", thread.body);

    let refused = ana.post(&format!("/posts/{bo_reply}/replies"), &[("body", "   ")]).await;
    assert_eq!(refused.status, 422);
    assert!(refused.contains("Write something first."));
    assert!(refused.contains("Reply to Bo Example"), "the reply box still answers the same post");
    assert_eq!(ana.post("/posts/999999/replies", &[("body", "into the void")]).await.status, 404);
}

async fn an_edited_post_is_marked_edited_and_only_its_author_can_edit_it(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ana = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    ana.write_post("Meeting at 10").await;
    let id = newest_on_home(&ana).await;
    assert!(!ana.get("/all").await.contains("edited"));

    let form = ana.get(&format!("/posts/{id}/edit")).await;
    assert_eq!(form.status, 200);
    assert!(form.contains(">Meeting at 10</textarea>"));
    assert_eq!(bo.get(&format!("/posts/{id}/edit")).await.status, 403);
    assert_eq!(bo.post(&format!("/posts/{id}/edit"), &[("body", "hijacked")]).await.status, 403);

    let refused = ana.post(&format!("/posts/{id}/edit"), &[("body", "")]).await;
    assert_eq!(refused.status, 422);
    let saved = ana.post(&format!("/posts/{id}/edit"), &[("body", "Meeting at 11 #planning")]).await;
    assert_eq!(saved.status, 303);
    let feed = ana.get("/all").await;
    assert!(feed.contains("Meeting at 11") && !feed.contains("Meeting at 10"));
    assert!(feed.contains("edited just now"));
    assert!(ana.get("/topics/planning").await.contains("Meeting at 11"), "topics follow the new text");
}

async fn a_deleted_post_with_replies_leaves_a_placeholder_and_one_without_goes(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ana = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    ana.write_post("A question that gets answers").await;
    let root = newest_on_home(&ana).await;
    bo.post(&format!("/posts/{root}/replies"), &[("body", "An answer that stays")]).await;
    bo.post(&format!("/posts/{root}/replies"), &[("body", "A reply that goes")]).await;
    let replies = post_ids(&ana.get(&format!("/posts/{root}")).await.body);
    let last_reply = *replies.last().unwrap();

    assert_eq!(bo.post(&format!("/posts/{last_reply}/delete"), &[]).await.status, 303);
    let thread = ana.get(&format!("/posts/{root}")).await;
    assert!(!thread.contains("A reply that goes"));
    assert!(thread.contains("1 reply"));

    assert_eq!(ana.post(&format!("/posts/{root}/delete"), &[]).await.status, 303);
    let thread = ana.get(&format!("/posts/{root}")).await;
    assert_eq!(thread.status, 200, "the thread holds");
    assert!(thread.contains("This post was deleted."));
    assert!(!thread.contains("A question that gets answers"));
    assert!(thread.contains("An answer that stays"));
    assert!(!ana.get("/all").await.contains("This post was deleted."), "placeholders stay out of feeds");
    assert!(!ana.get("/").await.contains("An answer that stays"));
    assert_eq!(ana.get(&format!("/posts/{root}/edit")).await.status, 404);
    assert_eq!(ana.post(&format!("/posts/{root}/like"), &[]).await.status, 400);
}

async fn likes_count_once_per_person_can_be_undone_and_show_who_liked(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ana = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    let cy = app.signed_up("cy").await;
    ana.write_post("Like me").await;
    let id = newest_on_home(&ana).await;
    let liked = bo.post(&format!("/posts/{id}/like"), &[("back", "/all")]).await;
    assert_eq!(liked.location, Some(format!("/all#post-{id}")));
    bo.post(&format!("/posts/{id}/like"), &[("back", "/all")]).await;
    cy.post(&format!("/posts/{id}/like"), &[("back", "https://evil.example/")]).await;
    let feed = bo.get("/all").await;
    assert!(feed.contains("2 likes"));
    assert!(feed.contains(&format!("action=\"/posts/{id}/unlike\"")), "bo sees his own like");
    assert!(ana.get("/all").await.contains(&format!("action=\"/posts/{id}/like\"")), "ana has not liked it");
    let likers = ana.get(&format!("/posts/{id}/likes")).await;
    assert!(likers.contains("<strong>Bo Example</strong>") && likers.contains("<strong>Cy Example</strong>"));
    assert!(!likers.contains("<strong>Ana Example</strong>"));

    bo.post(&format!("/posts/{id}/unlike"), &[("back", "/all")]).await;
    bo.post(&format!("/posts/{id}/unlike"), &[("back", "/all")]).await;
    let feed = ana.get("/all").await;
    assert!(feed.contains("1 like") && !feed.contains("2 likes"));
}

async fn notifications_tell_of_replies_mentions_likes_and_follows_grouped_and_marked_read(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ana = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    let cy = app.signed_up("cy").await;
    let di = app.signed_up("di").await;
    ana.write_post("Ana's plan").await;
    let id = newest_on_home(&ana).await;
    assert!(!ana.get("/").await.contains("class=\"badge\""), "nothing unread yet");

    for liker in [&bo, &cy, &di] {
        liker.post(&format!("/posts/{id}/like"), &[]).await;
    }
    bo.post(&format!("/posts/{id}/replies"), &[("body", "Nice plan")]).await;
    cy.write_post("Hey @ana, look at this").await;
    di.post("/people/ana/follow", &[]).await;
    ana.post(&format!("/posts/{id}/like"), &[]).await; // liking your own post tells nobody

    let home = ana.get("/").await;
    assert!(home.contains(r#"<span class="badge" aria-label="4 unread">4</span>"#), "{}", home.body);
    let page = ana.get("/notifications").await;
    assert!(page.contains("Di Example and 2 others liked your post"), "{}", page.body);
    assert!(page.contains("Bo Example replied to your post"));
    assert!(page.contains("Cy Example mentioned you"));
    assert!(page.contains("Di Example followed you"));
    assert!(!page.contains("Ana Example liked"));
    assert!(ana.get("/").await.contains("class=\"badge\""), "reading the page changes nothing");
    // What arrives after the page was shown stays unread when it is marked read.
    cy.write_post("@ana one more").await;
    assert_eq!(ana.post("/notifications/read", &[("up_to", &page.notifications_up_to())]).await.status, 303);
    assert!(ana.get("/").await.contains(r#"aria-label="1 unread""#), "only what was shown is read");

    // Undoing a like before it is seen takes its notification back.
    bo.write_post("Another by bo").await;
    let bo_post = newest_on_home(&bo).await;
    ana.post(&format!("/posts/{bo_post}/like"), &[]).await;
    ana.post(&format!("/posts/{bo_post}/unlike"), &[]).await;
    assert!(!bo.get("/").await.contains("class=\"badge\""));
    assert!(!bo.get("/notifications").await.contains("liked your post"));
}

async fn the_unread_badge_counts_to_99_and_then_says_99_plus(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ana = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    for n in 1..=99 {
        bo.write_post(&format!("@ana question {n}")).await;
    }
    let home = ana.get("/").await;
    assert!(home.contains(r#"<span class="badge" aria-label="99 unread">99</span>"#), "{}", home.body);
    bo.write_post("@ana question 100").await;
    let home = ana.get("/").await;
    assert!(home.contains(r#"<span class="badge" aria-label="99+ unread">99+</span>"#), "{}", home.body);
    // The notifications page still lists every one of them.
    let page = ana.get("/notifications").await;
    assert_eq!(page.body.matches("Bo Example mentioned you").count(), 100, "{}", page.body);
    assert_eq!(ana.post("/notifications/read", &[("up_to", &page.notifications_up_to())]).await.status, 303);
    assert!(!ana.get("/").await.contains("class=\"badge\""), "marked read");
}

async fn following_a_topic_brings_its_posts_home_and_unfollowing_takes_them_away(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ana = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    bo.write_post("Earlier on #Sustainability").await;
    bo.write_post("Unrelated lunch talk").await;
    app.delivered().await;
    assert!(!ana.get("/").await.contains("Earlier on"));

    let followed = ana.post("/topics/sustainability/follow", &[]).await;
    assert_eq!(followed.status, 303);
    let topic_page = ana.follow(&followed).await;
    assert!(topic_page.contains("You follow #sustainability now"));
    assert!(topic_page.contains("action=\"/topics/sustainability/unfollow\""));
    bo.write_post("Later on #sustainability").await;
    app.delivered().await;
    let home = ana.get("/").await;
    assert!(home.contains("Earlier on") && home.contains("Later on"));
    assert!(!home.contains("Unrelated lunch talk"));

    ana.post("/topics/sustainability/unfollow", &[]).await;
    let home = ana.get("/").await;
    assert!(!home.contains("Earlier on") && !home.contains("Later on"));
    assert_eq!(ana.post("/topics/not%20a%20topic/follow", &[]).await.status, 404);
}

async fn unfollowing_a_person_keeps_their_posts_that_reach_home_through_a_topic(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ana = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    ana.post("/people/bo/follow", &[]).await;
    ana.post("/topics/safety/follow", &[]).await;
    bo.write_post("Bo on #safety").await;
    bo.write_post("Bo on lunch").await;
    ana.write_post("Ana's own").await;
    app.delivered().await;
    let home = ana.get("/").await;
    assert!(home.contains("Bo on #") || home.contains("Bo on <a"), "{}", home.body);
    assert!(home.contains("Bo on lunch"));

    ana.post("/people/bo/unfollow", &[]).await;
    let home = ana.get("/").await;
    assert!(home.contains("/topics/safety"), "still reaches home through the topic");
    assert!(!home.contains("Bo on lunch"));
    assert!(home.contains("Ana&#39;s own"), "your own posts never leave");
}

/// A feed page loads the latest replies and the viewer's likes of all its posts in one query each,
/// whose lists come in a few sizes padded with NULL (`db::list_size`): whatever the number of
/// threads, each gets its own two newest replies, once, and exactly the liked posts show as liked.
async fn a_feed_of_any_length_shows_each_threads_own_latest_replies_and_likes(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    app.signed_up("ana").await;
    let (ana,): (i64,) = app.db.clone().fetch_one(sql("SELECT id FROM users WHERE username = 'ana'")).await.unwrap();
    let mut roots = Vec::new();
    let mut newest_two = Vec::new();
    for t in 0..17 {
        let body = PostBody::parse(&format!("thread {t}"), 1000).unwrap();
        let mut tx = app.db.begin().await.unwrap();
        let root = store::create(&mut tx, ana, &body, None, Placement::Company).await.unwrap();
        tx.commit().await.unwrap();
        let row = store::find_any(&mut app.db.clone(), root).await.unwrap().unwrap();
        let mut replies = Vec::new();
        for r in 0..3 {
            let body = PostBody::parse(&format!("reply {r} in {t}"), 1000).unwrap();
            let mut tx = app.db.begin().await.unwrap();
            replies.push(store::create(&mut tx, ana, &body, None, Placement::Reply(&row)).await.unwrap());
            tx.commit().await.unwrap();
        }
        // Every third thread is liked, and so is its newest reply.
        if t % 3 == 0 {
            let reply = store::find_any(&mut app.db.clone(), replies[2]).await.unwrap().unwrap();
            let mut tx = app.db.begin().await.unwrap();
            store::like(&mut tx, &row, ana).await.unwrap();
            store::like(&mut tx, &reply, ana).await.unwrap();
            tx.commit().await.unwrap();
        }
        roots.push(root);
        newest_two.push(replies[1..].to_vec());
    }
    let mut db = app.db.clone();
    for n in 1..=roots.len() {
        let shown = store::latest_replies(&mut db, &roots[..n]).await.unwrap();
        let mut expected: Vec<i64> = newest_two[..n].concat();
        expected.sort();
        assert_eq!(shown.iter().map(|r| r.id).collect::<Vec<_>>(), expected, "{n} threads");
        assert!(shown.iter().all(|r| roots[..n].contains(&r.root_id.unwrap_or(0))));

        let on_page: Vec<i64> = roots[..n].iter().copied().chain(expected.iter().copied()).collect();
        let mut liked = store::liked_among(&mut db, ana, &on_page).await.unwrap();
        liked.sort();
        let mut expected_likes: Vec<i64> = (0..n).step_by(3).flat_map(|t| [roots[t], newest_two[t][1]]).collect();
        expected_likes.sort();
        assert_eq!(liked, expected_likes, "likes among {} posts", on_page.len());
    }
}

async fn a_reply_that_names_its_author_tells_them_once(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ana = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    let cy = app.signed_up("cy").await;
    ana.write_post("Who wants to help with the move?").await;
    let id = newest_on_home(&ana).await;
    assert_eq!(bo.post(&format!("/posts/{id}/replies"), &[("body", "@ana me, and @cy too")]).await.status, 303);
    let page = ana.get("/notifications").await;
    assert!(page.contains("Bo Example replied to your post"), "{}", page.body);
    assert!(!page.contains("Bo Example mentioned you"), "a second notification for the same reply");
    assert!(ana.get("/").await.contains(r#"aria-label="1 unread""#));
    // Others the reply names are told of the mention.
    assert!(cy.get("/notifications").await.contains("Bo Example mentioned you"));
}

async fn a_long_thread_is_read_a_page_at_a_time_in_either_order(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ana = app.signed_up("ana").await;
    app.signed_up("bo").await;
    ana.write_post("A long conversation").await;
    let root = newest_on_home(&ana).await;
    let (bo_id,): (i64,) = app.db.clone().fetch_one(sql("SELECT id FROM users WHERE username = 'bo'")).await.unwrap();
    let row = store::find_any(&mut app.db.clone(), root).await.unwrap().unwrap();
    let mut replies = Vec::new();
    for r in 1..=70 {
        let body = PostBody::parse(&format!("Answer number {r:02}."), 1000).unwrap();
        let mut tx = app.db.begin().await.unwrap();
        replies.push(store::create(&mut tx, bo_id, &body, None, Placement::Reply(&row)).await.unwrap());
        tx.commit().await.unwrap();
    }
    let shown =
        |page: &common::Page| -> Vec<i64> { post_ids(&page.body).into_iter().filter(|id| *id != root).collect() };

    // Oldest first: 20 at a time, each page saying how many are left.
    let first = ana.get(&format!("/posts/{root}")).await;
    assert!(first.contains("70 replies") && first.contains("A long conversation"));
    assert_eq!(shown(&first), replies[..20].to_vec());
    assert!(first.contains("Show 50 more replies"), "{}", first.body);
    let second = ana.get(&format!("/posts/{root}?from={}", replies[20])).await;
    assert_eq!(shown(&second), replies[20..40].to_vec());
    assert!(second.contains("A long conversation"), "the first post heads every page");
    assert!(second.contains("Show 30 more replies") && second.contains("Back to the first replies"));
    let last = ana.get(&format!("/posts/{root}?from={}", replies[60])).await;
    assert_eq!(shown(&last), replies[60..].to_vec());
    assert!(!last.contains("more replies"));

    // Newest first.
    let newest = ana.get(&format!("/posts/{root}?order=newest")).await;
    let expected: Vec<i64> = replies.iter().rev().take(20).copied().collect();
    assert_eq!(shown(&newest), expected);
    assert!(newest.contains("Show 50 more replies") && newest.contains("order=newest&#38;from="));

    // A reply's address (notifications, search) leads to the page that shows it.
    let page = ana.get(&format!("/posts/{}", replies[49])).await;
    let location = page.location.expect("a redirect");
    assert_eq!(location, format!("/posts/{root}?from={}#post-{}", replies[49], replies[49]));
    assert!(shown(&ana.get(location.split('#').next().unwrap()).await).contains(&replies[49]));
    let early = ana.get(&format!("/posts/{}", replies[3])).await;
    assert_eq!(early.location, Some(format!("/posts/{root}#post-{}", replies[3])));

    // A new reply at the end of a long thread is shown where the writer lands.
    let posted = ana.post(&format!("/posts/{root}/replies"), &[("body", "The last word")]).await;
    let location = posted.location.expect("a redirect");
    let landed = ana.get(location.split('#').next().unwrap()).await;
    assert!(landed.contains("The last word"), "{location}");
    assert!(!ana.get("/posts/not-a-number?from=x").await.contains("The last word"));
    assert_eq!(ana.get(&format!("/posts/{root}?from=abc")).await.status, 404);
}
