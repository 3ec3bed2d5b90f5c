//! Sign-up, sign-in, sign-out, the sign-in wall, sessions and password changes.

mod common;

use common::{Engine, PASSWORD, TestApp};
use townhall::db::Exec;

on_both_engines!(
    download_my_data_holds_likes_poll_votes_follows_memberships_notifications_and_reports,
    the_first_account_becomes_the_admin_and_is_told_so,
    a_taken_username_is_refused_whatever_its_case_and_the_form_keeps_its_input,
    a_taken_email_is_refused,
    each_bad_field_gets_its_own_message_and_nothing_is_created,
    sign_up_can_be_limited_to_company_domains,
    people_sign_in_with_username_or_email_and_sign_out,
    a_wrong_password_is_refused_without_saying_which_part_was_wrong,
    every_page_asks_to_sign_in_and_brings_you_back_after,
    each_request_sees_the_account_as_it_is_now,
    signing_in_renews_the_session_and_signing_out_ends_it,
    sessions_survive_a_restart,
    changing_the_password_needs_the_current_one_and_signs_out_other_devices,
    of_many_simultaneous_first_sign_ups_only_one_becomes_the_admin,
);

async fn the_first_account_becomes_the_admin_and_is_told_so(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let first = app.signed_up("ana").await;
    let home = first.get("/").await;
    assert_eq!(home.status, 200);
    assert!(home.contains("you are its administrator"), "{}", home.body);
    // The notice is shown once.
    assert!(!first.get("/").await.contains("you are its administrator"));
    assert!(first.get("/@ana").await.contains("admin"));

    let second = app.signed_up("bo").await;
    let home = second.get("/").await;
    assert!(!home.contains("administrator"));
    assert!(!second.get("/@bo").await.contains("· admin"));
}

async fn a_taken_username_is_refused_whatever_its_case_and_the_form_keeps_its_input(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    app.signed_up("ana").await;
    let page = app.person().sign_up("ANA", "Another Ana", "other@example.com", PASSWORD).await;
    assert_eq!(page.status, 422);
    assert!(page.contains("That username is taken."));
    assert!(page.contains("value=\"ANA\""));
    assert!(page.contains("value=\"Another Ana\""));
    assert!(page.contains("value=\"other@example.com\""));
    assert!(!page.contains(PASSWORD), "the password is never sent back");
}

async fn a_taken_email_is_refused(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    app.signed_up("ana").await;
    let page = app.person().sign_up("ana2", "Ana", "ANA@example.com", PASSWORD).await;
    assert_eq!(page.status, 422);
    assert!(page.contains("An account with that e-mail address exists already"));
}

async fn each_bad_field_gets_its_own_message_and_nothing_is_created(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let person = app.person();
    let page = person
        .post("/signup", &[("username", "a!"), ("display_name", "  "), ("email", "nope"), ("password", "short")])
        .await;
    assert_eq!(page.status, 422);
    for message in [
        "Use only letters a-z, digits and underscores.",
        "Your name cannot be empty.",
        "Enter an e-mail address such as ana@example.com.",
        "A password has at least 10 characters.",
    ] {
        assert!(page.contains(message), "missing {message:?}");
    }
    assert!(page.contains("id=\"password-error\""));
    assert!(page.contains("aria-invalid=\"true\""));
    // A form with fields missing altogether is refused the same way, never with a crash.
    let page = person.post("/signup", &[]).await;
    assert_eq!(page.status, 422);
    let page = person.post("/signup", &[("username", &"x".repeat(5000)), ("password", &"p".repeat(201))]).await;
    assert_eq!(page.status, 422);
    assert!(page.contains("A username has 2 to 30 characters."));
    assert!(page.contains("A password has at most 200 characters."));
    assert_eq!(app.person().sign_in("a!", "short").await.status, 422);
}

async fn sign_up_can_be_limited_to_company_domains(engine: Engine) {
    let app = TestApp::spawn_with(engine, |c| {
        c.signup = townhall::config::SignupPolicy::Domains(vec!["corp.example".into()])
    })
    .await;
    let signup_page = app.person().get("/signup").await;
    assert!(signup_page.contains("corp.example"));
    let refused = app.person().sign_up("eve", "Eve", "eve@gmail.com", PASSWORD).await;
    assert_eq!(refused.status, 422);
    assert!(refused.contains("only to the company"));
    let accepted = app.person().sign_up("ana", "Ana", "ana@Corp.Example", PASSWORD).await;
    assert_eq!(accepted.status, 303);
}

async fn people_sign_in_with_username_or_email_and_sign_out(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    app.signed_up("ana").await;
    for login in ["ana", "ANA", "ana@example.com", " Ana@Example.com "] {
        let person = app.person();
        let page = person.sign_in(login, PASSWORD).await;
        assert_eq!(page.status, 303, "{login}");
        assert_eq!(page.location.as_deref(), Some("/"));
        assert_eq!(person.get("/").await.status, 200);
        let out = person.post("/logout", &[]).await;
        assert_eq!(out.location.as_deref(), Some("/login"));
        assert_eq!(person.get("/").await.location.as_deref(), Some("/login"));
    }
}

async fn a_wrong_password_is_refused_without_saying_which_part_was_wrong(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    app.signed_up("ana").await;
    let wrong_password = app.person().sign_in("ana", "not the password").await;
    let unknown_user = app.person().sign_in("nobody", PASSWORD).await;
    for page in [&wrong_password, &unknown_user] {
        assert_eq!(page.status, 422);
        assert!(page.contains("do not match an account"));
    }
    assert!(wrong_password.contains("value=\"ana\""), "the login is kept");
}

async fn every_page_asks_to_sign_in_and_brings_you_back_after(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    app.signed_up("ana").await;
    let visitor = app.person();
    for path in [
        "/",
        "/all",
        "/people",
        "/@ana",
        "/posts/1",
        "/settings/profile",
        "/settings/password",
        "/topics/x",
        "/no/such/page",
    ] {
        let page = visitor.get(path).await;
        assert_eq!(page.status, 303, "{path}");
        assert!(page.location.as_deref().is_some_and(|l| l.starts_with("/login")), "{path}: {:?}", page.location);
    }
    for path in ["/posts", "/people/ana/follow", "/settings/profile"] {
        let page = visitor.post(path, &[("body", "sneaky")]).await;
        assert_eq!(page.status, 303, "{path}");
        assert!(page.location.as_deref().is_some_and(|l| l.starts_with("/login")));
    }
    for path in ["/login", "/signup", "/healthz", "/static/style.css"] {
        assert_eq!(visitor.get(path).await.status, 200, "{path} is open");
    }

    let asked = visitor.get("/people?q=ana").await;
    assert_eq!(asked.location.as_deref(), Some("/login?next=/people%3Fq%3Dana"));
    let login_page = visitor.follow(&asked).await;
    assert!(login_page.contains("name=\"next\" value=\"/people?q=ana\""));
    let signed_in =
        visitor.post("/login", &[("login", "ana"), ("password", PASSWORD), ("next", "/people?q=ana")]).await;
    assert_eq!(signed_in.location.as_deref(), Some("/people?q=ana"));
    // A return address on another site is ignored.
    let other = app.person();
    let page = other.post("/login", &[("login", "ana"), ("password", PASSWORD), ("next", "//evil.example/x")]).await;
    assert_eq!(page.location.as_deref(), Some("/"));
}

fn session_cookie(page: &common::Page) -> Option<String> {
    page.headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("townhall_session="))
        .map(|c| c.split(';').next().unwrap_or_default().to_owned())
}

async fn signing_in_renews_the_session_and_signing_out_ends_it(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    app.signed_up("ana").await;
    let person = app.person();
    let first = session_cookie(&person.sign_in("ana", PASSWORD).await).expect("sign-in sets the session cookie");
    // Signing in again on the same browser gives a new session id, and the old one stops working.
    let second = session_cookie(&person.sign_in("ana", PASSWORD).await).expect("a new session cookie");
    assert_ne!(first, second);
    assert_eq!(replay(&app, &first).await, 303, "the old session id no longer signs anyone in");
    assert_eq!(replay(&app, &second).await, 200);
    person.post("/logout", &[]).await;
    assert_eq!(replay(&app, &second).await, 303, "after sign-out the session is gone on the server too");
}

/// Requests home with nothing but the given cookie, as someone who copied it would.
async fn replay(app: &TestApp, cookie: &str) -> u16 {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    client.get(format!("{}/", app.base)).header("cookie", cookie).send().await.unwrap().status().as_u16()
}

async fn sessions_survive_a_restart(engine: Engine) {
    let mut app = TestApp::spawn(engine).await;
    let ana = app.signed_up("ana").await;
    ana.write_post("Written before the restart").await;
    app.restart().await;
    let ana = common::Person { client: ana.client, base: app.base.clone() };
    let home = ana.get("/").await;
    assert_eq!(home.status, 200, "still signed in after a restart");
    assert!(home.contains("Written before the restart"));
}

async fn changing_the_password_needs_the_current_one_and_signs_out_other_devices(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let laptop = app.signed_up("ana").await;
    let phone = app.person();
    assert_eq!(phone.sign_in("ana", PASSWORD).await.status, 303);

    let new_password = "a much better passphrase";
    let refused = laptop
        .post(
            "/settings/password",
            &[
                ("current_password", "not it at all"),
                ("new_password", new_password),
                ("confirm_password", "different!!"),
            ],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.contains("That is not your current password."));
    assert!(refused.contains("The two new passwords differ."));

    let changed = laptop
        .post(
            "/settings/password",
            &[("current_password", PASSWORD), ("new_password", new_password), ("confirm_password", new_password)],
        )
        .await;
    assert_eq!(changed.status, 303);
    assert!(laptop.follow(&changed).await.contains("Your password was changed."));
    assert_eq!(laptop.get("/").await.status, 200, "this device stays signed in");
    assert_eq!(phone.get("/").await.status, 303, "the other device is signed out");
    assert_eq!(app.person().sign_in("ana", PASSWORD).await.status, 422);
    assert_eq!(app.person().sign_in("ana", new_password).await.status, 303);
}

async fn of_many_simultaneous_first_sign_ups_only_one_becomes_the_admin(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let tasks: Vec<_> = (0..8)
        .map(|n| {
            let person = app.person();
            tokio::spawn(async move {
                let name = format!("early{n}");
                person.sign_up(&name, &name, &format!("{name}@example.com"), PASSWORD).await.status
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), 303);
    }
    let (admins,): (i64,) =
        app.db.clone().fetch_one(townhall::db::sql("SELECT COUNT(*) FROM users WHERE role = 'admin'")).await.unwrap();
    assert_eq!(admins, 1);
}

/// The session and its account are read in one statement at the start of each request
/// (`accounts::store::session_with_account_query`): what a page shows of the signed-in person, and
/// whether they may be signed in at all, is the account as it is at that request, never a copy kept
/// from an earlier one.
async fn each_request_sees_the_account_as_it_is_now(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ana = app.signed_up("ana").await;
    app.signed_up("bo").await;
    let home = ana.get("/").await;
    assert_eq!(home.status, 200);
    assert!(home.contains("Ana Example"));
    for name in ["Ana Renamed", "Ana Again"] {
        app.db
            .clone()
            .execute(townhall::db::sql("UPDATE users SET display_name = $1 WHERE username = 'ana'").bind(name))
            .await
            .unwrap();
        let page = ana.get("/").await;
        assert!(page.contains(name), "the header shows {name} at once");
    }
    // Suspended behind the application's back: the next request is no longer signed in.
    app.db
        .clone()
        .execute(townhall::db::sql("UPDATE users SET suspended_until = $1 WHERE username = 'ana'").bind(i64::MAX / 2))
        .await
        .unwrap();
    let page = ana.get("/").await;
    assert_eq!(page.status, 303);
    assert!(page.location.as_deref().is_some_and(|l| l.starts_with("/login")));
    // A visitor's session (no account yet) still loads: the sign-in form works.
    let visitor = app.person();
    assert_eq!(visitor.get("/login").await.status, 200);
    assert_eq!(visitor.sign_in("bo", PASSWORD).await.status, 303);
    assert!(visitor.get("/").await.contains("Bo Example"));
}

async fn download_my_data_holds_likes_poll_votes_follows_memberships_notifications_and_reports(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ana = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    let form = [("body", "Lunch?"), ("option1", "Soup"), ("option2", "Salad"), ("poll_hours", "24")];
    assert_eq!(ana.post("/posts", &form).await.status, 303);
    let page = bo.get("/all").await;
    let post = common::post_ids(&page.body)[0];
    let at = page.body.find(r#"name="option" value=""#).unwrap() + 21;
    let soup: String = page.body[at..].chars().take_while(char::is_ascii_digit).collect();
    assert_eq!(bo.post(&format!("/posts/{post}/vote"), &[("option", soup.as_str())]).await.status, 303);
    assert_eq!(bo.post(&format!("/posts/{post}/like"), &[]).await.status, 303);
    assert_eq!(bo.post("/people/ana/follow", &[]).await.status, 303);
    assert_eq!(bo.post("/topics/lunch/follow", &[]).await.status, 303);
    assert_eq!(
        bo.post("/communities/new", &[("name", "Cooks"), ("slug", "cooks"), ("visibility", "public")]).await.status,
        303
    );
    assert_eq!(bo.post(&format!("/report/post/{post}"), &[("reason", "spam")]).await.status, 303);
    ana.write_post("Thanks @bo").await;

    let mine: serde_json::Value = serde_json::from_str(&bo.get("/settings/data.json").await.body).unwrap();
    assert_eq!(mine["likes"][0]["post_id"], post);
    assert_eq!(mine["poll_votes"][0]["option"], "Soup");
    assert_eq!(mine["following"][0]["username"], "ana");
    assert_eq!(mine["topics"][0]["topic"], "lunch");
    assert_eq!(mine["communities"][0]["community"], "cooks");
    assert_eq!(mine["communities"][0]["admin"], true);
    assert_eq!(mine["reports"][0]["reason"], "spam");
    assert_eq!(mine["notifications"][0]["kind"], "mention");
    assert_eq!(mine["notifications"][0]["from"], "ana");
}
