//! Hardening: what an attacker with a session, a racing request or hostile input must not be able to
//! do, each reproduced against the real server (issue 19), on both engines.

mod common;

use std::time::Duration;

use common::{Engine, PASSWORD, Person, TestApp, post_ids};
use townhall::accounts::Role;
use townhall::db::now;
use townhall::ideas::input_time;

on_both_engines!(
    hiding_an_anonymous_idea_tells_moderators_nothing_about_its_author,
    an_ended_session_stays_ended_whatever_its_requests_in_flight_do,
);

async fn promote(app: &TestApp, username: &str, role: Role) {
    townhall::accounts::store::set_role(&mut app.db.clone(), username, role).await.unwrap();
}

async fn newest_post(person: &Person, username: &str) -> i64 {
    post_ids(&person.get(&format!("/@{username}")).await.body)[0]
}

/// An open campaign that takes anonymous ideas, made by `manager`.
async fn anonymous_campaign(manager: &Person) -> i64 {
    let at = now();
    let (opens, closes) = (input_time(at - 3600), input_time(at + 7 * 86_400));
    let form = [
        ("title", "Speak freely"),
        ("question", "What should change?"),
        ("opens_at", &opens),
        ("closes_at", &closes),
        ("allow_anonymous", "on"),
    ];
    let made = manager.post("/campaigns/new", &form).await;
    assert_eq!(made.status, 303, "{}", made.body);
    let id: i64 = made.location.unwrap().trim_start_matches("/campaigns/").parse().unwrap();
    assert_eq!(manager.post(&format!("/campaigns/{id}/publish"), &[]).await.status, 303);
    id
}

async fn hiding_an_anonymous_idea_tells_moderators_nothing_about_its_author(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let _admin = app.signed_up("admin").await;
    let bo = app.signed_up("bo").await;
    let cy = app.signed_up("cy").await;
    let md = app.signed_up("md").await;
    let mo = app.signed_up("mo").await;
    let rep = app.signed_up("rep").await;
    promote(&app, "md", Role::Moderator).await;
    promote(&app, "mo", Role::Manager).await;

    // The moderator suspects bo or cy: one ordinary post of each waits in the queue.
    for (person, name) in [(&bo, "bo"), (&cy, "cy")] {
        person.write_post(&format!("An ordinary post by {name}")).await;
        let post = newest_post(&rep, name).await;
        assert_eq!(rep.post(&format!("/report/post/{post}"), &[("reason", "other")]).await.status, 303);
    }
    let campaign = anonymous_campaign(&mo).await;
    let form =
        [("title", "The canteen is a disgrace"), ("body", "Details."), ("confirmed", "yes"), ("anonymous", "on")];
    let made = bo.post(&format!("/campaigns/{campaign}/ideas"), &form).await;
    assert_eq!(made.status, 303, "{}", made.body);
    let idea: i64 = made.location.unwrap().trim_start_matches("/ideas/").parse().unwrap();
    assert_eq!(rep.post(&format!("/report/idea/{idea}"), &[("reason", "other")]).await.status, 303);

    // Hide it, warn its author, restore it: the suspects' lines stay alike throughout.
    assert_eq!(md.post(&format!("/moderation/idea/{idea}/hide"), &[]).await.status, 303);
    let queue = md.get("/moderation").await;
    assert!(queue.contains("An ordinary post by bo") && queue.contains("An ordinary post by cy"));
    assert!(!queue.contains("Earlier actions"), "the anonymous idea's outcome is counted for its author");
    assert_eq!(md.post(&format!("/moderation/idea/{idea}/restore"), &[]).await.status, 303);
    assert!(!md.get("/moderation").await.contains("Earlier actions"));
}

/// Signs `username` in on a client without a cookie jar and returns its session cookie, so that the
/// test can keep sending it after the server has ended the session.
async fn session_cookie(app: &TestApp, username: &str, password: &str) -> String {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let response = client
        .post(format!("{}/login", app.base))
        .header("origin", &app.base)
        .form(&[("login", username), ("password", password), ("next", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 303, "sign-in of {username}");
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("townhall_session="))
        .expect("a session cookie");
    cookie.split(';').next().unwrap().to_owned()
}

/// Sends `GET /` with `cookie`; the status (200 signed in, 303 to the sign-in page otherwise).
async fn home_status(client: &reqwest::Client, base: &str, cookie: &str) -> u16 {
    client.get(format!("{base}/")).header("cookie", cookie).send().await.unwrap().status().as_u16()
}

/// Keeps `cookie`'s device busy with home pages on three connections while `end` runs, then waits
/// for every request in flight; afterwards the cookie must be dead.
async fn busy_while(app: &TestApp, cookie: &str, end: impl std::future::Future<Output = ()>) {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let loops: Vec<_> = (0..3)
        .map(|_| {
            let (client, base, cookie, stop) = (client.clone(), app.base.clone(), cookie.to_owned(), stop.clone());
            tokio::spawn(async move {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    home_status(&client, &base, &cookie).await;
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(30)).await;
    end.await;
    tokio::time::sleep(Duration::from_millis(30)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for busy in loops {
        busy.await.unwrap();
    }
    assert_eq!(home_status(&client, &app.base, cookie).await, 303, "an ended session came back");
}

async fn an_ended_session_stays_ended_whatever_its_requests_in_flight_do(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let _ana = app.signed_up("ana").await;
    let _bo = app.signed_up("bo").await;
    // Sign-out on the busy device itself. (Each account gets ten sign-ins in five minutes.)
    for _ in 0..8 {
        let cookie = session_cookie(&app, "ana", PASSWORD).await;
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let (base, sent) = (app.base.clone(), cookie.clone());
        busy_while(&app, &cookie, async move {
            let out = client.post(format!("{base}/logout")).header("origin", &base).header("cookie", sent);
            assert_eq!(out.send().await.unwrap().status().as_u16(), 303);
        })
        .await;
    }
    // A password change on another device ends the busy one's session.
    let mut password = PASSWORD.to_owned();
    for round in 0..3 {
        let cookie = session_cookie(&app, "bo", &password).await;
        let other = app.person();
        assert_eq!(other.sign_in("bo", &password).await.status, 303);
        let next = format!("{PASSWORD} {round}");
        let form = [("current_password", password.as_str()), ("new_password", &next), ("confirm_password", &next)];
        busy_while(&app, &cookie, async { assert_eq!(other.post("/settings/password", &form).await.status, 303) })
            .await;
        password = next;
    }
}
