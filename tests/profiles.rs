//! Profiles, following, profile settings and the people directory.

mod common;

use common::{Engine, TestApp};

on_both_engines!(
    a_profile_shows_details_counts_and_posts_and_follow_buttons_change_them,
    nobody_can_follow_themselves,
    editing_your_profile_saves_it_and_a_refused_edit_keeps_what_you_typed,
    the_directory_finds_people_by_name_department_and_title,
);

async fn a_profile_shows_details_counts_and_posts_and_follow_buttons_change_them(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ana = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    bo.post(
        "/settings/profile",
        &[
            ("display_name", "Bo Berg"),
            ("job_title", "Packaging engineer"),
            ("department", "Operations"),
            ("location", "Lyon"),
            ("bio", "Boxes, mostly."),
        ],
    )
    .await;
    bo.write_post("Bo's first post").await;

    let profile = ana.get("/@bo").await;
    assert_eq!(profile.status, 200);
    for text in ["Bo Berg", "@bo", "Packaging engineer", "Operations", "Lyon", "Boxes, mostly.", "Bo&#39;s first post"]
    {
        assert!(profile.contains(text), "{text}");
    }
    assert!(profile.contains("<strong>1</strong> post</li>"));
    assert!(profile.contains("<strong>0</strong> followers"));
    assert!(profile.contains("action=\"/people/bo/follow\""));

    let followed = ana.post("/people/bo/follow", &[]).await;
    assert_eq!(followed.location.as_deref(), Some("/@bo"));
    let profile = ana.follow(&followed).await;
    assert!(profile.contains("You follow Bo Berg now"));
    assert!(profile.contains("<strong>1</strong> follower</li>"));
    assert!(profile.contains("action=\"/people/bo/unfollow\""));
    // Following twice changes nothing.
    ana.post("/people/bo/follow", &[]).await;
    assert!(ana.get("/@bo").await.contains("<strong>1</strong> follower</li>"));
    assert!(ana.get("/@ana").await.contains("<strong>1</strong> following"));
    assert!(ana.get("/@BO").await.contains("Bo Berg"), "profile addresses ignore case");

    ana.post("/people/bo/unfollow", &[]).await;
    assert!(ana.get("/@bo").await.contains("<strong>0</strong> followers"));
    assert_eq!(ana.get("/@nobody").await.status, 404);
    assert_eq!(ana.post("/people/nobody/follow", &[]).await.status, 404);
}

async fn nobody_can_follow_themselves(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ana = app.signed_up("ana").await;
    let page = ana.post("/people/ana/follow", &[]).await;
    assert_eq!(page.status, 400);
    assert!(page.contains("You cannot follow yourself"));
    let own = ana.get("/@ana").await;
    assert!(own.contains("Edit your profile"));
    assert!(!own.contains("/follow\""));
}

async fn editing_your_profile_saves_it_and_a_refused_edit_keeps_what_you_typed(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ana = app.signed_up("ana").await;
    let form = ana.get("/settings/profile").await;
    assert!(form.contains("value=\"Ana Example\""));

    let long_bio = "b".repeat(501);
    let refused = ana
        .post(
            "/settings/profile",
            &[
                ("display_name", ""),
                ("job_title", "Analyst"),
                ("department", "Finance"),
                ("location", ""),
                ("bio", &long_bio),
            ],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.contains("Your name cannot be empty."));
    assert!(refused.contains("About you has at most 500 characters (this has 501)."));
    assert!(refused.contains("value=\"Analyst\""));
    assert!(refused.contains(&long_bio));
    assert!(ana.get("/@ana").await.contains("Ana Example"), "nothing was saved");

    let saved = ana
        .post(
            "/settings/profile",
            &[
                ("display_name", "Ana <Lima>"),
                ("job_title", "Analyst"),
                ("department", "Finance"),
                ("location", "Porto"),
                ("bio", "Numbers."),
            ],
        )
        .await;
    assert_eq!(saved.status, 303);
    assert!(ana.follow(&saved).await.contains("Your profile was saved."));
    let profile = ana.get("/@ana").await;
    assert!(profile.contains("Ana &#60;Lima&#62;"));
    assert!(profile.contains("Finance"));
}

async fn the_directory_finds_people_by_name_department_and_title(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ana = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    let cy = app.signed_up("cy").await;
    let profile = |name: &'static str, title: &'static str, dept: &'static str| {
        [("display_name", name), ("job_title", title), ("department", dept), ("location", ""), ("bio", "")]
    };
    bo.post("/settings/profile", &profile("Bo Berg", "Buyer", "Procurement")).await;
    cy.post("/settings/profile", &profile("Cy 100% Real", "Engineer", "Research_Lab")).await;

    let all = ana.get("/people").await;
    for name in ["Ana Example", "Bo Berg", "Cy 100% Real"] {
        assert!(all.contains(name), "{name}");
    }
    let by_department = ana.get("/people?q=procure").await;
    assert!(by_department.contains("Bo Berg"));
    assert!(!by_department.contains("Cy 100% Real"));
    let by_title = ana.get("/people?q=ENGINEER").await;
    assert!(by_title.contains("Cy 100% Real"));
    assert!(!by_title.contains("Bo Berg"));
    // Wildcards typed by people match themselves only.
    let percent = ana.get("/people?q=100%25").await;
    assert!(percent.contains("Cy 100% Real"));
    assert!(!percent.contains("Bo Berg"));
    // As a wildcard, `_` would match "Ber" in "Bo Berg".
    assert!(ana.get("/people?q=b_r").await.contains("Nobody matches"));
    assert!(ana.get("/people?q=%27%22%3B--").await.contains("Nobody matches"));
}

/// The menu marks the section the page is in (`aria-current="page"`), and only that one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_menu_marks_where_the_person_is() {
    let app = TestApp::spawn(Engine::Sqlite).await;
    let ana = app.signed_up("ana").await;
    for (page, link) in [
        ("/", r#"<a href="/" aria-current="page">"#),
        ("/people?q=an", r#"<a href="/people" aria-current="page">"#),
        ("/campaigns", r#"<a href="/campaigns" aria-current="page">"#),
        ("/@ana", r#"<a href="/@ana" aria-current="page">"#),
        ("/settings/data", r#"<a href="/settings/profile" aria-current="page">"#),
        ("/admin/audit", r#"<a href="/admin/users" aria-current="page">"#),
    ] {
        let body = ana.get(page).await.body;
        let start = body.find(r#"<nav aria-label="Main">"#).expect("the main menu");
        let menu = &body[start..start + body[start..].find("</nav>").expect("the menu's end")];
        assert!(menu.contains(link), "{page}: {menu}");
        assert_eq!(menu.matches(r#"aria-current="page""#).count(), 1, "{page}: {menu}");
    }
}
