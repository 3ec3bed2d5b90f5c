//! A persona's first hours: error pages that keep the person's header and a way back, campaigns that
//! open when published, invitation links that work as shown, accounts made by admins, and reset links.

mod common;

use common::{Engine, Person, TestApp};
use townhall::accounts::Role;
use townhall::db::now;
use townhall::ideas::input_time;

on_both_engines!(
    error_pages_keep_the_persons_header_and_a_way_back,
    publishing_opens_the_campaign_now_unless_the_planned_start_is_chosen,
    admins_create_accounts_from_a_csv_and_each_person_sets_a_password_by_link,
    a_reset_link_works_once_and_signs_out_the_other_devices,
    invitation_links_are_absolute_say_whom_they_are_for_and_stop_when_sign_up_closes,
    the_admin_people_table_filters_by_role_and_pages,
    mention_suggestions_are_json_for_signed_in_people_and_limited,
    idea_comments_link_mentions_and_tell_whom_they_concern,
    people_edit_and_delete_their_own_comments,
    authors_edit_or_withdraw_an_idea_until_a_manager_takes_it_on,
    a_merged_ideas_author_and_voters_are_told,
    times_show_and_are_typed_in_each_persons_time_zone,
);

/// A published campaign open now, with a budget of 3 votes; returns its id.
async fn open_campaign(manager: &Person, title: &str) -> i64 {
    let id = draft_campaign(manager, title, 0).await;
    let form = [("opens", "now")];
    assert_eq!(manager.post(&format!("/campaigns/{id}/publish"), &form).await.status, 303);
    id
}

async fn submit_idea(person: &Person, campaign: i64, title: &str) -> i64 {
    let form = [("title", title), ("body", "Details."), ("confirmed", "yes")];
    let page = person.post(&format!("/campaigns/{campaign}/ideas"), &form).await;
    assert_eq!(page.status, 303, "{}", page.body);
    page.location.unwrap().trim_start_matches("/ideas/").parse().unwrap()
}

/// The lines of someone's notifications page, as text.
async fn notifications(person: &Person) -> String {
    person.get("/notifications").await.body
}

/// The value of the first `<input ... readonly value="…">` copy field on a page.
fn copy_fields(page: &common::Page) -> Vec<String> {
    page.body
        .match_indices(r#"readonly value=""#)
        .map(|(at, m)| page.body[at + m.len()..].split('"').next().unwrap_or_default().replace("&#x2f;", "/"))
        .collect()
}

/// The path of an absolute link on this test server.
fn path_of(app: &TestApp, link: &str) -> String {
    link.strip_prefix(&app.base).unwrap_or_else(|| panic!("{link} is not an absolute link to {}", app.base)).to_owned()
}

async fn promote(app: &TestApp, username: &str, role: Role) {
    townhall::accounts::store::set_role(&mut app.db.clone(), username, role).await.unwrap();
}

/// A draft campaign planned to open in `opens_in` seconds, 3 votes per person; returns its id.
async fn draft_campaign(manager: &Person, title: &str, opens_in: i64) -> i64 {
    let at = now();
    let (opens, closes) = (input_time(at + opens_in), input_time(at + 14 * 86_400));
    let form = [
        ("title", title),
        ("question", "How do we cut waste?"),
        ("opens_at", &opens),
        ("closes_at", &closes),
        ("vote_budget", "3"),
    ];
    let made = manager.post("/campaigns/new", &form).await;
    assert_eq!(made.status, 303, "{}", made.body);
    made.location.unwrap().trim_start_matches("/campaigns/").parse().unwrap()
}

async fn error_pages_keep_the_persons_header_and_a_way_back(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ana = app.signed_up("ana").await;
    let signed_in = |page: &common::Page| {
        page.contains("Ana Example") && page.contains("Sign out") && !page.contains(r#"href="/signup""#)
    };

    let missing = ana.get("/posts/999999").await;
    assert_eq!(missing.status, 404);
    assert!(signed_in(&missing), "a 404 keeps the header and menu: {}", missing.body);
    assert!(missing.contains(r#"<a href="/">Home</a>"#));

    // Coming from a page, the way back is that page.
    let response = ana
        .client
        .get(format!("{}/posts/999999", app.base))
        .header("referer", format!("{}/all", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let body = response.text().await.unwrap();
    assert!(body.contains(r#"<a href="/all">Back to the page you came from</a>"#), "{body}");

    // Another site's page is not offered as the way back.
    let response = ana
        .client
        .get(format!("{}/posts/999999", app.base))
        .header("referer", "https://elsewhere.example/all")
        .send()
        .await
        .unwrap();
    assert!(!response.text().await.unwrap().contains("Back to the page you came from"));

    // Without one, the campaign or thread the address belongs to.
    let refused = ana.post("/campaigns/999999/publish", &[]).await;
    assert_eq!(refused.status, 404);
    assert!(signed_in(&refused), "{}", refused.body);
    assert!(refused.contains(r#"<a href="/campaigns/999999">Back to the campaign</a>"#), "{}", refused.body);

    // The framework's own refusals (a POST-only address opened, a form without its type) become pages too.
    let wrong_method = ana.get("/posts/1/like").await;
    assert_eq!(wrong_method.status, 405);
    assert!(signed_in(&wrong_method) && wrong_method.contains("does not take that kind of request"));
    let response = ana
        .client
        .post(format!("{}/posts/1/like", app.base))
        .header("origin", &app.base)
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);
    let body = response.text().await.unwrap();
    assert!(body.contains("Ana Example") && body.contains("That did not work"), "{body}");

    // Someone signed out still gets the plain page.
    let stranger = app.person();
    let page = stranger.get("/login?next=%2F").await;
    assert_eq!(page.status, 200);
}

async fn publishing_opens_the_campaign_now_unless_the_planned_start_is_chosen(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let manager = app.signed_up("mia").await;
    promote(&app, "mia", Role::Manager).await;
    let bo = app.signed_up("bo").await;

    // The community is picked from a list of names.
    let made = manager
        .post(
            "/communities/new",
            &[("name", "Plant Two"), ("slug", "plant2"), ("description", ""), ("visibility", "public")],
        )
        .await;
    assert_eq!(made.status, 303, "{}", made.body);
    let form = manager.get("/campaigns/new").await;
    assert!(form.contains(r#"<option value="plant2">Members of Plant Two</option>"#), "{}", form.body);
    assert!(form.contains(r#"<option value="" selected>The whole company</option>"#));

    // Planned for tomorrow; published with the default choice, it opens now.
    let soon = draft_campaign(&manager, "Less waste", 86_400).await;
    let draft = manager.get(&format!("/campaigns/{soon}")).await;
    assert!(draft.contains(r#"value="now" checked"#), "open now is the default: {}", draft.body);
    let published = manager.post(&format!("/campaigns/{soon}/publish"), &[("opens", "now")]).await;
    assert_eq!(published.status, 303);
    let page = bo.get(&format!("/campaigns/{soon}")).await;
    assert!(page.contains("Idea campaign · Open") && page.contains("Submit an idea"), "{}", page.body);
    let home = bo.get("/").await;
    assert!(home.contains("New idea campaign: Less waste") && home.contains("Open until"), "{}", home.body);
    let idea = bo
        .post(&format!("/campaigns/{soon}/ideas"), &[("title", "Crates"), ("body", "Reusable."), ("confirmed", "yes")])
        .await;
    assert_eq!(idea.status, 303, "ideas go in at once: {}", idea.body);

    // The planned start chosen: it waits, and the announcement says when it opens.
    let later = draft_campaign(&manager, "Fewer meetings", 86_400).await;
    assert_eq!(manager.post(&format!("/campaigns/{later}/publish"), &[("opens", "planned")]).await.status, 303);
    let page = bo.get(&format!("/campaigns/{later}")).await;
    assert!(page.contains("Opens soon") && !page.contains("Submit an idea"), "{}", page.body);
    let home = bo.get("/").await;
    assert!(home.contains("New idea campaign: Fewer meetings") && home.contains("Opens "), "{}", home.body);

    // Publishing twice announces once.
    assert_eq!(manager.post(&format!("/campaigns/{later}/publish"), &[]).await.status, 400);
    assert_eq!(bo.get("/").await.body.matches("New idea campaign: Fewer meetings").count(), 1);
}

async fn admins_create_accounts_from_a_csv_and_each_person_sets_a_password_by_link(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.signed_up("ada").await;
    let bo = app.signed_up("bo").await;
    assert_eq!(bo.get("/admin/users/new").await.status, 403);
    assert!(admin.get("/admin/users").await.contains(r#"href="/admin/users/new""#));

    let csv = "name,e-mail,department\n\"Lee, Ana\",ana.lee@acme.example,Sales\nCem Kaya;cem@acme.example;Plant 2\n\
               Bad Line,not-an-address,\nBo Again,bo@example.com,";
    let made = admin.post("/admin/users/new", &[("csv", csv)]).await;
    assert_eq!(made.status, 200, "{}", made.body);
    let links = copy_fields(&made);
    assert_eq!(links.len(), 2, "two accounts made: {}", made.body);
    assert!(made.contains("@ana_lee") && made.contains("@cem"), "{}", made.body);
    assert!(made.contains("Line 4: Not made."), "a bad address is named by its line");
    assert!(made.contains("Line 5: Not made. An account with this e-mail address exists already."));
    assert!(made.contains(r#"data-copy="link-"#), "a copy button beside each link");

    // The person opens the link, chooses a password and is in; the directory has their department.
    let ana = app.person();
    let welcome = ana.get(&path_of(&app, &links[0])).await;
    assert_eq!(welcome.status, 200);
    assert!(welcome.contains("Set your password") && welcome.contains("ana_lee"), "{}", welcome.body);
    let short = ana.post(&path_of(&app, &links[0]), &[("new_password", "short"), ("confirm_password", "short")]).await;
    assert_eq!(short.status, 422);
    let form = [("new_password", "a fine new password"), ("confirm_password", "a fine new password")];
    let set = ana.post(&path_of(&app, &links[0]), &form).await;
    assert_eq!(set.status, 303, "{}", set.body);
    let home = ana.get("/").await;
    assert!(home.contains("Lee, Ana") && home.contains("Your password is set"), "{}", home.body);
    assert!(ana.get("/@ana_lee").await.contains("Sales"));
    // The link works once; the password works from anywhere.
    let again = app.person().get(&path_of(&app, &links[0])).await;
    assert_eq!(again.status, 410);
    assert!(again.contains("This link no longer works"));
    assert_eq!(app.person().sign_in("ana.lee@acme.example", "a fine new password").await.status, 303);
    // Before its link is used, an account cannot be signed in to with any password.
    assert_ne!(app.person().sign_in("cem", "!").await.status, 303);
    assert_ne!(app.person().sign_in("cem", "").await.status, 303);

    // One person from the single fields.
    let one = admin.post("/admin/users/new", &[("name", "Dee Diaz"), ("email", "dee@acme.example")]).await;
    assert_eq!(copy_fields(&one).len(), 1, "{}", one.body);
    let empty = admin.post("/admin/users/new", &[("csv", "")]).await;
    assert_eq!(empty.status, 422);

    let audit = admin.get("/admin/audit").await;
    assert!(audit.contains("user.create") && audit.contains("password_link.welcome"), "{}", audit.body);
}

async fn a_reset_link_works_once_and_signs_out_the_other_devices(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.signed_up("ada").await;
    let bo = app.signed_up("bo").await;
    assert_eq!(bo.post("/admin/users/ada/reset-link", &[]).await.status, 403);

    let first = admin.post("/admin/users/bo/reset-link", &[]).await;
    assert_eq!(first.status, 200);
    let first = copy_fields(&first).remove(0);
    let page = admin.post("/admin/users/bo/reset-link", &[]).await;
    assert!(page.contains("Any earlier link for this account no longer works"));
    let link = copy_fields(&page).remove(0);
    assert_eq!(app.person().get(&path_of(&app, &first)).await.status, 410, "a newer link replaces the older");

    let phone = app.person();
    let form = [("new_password", "another good password"), ("confirm_password", "another good password")];
    assert_eq!(phone.post(&path_of(&app, &link), &form).await.status, 303);
    assert!(phone.get("/").await.contains("Bo Example"), "the link signs its user in");
    // Bo's old session is over, the old password too; the link is spent.
    assert_eq!(bo.get("/").await.status, 303, "the other device is signed out");
    assert_ne!(app.person().sign_in("bo", common::PASSWORD).await.status, 303);
    assert_eq!(app.person().sign_in("bo", "another good password").await.status, 303);
    assert_eq!(app.person().post(&path_of(&app, &link), &form).await.status, 410);
    let audit = admin.get("/admin/audit").await;
    assert!(audit.contains("password_link.reset") && audit.contains("password.set_by_link"), "{}", audit.body);

    // The command line makes the same kind of link.
    let url = app.config.database_url.clone();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_townhall"))
            .args(["user", "reset-password", "@Bo"])
            .env("DATABASE_URL", url)
            .env("TOWNHALL_PUBLIC_URL", "https://townhall.acme.example")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed = String::from_utf8_lossy(&out.stdout);
    let link = printed.lines().find_map(|l| l.strip_prefix("https://townhall.acme.example")).expect(&printed);
    let form = [("new_password", "a third good password"), ("confirm_password", "a third good password")];
    assert_eq!(app.person().post(link, &form).await.status, 303);
    assert_eq!(app.person().sign_in("bo", "a third good password").await.status, 303);
}

async fn invitation_links_are_absolute_say_whom_they_are_for_and_stop_when_sign_up_closes(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.signed_up("ada").await;
    let made = admin.post("/invitations", &[("days", "7"), ("note", "Cem from the plant")]).await;
    assert_eq!(made.status, 200, "{}", made.body);
    let link = copy_fields(&made).remove(0);
    assert!(link.starts_with(&format!("{}/signup?invite=", app.base)), "an absolute link: {link}");
    assert!(made.contains("Send this link to Cem from the plant") && made.contains(r#"data-copy="invitation-link""#));
    let list = admin.get("/invitations").await;
    assert!(list.contains("Cem from the plant") && list.contains("open until"), "{}", list.body);
    let signup = app.person().get(&path_of(&app, &link)).await;
    assert_eq!(signup.status, 200, "the link opens the sign-up form");

    // Closed sign-up: the invitation stops working, and no new ones are made.
    let settings =
        [("name", "Townhall"), ("welcome", ""), ("max_post_chars", "1000"), ("signup", "closed"), ("domains", "")];
    assert_eq!(admin.post("/admin/settings", &settings).await.status, 303);
    let cem = app.person();
    assert_eq!(cem.get(&path_of(&app, &link)).await.status, 403);
    let token = link.split("invite=").nth(1).unwrap();
    let form = [
        ("username", "cem"),
        ("display_name", "Cem"),
        ("email", "cem@example.com"),
        ("password", common::PASSWORD),
        ("invite", token),
    ];
    assert_eq!(cem.post("/signup", &form).await.status, 403);
    assert_eq!(admin.post("/invitations", &[("days", "7")]).await.status, 400);
    assert!(admin.get("/invitations").await.contains("invitation links do not work"));
}

async fn the_admin_people_table_filters_by_role_and_pages(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.signed_up("ada").await;
    let csv: String = (0..55).map(|i| format!("Person {i},p{i:02}@acme.example,\n")).collect();
    assert_eq!(copy_fields(&admin.post("/admin/users/new", &[("csv", &csv)]).await).len(), 55);
    promote(&app, "p07", Role::Manager).await;
    let page = admin.get("/admin/users?role=manager").await;
    assert!(page.contains("<table") && page.contains("@p07"), "{}", page.body);
    assert!(!page.contains("@p08"));
    let all = admin.get("/admin/users").await;
    assert!(all.contains("More people") && all.contains("@p40") && !all.contains("@p54"));
    assert_eq!(admin.get("/admin/users?role=emperor").await.status, 400);
}

async fn mention_suggestions_are_json_for_signed_in_people_and_limited(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ana = app.signed_up("ana").await;
    let csv = "Bo Lund,bo@acme.example,\nAnna Bolt,anna@acme.example,\nCy Gone,cy@acme.example,";
    assert_eq!(copy_fields(&ana.post("/admin/users/new", &[("csv", csv)]).await).len(), 3);
    let delete = [("mode", "anonymise"), ("reason", "Left the company"), ("confirm", "cy")];
    assert_eq!(ana.post("/admin/users/cy/delete", &delete).await.status, 303);

    let found = ana.get("/people/suggest?q=bo").await;
    assert_eq!(found.status, 200);
    assert!(found.headers["content-type"].to_str().unwrap().starts_with("application/json"));
    let people: Vec<serde_json::Value> = serde_json::from_str(&found.body).unwrap();
    let names: Vec<&str> = people.iter().map(|p| p["username"].as_str().unwrap()).collect();
    assert_eq!(names, ["bo", "anna"], "usernames first, then a word of the name: {}", found.body);
    assert_eq!(people[0]["name"], "Bo Lund");
    let gone = ana.get("/people/suggest?q=cy").await;
    assert_eq!(gone.body, "[]", "former employees are not suggested");
    let typed_at = ana.get("/people/suggest?q=%40ann").await;
    assert!(typed_at.body.contains("Anna Bolt"));

    let bad = ana.get("/people/suggest?q=").await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("\"error\""), "{}", bad.body);
    let stranger = app.person().get("/people/suggest?q=bo").await;
    assert!(stranger.status == 303 && !stranger.body.contains("Bo Lund"), "signed-in people only");

    let mut refused = 0;
    for _ in 0..130 {
        if ana.get("/people/suggest?q=b").await.status == 429 {
            refused += 1;
        }
    }
    assert!(refused >= 5, "a burst of suggestions is limited ({refused} refused)");
}

async fn idea_comments_link_mentions_and_tell_whom_they_concern(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let mia = app.signed_up("mia").await; // admin, runs the campaign
    let ana = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    let cy = app.signed_up("cy").await;
    let campaign = open_campaign(&mia, "Less waste").await;
    let idea = submit_idea(&ana, campaign, "Reusable crates").await;

    // Bo names Cy and Ana (the author) and links a page: Ana hears once, Cy is mentioned.
    let body = "@cy has numbers on this, @ana: https://intranet.example/crates";
    assert_eq!(bo.post(&format!("/ideas/{idea}/comments"), &[("body", body)]).await.status, 303);
    let page = ana.get(&format!("/ideas/{idea}")).await;
    assert!(page.contains(r#"<a href="/@cy" class="mention">@cy</a>"#), "{}", page.body);
    assert!(page.contains(r#"href="https://intranet.example/crates" class="link""#));
    let cy_hears = notifications(&cy).await;
    assert!(cy_hears.contains("mentioned you in a comment on the idea “Reusable crates”"), "{cy_hears}");
    let ana_hears = notifications(&ana).await;
    assert_eq!(ana_hears.matches("Bo Example").count(), 1, "one notification for the author: {ana_hears}");

    // Cy answers Bo's comment: Bo hears of the answer; Ana of a comment on her idea.
    let comment = page.body.split(r#"id="comment-"#).nth(1).unwrap().split('"').next().unwrap().to_owned();
    let answer = [("body", "Here they are."), ("parent_id", comment.as_str())];
    assert_eq!(cy.post(&format!("/ideas/{idea}/comments"), &answer).await.status, 303);
    assert!(notifications(&bo).await.contains("answered your comment on the idea “Reusable crates”"));
    assert!(notifications(&ana).await.contains("commented on your idea"));
}

async fn people_edit_and_delete_their_own_comments(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let mia = app.signed_up("mia").await;
    let ana = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    let cy = app.signed_up("cy").await;
    let campaign = open_campaign(&mia, "Less waste").await;
    let idea = submit_idea(&ana, campaign, "Reusable crates").await;
    bo.post(&format!("/ideas/{idea}/comments"), &[("body", "Good one")]).await;
    let page = bo.get(&format!("/ideas/{idea}")).await;
    let comment = page.body.split(r#"id="comment-"#).nth(1).unwrap().split('"').next().unwrap().to_owned();
    assert!(page.contains(&format!("/ideas/{idea}/comments/{comment}/edit")), "its writer gets an edit form");
    assert!(!ana.get(&format!("/ideas/{idea}")).await.contains(&format!("/comments/{comment}/edit")));

    let edit = format!("/ideas/{idea}/comments/{comment}/edit");
    assert_eq!(ana.post(&edit, &[("body", "Hijacked")]).await.status, 403, "only the writer edits");
    assert_eq!(bo.post(&edit, &[("body", "")]).await.status, 422);
    assert_eq!(bo.post(&edit, &[("body", "Good one, ask @cy")]).await.status, 303);
    let page = ana.get(&format!("/ideas/{idea}")).await;
    assert!(page.contains("Good one, ask ") && page.contains("· edited"), "{}", page.body);
    assert!(notifications(&cy).await.contains("mentioned you in a comment"), "a new mention is told");

    let delete = format!("/ideas/{idea}/comments/{comment}/delete");
    assert_eq!(ana.post(&delete, &[("confirm", "yes")]).await.status, 403);
    assert_eq!(bo.post(&delete, &[]).await.status, 400, "deleting needs the confirmation");
    assert_eq!(bo.post(&delete, &[("confirm", "yes")]).await.status, 303);
    let page = ana.get(&format!("/ideas/{idea}")).await;
    assert!(!page.contains("Good one") && page.contains("Discussion (0)"), "{}", page.body);
}

async fn authors_edit_or_withdraw_an_idea_until_a_manager_takes_it_on(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let mia = app.signed_up("mia").await;
    let ana = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    let campaign = open_campaign(&mia, "Less waste").await;
    let idea = submit_idea(&ana, campaign, "Reusable crates").await;
    assert!(ana.get(&format!("/ideas/{idea}")).await.contains(&format!(r#"href="/ideas/{idea}/edit""#)));
    assert!(!bo.get(&format!("/ideas/{idea}")).await.contains(&format!(r#"href="/ideas/{idea}/edit""#)));
    assert_eq!(bo.get(&format!("/ideas/{idea}/edit")).await.status, 403);
    assert_eq!(bo.post(&format!("/ideas/{idea}/edit"), &[("title", "Mine"), ("body", "x")]).await.status, 403);

    let saved =
        ana.post(&format!("/ideas/{idea}/edit"), &[("title", "Reusable crates, rented"), ("body", "Rent them.")]).await;
    assert_eq!(saved.status, 303);
    let page = bo.get(&format!("/ideas/{idea}")).await;
    assert!(page.contains("Reusable crates, rented") && page.contains("Edited by its author"), "{}", page.body);
    let found = bo.get("/search?q=rented").await;
    assert!(found.contains(&format!("/ideas/{idea}")), "search finds the new title: {}", found.body);

    // Once a manager moves it on, it stays as it was.
    let moved = mia.post(&format!("/ideas/{idea}/stage"), &[("stage", "under_review"), ("reason", "Looking")]).await;
    assert_eq!(moved.status, 303);
    assert!(!ana.get(&format!("/ideas/{idea}")).await.contains(&format!(r#"href="/ideas/{idea}/edit""#)));
    assert_eq!(ana.post(&format!("/ideas/{idea}/edit"), &[("title", "Late"), ("body", "x")]).await.status, 409);
    assert_eq!(ana.post(&format!("/ideas/{idea}/withdraw"), &[("confirm", "yes")]).await.status, 409);

    // A new idea can be withdrawn; its voters get their votes back.
    let second = submit_idea(&ana, campaign, "Fewer prints").await;
    assert_eq!(bo.post(&format!("/ideas/{second}/vote"), &[]).await.status, 303);
    assert!(bo.get(&format!("/campaigns/{campaign}")).await.contains("<strong>2</strong> votes left"));
    assert_eq!(ana.post(&format!("/ideas/{second}/withdraw"), &[]).await.status, 400);
    assert_eq!(ana.post(&format!("/ideas/{second}/withdraw"), &[("confirm", "yes")]).await.status, 303);
    assert_eq!(bo.get(&format!("/ideas/{second}")).await.status, 404);
    assert!(bo.get(&format!("/campaigns/{campaign}")).await.contains("<strong>3</strong> votes left"));
}

async fn a_merged_ideas_author_and_voters_are_told(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let mia = app.signed_up("mia").await;
    let ana = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    let campaign = open_campaign(&mia, "Less waste").await;
    let kept = submit_idea(&mia, campaign, "Reusable crates").await;
    let duplicate = submit_idea(&ana, campaign, "Crates we can reuse").await;
    bo.post(&format!("/ideas/{duplicate}/vote"), &[]).await;
    let merged = mia.post(&format!("/ideas/{duplicate}/merge"), &[("target", &kept.to_string())]).await;
    assert_eq!(merged.status, 303, "{}", merged.body);
    for (who, person) in [("author", &ana), ("voter", &bo)] {
        let heard = notifications(person).await;
        assert!(
            heard.contains("the idea “Crates we can reuse” to Merged")
                && heard.contains("Merged into “Reusable crates”"),
            "the {who} is told: {heard}"
        );
    }
}

async fn times_show_and_are_typed_in_each_persons_time_zone(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ada = app.signed_up("ada").await; // admin
    let mia = app.signed_up("mia").await;
    promote(&app, "mia", Role::Manager).await;
    let bo = app.signed_up("bo").await;
    let settings = |zone: &'static str| {
        vec![
            ("name", "Townhall"),
            ("welcome", ""),
            ("max_post_chars", "1000"),
            ("signup", "open"),
            ("domains", ""),
            ("time_zone", zone),
        ]
    };
    assert_eq!(ada.post("/admin/settings", &settings("Mars/Olympus")).await.status, 422);
    assert_eq!(ada.post("/admin/settings", &settings("Europe/Berlin")).await.status, 303);
    assert!(ada.get("/admin/audit").await.contains("time_zone: “UTC” → “Europe/Berlin”"));

    // Mia chooses New York; Bo keeps the site's zone (Berlin).
    let profile = |zone: &'static str| vec![("display_name", "Mia Example"), ("time_zone", zone)];
    assert_eq!(mia.post("/settings/profile", &profile("Atlantis/Capital")).await.status, 422);
    assert_eq!(mia.post("/settings/profile", &profile("America/New_York")).await.status, 303);
    let form = mia.get("/campaigns/new").await;
    assert!(form.contains("Opens (America/New_York)"), "{}", form.body);
    assert!(bo.get("/settings/profile").await.contains("The site's (Europe/Berlin)"));

    // Mia types 9:00 on 10 January 2027 in New York: 14:00 UTC, 15:00 in Berlin.
    let fields = [
        ("title", "Winter ideas"),
        ("question", "What keeps us warm?"),
        ("opens_at", "2027-01-10T09:00"),
        ("closes_at", "2027-01-31T17:00"),
    ];
    let made = mia.post("/campaigns/new", &fields).await;
    assert_eq!(made.status, 303, "{}", made.body);
    let campaign = made.location.unwrap();
    let (opens,): (i64,) = townhall::db::Exec::fetch_one(
        &mut app.db.clone(),
        townhall::db::sql("SELECT opens_at FROM campaigns WHERE title = 'Winter ideas'"),
    )
    .await
    .unwrap();
    assert_eq!(opens, 1_799_589_600, "2027-01-10 14:00 UTC");
    assert!(mia.get(&campaign).await.contains("Opens 10 Jan 2027 09:00 EST"));
    assert!(mia.get(&format!("{campaign}/edit")).await.contains(r#"value="2027-01-10T09:00""#));
    assert_eq!(mia.post(&format!("{campaign}/publish"), &[("opens", "planned")]).await.status, 303);
    assert!(bo.get(&campaign).await.contains("Opens 10 Jan 2027 15:00 CET"), "Bo reads it in Berlin time");

    // A post's relative time carries the exact time in the reader's zone.
    bo.write_post("Morning!").await;
    let home = bo.get("/").await;
    assert!(home.contains(r#"data-exact=""#) && home.contains(" CET\""), "{}", home.body);
}
