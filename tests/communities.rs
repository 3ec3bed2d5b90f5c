//! Communities: public and private, joining by request or invitation, what community admins do,
//! announcements, and that a private community's posts reach nobody outside it, anywhere.

mod common;

use common::{Engine, Person, TestApp, post_ids};

on_both_engines!(
    a_public_community_is_joined_read_and_written_and_its_posts_reach_members_homes,
    a_private_community_post_never_reaches_a_non_member_through_any_surface,
    joining_a_private_community_by_request_needs_an_admin_and_opens_its_posts,
    an_invitation_lets_someone_into_a_private_community,
    community_admins_pin_and_remove_posts_and_manage_members_and_others_cannot,
    announcements_show_above_home_until_dismissed_and_only_admins_make_them,
    a_refused_community_form_keeps_its_input,
);

async fn make_community(person: &Person, name: &str, slug: &str, visibility: &str) {
    let page = person
        .post(
            "/communities/new",
            &[("name", name), ("slug", slug), ("description", "About it"), ("visibility", visibility)],
        )
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(page.location.as_deref(), Some(format!("/c/{slug}").as_str()));
}

async fn a_public_community_is_joined_read_and_written_and_its_posts_reach_members_homes(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ana = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    let cy = app.signed_up("cy").await;
    make_community(&ana, "Green Office", "green-office", "public").await;
    assert!(ana.get("/c/green-office").await.contains("You are an admin of this community"));
    ana.post("/c/green-office/posts", &[("body", "Turn off the lights #energy")]).await;

    let outside = bo.get("/c/green-office").await;
    assert!(outside.contains("Turn off the lights"), "a public community is readable by everyone");
    assert!(outside.contains("Join community"));
    assert!(!outside.contains("action=\"/c/green-office/posts\""), "only members write");
    assert_eq!(bo.post("/c/green-office/posts", &[("body", "sneaking in")]).await.status, 403);

    let joined = bo.post("/c/green-office/join", &[]).await;
    assert!(bo.follow(&joined).await.contains("Welcome to Green Office."));
    assert!(bo.get("/").await.contains("Turn off the lights"), "joining brings recent posts home");
    bo.post("/c/green-office/posts", &[("body", "Bo recycles")]).await;
    app.delivered().await;
    assert!(ana.get("/").await.contains("Bo recycles"), "members get the community's posts at home");
    assert!(!cy.get("/").await.contains("Bo recycles"), "non-members do not");
    assert!(cy.get("/all").await.contains("Bo recycles"), "a public community's posts are in the company feed");
    assert!(ana.get("/communities").await.contains("2 members"));

    bo.post("/c/green-office/leave", &[]).await;
    let home = bo.get("/").await;
    assert!(!home.contains("Turn off the lights"), "leaving takes the community's posts out of home");
    assert!(home.contains("Bo recycles"), "your own posts stay");
    let refused = ana.post("/c/green-office/leave", &[]).await;
    assert_eq!(refused.status, 400, "the only admin cannot leave");
}

async fn a_private_community_post_never_reaches_a_non_member_through_any_surface(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ana = app.signed_up("ana").await;
    let eve = app.signed_up("eve").await;
    eve.post("/people/ana/follow", &[]).await;
    eve.post("/topics/secret/follow", &[]).await;
    make_community(&ana, "Board", "board", "private").await;
    ana.post("/c/board/posts", &[("body", "Confidential merger plan for @eve #secret")]).await;
    let id = post_ids(&ana.get("/c/board").await.body)[0];
    ana.post(&format!("/posts/{id}/replies"), &[("body", "Confidential reply")]).await;
    ana.write_post("A public post by ana").await;
    app.delivered().await;
    assert!(ana.get("/").await.contains("Confidential merger plan"), "members see it");

    let secret = "Confidential";
    for path in ["/", "/all", "/@ana", "/topics/secret", "/c/board", "/notifications", "/communities"] {
        let page = eve.get(path).await;
        assert_eq!(page.status, 200, "{path}");
        assert!(!page.contains(secret), "{path} leaks the private post");
    }
    assert!(eve.get("/@ana").await.contains("<strong>1</strong> post</li>"), "counts leave it out");
    assert!(ana.get("/@ana").await.contains("<strong>2</strong> posts"));
    for path in [format!("/posts/{id}"), format!("/posts/{id}/likes"), format!("/posts/{id}/edit")] {
        let page = eve.get(&path).await;
        assert_eq!(page.status, 404, "{path}: a private post looks like a missing one");
        assert!(!page.contains(secret));
    }
    for path in [format!("/posts/{id}/replies"), format!("/posts/{id}/like"), format!("/posts/{id}/delete")] {
        assert_eq!(eve.post(&path, &[("body", "x")]).await.status, 404, "{path}");
    }
    assert_eq!(eve.get("/c/board/members").await.status, 403);
    assert!(eve.get("/c/board").await.contains("only its members see its posts"));
    assert!(!eve.get("/").await.contains("class=\"badge\""), "no notification about the mention");
}

async fn joining_a_private_community_by_request_needs_an_admin_and_opens_its_posts(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ana = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    make_community(&ana, "Board", "board", "private").await;
    ana.post("/c/board/posts", &[("body", "Members-only agenda")]).await;

    let asked = bo.post("/c/board/join", &[]).await;
    assert!(bo.follow(&asked).await.contains("Your request to join was sent"));
    assert!(bo.get("/c/board").await.contains("Your request to join is waiting"));
    assert!(!bo.get("/c/board").await.contains("Members-only agenda"));
    assert!(ana.get("/notifications").await.contains("Bo Example asked to join Board"));
    let members = ana.get("/c/board/members").await;
    assert!(members.contains("action=\"/c/board/members/bo/approve\""));
    assert_eq!(bo.post("/c/board/members/bo/approve", &[]).await.status, 403, "nobody approves themselves");

    ana.post("/c/board/members/bo/approve", &[]).await;
    assert!(bo.get("/notifications").await.contains("Ana Example let you into Board"));
    assert!(bo.get("/c/board").await.contains("Members-only agenda"));
    assert!(bo.get("/").await.contains("Members-only agenda"));

    bo.post("/c/board/leave", &[]).await;
    assert!(!bo.get("/").await.contains("Members-only agenda"));
    assert!(!bo.get("/c/board").await.contains("Members-only agenda"));
}

async fn an_invitation_lets_someone_into_a_private_community(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ana = app.signed_up("ana").await;
    let cy = app.signed_up("cy").await;
    make_community(&ana, "Board", "board", "private").await;
    ana.post("/c/board/posts", &[("body", "Welcome pack")]).await;
    let invited = ana.post("/c/board/invite", &[("username", "@cy")]).await;
    assert!(ana.follow(&invited).await.contains("Cy Example was invited."));
    assert_eq!(ana.post("/c/board/invite", &[("username", "nobody")]).await.status, 400);
    assert!(cy.get("/notifications").await.contains("Ana Example invited you to Board"));
    assert!(cy.get("/communities").await.contains("You are invited"));
    let page = cy.get("/c/board").await;
    assert!(page.contains("Accept and join") && !page.contains("Welcome pack"));
    cy.post("/c/board/join", &[]).await;
    assert!(cy.get("/c/board").await.contains("Welcome pack"));
}

async fn community_admins_pin_and_remove_posts_and_manage_members_and_others_cannot(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ana = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    make_community(&ana, "Green Office", "green-office", "public").await;
    bo.post("/c/green-office/join", &[]).await;
    bo.post("/c/green-office/posts", &[("body", "Rules of the community")]).await;
    bo.post("/c/green-office/posts", &[("body", "Off-topic rant")]).await;
    let ids = post_ids(&ana.get("/c/green-office").await.body);
    let (rant, rules) = (ids[0], ids[1]);

    assert_eq!(bo.post(&format!("/c/green-office/posts/{rules}/pin"), &[]).await.status, 403);
    ana.post(&format!("/c/green-office/posts/{rules}/pin"), &[]).await;
    let page = bo.get("/c/green-office").await;
    let pinned_at = page.body.find("Pinned").unwrap();
    assert!(pinned_at < page.body.find("Off-topic rant").unwrap(), "the pinned post comes first");

    ana.post(&format!("/c/green-office/posts/{rant}/remove"), &[]).await;
    assert!(!bo.get("/c/green-office").await.contains("Off-topic rant"));

    assert_eq!(bo.post("/c/green-office/members/ana/remove", &[]).await.status, 403);
    ana.post("/c/green-office/members/bo/promote", &[]).await;
    assert!(bo.get("/c/green-office").await.contains("You are an admin of this community"));
    bo.post("/c/green-office/members/ana/demote", &[]).await;
    let refused = bo.post("/c/green-office/members/bo/demote", &[]).await;
    assert_eq!(refused.status, 400, "a community keeps one admin");
    bo.post("/c/green-office/members/ana/remove", &[]).await;
    assert!(ana.get("/c/green-office").await.contains("Join community"));
}

async fn announcements_show_above_home_until_dismissed_and_only_admins_make_them(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.signed_up("ana").await; // the first account is the site admin
    let bo = app.signed_up("bo").await;
    let cy = app.signed_up("cy").await;
    admin.write_post("Office closed on Friday").await;
    let id = post_ids(&admin.get("/").await.body)[0];
    assert_eq!(bo.post(&format!("/posts/{id}/announce"), &[]).await.status, 403);
    assert!(admin.get(&format!("/posts/{id}")).await.contains(&format!("action=\"/posts/{id}/announce\"")));
    admin.post(&format!("/posts/{id}/announce"), &[]).await;

    for person in [&bo, &cy] {
        let home = person.get("/").await;
        assert!(home.contains("class=\"announcement\"") && home.contains("Office closed on Friday"));
    }
    bo.post(&format!("/announcements/{id}/dismiss"), &[]).await;
    assert!(!bo.get("/").await.contains("class=\"announcement\""), "dismissed");
    assert!(cy.get("/").await.contains("class=\"announcement\""), "only for the one who dismissed it");

    // A community admin announces to the community's members only.
    make_community(&bo, "Runners", "runners", "public").await;
    bo.post("/c/runners/posts", &[("body", "Race on Sunday")]).await;
    app.delivered().await;
    let race = post_ids(&bo.get("/c/runners").await.body)[0];
    assert_eq!(cy.post(&format!("/posts/{race}/announce"), &[]).await.status, 403);
    bo.post(&format!("/posts/{race}/announce"), &[]).await;
    assert!(bo.get("/").await.contains("Announcement in Runners"));
    assert!(!cy.get("/").await.contains("Race on Sunday"), "not a member, so no announcement");
}

async fn a_refused_community_form_keeps_its_input(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ana = app.signed_up("ana").await;
    make_community(&ana, "Green Office", "green-office", "public").await;
    let taken = ana
        .post(
            "/communities/new",
            &[
                ("name", "Green Office 2"),
                ("slug", "green-office"),
                ("description", "Again"),
                ("visibility", "private"),
            ],
        )
        .await;
    assert_eq!(taken.status, 422);
    assert!(taken.contains("A community already has that address"));
    assert!(taken.contains("value=\"Green Office 2\"") && taken.contains(">Again</textarea>"));
    assert!(taken.contains("value=\"private\" checked"));
    let bad = ana.post("/communities/new", &[("name", ""), ("slug", "-bad-"), ("visibility", "secret")]).await;
    assert_eq!(bad.status, 422);
    assert!(
        bad.contains("A name cannot be empty.")
            && bad.contains("Use 2 to 40 letters")
            && bad.contains("Choose public or private.")
    );
    assert_eq!(ana.get("/c/no-such-community").await.status, 404);
}
