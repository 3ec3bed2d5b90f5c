//! Hardening: what an attacker with a session, a racing request or hostile input must not be able to
//! do, each reproduced against the real server (issue 19), on both engines.

mod common;

use std::time::Duration;

use common::{Engine, PASSWORD, Person, TestApp, post_ids};
use townhall::accounts::Role;
use townhall::config::TrustedProxies;
use townhall::db::{Exec, now, sql};
use townhall::ideas::input_time;

on_both_engines!(
    hiding_an_anonymous_idea_tells_moderators_nothing_about_its_author,
    an_ended_session_stays_ended_whatever_its_requests_in_flight_do,
    two_managers_merging_at_once_leave_one_merge_and_count_each_voter_once,
    nobody_can_take_a_deleted_accounts_name_or_pose_as_a_former_employee,
    a_hidden_post_takes_no_new_likes_replies_or_votes_and_its_likers_are_hidden,
    losing_access_ends_notifications_and_live_updates_about_it,
    two_admins_stepping_down_at_once_leave_the_community_one_admin,
);

async fn promote(app: &TestApp, username: &str, role: Role) {
    townhall::accounts::store::set_role(&mut app.db.clone(), username, role).await.unwrap();
}

async fn newest_post(person: &Person, username: &str) -> i64 {
    post_ids(&person.get(&format!("/@{username}")).await.body)[0]
}

/// An open campaign that takes anonymous ideas, made by `manager`, for the whole company or (with a
/// `community` address) for that community's members.
async fn open_campaign(manager: &Person, community: &str) -> i64 {
    let at = now();
    let (opens, closes) = (input_time(at - 3600), input_time(at + 7 * 86_400));
    let form = [
        ("title", "Speak freely"),
        ("question", "What should change?"),
        ("opens_at", &opens),
        ("closes_at", &closes),
        ("allow_anonymous", "on"),
        ("community", community),
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
    let campaign = open_campaign(&mo, "").await;
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

/// Sends the sign-in form as a browser behind a reverse proxy would, the proxy naming the client in
/// `X-Forwarded-For`; returns the status.
async fn sign_in_from(app: &TestApp, client: &str, login: &str, password: &str) -> u16 {
    let person = app.person();
    let form = [("login", login), ("password", password), ("next", "/")];
    let sent = person.client.post(format!("{}/login", app.base)).header("origin", &app.base);
    sent.header("x-forwarded-for", client).form(&form).send().await.unwrap().status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_limits_stop_the_guesser_not_the_people_behind_the_same_proxy() {
    let app = TestApp::spawn(Engine::Sqlite).await;
    let names = ["ana", "bo", "cy", "di", "ed"];
    for name in names {
        app.signed_up(name).await;
    }
    // Forty correct sign-ins from one address within a minute: an office behind one proxy.
    for round in 0..8 {
        for name in names {
            assert_eq!(app.person().sign_in(name, PASSWORD).await.status, 303, "{name}, round {round}");
        }
    }
    // X-Forwarded-For from a client that is not a trusted proxy changes nothing: ten wrong guesses
    // for bo, each claiming another address, and the guesser is refused.
    for n in 0..10 {
        assert_eq!(sign_in_from(&app, &format!("198.51.100.{n}"), "bo", "wrong password").await, 422);
    }
    assert_eq!(sign_in_from(&app, "198.51.100.99", "bo", "wrong password").await, 429);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_a_guesser_is_refused_and_the_owner_still_signs_in() {
    let proxies = TrustedProxies::parse("127.0.0.0/8").unwrap();
    let app = TestApp::spawn_with(Engine::Sqlite, |config| config.trusted_proxies = proxies).await;
    let _ana = app.signed_up("ana").await;
    // The username and the e-mail address are one key: ten guesses in all, not ten of each.
    for n in 0..10 {
        let login = if n % 2 == 0 { "ana" } else { "ana@example.com" };
        assert_eq!(sign_in_from(&app, "203.0.113.66", login, "guess").await, 422, "guess {n}");
    }
    assert_eq!(sign_in_from(&app, "203.0.113.66", "ana@example.com", "guess").await, 429);
    assert_eq!(sign_in_from(&app, "203.0.113.66", "ana", PASSWORD).await, 429, "the guesser stays refused");
    // Ana, at her own desk, is not locked out by someone naming her.
    assert_eq!(sign_in_from(&app, "203.0.113.7", "ana", PASSWORD).await, 303);
    // A client's own entry left of the proxy's cannot pose as somebody else.
    assert_eq!(sign_in_from(&app, "203.0.113.7, 203.0.113.66", "ana", "guess").await, 429);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guessing_the_current_password_from_a_session_is_limited() {
    let app = TestApp::spawn(Engine::Sqlite).await;
    let ana = app.signed_up("ana").await;
    let form = |current: &'static str| {
        [
            ("current_password", current),
            ("new_password", "a new long password"),
            ("confirm_password", "a new long password"),
        ]
    };
    for n in 0..10 {
        assert_eq!(ana.post("/settings/password", &form("a guess")).await.status, 422, "guess {n}");
    }
    let refused = ana.post("/settings/password", &form("another guess")).await;
    assert_eq!(refused.status, 429);
    assert!(refused.contains("Too many wrong current passwords"));
    // From another session of the same account too.
    let other = app.person();
    assert_eq!(other.sign_in("ana", PASSWORD).await.status, 303);
    assert_eq!(other.post("/settings/password", &form(PASSWORD)).await.status, 429);
}

/// A form posted to a page that answers without reading it (here: sign in first) leaves the
/// kept-alive connection usable for the next request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_stays_usable_after_a_post_answered_before_its_body_was_read() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::spawn(Engine::Sqlite).await;
    let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let body = format!("body={}", "x".repeat(40_000));
    let post = format!(
        "POST /posts HTTP/1.1\r\nHost: {}\r\nOrigin: {}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        app.addr,
        app.base,
        body.len()
    );
    stream.write_all(post.as_bytes()).await.unwrap();
    let get = format!("GET /login HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", app.addr);
    stream.write_all(get.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await.unwrap().unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 303"), "{answer}");
    assert_eq!(answer.matches("HTTP/1.1 ").count(), 2, "the second request got no answer: {answer}");
    assert!(answer.contains("HTTP/1.1 200"), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_campaign_date_with_odd_characters_or_trailing_text_is_refused_plainly() {
    let app = TestApp::spawn(Engine::Sqlite).await;
    let admin = app.signed_up("admin").await;
    let closes = input_time(now() + 86_400);
    for bad in ["2026-12-01T09:0é", "2026-12-01T09:00 and then some", "２０２６-12-01T09:00", "2026-12-01T09:00:00Z"]
    {
        let form = [("title", "Less waste"), ("question", "How?"), ("opens_at", bad), ("closes_at", &closes)];
        let page = admin.post("/campaigns/new", &form).await;
        assert_eq!(page.status, 422, "{bad}: {}", page.body);
        assert!(page.contains("give a date and time such as"), "{bad}");
    }
    // Seconds, as some browsers send them, are fine.
    let opens = format!("{}:00", input_time(now()));
    let form = [("title", "Less waste"), ("question", "How?"), ("opens_at", &opens), ("closes_at", &closes)];
    assert_eq!(admin.post("/campaigns/new", &form).await.status, 303);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_pages_are_not_kept_by_caches_and_reading_notifications_changes_nothing() {
    let app = TestApp::spawn(Engine::Sqlite).await;
    let ana = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    for path in ["/", "/settings/data.json", "/notifications", "/@ana"] {
        let page = ana.get(path).await;
        assert_eq!(page.status, 200, "{path}");
        assert_eq!(page.headers.get("cache-control").map(|v| v.to_str().unwrap()), Some("no-store"), "{path}");
    }
    let style = ana.get("/static/style.css").await;
    assert!(style.headers["cache-control"].to_str().unwrap().starts_with("public"));

    // A link from anywhere (a GET) does not mark anything read; the page's own form does.
    bo.write_post("Hello @ana").await;
    assert!(ana.get("/notifications").await.contains("Bo Example mentioned you"));
    assert!(ana.get("/").await.contains(r#"aria-label="1 unread""#));
    let forged = ana
        .client
        .post(format!("{}/notifications/read", app.base))
        .header("origin", "https://evil.example")
        .header("sec-fetch-site", "cross-site")
        .form(&[("up_to", "999999")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status().as_u16(), 403);
    assert!(ana.get("/").await.contains(r#"aria-label="1 unread""#));
}

async fn submit_idea(person: &Person, campaign: i64, title: &str) -> i64 {
    let form = [("title", title), ("body", "Details."), ("confirmed", "yes")];
    let made = person.post(&format!("/campaigns/{campaign}/ideas"), &form).await;
    assert_eq!(made.status, 303, "{}", made.body);
    made.location.unwrap().trim_start_matches("/ideas/").parse().unwrap()
}

async fn two_managers_merging_at_once_leave_one_merge_and_count_each_voter_once(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let _admin = app.signed_up("admin").await;
    let (mo, mu) = (app.signed_up("mo").await, app.signed_up("mu").await);
    promote(&app, "mo", Role::Manager).await;
    promote(&app, "mu", Role::Manager).await;
    let voters = [app.signed_up("v1").await, app.signed_up("v2").await, app.signed_up("v3").await];
    let campaign = open_campaign(&mo, "").await;
    let merge = |manager: &'static str, source: i64, target: i64| {
        let person = if manager == "mo" { &mo } else { &mu };
        let target = target.to_string();
        async move { person.post(&format!("/ideas/{source}/merge"), &[("target", &target)]).await.status }
    };
    let mut db = app.db.clone();
    for trial in 0..6 {
        let [a, b, c] = [
            submit_idea(&voters[0], campaign, &format!("Trial {trial}: refill stations")).await,
            submit_idea(&voters[1], campaign, &format!("Trial {trial}: bulk refills")).await,
            submit_idea(&voters[2], campaign, &format!("Trial {trial}: refill at the shop")).await,
        ];
        for voter in &voters {
            assert_eq!(voter.post(&format!("/ideas/{a}/vote"), &[("back", "")]).await.status, 303);
        }
        // A into B and B into A at the same moment: one of them, never a cycle.
        let (one, other) = tokio::join!(merge("mo", a, b), merge("mu", b, a));
        assert_one_went_through([one, other], trial);
        let query =
            sql("SELECT CAST(COUNT(*) AS BIGINT) FROM ideas WHERE id IN ($1, $2) AND merged_into_id IS NOT NULL");
        let (merged,): (i64,) = db.fetch_one(query.bind(a).bind(b)).await.unwrap();
        assert_eq!(merged, 1, "trial {trial}: both ideas were merged into each other");
        let (standing, merged_one) = if one == 303 { (b, a) } else { (a, b) };
        assert_eq!(mo.post(&format!("/ideas/{merged_one}/unmerge"), &[]).await.status, 303);
        // Undone twice at once: one undo, the votes as they were.
        let undo = |person: &'static str| {
            let person = if person == "mo" { &mo } else { &mu };
            async move { person.post(&format!("/ideas/{standing}/unmerge"), &[]).await.status }
        };
        assert_eq!(merge("mo", standing, merged_one).await, 303);
        let (one, other) = tokio::join!(undo("mo"), undo("mu"));
        assert_one_went_through([one, other], trial);

        // A into B and A into C at the same moment: A's three voters count in one place, once.
        let (one, other) = tokio::join!(merge("mo", a, b), merge("mu", a, c));
        assert_one_went_through([one, other], trial);
        let query = sql("SELECT CAST(COUNT(*) AS BIGINT) FROM idea_votes WHERE idea_id IN ($1, $2)");
        let (counted,): (i64,) = db.fetch_one(query.bind(b).bind(c)).await.unwrap();
        assert_eq!(counted, 3, "trial {trial}: A's voters were counted in both targets");
    }
}

/// Of two actions at once, one went through (303) and the other was refused plainly: 409 when it
/// met the first in its transaction, 400 or 403 when it came after and found the outcome (the idea
/// already merged, the person no longer an admin).
fn assert_one_went_through(mut statuses: [u16; 2], trial: usize) {
    statuses.sort();
    assert!(statuses[0] == 303 && [400, 403, 409].contains(&statuses[1]), "trial {trial}: {statuses:?}");
}

async fn nobody_can_take_a_deleted_accounts_name_or_pose_as_a_former_employee(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ana = app.signed_up("ana").await;
    let _cy = app.signed_up("cy").await;
    let cy_id = app.user_id("cy").await;
    // Someone registers what the old scheme named a deleted account, and its address, before cy leaves.
    let squatter = app.person();
    let (old_name, old_address) = (format!("former_{cy_id}"), format!("former-{cy_id}@deleted.invalid"));
    assert_eq!(squatter.sign_up(&old_name, "Squat", &old_address, PASSWORD).await.status, 303);
    let form = [("mode", "anonymise"), ("reason", "Left"), ("confirm", "cy")];
    let deleted = ana.post("/admin/users/cy/delete", &form).await;
    assert_eq!(deleted.status, 303, "{}", deleted.body);
    // The deleted account's own name and address cannot be registered.
    let (name, address) = (format!("former-{cy_id}"), format!("former-{cy_id}@deleted"));
    assert_eq!(app.person().sign_up(&name, "Again", &address, PASSWORD).await.status, 422);

    // Nobody may be called "Former employee", or hide direction overrides and invisible marks in a name.
    for (name, username) in [
        ("Former Employee", "fe1"),
        ("  former   employee ", "fe2"),
        ("Ana \u{202E}eyolpme", "fe3"),
        ("A\u{200B}na", "fe4"),
        ("\u{200D}Ana", "fe5"),
    ] {
        let page = app.person().sign_up(username, name, &format!("{username}@example.com"), PASSWORD).await;
        assert_eq!(page.status, 422, "{name:?}");
    }
    let edited = ana.post("/settings/profile", &[("display_name", "Former employee")]).await;
    assert_eq!(edited.status, 422);
    assert_eq!(ana.post("/settings/profile", &[("display_name", "Ana Two")]).await.status, 303);
    // Joiners between visible characters stay allowed (emoji and scripts need them).
    let ok = app.person().sign_up("dev", "Dev 👩\u{200D}💻", "dev@example.com", PASSWORD).await;
    assert_eq!(ok.status, 303, "{}", ok.body);
}

async fn a_hidden_post_takes_no_new_likes_replies_or_votes_and_its_likers_are_hidden(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let _admin = app.signed_up("admin").await;
    let ana = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    let md = app.signed_up("md").await;
    promote(&app, "md", Role::Moderator).await;
    ana.write_post("Something a moderator will hide").await;
    let post = newest_post(&bo, "ana").await;
    assert_eq!(bo.post(&format!("/posts/{post}/like"), &[("back", "")]).await.status, 303);
    assert_eq!(bo.post(&format!("/report/post/{post}"), &[("reason", "other")]).await.status, 303);
    assert_eq!(md.post(&format!("/moderation/post/{post}/hide"), &[]).await.status, 303);

    let cy = app.signed_up("cy").await;
    assert_eq!(cy.post(&format!("/posts/{post}/like"), &[("back", "")]).await.status, 400);
    assert_eq!(ana.post(&format!("/posts/{post}/replies"), &[("body", "But why?")]).await.status, 400);
    assert_eq!(cy.get(&format!("/posts/{post}/likes")).await.status, 404, "likers are hidden like the text");
    assert!(md.get(&format!("/posts/{post}/likes")).await.contains("Bo Example"));
    assert!(ana.get(&format!("/posts/{post}/likes")).await.contains("Bo Example"));
    // Taking a like back is still possible; after a restore everything is open again.
    assert_eq!(bo.post(&format!("/posts/{post}/unlike"), &[("back", "")]).await.status, 303);
    assert_eq!(md.post(&format!("/moderation/post/{post}/restore"), &[]).await.status, 303);
    assert_eq!(cy.post(&format!("/posts/{post}/like"), &[("back", "")]).await.status, 303);
    assert_eq!(cy.post(&format!("/posts/{post}/replies"), &[("body", "Welcome back")]).await.status, 303);
}

/// Reads an event stream until the server ends it (within 15 s); what it said meanwhile.
async fn until_ended(stream: &mut common::Stream) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match tokio::time::timeout(left, stream.response.chunk()).await {
            Ok(Ok(Some(chunk))) => stream.text.push_str(&String::from_utf8_lossy(&chunk)),
            Ok(_) => return stream.text.clone(),
            Err(_) => panic!("the stream was still open 15 s later; it said {:?}", stream.text),
        }
    }
}

async fn losing_access_ends_notifications_and_live_updates_about_it(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ana = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    let cy = app.signed_up("cy").await;
    ana.post("/communities/new", &[("name", "Lab"), ("slug", "lab"), ("visibility", "private")]).await;
    ana.post("/c/lab/invite", &[("username", "bo")]).await;
    assert_eq!(bo.post("/c/lab/join", &[]).await.status, 303);
    let campaign = open_campaign(&ana, "lab").await;
    let idea = submit_idea(&bo, campaign, "A secret microscope").await;
    let stage = |to: &'static str| [("stage", to), ("reason", "Looking into it")];
    assert_eq!(ana.post(&format!("/ideas/{idea}/stage"), &stage("under_review")).await.status, 303);
    let page = bo.get("/notifications").await;
    assert!(page.contains("A secret microscope"));
    assert_eq!(bo.post("/notifications/read", &[("up_to", &page.notifications_up_to())]).await.status, 303);

    // Bo leaves while his page of the community is open.
    let mut lab = common::Stream::open(&bo, "c/lab").await;
    assert_eq!(bo.post("/c/lab/leave", &[]).await.status, 303);
    assert_eq!(ana.post("/c/lab/posts", &[("body", "Only for the lab")]).await.status, 303);
    let said = until_ended(&mut lab).await;
    assert!(!said.contains("event: posts"), "a former member heard of the lab's posts: {said:?}");
    assert_eq!(ana.post(&format!("/ideas/{idea}/stage"), &stage("selected")).await.status, 303);
    let page = bo.get("/notifications").await;
    assert!(!page.contains("A secret microscope"), "{}", page.body);
    assert!(!bo.get("/").await.contains("class=\"badge\""), "the lab's notifications still count");

    // A suspended person's open pages stop hearing anything.
    let mut all = common::Stream::open(&cy, "all").await;
    let suspended = ana.post("/admin/users/cy/suspend", &[("duration", "1d"), ("reason", "Cooling off")]).await;
    assert_eq!(suspended.status, 303);
    ana.write_post("For everyone").await;
    let said = until_ended(&mut all).await;
    assert!(!said.contains("event: posts"), "a suspended person heard of new posts: {said:?}");
}

async fn two_admins_stepping_down_at_once_leave_the_community_one_admin(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let _site_admin = app.signed_up("admin").await;
    let ana = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    let mut db = app.db.clone();
    let admins =
        sql("SELECT CAST(COUNT(*) AS BIGINT) FROM community_members m JOIN communities c ON c.id = m.community_id
                      WHERE c.slug = $1 AND m.is_admin");
    for trial in 0..6 {
        let slug = format!("team-{trial}");
        let name = format!("Team {trial}");
        let made = ana.post("/communities/new", &[("name", &name), ("slug", &slug), ("visibility", "public")]).await;
        assert_eq!(made.status, 303, "{}", made.body);
        assert_eq!(bo.post(&format!("/c/{slug}/join"), &[]).await.status, 303);
        assert_eq!(ana.post(&format!("/c/{slug}/members/bo/promote"), &[]).await.status, 303);
        // Both leave at once (even trials), or demote each other at once (odd ones).
        let (ana_path, bo_path) = if trial % 2 == 0 {
            (format!("/c/{slug}/leave"), format!("/c/{slug}/leave"))
        } else {
            (format!("/c/{slug}/members/bo/demote"), format!("/c/{slug}/members/ana/demote"))
        };
        let (one, other) = tokio::join!(ana.post(&ana_path, &[]), bo.post(&bo_path, &[]));
        assert_one_went_through([one.status, other.status], trial);
        let (left,): (i64,) = db.fetch_one(admins.clone().bind(slug.as_str())).await.unwrap();
        assert_eq!(left, 1, "trial {trial}: the community was left with {left} admins");
    }
}
