//! Polls: 2-6 options and a closing time; one vote each, changeable until the close; results after
//! you voted or after the close.

mod common;

use common::{Engine, TestApp, post_ids};
use townhall::db::{Exec, sql};

on_both_engines!(
    a_poll_shows_results_only_after_voting_and_counts_one_changeable_vote_per_person,
    a_refused_poll_keeps_the_text_and_the_options,
    a_closed_poll_takes_no_votes_and_shows_its_results_to_everyone,
);

/// The id of each option of the first poll on a page, in order.
fn option_ids(body: &str) -> Vec<String> {
    body.match_indices("name=\"option\" value=\"")
        .map(|(at, m)| body[at + m.len()..].chars().take_while(char::is_ascii_digit).collect())
        .collect()
}

async fn a_poll_shows_results_only_after_voting_and_counts_one_changeable_vote_per_person(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ana = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    let cy = app.signed_up("cy").await;
    let made = ana
        .post(
            "/posts",
            &[
                ("body", "Team lunch?"),
                ("option1", "Tea"),
                ("option2", "Coffee"),
                ("option3", ""),
                ("option4", "Juice"),
                ("poll_hours", "24"),
            ],
        )
        .await;
    assert_eq!(made.status, 303);
    let id = post_ids(&bo.get("/all").await.body)[0];
    let page = bo.get("/all").await;
    assert!(page.contains("Vote to see the results"));
    assert!(!page.contains("class=\"poll-results\""), "no results before voting");
    assert!(page.contains("0 votes · closes in 23 h") || page.contains("0 votes · closes in 1 day"));
    let options = option_ids(&page.body);
    assert_eq!(options.len(), 3, "the empty option was dropped");
    let (tea, coffee) = (&options[0], &options[1]);

    let voted = bo.post(&format!("/posts/{id}/vote"), &[("option", coffee.as_str()), ("back", "/all")]).await;
    assert_eq!(voted.location, Some(format!("/all#post-{id}")));
    let page = bo.get("/all").await;
    assert!(page.contains("Coffee (your vote)"));
    assert!(page.contains("100% · 1"));
    assert!(page.contains("Change your vote"));
    assert!(!cy.get("/all").await.contains("class=\"poll-results\""), "others still vote blind");

    cy.post(&format!("/posts/{id}/vote"), &[("option", tea.as_str())]).await;
    bo.post(&format!("/posts/{id}/vote"), &[("option", tea.as_str())]).await;
    let page = ana.get(&format!("/posts/{id}")).await;
    assert!(page.contains("2 votes"), "one vote per person: bo's change did not add one");
    bo.post(&format!("/posts/{id}/vote"), &[("option", tea.as_str())]).await;
    let page = bo.get(&format!("/posts/{id}")).await;
    assert!(page.contains("Tea (your vote)") && page.contains("100% · 2") && page.contains("0% · 0"));

    ana.write_post("Another post without a poll").await;
    let other = post_ids(&ana.get("/all").await.body)[0];
    assert_eq!(bo.post(&format!("/posts/{other}/vote"), &[("option", tea.as_str())]).await.status, 400);
    assert_eq!(bo.post(&format!("/posts/{id}/vote"), &[("option", "nonsense")]).await.status, 400);
}

async fn a_refused_poll_keeps_the_text_and_the_options(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ana = app.signed_up("ana").await;
    let refused = ana.post("/posts", &[("body", "Which day?"), ("option1", "Monday"), ("poll_hours", "24")]).await;
    assert_eq!(refused.status, 422);
    assert!(refused.contains("A poll needs at least two options."));
    assert!(refused.contains(">Which day?</textarea>"));
    assert!(refused.contains("value=\"Monday\""));
    assert!(refused.contains("<details class=\"poll-fields\" open>"), "the poll fields stay open");
    let both = ana.post("/posts", &[("body", ""), ("option1", "A"), ("option2", "a"), ("poll_hours", "999")]).await;
    assert_eq!(both.status, 422);
    assert!(both.contains("Write something first.") && both.contains("Two options say the same thing."));
    assert!(ana.get("/all").await.contains("Nobody has posted yet."));
}

async fn a_closed_poll_takes_no_votes_and_shows_its_results_to_everyone(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ana = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    ana.post("/posts", &[("body", "Quick one"), ("option1", "Yes"), ("option2", "No"), ("poll_hours", "1")]).await;
    let id = post_ids(&ana.get("/all").await.body)[0];
    let yes = option_ids(&ana.get("/all").await.body)[0].clone();
    ana.post(&format!("/posts/{id}/vote"), &[("option", yes.as_str())]).await;
    // The hour passes.
    app.db.clone().execute(sql("UPDATE posts SET poll_closes_at = 1 WHERE id = $1").bind(id)).await.unwrap();

    let page = bo.get("/all").await;
    assert!(page.contains("class=\"poll-results\""), "results for everyone once closed");
    assert!(page.contains("1 vote · closed"));
    assert!(!page.contains("action=\"/posts/{id}/vote\""));
    let late = bo.post(&format!("/posts/{id}/vote"), &[("option", yes.as_str())]).await;
    assert_eq!(late.status, 400);
    assert!(late.contains("This poll has closed"));
}
