//! Administration: roles, deleting accounts (anonymise or erase), site settings and the sign-up
//! policy with invitations, the audit log that cannot be rewritten, and exports read back with a real
//! CSV reader and serde, on both engines.

mod common;

use common::{Engine, PASSWORD, Person, TestApp, post_ids};
use townhall::accounts::Role;
use townhall::db::{Exec, now, sql};
use townhall::ideas::input_time;

on_both_engines!(
    an_admin_changes_roles_and_the_change_is_logged,
    a_deleted_account_leaves_its_words_to_a_former_employee_or_takes_them_along,
    the_sign_up_policy_and_invitation_links_decide_who_joins,
    site_settings_rename_the_site_and_limit_posts,
    the_audit_log_filters_exports_and_cannot_be_rewritten,
    exports_read_back_with_a_csv_reader_and_serde,
);

async fn promote(app: &TestApp, username: &str, role: Role) {
    townhall::accounts::store::set_role(&mut app.db.clone(), username, role).await.unwrap();
}

async fn newest_post(person: &Person, username: &str) -> i64 {
    post_ids(&person.get(&format!("/@{username}")).await.body)[0]
}

async fn open_campaign(manager: &Person) -> i64 {
    let at = now();
    let (opens, closes) = (input_time(at - 3600), input_time(at + 7 * 86_400));
    let form = [
        ("title", "Less packaging"),
        ("question", "How?"),
        ("opens_at", opens.as_str()),
        ("closes_at", closes.as_str()),
        ("allow_anonymous", "on"),
    ];
    let made = manager.post("/campaigns/new", &form).await;
    let id: i64 = made.location.unwrap().trim_start_matches("/campaigns/").parse().unwrap();
    assert_eq!(manager.post(&format!("/campaigns/{id}/publish"), &[]).await.status, 303);
    id
}

async fn submit(person: &Person, campaign: i64, title: &str, anonymous: bool) -> i64 {
    let mut form = vec![("title", title), ("body", "Details, \"quoted\"."), ("confirmed", "yes")];
    if anonymous {
        form.push(("anonymous", "on"));
    }
    let page = person.post(&format!("/campaigns/{campaign}/ideas"), &form).await;
    assert_eq!(page.status, 303, "{}", page.body);
    page.location.unwrap().trim_start_matches("/ideas/").parse().unwrap()
}

async fn an_admin_changes_roles_and_the_change_is_logged(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ana = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    assert_eq!(bo.get("/admin/users").await.status, 403);
    assert_eq!(bo.get("/campaigns/new").await.status, 403);

    let list = ana.get("/admin/users?q=Bo").await;
    assert!(list.contains("bo@example.com") && !list.contains("ana@example.com"));
    assert_eq!(ana.post("/admin/users/bo/role", &[("role", "overlord")]).await.status, 400);
    assert_eq!(ana.post("/admin/users/bo/role", &[("role", "manager")]).await.status, 303);
    assert_eq!(bo.get("/campaigns/new").await.status, 200);
    assert_eq!(ana.post("/admin/users/ana/role", &[("role", "member")]).await.status, 400);
    assert_eq!(ana.post("/admin/users/nobody/role", &[("role", "member")]).await.status, 404);
    let log = ana.get("/admin/audit").await;
    assert!(log.contains("user.role") && log.contains("member → manager") && log.contains("user @bo"));
}

async fn a_deleted_account_leaves_its_words_to_a_former_employee_or_takes_them_along(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ana = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    let cy = app.signed_up("cy").await;
    let di = app.signed_up("di").await;
    let mo = app.signed_up("mo").await;
    promote(&app, "mo", Role::Manager).await;

    // Follows both ways between bo and each of cy and di; a departure takes its follows from the counts.
    for (who, whom) in [(&cy, "bo"), (&di, "bo"), (&bo, "cy"), (&bo, "di")] {
        assert_eq!(who.post(&format!("/people/{whom}/follow"), &[]).await.status, 303);
    }
    let bo_profile = ana.get("/@bo").await;
    assert!(bo_profile.contains("<strong>2</strong> followers") && bo_profile.contains("<strong>2</strong> following"));

    // Anonymise: the words stay, the person goes.
    cy.write_post("Cy legacy: label the recycling bins").await;
    let wrong =
        ana.post("/admin/users/cy/delete", &[("mode", "anonymise"), ("reason", "Left"), ("confirm", "bo")]).await;
    assert_eq!(wrong.status, 422);
    assert!(wrong.contains("Type cy to confirm"));
    let done = ana
        .post("/admin/users/cy/delete", &[("mode", "anonymise"), ("reason", "Left the company"), ("confirm", "cy")])
        .await;
    assert_eq!(done.status, 303);
    let all = bo.get("/all").await;
    assert!(all.contains("Cy legacy: label the recycling bins") && all.contains("Former employee"));
    assert_eq!(bo.get("/@cy").await.status, 404);
    let bo_profile = ana.get("/@bo").await;
    assert!(
        bo_profile.contains("<strong>1</strong> follower</li>") && bo_profile.contains("<strong>1</strong> following")
    );
    assert!(!bo.get("/people?q=cy").await.contains("Cy Example"));
    assert_eq!(cy.get("/").await.status, 303, "the session ended");
    assert_eq!(cy.sign_in("cy", PASSWORD).await.status, 422);
    assert_eq!(cy.sign_in("cy@example.com", PASSWORD).await.status, 422);
    // The address is free again for a new account.
    assert_eq!(app.person().sign_up("cy", "Cy Again", "cy@example.com", PASSWORD).await.status, 303);

    // Erase: di's words go, replies of others stay in their threads, counts follow.
    bo.write_post("Bo asks: who wants a bike shed?").await;
    let bo_post = newest_post(&ana, "bo").await;
    assert_eq!(di.post(&format!("/posts/{bo_post}/replies"), &[("body", "Di replies: me")]).await.status, 303);
    di.write_post("Di own thread starter").await;
    let di_post = newest_post(&ana, "di").await;
    assert_eq!(bo.post(&format!("/posts/{di_post}/replies"), &[("body", "Bo answers Di")]).await.status, 303);
    assert_eq!(di.post(&format!("/posts/{bo_post}/like"), &[]).await.status, 303);
    let campaign = open_campaign(&mo).await;
    let di_idea = submit(&di, campaign, "Di's idea", false).await;
    let bo_idea = submit(&bo, campaign, "Bo's idea", false).await;
    assert_eq!(di.post(&format!("/ideas/{bo_idea}/vote"), &[]).await.status, 303);
    assert_eq!(di.post(&format!("/ideas/{bo_idea}/comments"), &[("body", "Di comments")]).await.status, 303);

    let done = ana
        .post("/admin/users/di/delete", &[("mode", "erase"), ("reason", "Asked to be forgotten"), ("confirm", "di")])
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let all = ana.get("/all").await;
    assert!(!all.contains("Di replies: me") && !all.contains("Di own thread starter"));
    let bo_profile = ana.get("/@bo").await;
    assert!(bo_profile.contains("<strong>0</strong> followers") && bo_profile.contains("<strong>0</strong> following"));
    let thread = ana.get(&format!("/posts/{di_post}")).await;
    assert!(thread.contains("This post was deleted.") && thread.contains("Bo answers Di"));
    let bo_thread = ana.get(&format!("/posts/{bo_post}")).await;
    assert!(!bo_thread.contains("Di replies") && !bo_thread.contains("1 like"));
    assert_eq!(ana.get(&format!("/ideas/{di_idea}")).await.status, 404);
    let bo_idea_page = ana.get(&format!("/ideas/{bo_idea}")).await;
    assert!(bo_idea_page.contains("<strong>0</strong> votes") && bo_idea_page.contains("Discussion (0)"));

    // The last admin stays; both deletions are logged with their reasons.
    assert_eq!(
        ana.post("/admin/users/ana/delete", &[("mode", "erase"), ("reason", "x"), ("confirm", "ana")]).await.status,
        400
    );
    let log = ana.get("/admin/audit").await;
    assert!(log.contains("user.anonymise") && log.contains("Left the company"));
    assert!(log.contains("user.erase") && log.contains("Asked to be forgotten"));
}

async fn the_sign_up_policy_and_invitation_links_decide_who_joins(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ana = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    let settings = |signup: &'static str, domains: &'static str, members_invite: bool| {
        let mut form = vec![
            ("name", "Townhall"),
            ("welcome", ""),
            ("max_post_chars", "1000"),
            ("signup", signup),
            ("domains", domains),
        ];
        if members_invite {
            form.push(("members_invite", "on"));
        }
        form
    };

    // Closed: nobody signs up.
    assert_eq!(ana.post("/admin/settings", &settings("closed", "", false)).await.status, 303);
    let page = app.person().get("/signup").await;
    assert_eq!(page.status, 403);
    assert!(page.contains("Sign-up is closed"));
    assert_eq!(app.person().sign_up("eve", "Eve", "eve@example.com", PASSWORD).await.status, 403);

    // Domains: only listed ones.
    assert_eq!(ana.post("/admin/settings", &settings("domains", "nope", false)).await.status, 422);
    assert_eq!(
        ana.post("/admin/settings", &settings("domains", "corp.example, @lab.example", false)).await.status,
        303
    );
    let outside = app.person().sign_up("eve", "Eve", "eve@example.com", PASSWORD).await;
    assert_eq!(outside.status, 422);
    assert!(outside.contains("corp.example, lab.example"));
    assert_eq!(app.person().sign_up("fay", "Fay", "fay@lab.example", PASSWORD).await.status, 303);

    // Invitations: admins make single-use links; members only when allowed.
    assert_eq!(ana.post("/admin/settings", &settings("invite", "", false)).await.status, 303);
    assert_eq!(app.person().get("/signup").await.status, 403);
    assert_eq!(bo.post("/invitations", &[("days", "7")]).await.status, 403);
    assert_eq!(ana.post("/invitations", &[("days", "99")]).await.status, 400);
    let made = ana.post("/invitations", &[("days", "7")]).await;
    assert_eq!(made.status, 200);
    let link = made.body.split("/signup?invite=").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let guest = app.person();
    let form = guest.get(&format!("/signup?invite={link}")).await;
    assert_eq!(form.status, 200);
    assert!(form.contains("You were invited"));
    let joined = guest
        .post(
            "/signup",
            &[
                ("username", "gus"),
                ("display_name", "Gus"),
                ("email", "gus@anywhere.example"),
                ("password", PASSWORD),
                ("invite", &link),
            ],
        )
        .await;
    assert_eq!(joined.status, 303, "{}", joined.body);
    let reused = app
        .person()
        .post(
            "/signup",
            &[
                ("username", "hal"),
                ("display_name", "Hal"),
                ("email", "hal@x.example"),
                ("password", PASSWORD),
                ("invite", &link),
            ],
        )
        .await;
    assert_eq!(reused.status, 403);
    assert!(reused.contains("has been used"));
    assert!(ana.get("/invitations").await.contains("used by @gus"));
    // A withdrawn link stops working; a made-up one never worked.
    let made = ana.post("/invitations", &[("days", "1")]).await;
    let second = made.body.split("/signup?invite=").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let id = made.body.split("/invitations/").nth(1).unwrap().split('/').next().unwrap().to_owned();
    assert_eq!(ana.post(&format!("/invitations/{id}/withdraw"), &[]).await.status, 303);
    assert_eq!(app.person().get(&format!("/signup?invite={second}")).await.status, 403);
    assert_eq!(app.person().get("/signup?invite=made-up").await.status, 403);
    // Members may invite once allowed.
    assert_eq!(ana.post("/admin/settings", &settings("invite", "", true)).await.status, 303);
    assert_eq!(bo.post("/invitations", &[("days", "3")]).await.status, 200);
    assert_eq!(bo.post(&format!("/invitations/{id}/withdraw"), &[]).await.status, 404, "not bo's invitation");
}

async fn site_settings_rename_the_site_and_limit_posts(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ana = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    assert_eq!(bo.get("/admin/settings").await.status, 403);
    let bad = ana
        .post(
            "/admin/settings",
            &[("name", ""), ("welcome", ""), ("max_post_chars", "0"), ("signup", "open"), ("domains", "")],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.contains("The name cannot be empty") && bad.contains("from 1 to 10000"));
    let saved = ana
        .post(
            "/admin/settings",
            &[
                ("name", "Acme Voice"),
                ("welcome", "Hello, Acme people <3"),
                ("max_post_chars", "20"),
                ("signup", "open"),
                ("domains", ""),
            ],
        )
        .await;
    assert_eq!(saved.status, 303);
    // The audit log says what changed, old and new.
    let log = ana.get("/admin/audit?action=settings.update").await;
    assert!(log.contains("name: “Townhall” → “Acme Voice”"), "{}", log.body);
    assert!(log.contains("max_post_chars: “1000” → “20”") && !log.contains("signup: "), "{}", log.body);
    let login = app.person().get("/login").await;
    assert!(login.contains("Sign in to Acme Voice") && login.contains("Hello, Acme people &#60;3"), "{}", login.body);
    assert!(bo.get("/").await.contains("<title>Home · Acme Voice</title>"));
    assert_eq!(bo.post("/posts", &[("body", "twenty characters ok")]).await.status, 303);
    let long = bo.post("/posts", &[("body", "twenty-one characters")]).await;
    assert_eq!(long.status, 422);
    assert!(long.contains("at most 20 characters"));
    // Saved in the database: a restarted server keeps them.
    let mut app = app;
    app.restart().await;
    assert!(app.person().get("/login").await.contains("Acme Voice"));
}

async fn the_audit_log_filters_exports_and_cannot_be_rewritten(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ana = app.signed_up("ana").await;
    let _bo = app.signed_up("bo").await;
    let _cy = app.signed_up("cy").await;
    assert_eq!(ana.post("/admin/users/bo/role", &[("role", "moderator")]).await.status, 303);
    assert_eq!(
        ana.post("/admin/users/cy/suspend", &[("duration", "1d"), ("reason", "Cooling off, \"really\"")]).await.status,
        303
    );

    let by_action = ana.get("/admin/audit?action=user.suspend").await;
    assert!(by_action.contains("Cooling off") && !by_action.contains("<code>user.role</code>"));
    let by_prefix = ana.get("/admin/audit?action=user").await;
    assert!(by_prefix.contains("<code>user.role</code>") && by_prefix.contains("<code>user.suspend</code>"));
    assert!(!ana.get("/admin/audit?actor=bo").await.contains("<code>user.role</code>"));
    assert!(ana.get("/admin/audit?actor=@ana").await.contains("<code>user.role</code>"));
    assert!(!ana.get("/admin/audit?from=2099-01-01").await.contains("<code>user.role</code>"));
    assert_eq!(ana.get("/admin/audit?from=yesterday").await.status, 400);

    let csv = ana.get("/admin/audit.csv?action=user").await;
    assert_eq!(csv.status, 200);
    let mut reader = csv::Reader::from_reader(csv.body.trim_start_matches('\u{feff}').as_bytes());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        ["id", "time", "actor", "action", "object_type", "object_id", "object", "reason"]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(&rows[0][3], "user.suspend");
    assert!(rows[0][7].contains("Cooling off, \"really\""));
    assert_eq!(&rows[1][2], "ana");

    // The database refuses to change or remove an entry.
    let mut db = app.db.clone();
    assert!(db.execute(sql("UPDATE audit_log SET reason = 'nothing happened'")).await.is_err());
    assert!(db.execute(sql("DELETE FROM audit_log")).await.is_err());
    let (count,): (i64,) = db.fetch_one(sql("SELECT COUNT(*) FROM audit_log")).await.unwrap();
    assert_eq!(count, 2);
}

async fn exports_read_back_with_a_csv_reader_and_serde(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ana = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    let mo = app.signed_up("mo").await;
    promote(&app, "mo", Role::Manager).await;
    assert_eq!(bo.get("/admin/export/members.csv").await.status, 403);

    let tricky = "Commas, \"quotes\", and\na new line";
    bo.write_post(tricky).await;
    bo.write_post("=HYPERLINK(\"http://evil.example\")").await;
    let post = newest_post(&ana, "bo").await;
    assert_eq!(ana.post(&format!("/posts/{post}/replies"), &[("body", "A reply")]).await.status, 303);
    let campaign = open_campaign(&mo).await;
    let idea = submit(&bo, campaign, "Reusable crates, please", false).await;
    let secret = submit(&bo, campaign, "A secret idea", true).await;
    assert_eq!(ana.post(&format!("/ideas/{idea}/vote"), &[]).await.status, 303);
    assert_eq!(bo.post(&format!("/ideas/{idea}/vote"), &[]).await.status, 303);
    assert_eq!(ana.post(&format!("/ideas/{idea}/comments"), &[("body", "Yes!")]).await.status, 303);
    assert_eq!(bo.post(&format!("/ideas/{idea}/comments"), &[("body", "Bo's comment")]).await.status, 303);

    // Members: one row each, with the fields a spreadsheet needs.
    let members = ana.get("/admin/export/members.csv").await;
    assert!(members.body.starts_with('\u{feff}'));
    let mut reader = csv::Reader::from_reader(members.body.trim_start_matches('\u{feff}').as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    assert_eq!(header[..5], ["id", "username", "display_name", "email", "role"]);
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.iter().map(|r| r[1].to_owned()).collect::<Vec<_>>(), ["ana", "bo", "mo"]);
    assert_eq!(&rows[2][4], "manager");
    assert_eq!(&rows[0][9], "active");

    // Posts: JSON lines, one per post or reply, text exactly as written; a range excludes.
    let lines = ana.get("/admin/export/posts.jsonl").await;
    assert_eq!(lines.status, 200);
    let posts: Vec<serde_json::Value> = lines.body.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(posts.len(), 3 + 1, "two posts, a reply and the campaign's announcement");
    assert!(posts.iter().any(|p| p["body"] == tricky && p["author"] == "bo"));
    assert!(posts.iter().any(|p| p["reply_to"] == post));
    assert!(ana.get("/admin/export/posts.jsonl?from=2099-01-01").await.body.is_empty());
    assert_eq!(ana.get("/admin/export/posts.jsonl?from=2026-12-01&to=2026-11-01").await.status, 400);

    // All ideas of all campaigns: CSV with the campaign, JSON; the anonymous author stays hidden.
    let ideas_csv = ana.get("/admin/export/ideas.csv").await;
    let mut reader = csv::Reader::from_reader(ideas_csv.body.trim_start_matches('\u{feff}').as_bytes());
    assert_eq!(&reader.headers().unwrap()[0], "campaign_id");
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(&rows[0][0], campaign.to_string().as_str());
    assert_eq!(&rows[0][2], "Reusable crates, please");
    assert_eq!(&rows[0][3], "Details, \"quoted\".", "the description, as typed");
    assert_eq!(&rows[0][5], "New", "the stage as pages name it");
    assert_eq!(&rows[0][6], "2");
    assert_eq!(&rows[1][4], "anonymous");
    let ideas_json: serde_json::Value = serde_json::from_str(&ana.get("/admin/export/ideas.json").await.body).unwrap();
    let ideas = ideas_json["ideas"].as_array().unwrap();
    assert_eq!(ideas.len(), 2);
    assert_eq!(ideas[1]["id"], secret);
    assert_eq!(ideas[1]["author"], "anonymous");

    // Download my data: everything bo put in, anonymous idea included (it is theirs).
    let mine: serde_json::Value = serde_json::from_str(&bo.get("/settings/data.json").await.body).unwrap();
    assert_eq!(mine["profile"]["username"], "bo");
    assert_eq!(mine["posts"].as_array().unwrap().len(), 2);
    assert!(mine["posts"].as_array().unwrap().iter().any(|p| p["body"] == tricky));
    assert_eq!(mine["replies"].as_array().unwrap().len(), 0);
    let titles: Vec<&str> = mine["ideas"].as_array().unwrap().iter().map(|i| i["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["Reusable crates, please", "A secret idea"]);
    assert_eq!(mine["votes"].as_array().unwrap().len(), 1);
    assert_eq!(mine["comments"][0]["body"], "Bo's comment");
    let ana_data: serde_json::Value = serde_json::from_str(&ana.get("/settings/data.json").await.body).unwrap();
    assert_eq!(ana_data["replies"][0]["body"], "A reply");
    assert!(!ana_data.to_string().contains("A secret idea"));
}

/// Deleting an account while two of its contacts follow one another, on PostgreSQL, where both
/// transactions change people's follow counts: a follow locks its two people in id order, and so
/// must the deletion, or each waits for a row the other holds. Here Xan follows Bo and Ana follows
/// Xan; this transaction plays Ana following Bo at the moment Xan's account is deleted, holding
/// Ana's row (as `follow` does first) while the deletion starts. Before the deletion took its rows
/// in id order, it held Bo's row and waited for Ana's, and PostgreSQL ended one of the two.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_an_account_while_its_contacts_follow_each_other_does_not_deadlock() {
    let Some(app) =
        TestApp::spawn_postgres_only("deleting_an_account_while_its_contacts_follow_each_other_does_not_deadlock")
            .await
    else {
        return;
    };
    let admin = app.signed_up("admin").await;
    let ana = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    let xan = app.signed_up("xan").await;
    drop(bo);
    xan.post("/people/bo/follow", &[]).await;
    ana.post("/people/xan/follow", &[]).await;
    let (ana_id, bo_id) = (app.user_id("ana").await, app.user_id("bo").await);
    assert!(ana_id < bo_id);

    let mut follow = app.db.begin().await.unwrap();
    follow.execute(sql("UPDATE users SET following_count = following_count WHERE id = $1").bind(ana_id)).await.unwrap();
    let deleting = {
        let admin = Person { client: admin.client.clone(), base: admin.base.clone() };
        tokio::spawn(async move {
            admin
                .post("/admin/users/xan/delete", &[("mode", "anonymise"), ("reason", "Left"), ("confirm", "xan")])
                .await
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let bo_row =
        follow.execute(sql("UPDATE users SET follower_count = follower_count WHERE id = $1").bind(bo_id)).await;
    assert!(bo_row.is_ok(), "the follow goes on while the deletion waits: {bo_row:?}");
    follow.commit().await.unwrap();
    let deleted = deleting.await.unwrap();
    assert_eq!(deleted.status, 303, "{}", deleted.body);
    let (bo_followers,): (i64,) =
        app.db.clone().fetch_one(sql("SELECT follower_count FROM users WHERE id = $1").bind(bo_id)).await.unwrap();
    assert_eq!(bo_followers, 0, "Xan's follow of Bo ended with the account");
}

/// A follow sent while the account it follows is being deleted waits for the deletion and is then
/// refused (404), instead of being recorded against the former employee.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follow_sent_while_the_account_is_being_deleted_is_not_recorded() {
    let Some(app) =
        TestApp::spawn_postgres_only("a_follow_sent_while_the_account_is_being_deleted_is_not_recorded").await
    else {
        return;
    };
    let ana = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    drop(bo);
    let (ana_id, bo_id) = (app.user_id("ana").await, app.user_id("bo").await);

    // The deletion, as the admin page runs it, held open while Ana's follow arrives.
    let mut deletion = app.db.begin().await.unwrap();
    townhall::privacy::anonymise(&mut deletion, bo_id).await.unwrap();
    let following = tokio::spawn(async move { ana.post("/people/bo/follow", &[]).await });
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(!following.is_finished(), "the follow waits for the deletion");
    deletion.commit().await.unwrap();
    let page = following.await.unwrap();
    assert_eq!(page.status, 404, "{}", page.body);

    let mut db = app.db.clone();
    let (follows,): (i64,) = db
        .fetch_one(sql("SELECT COUNT(*) FROM follows WHERE follower_id = $1 OR followee_id = $1").bind(bo_id))
        .await
        .unwrap();
    assert_eq!(follows, 0, "no follow of the former employee");
    let (following_count,): (i64,) =
        db.fetch_one(sql("SELECT following_count FROM users WHERE id = $1").bind(ana_id)).await.unwrap();
    assert_eq!(following_count, 0);
}
