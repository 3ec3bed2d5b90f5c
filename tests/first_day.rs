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
);

async fn promote(app: &TestApp, username: &str, role: Role) {
    townhall::accounts::store::set_role(&mut app.db.clone(), username, role).await.unwrap();
}

/// A draft campaign planned to open in `opens_in` seconds; returns its id.
async fn draft_campaign(manager: &Person, title: &str, opens_in: i64) -> i64 {
    let at = now();
    let (opens, closes) = (input_time(at + opens_in), input_time(at + 14 * 86_400));
    let form = [("title", title), ("question", "How do we cut waste?"), ("opens_at", &opens), ("closes_at", &closes)];
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
