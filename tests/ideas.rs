//! Idea campaigns: who may do what, submitting, similar ideas, votes (budget, hidden counts, the close,
//! concurrency), stages and responses, merges, anonymity, exports.

mod common;

use common::{Engine, Person, TestApp};
use townhall::accounts::Role;
use townhall::db::{Exec, now, sql};
use townhall::ideas::input_time;

on_both_engines!(
    a_manager_takes_a_campaign_from_draft_to_open_and_members_submit_ideas,
    similar_ideas_are_shown_before_a_likely_duplicate_goes_in,
    votes_count_once_keep_to_the_budget_and_stop_at_the_close,
    hidden_counts_are_for_managers_until_the_close,
    managers_move_ideas_with_a_reason_and_answer_them_and_people_are_told,
    a_merge_moves_each_voter_once_and_undoing_it_restores_the_votes,
    an_anonymous_idea_hides_its_author_everywhere_but_an_audited_admin_reveal,
    exports_open_in_a_spreadsheet_and_carry_the_history,
    votes_stay_correct_under_many_parallel_requests,
    comments_thread_one_level_deep,
    a_community_campaign_is_for_its_members,
    a_post_of_yours_becomes_an_idea_and_links_to_it,
    the_dashboard_shows_activity_departments_the_funnel_and_top_ideas_to_managers,
    trending_weighs_this_weeks_votes_over_older_ones,
    a_manager_edits_a_campaign_and_a_refused_edit_keeps_its_input,
);

struct Rules<'a> {
    budget: &'a str,
    hide_counts: bool,
    anonymous: bool,
    community: &'a str,
}

const PLAIN: Rules<'static> = Rules { budget: "", hide_counts: false, anonymous: false, community: "" };

/// Makes and publishes a campaign that is open now; returns its id.
async fn open_campaign(manager: &Person, title: &str, rules: Rules<'_>) -> i64 {
    let at = now();
    let (opens, closes) = (input_time(at - 3600), input_time(at + 7 * 86_400));
    let mut form = vec![
        ("title", title),
        ("question", "How do we cut packaging waste?"),
        ("description", "Ideas welcome."),
        ("opens_at", opens.as_str()),
        ("closes_at", closes.as_str()),
        ("vote_budget", rules.budget),
        ("community", rules.community),
    ];
    if rules.hide_counts {
        form.push(("hide_counts", "on"));
    }
    if rules.anonymous {
        form.push(("allow_anonymous", "on"));
    }
    let made = manager.post("/campaigns/new", &form).await;
    assert_eq!(made.status, 303, "{}", made.body);
    let path = made.location.unwrap();
    let id: i64 = path.trim_start_matches("/campaigns/").parse().unwrap();
    assert_eq!(manager.post(&format!("/campaigns/{id}/publish"), &[]).await.status, 303);
    id
}

/// Submits an idea (confirming past similar ones); returns its id.
async fn submit(person: &Person, campaign: i64, title: &str, anonymous: bool) -> i64 {
    let mut form = vec![("title", title), ("body", "Details of the idea."), ("confirmed", "yes")];
    if anonymous {
        form.push(("anonymous", "on"));
    }
    let page = person.post(&format!("/campaigns/{campaign}/ideas"), &form).await;
    assert_eq!(page.status, 303, "{}", page.body);
    page.location.unwrap().trim_start_matches("/ideas/").parse().unwrap()
}

async fn vote(person: &Person, idea: i64) -> u16 {
    person.post(&format!("/ideas/{idea}/vote"), &[]).await.status
}

async fn a_manager_takes_a_campaign_from_draft_to_open_and_members_submit_ideas(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.signed_up("ana").await; // the first account: admin, who runs campaigns too
    let bo = app.signed_up("bo").await;
    assert_eq!(bo.get("/campaigns/new").await.status, 403);
    assert_eq!(bo.post("/campaigns/new", &[("title", "Mine")]).await.status, 403);

    let at = now();
    let (opens, closes) = (input_time(at - 60), input_time(at + 86_400));
    let made = admin
        .post(
            "/campaigns/new",
            &[
                ("title", "Less waste"),
                ("question", "How do we cut packaging waste?"),
                ("opens_at", &opens),
                ("closes_at", &closes),
            ],
        )
        .await;
    let id: i64 = made.location.unwrap().trim_start_matches("/campaigns/").parse().unwrap();
    assert_eq!(bo.get(&format!("/campaigns/{id}")).await.status, 404, "a draft is for managers only");
    assert!(!bo.get("/campaigns").await.contains("Less waste"));
    assert!(admin.get("/campaigns").await.contains("Drafts"));
    assert_eq!(bo.post(&format!("/campaigns/{id}/publish"), &[]).await.status, 403);

    admin.post(&format!("/campaigns/{id}/publish"), &[]).await;
    assert!(bo.get("/campaigns").await.contains("Open now"));
    let home = bo.get("/").await;
    assert!(home.contains("New idea campaign: Less waste"), "publishing announces the campaign");

    let idea = submit(&bo, id, "Reusable crates", false).await;
    let page = bo.get(&format!("/ideas/{idea}")).await;
    assert!(page.contains("Reusable crates") && page.contains("Bo Example") && page.contains(">New</span>"));
    assert!(bo.get(&format!("/campaigns/{id}")).await.contains("Reusable crates"));
    let empty = bo.post(&format!("/campaigns/{id}/ideas"), &[("title", ""), ("body", "")]).await;
    assert_eq!(empty.status, 422);
    assert!(empty.contains("The title cannot be empty."));
    let long = "x".repeat(141);
    assert_eq!(
        bo.post(&format!("/campaigns/{id}/ideas"), &[("title", long.as_str()), ("body", "b")]).await.status,
        422
    );

    admin.post(&format!("/campaigns/{id}/close"), &[]).await;
    assert!(bo.get("/campaigns").await.contains("Closed"));
    assert_eq!(bo.post(&format!("/campaigns/{id}/ideas"), &[("title", "Late"), ("body", "b")]).await.status, 400);
    assert_eq!(bo.get(&format!("/campaigns/{id}/ideas/new")).await.status, 400);
}

async fn similar_ideas_are_shown_before_a_likely_duplicate_goes_in(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    let id = open_campaign(&admin, "Less waste", PLAIN).await;
    submit(&admin, id, "Reusable packaging crates", false).await;
    let first = bo
        .post(&format!("/campaigns/{id}/ideas"), &[("title", "Crates that are reusable"), ("body", "Same thing")])
        .await;
    assert_eq!(first.status, 200);
    assert!(first.contains("Similar ideas already in this campaign"));
    assert!(first.contains("Reusable packaging crates"));
    assert!(first.contains("Submit anyway") && first.contains("value=\"Crates that are reusable\""));
    let anyway = bo
        .post(
            &format!("/campaigns/{id}/ideas"),
            &[("title", "Crates that are reusable"), ("body", "Same thing"), ("confirmed", "yes")],
        )
        .await;
    assert_eq!(anyway.status, 303);
    let live = bo.get(&format!("/campaigns/{id}/similar?title=reusable%20things")).await;
    let found: serde_json::Value = serde_json::from_str(&live.body).unwrap();
    let titles: Vec<&str> = found.as_array().unwrap().iter().filter_map(|i| i["title"].as_str()).collect();
    assert!(titles.contains(&"Reusable packaging crates"), "{titles:?}");
    assert_eq!(bo.get(&format!("/campaigns/{id}/similar?title=zzzz")).await.body, "[]");
    let unrelated = bo.post(&format!("/campaigns/{id}/ideas"), &[("title", "Solar roof"), ("body", "Power")]).await;
    assert_eq!(unrelated.status, 303, "nothing similar: straight in");
}

async fn votes_count_once_keep_to_the_budget_and_stop_at_the_close(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    let id = open_campaign(&admin, "Less waste", Rules { budget: "2", ..PLAIN }).await;
    let a = submit(&admin, id, "Alpha", false).await;
    let b = submit(&admin, id, "Bravo", false).await;
    let c = submit(&admin, id, "Charlie", false).await;
    assert!(bo.get(&format!("/campaigns/{id}")).await.contains("You have <strong>2</strong> votes left."));
    assert_eq!(vote(&bo, a).await, 303);
    assert_eq!(vote(&bo, a).await, 303, "voting twice is harmless");
    assert_eq!(vote(&bo, b).await, 303);
    let page = bo.get(&format!("/ideas/{a}")).await;
    assert!(page.contains("<strong>1</strong> vote"), "counted once");
    assert!(page.contains("You have 0 votes left"));
    // With none left, the buttons say so and are disabled; the server refuses all the same, and the
    // refused vote comes back to the list it was sent from with the reason in place.
    let list = bo.get(&format!("/campaigns/{id}")).await;
    assert!(list.contains("<button type=\"submit\" disabled>No votes left</button>"), "{}", list.body);
    assert!(bo.get(&format!("/ideas/{c}")).await.contains("disabled>No votes left"));
    let back = format!("/campaigns/{id}?sort=top&stage=");
    let refused = bo.post(&format!("/ideas/{c}/vote"), &[("back", &back)]).await;
    assert_eq!(refused.status, 303);
    assert_eq!(refused.location.as_deref(), Some(format!("{back}#idea-{c}").as_str()));
    let list = bo.follow(&refused).await;
    assert!(list.contains("You have used all 2 of your votes"), "{}", list.body);
    let (refused_count,): (i64,) =
        app.db.clone().fetch_one(sql("SELECT vote_count FROM ideas WHERE id = $1").bind(c)).await.unwrap();
    assert_eq!(refused_count, 0, "the refused vote was not counted");
    bo.post(&format!("/ideas/{a}/unvote"), &[]).await;
    assert_eq!(vote(&bo, c).await, 303);
    assert!(bo.get(&format!("/ideas/{a}")).await.contains("<strong>0</strong> votes"));
    let (count, trend): (i64, i64) =
        app.db.clone().fetch_one(sql("SELECT vote_count, trend_score FROM ideas WHERE id = $1").bind(a)).await.unwrap();
    assert_eq!((count, trend), (0, 0), "taking a vote back takes its trending weight too");
    admin.post(&format!("/campaigns/{id}/close"), &[]).await;
    let late = bo.post(&format!("/ideas/{a}/vote"), &[]).await;
    assert_eq!(late.status, 400);
    assert!(late.contains("Voting is closed"));
    assert_eq!(bo.post(&format!("/ideas/{c}/unvote"), &[]).await.status, 400, "and votes stay as they were");
}

async fn hidden_counts_are_for_managers_until_the_close(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    let id = open_campaign(&admin, "Secret ballot", Rules { hide_counts: true, ..PLAIN }).await;
    let a = submit(&admin, id, "Alpha", false).await;
    vote(&bo, a).await;
    let member_view = bo.get(&format!("/campaigns/{id}?sort=top")).await;
    assert!(member_view.contains("<span class=\"muted\">hidden</span>"));
    assert!(!member_view.contains("value=\"top\""), "no sorting by hidden counts");
    assert!(bo.get(&format!("/ideas/{a}")).await.contains("Vote counts are hidden until the campaign closes."));
    assert!(bo.get(&format!("/ideas/{a}")).await.contains("Take back my vote"), "you still see your own vote");
    assert!(admin.get(&format!("/ideas/{a}")).await.contains("<strong>1</strong> vote"), "managers see counts");
    // The author's own data export hides them too.
    let b = submit(&bo, id, "Beta", false).await;
    vote(&admin, b).await;
    let export = bo.get("/settings/data.json").await;
    assert!(export.contains(r#""votes":null"#) && !export.contains(r#""votes":1"#), "{}", export.body);
    admin.post(&format!("/campaigns/{id}/close"), &[]).await;
    assert!(bo.get(&format!("/ideas/{a}")).await.contains("<strong>1</strong> vote"), "after the close everyone does");
    assert!(bo.get("/settings/data.json").await.contains(r#""votes":1"#));
}

async fn managers_move_ideas_with_a_reason_and_answer_them_and_people_are_told(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    let cy = app.signed_up("cy").await;
    let id = open_campaign(&admin, "Less waste", PLAIN).await;
    let idea = submit(&bo, id, "Reusable crates", false).await;
    vote(&cy, idea).await;
    let review = [("stage", "under_review"), ("reason", "Checking the costs")];
    assert_eq!(admin.post(&format!("/ideas/{idea}/stage"), &review).await.status, 303);
    assert_eq!(
        bo.post(&format!("/ideas/{idea}/stage"), &[("stage", "selected"), ("reason", "I like it")]).await.status,
        403
    );
    assert_eq!(admin.post(&format!("/ideas/{idea}/stage"), &[("stage", "selected"), ("reason", "")]).await.status, 400);
    assert_eq!(
        admin.post(&format!("/ideas/{idea}/stage"), &[("stage", "merged"), ("reason", "nope")]).await.status,
        400
    );
    let moved = admin
        .post(&format!("/ideas/{idea}/stage"), &[("stage", "selected"), ("reason", "Cheap and quick to try")])
        .await;
    assert_eq!(moved.status, 303);
    let page = bo.get(&format!("/ideas/{idea}")).await;
    assert!(page.contains(">Selected</span>"));
    assert!(page.contains("Under review → Selected</strong> by Ana Example"));
    assert!(page.contains("Cheap and quick to try"));
    // Each notification names the stage and the reason it was sent for.
    for person in [&bo, &cy] {
        let page = person.get("/notifications").await;
        assert!(page.contains("moved the idea “Reusable crates” to Selected"), "{}", page.body);
        assert!(page.contains("moved the idea “Reusable crates” to Under review"), "{}", page.body);
        assert!(page.contains("Checking the costs") && page.contains("Cheap and quick to try"));
    }
    assert_eq!(bo.post(&format!("/ideas/{idea}/response"), &[("response", "Mine")]).await.status, 403);
    admin.post(&format!("/ideas/{idea}/response"), &[("response", "We will pilot this in Lyon.")]).await;
    let page = cy.get(&format!("/ideas/{idea}")).await;
    assert!(page.contains("Official response from Ana Example") && page.contains("We will pilot this in Lyon."));
    assert!(bo.get("/notifications").await.contains("answered your idea"));
    let filtered = cy.get(&format!("/campaigns/{id}?stage=selected")).await;
    assert!(filtered.contains("Reusable crates"));
    assert!(!cy.get(&format!("/campaigns/{id}?stage=declined")).await.contains("Reusable crates"));
}

async fn a_merge_moves_each_voter_once_and_undoing_it_restores_the_votes(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.signed_up("ana").await;
    let (u1, u2, u3) = (app.signed_up("u1").await, app.signed_up("u2").await, app.signed_up("u3").await);
    let id = open_campaign(&admin, "Less waste", PLAIN).await;
    let dup = submit(&u1, id, "Crates again", false).await;
    let target = submit(&u2, id, "Reusable crates", false).await;
    assert!(u3.get("/campaigns").await.contains("2 ideas"), "the campaigns page counts both");
    for (person, idea) in [(&u1, dup), (&u2, dup), (&u2, target), (&u3, target)] {
        assert_eq!(vote(person, idea).await, 303);
    }
    assert_eq!(u1.post(&format!("/ideas/{dup}/merge"), &[("target", &target.to_string())]).await.status, 403);
    assert_eq!(admin.post(&format!("/ideas/{dup}/merge"), &[("target", &dup.to_string())]).await.status, 400);
    let merged = admin.post(&format!("/ideas/{dup}/merge"), &[("target", &target.to_string())]).await;
    assert_eq!(merged.status, 303);
    let target_page = u3.get(&format!("/ideas/{target}")).await;
    assert!(target_page.contains("<strong>3</strong> votes"), "u1, u2 and u3, each once");
    assert!(target_page.contains("Merged into this idea"));
    let dup_page = u3.get(&format!("/ideas/{dup}")).await;
    assert!(dup_page.contains(">Merged</span>") && dup_page.contains("vote there"));
    assert_eq!(vote(&u3, dup).await, 400, "a merged idea takes no votes");
    assert!(!u3.get(&format!("/campaigns/{id}")).await.contains("Crates again"), "the duplicate leaves the list");
    let campaigns = u3.get("/campaigns").await;
    assert!(
        campaigns.contains("1 idea\n") && !campaigns.contains("2 ideas"),
        "a merged idea is not counted: {}",
        campaigns.body
    );
    let (shown, trend): (i64, i64) = app
        .db
        .clone()
        .fetch_one(sql("SELECT vote_count, trend_score FROM ideas WHERE id = $1").bind(target))
        .await
        .unwrap();
    assert_eq!((shown, trend), (3, 12), "trending follows the merge: 3 votes, all this week");

    assert_eq!(admin.post(&format!("/ideas/{dup}/unmerge"), &[]).await.status, 303);
    assert!(u3.get(&format!("/ideas/{target}")).await.contains("<strong>2</strong> votes"));
    let dup_page = u3.get(&format!("/ideas/{dup}")).await;
    assert!(dup_page.contains("<strong>2</strong> votes") && dup_page.contains(">New</span>"));
    assert_eq!(admin.post(&format!("/ideas/{dup}/unmerge"), &[]).await.status, 400);
}

async fn an_anonymous_idea_hides_its_author_everywhere_but_an_audited_admin_reveal(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.signed_up("ana").await;
    let shy = app.signed_up("shy_person").await;
    let manager = app.signed_up("mo").await;
    let peer = app.signed_up("pe").await;
    townhall::accounts::store::set_role(&mut app.db.clone(), "mo", Role::Manager).await.unwrap();
    let plain = open_campaign(&admin, "Named only", PLAIN).await;
    let refused =
        shy.post(&format!("/campaigns/{plain}/ideas"), &[("title", "T"), ("body", "B"), ("anonymous", "on")]).await;
    assert_eq!(refused.status, 422);
    assert!(refused.contains("does not take anonymous ideas"));

    let id = open_campaign(&manager, "Speak freely", Rules { anonymous: true, ..PLAIN }).await;
    let idea = submit(&shy, id, "Fix the broken process", true).await;
    admin.post(&format!("/ideas/{idea}/stage"), &[("stage", "under_review"), ("reason", "Looking into it")]).await;
    let name = "Shy_person Example";
    for (who, person) in [("peer", &peer), ("manager", &manager), ("admin", &admin)] {
        for path in [format!("/ideas/{idea}"), format!("/campaigns/{id}")] {
            let page = person.get(&path).await;
            assert!(page.contains("Anonymous"), "{who} {path}");
            assert!(!page.contains(name) && !page.contains("@shy_person"), "{who} sees the author on {path}");
        }
    }
    for format in ["ideas.csv", "ideas.json"] {
        let export = manager.get(&format!("/campaigns/{id}/export/{format}")).await;
        assert!(export.contains("anonymous") && !export.contains("shy_person"), "{format}");
    }
    assert!(shy.get(&format!("/ideas/{idea}")).await.contains("You (anonymous to everyone else)"));
    assert!(shy.get("/notifications").await.contains("moved the idea"), "the author is still told");

    assert_eq!(manager.post(&format!("/ideas/{idea}/reveal"), &[("reason", "I want to know who")]).await.status, 403);
    assert_eq!(admin.post(&format!("/ideas/{idea}/reveal"), &[("reason", "short")]).await.status, 400);
    let revealed =
        admin.post(&format!("/ideas/{idea}/reveal"), &[("reason", "Harassment complaint #1234 needs follow-up")]).await;
    assert_eq!(revealed.status, 200);
    assert!(revealed.contains("Written by Shy_person Example (@shy_person)"));
    let audit: Vec<(String, String, String)> = app
        .db
        .clone()
        .fetch_all(sql("SELECT a.action, a.reason, u.username FROM audit_log a JOIN users u ON u.id = a.actor_id WHERE a.object_id = $1").bind(idea))
        .await
        .unwrap();
    assert_eq!(
        audit,
        vec![("reveal_author".into(), "Harassment complaint #1234 needs follow-up".into(), "ana".into())]
    );
    assert!(
        !admin.get(&format!("/ideas/{idea}")).await.contains(name),
        "the reveal is shown once, not kept on the page"
    );
}

async fn exports_open_in_a_spreadsheet_and_carry_the_history(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    let id = open_campaign(&admin, "Less waste", PLAIN).await;
    let risky = submit(&bo, id, "=HYPERLINK(\"http://evil\",\"click\")", false).await;
    let quoted = submit(&bo, id, "Crates, \"reusable\" ones", false).await;
    vote(&admin, quoted).await;
    admin.post(&format!("/ideas/{quoted}/stage"), &[("stage", "selected"), ("reason", "Good one")]).await;
    assert_eq!(bo.get(&format!("/campaigns/{id}/export/ideas.csv")).await.status, 403);

    let csv = admin.get(&format!("/campaigns/{id}/export/ideas.csv")).await;
    assert_eq!(csv.status, 200);
    assert!(csv.headers["content-type"].to_str().unwrap().starts_with("text/csv"));
    assert!(csv.body.starts_with("\u{feff}id,title,description,author,stage,votes"));
    assert!(csv.contains(&format!("\"{risky}\",\"'=HYPERLINK(\"\"http://evil\"\",\"\"click\"\")\"")));
    assert!(
        csv.contains(&format!(
            "\"{quoted}\",\"Crates, \"\"reusable\"\" ones\",\"Details of the idea.\",\"Bo Example (@bo)\",\"Selected\",\"1\""
        ))
    );
    assert!(csv.body.ends_with("\r\n"));

    let json = admin.get(&format!("/campaigns/{id}/export/ideas.json")).await;
    let value: serde_json::Value = serde_json::from_str(&json.body).expect("valid JSON");
    let ideas = value["ideas"].as_array().unwrap();
    assert_eq!(ideas.len(), 2);
    let selected = ideas.iter().find(|i| i["id"] == quoted).unwrap();
    assert_eq!(selected["votes"], 1);
    assert_eq!(selected["stage_history"][0]["to"], "selected");
    assert_eq!(selected["stage_history"][0]["reason"], "Good one");
    assert_eq!(value["campaign"]["title"], "Less waste");
    assert_eq!(admin.get(&format!("/campaigns/{id}/export/ideas.xml")).await.status, 404);
}

async fn votes_stay_correct_under_many_parallel_requests(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.signed_up("ana").await;
    let id = open_campaign(&admin, "Rush", Rules { budget: "3", ..PLAIN }).await;
    let mut ideas = Vec::new();
    for n in 0..6 {
        ideas.push(submit(&admin, id, &format!("Idea number {n} of many"), false).await);
    }
    let mut voters = Vec::new();
    for n in 0..6 {
        voters.push(app.signed_up(&format!("voter{n}")).await);
    }
    // Every voter fires votes for all six ideas, twice each, plus unvotes, all at once.
    let mut tasks = Vec::new();
    for voter in &voters {
        for round in 0..2 {
            for idea in &ideas {
                let client = voter.client.clone();
                let base = app.base.clone();
                let action = if round == 1 && idea % 3 == 0 { "unvote" } else { "vote" };
                let url = format!("{base}/ideas/{idea}/{action}");
                tasks.push(tokio::spawn(async move {
                    client
                        .post(url)
                        .header("origin", base)
                        .form(&[("back", "")])
                        .send()
                        .await
                        .map(|r| r.status().as_u16())
                }));
            }
        }
    }
    for task in tasks {
        let status = task.await.unwrap().expect("the server answered");
        assert!(status == 303 || status == 400, "every answer is an accepted vote or a refusal: {status}");
    }
    let mut db = app.db.clone();
    let per_voter: Vec<(i64, i64)> = db
        .fetch_all(sql("SELECT user_id, COUNT(*) FROM idea_votes WHERE campaign_id = $1 GROUP BY user_id").bind(id))
        .await
        .unwrap();
    assert_eq!(per_voter.len(), 6, "every voter got some votes in");
    assert!(per_voter.iter().all(|(_, n)| *n <= 3), "no budget exceeded: {per_voter:?}");
    let counts: Vec<(i64, i64, i64)> = db
        .fetch_all(
            sql("SELECT i.id, i.vote_count, (SELECT COUNT(*) FROM idea_votes v WHERE v.idea_id = i.id) FROM ideas i WHERE i.campaign_id = $1")
                .bind(id),
        )
        .await
        .unwrap();
    for (idea, shown, real) in counts {
        assert_eq!(shown, real, "idea {idea}: the count shown equals the votes stored");
    }
}

async fn comments_thread_one_level_deep(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    let id = open_campaign(&admin, "Less waste", PLAIN).await;
    let idea = submit(&admin, id, "Reusable crates", false).await;
    bo.post(&format!("/ideas/{idea}/comments"), &[("body", "Who cleans them?")]).await;
    let page = admin.get(&format!("/ideas/{idea}")).await;
    let first: String =
        page.body.split("id=\"comment-").nth(1).unwrap().chars().take_while(char::is_ascii_digit).collect();
    admin.post(&format!("/ideas/{idea}/comments"), &[("body", "The supplier does."), ("parent_id", &first)]).await;
    let page = admin.get(&format!("/ideas/{idea}")).await;
    let second: String =
        page.body.split("id=\"comment-").nth(2).unwrap().chars().take_while(char::is_ascii_digit).collect();
    // Answering an answer stays under the same top-level comment.
    bo.post(&format!("/ideas/{idea}/comments"), &[("body", "Great, thanks."), ("parent_id", &second)]).await;
    let page = bo.get(&format!("/ideas/{idea}")).await;
    assert!(page.contains("Discussion (3)"));
    assert_eq!(page.body.matches("class=\"comment reply\"").count(), 2);
    assert!(admin.get("/notifications").await.contains("commented on your idea"));
    let empty = bo.post(&format!("/ideas/{idea}/comments"), &[("body", "  ")]).await;
    assert_eq!(empty.status, 422);
    assert!(empty.contains("A comment cannot be empty."));
}

async fn a_community_campaign_is_for_its_members(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    let eve = app.signed_up("eve").await;
    admin.post("/communities/new", &[("name", "Lab"), ("slug", "lab"), ("visibility", "private")]).await;
    admin.post("/c/lab/invite", &[("username", "bo")]).await;
    bo.post("/c/lab/join", &[]).await;
    let id = open_campaign(&admin, "Lab ideas", Rules { community: "lab", ..PLAIN }).await;
    assert!(bo.get("/campaigns").await.contains("Lab ideas"));
    let idea = submit(&bo, id, "Better microscopes", false).await;
    assert!(!eve.get("/campaigns").await.contains("Lab ideas"));
    assert_eq!(eve.get(&format!("/campaigns/{id}")).await.status, 404);
    assert_eq!(eve.get(&format!("/ideas/{idea}")).await.status, 404);
    assert_eq!(vote(&eve, idea).await, 404);
    app.delivered().await;
    assert!(!eve.get("/").await.contains("Lab ideas"), "the announcement stays in the private community");
    let unknown = admin
        .post(
            "/campaigns/new",
            &[
                ("title", "T"),
                ("question", "Q"),
                ("community", "nowhere"),
                ("opens_at", &input_time(now())),
                ("closes_at", &input_time(now() + 60)),
            ],
        )
        .await;
    assert_eq!(unknown.status, 422);
    assert!(unknown.contains("No community has the address “nowhere”."));
}

async fn a_post_of_yours_becomes_an_idea_and_links_to_it(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    let id = open_campaign(&admin, "Less waste", PLAIN).await;
    bo.write_post("Refill stations for water\nInstead of bottles in every meeting room.").await;
    let post = common::post_ids(&bo.get("/@bo").await.body)[0];
    assert!(bo.get("/@bo").await.contains(&format!("href=\"/posts/{post}/idea\"")));
    assert_eq!(admin.get(&format!("/posts/{post}/idea")).await.status, 403, "only the author");
    let form = bo.get(&format!("/posts/{post}/idea")).await;
    assert!(form.contains("value=\"Refill stations for water\"") && form.contains("Less waste"));
    let refused =
        bo.post(&format!("/posts/{post}/idea"), &[("campaign", ""), ("title", "Refill"), ("body", "b")]).await;
    assert_eq!(refused.status, 422);
    assert!(refused.contains("Choose an open campaign."));
    let made = bo
        .post(
            &format!("/posts/{post}/idea"),
            &[("campaign", &id.to_string()), ("title", "Refill stations"), ("body", "Instead of bottles.")],
        )
        .await;
    assert_eq!(made.status, 303);
    let idea = made.location.unwrap();
    assert!(bo.get(&idea).await.contains("Refill stations"));
    let feed = admin.get("/all").await;
    assert!(feed.contains(&format!("href=\"{idea}\" class=\"idea-link\"")), "the post links to its idea");
    assert_eq!(bo.get(&format!("/posts/{post}/idea")).await.status, 400, "once only");
}

async fn the_dashboard_shows_activity_departments_the_funnel_and_top_ideas_to_managers(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    let cy = app.signed_up("cy").await;
    let hidden = app.signed_up("hid").await;
    let profile = |dept: &'static str| {
        [("display_name", "X"), ("job_title", ""), ("department", dept), ("location", ""), ("bio", "")]
    };
    bo.post("/settings/profile", &profile("Logistics")).await;
    cy.post("/settings/profile", &profile("Finance")).await;
    hidden.post("/settings/profile", &profile("Secret Unit")).await;
    let id = open_campaign(&admin, "Less waste", Rules { anonymous: true, ..PLAIN }).await;
    let a = submit(&bo, id, "Reusable crates", false).await;
    submit(&hidden, id, "Anonymous thought", true).await;
    vote(&cy, a).await;
    vote(&bo, a).await;
    admin.post(&format!("/ideas/{a}/stage"), &[("stage", "implemented"), ("reason", "Done in Lyon")]).await;
    assert_eq!(bo.get(&format!("/campaigns/{id}/dashboard")).await.status, 403);
    let page = admin.get(&format!("/campaigns/{id}/dashboard")).await;
    assert_eq!(page.status, 200);
    assert!(page.contains("<svg class=\"chart\""));
    assert!(page.contains("2 ideas, 1 implemented (50% conversion)"));
    assert!(page.contains("<td>2</td><td>2</td><td>0</td><td>3</td>"), "today: 2 ideas, 2 votes, 0 comments, 3 people");
    assert!(
        page.contains("<th scope=\"row\">Logistics</th><td>1</td>")
            && page.contains("<th scope=\"row\">Finance</th><td>1</td>")
    );
    assert!(!page.contains("Secret Unit"), "an anonymous author's department is not shown");
    assert!(page.contains("<th scope=\"row\">Implemented</th><td>1</td>"));
    assert!(
        page.contains(&format!("<a href=\"/ideas/{a}\">Reusable crates</a> <span class=\"muted\">(2 votes)</span>"))
    );
}

async fn trending_weighs_this_weeks_votes_over_older_ones(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.signed_up("ana").await;
    let id = open_campaign(&admin, "Less waste", PLAIN).await;
    let old = submit(&admin, id, "Older favourite", false).await;
    let fresh = submit(&admin, id, "Rising star", false).await;
    for n in 0..3 {
        vote(&app.signed_up(&format!("old{n}")).await, old).await;
    }
    for n in 0..2 {
        vote(&app.signed_up(&format!("new{n}")).await, fresh).await;
    }
    // A month passes for the first idea's votes, and the background refresh runs.
    let mut db = app.db.clone();
    db.execute(sql("UPDATE idea_votes SET created_at = created_at - 30 * 86400 WHERE idea_id = $1").bind(old))
        .await
        .unwrap();
    townhall::ideas::store::refresh_trending(&mut db).await.unwrap();
    let order = |page: &str| (page.find("Older favourite").unwrap(), page.find("Rising star").unwrap());
    let (older, rising) = order(&admin.get(&format!("/campaigns/{id}?sort=trending")).await.body);
    assert!(rising < older, "2 votes this week beat 3 votes a month ago");
    let (older, rising) = order(&admin.get(&format!("/campaigns/{id}?sort=top")).await.body);
    assert!(older < rising, "top still counts every vote");
}

async fn a_manager_edits_a_campaign_and_a_refused_edit_keeps_its_input(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    let id = open_campaign(&admin, "Less waste", Rules { budget: "2", ..PLAIN }).await;
    let form = admin.get(&format!("/campaigns/{id}/edit")).await;
    assert!(form.contains("value=\"Less waste\"") && form.contains("name=\"vote_budget\" type=\"number\" value=\"2\""));
    assert_eq!(bo.get(&format!("/campaigns/{id}/edit")).await.status, 403);
    let (opens, closes) = (input_time(now() - 3600), input_time(now() + 86_400));
    let bad = admin
        .post(
            &format!("/campaigns/{id}/edit"),
            &[("title", "Zero waste"), ("question", "Q?"), ("opens_at", &closes), ("closes_at", &opens)],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.contains("The campaign must close after it opens.") && bad.contains("value=\"Zero waste\""));
    let saved = admin
        .post(
            &format!("/campaigns/{id}/edit"),
            &[
                ("title", "Zero waste"),
                ("question", "How do we get to zero?"),
                ("opens_at", &opens),
                ("closes_at", &closes),
                ("vote_budget", "5"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303);
    let page = bo.get(&format!("/campaigns/{id}")).await;
    assert!(
        page.contains("Zero waste") && page.contains("How do we get to zero?") && page.contains("5 votes per person")
    );
}
