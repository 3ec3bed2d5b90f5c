//! Real headless Chromium (Debian's chromium and chromium-driver) driving the site as a person would.
//! Without ChromeDriver the test says it was skipped; under CI=true it fails instead.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Engine, TestApp};
use fantoccini::{Client, ClientBuilder, Locator};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// ChromeDriver on a free port, stopped when dropped.
struct Driver {
    child: Child,
    url: String,
    profile: std::path::PathBuf,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

fn browser_available(test: &str) -> bool {
    let present = std::path::Path::new(CHROMEDRIVER).exists() && std::path::Path::new(CHROMIUM).exists();
    if !present && std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI=true but {CHROMEDRIVER} or {CHROMIUM} is missing: {test} cannot run");
    }
    if !present {
        eprintln!("SKIPPED {test}: install Debian's chromium and chromium-driver to run it");
    }
    present
}

async fn start_browser() -> (Driver, Client) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let profile = std::env::temp_dir().join(format!("townhall-chromium-{}", uuid::Uuid::new_v4().simple()));
    let driver = Driver { child, url: format!("http://127.0.0.1:{port}"), profile };
    let deadline = Instant::now() + Duration::from_secs(20);
    while reqwest::get(format!("{}/status", driver.url)).await.is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not start within 20 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let options = serde_json::json!({
        "binary": CHROMIUM,
        "args": [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-first-run", "--window-size=1000,1400",
            format!("--user-data-dir={}", driver.profile.display()),
        ]
    });
    let mut capabilities = serde_json::Map::new();
    capabilities.insert("browserName".into(), "chrome".into());
    capabilities.insert("goog:chromeOptions".into(), options);
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .expect("a Chromium session");
    (driver, client)
}

async fn fill(browser: &Client, css: &str, text: &str) {
    browser.find(Locator::Css(css)).await.unwrap().send_keys(text).await.unwrap();
}

async fn click(browser: &Client, css: &str) {
    browser.find(Locator::Css(css)).await.unwrap().click().await.unwrap();
}

/// Waits (up to 10 s) until the page shows `text`, then returns the page source.
async fn wait_for_text(browser: &Client, text: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let source = browser.source().await.unwrap();
        if source.contains(text) {
            return source;
        }
        assert!(Instant::now() < deadline, "the page never showed {text:?}:\n{source}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_colleague_signs_up_posts_follows_someone_and_sees_their_post_at_home() {
    if !browser_available("a_new_colleague_signs_up_posts_follows_someone_and_sees_their_post_at_home") {
        return;
    }
    let app = TestApp::spawn(Engine::Sqlite).await;
    let bo = app.signed_up("bo").await;
    bo.write_post("Bo's idea: reusable crates for #packaging").await;

    let (_driver, browser) = start_browser().await;
    let base = &app.base;
    browser.goto(&format!("{base}/")).await.unwrap();
    wait_for_text(&browser, "Sign in to Townhall").await;
    click(&browser, "a[href='/signup']").await;
    wait_for_text(&browser, "Join Townhall").await;
    fill(&browser, "#username", "ana").await;
    fill(&browser, "#display_name", "Ana Lima").await;
    fill(&browser, "#email", "ana@example.com").await;
    fill(&browser, "#password", "short").await;
    click(&browser, "form[action='/signup'] button").await;
    wait_for_text(&browser, "A password has at least 10 characters.").await;
    // The refused form kept the name; only the password is typed again.
    let kept = browser.find(Locator::Css("#display_name")).await.unwrap().prop("value").await.unwrap();
    assert_eq!(kept.as_deref(), Some("Ana Lima"));
    fill(&browser, "#password", "correct horse battery").await;
    click(&browser, "form[action='/signup'] button").await;
    wait_for_text(&browser, "Welcome to Townhall!").await;

    // The character counter is JavaScript, loaded under the strict CSP.
    fill(&browser, "#body", "Hello from the browser, @bo!").await;
    wait_for_text(&browser, "972 characters left").await;
    click(&browser, "form.compose button").await;
    let home = wait_for_text(&browser, "Hello from the browser").await;
    assert!(home.contains(r#"href="/@bo""#), "the mention is a link");
    assert!(!home.contains("reusable crates"), "Bo is not followed yet");

    click(&browser, "a[href='/people']").await;
    wait_for_text(&browser, "Bo Example").await;
    click(&browser, ".people a[href='/@bo']").await;
    wait_for_text(&browser, "action=\"/people/bo/follow\"").await;
    click(&browser, "form[action='/people/bo/follow'] button").await;
    wait_for_text(&browser, "You follow Bo Example now").await;

    click(&browser, "nav a[href='/']").await;
    let home = wait_for_text(&browser, "reusable crates").await;
    assert!(home.find("reusable crates") > home.find("Hello from the browser"), "newest first");
    if let Ok(png) = browser.screenshot().await {
        let _ = std::fs::write(std::env::temp_dir().join("townhall-home.png"), png);
    }
    browser.close().await.unwrap();
}

/// Makes and publishes, over HTTP, the campaign "Greener office" (open now, 3 votes each); returns
/// its path.
async fn greener_office(manager: &common::Person) -> String {
    let at = townhall::db::now();
    let (opens, closes) = (townhall::ideas::input_time(at - 60), townhall::ideas::input_time(at + 86_400));
    let form = [
        ("title", "Greener office"),
        ("question", "How do we save energy?"),
        ("opens_at", opens.as_str()),
        ("closes_at", closes.as_str()),
        ("vote_budget", "3"),
    ];
    let campaign = manager.post("/campaigns/new", &form).await.location.expect("the campaign is made");
    manager.post(&format!("{campaign}/publish"), &[]).await;
    campaign
}

/// Signs a new person up through the browser's own sign-up form.
async fn sign_up_in_browser(browser: &Client, base: &str, username: &str) {
    browser.goto(&format!("{base}/signup")).await.unwrap();
    fill(browser, "#username", username).await;
    fill(browser, "#display_name", &common::display_name(username)).await;
    fill(browser, "#email", &format!("{username}@example.com")).await;
    fill(browser, "#password", common::PASSWORD).await;
    click(browser, "form[action='/signup'] button").await;
    wait_for_text(browser, "Welcome to Townhall!").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_colleague_replies_to_a_post_and_likes_it() {
    if !browser_available("a_colleague_replies_to_a_post_and_likes_it") {
        return;
    }
    let app = TestApp::spawn(Engine::Sqlite).await;
    let bo = app.signed_up("bo").await;
    bo.write_post("Who has ideas for the summer party?").await;
    let (_driver, browser) = start_browser().await;
    sign_up_in_browser(&browser, &app.base, "ana").await;

    browser.goto(&format!("{}/all", app.base)).await.unwrap();
    wait_for_text(&browser, "summer party").await;
    click(&browser, ".post .actions a[href$='#reply']").await;
    wait_for_text(&browser, "No replies yet").await;
    fill(&browser, "#body", "A picnic by the river").await;
    click(&browser, "form#reply button").await;
    let thread = wait_for_text(&browser, "1 reply").await;
    assert!(thread.contains("A picnic by the river"));

    click(&browser, ".post .actions form[action$='/like'] button").await;
    let liked = wait_for_text(&browser, "1 like").await;
    assert!(liked.contains(">Liked</button>"));
    assert!(bo.get("/notifications").await.contains("Ana Example liked your post"));
    assert!(bo.get("/notifications").await.contains("Ana Example replied to your post"));
    browser.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn someone_asks_to_join_a_private_community_and_reads_it_once_approved() {
    if !browser_available("someone_asks_to_join_a_private_community_and_reads_it_once_approved") {
        return;
    }
    let app = TestApp::spawn(Engine::Sqlite).await;
    let bo = app.signed_up("bo").await;
    bo.post("/communities/new", &[("name", "Board"), ("slug", "board"), ("visibility", "private")]).await;
    bo.post("/c/board/posts", &[("body", "Quarterly numbers, members only")]).await;
    let (_driver, browser) = start_browser().await;
    sign_up_in_browser(&browser, &app.base, "ana").await;

    click(&browser, "nav a[href='/communities']").await;
    wait_for_text(&browser, "Board").await;
    click(&browser, ".communities a[href='/c/board']").await;
    let outside = wait_for_text(&browser, "only its members see its posts").await;
    assert!(!outside.contains("Quarterly numbers"));
    click(&browser, "form[action='/c/board/join'] button").await;
    wait_for_text(&browser, "Your request to join was sent").await;

    assert_eq!(bo.post("/c/board/members/ana/approve", &[]).await.status, 303);
    browser.refresh().await.unwrap();
    wait_for_text(&browser, "Quarterly numbers, members only").await;
    browser.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_home_page_announces_new_posts_without_a_reload() {
    if !browser_available("an_open_home_page_announces_new_posts_without_a_reload") {
        return;
    }
    let app = TestApp::spawn(Engine::Sqlite).await;
    let bo = app.signed_up("bo").await;
    let (_driver, browser) = start_browser().await;
    sign_up_in_browser(&browser, &app.base, "ana").await;
    let ana = app.person();
    ana.sign_in("ana", common::PASSWORD).await;
    ana.post("/people/bo/follow", &[]).await;
    browser.goto(&format!("{}/", app.base)).await.unwrap();
    wait_for_text(&browser, "Home").await;
    // Give the page's EventSource its connection before the post is made.
    let deadline = Instant::now() + Duration::from_secs(10);
    let listening = "return document.documentElement.dataset.live === 'open'";
    while !browser.execute(listening, vec![]).await.ok().and_then(|v| v.as_bool()).unwrap_or(false) {
        assert!(Instant::now() < deadline, "the page never opened its event stream");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bo.write_post("Fresh news from Bo").await;
    wait_for_text(&browser, "1 new post: show it").await;
    assert!(!browser.source().await.unwrap().contains("Fresh news from Bo"), "not shown until asked");
    click(&browser, "#new-posts a").await;
    wait_for_text(&browser, "Fresh news from Bo").await;

    // A like of Ana's post shows up as a live notification count in the header.
    ana.write_post("Ana's own post").await;
    let ana_post = common::post_ids(&ana.get("/").await.body)[0];
    browser.goto(&format!("{}/all", app.base)).await.unwrap();
    wait_for_text(&browser, "own post").await;
    bo.post(&format!("/posts/{ana_post}/like"), &[]).await;
    wait_for_text(&browser, r#"<span class="badge" aria-label="1 unread">1</span>"#).await;
    browser.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_employee_submits_and_votes_for_an_idea_and_a_manager_selects_it() {
    if !browser_available("an_employee_submits_and_votes_for_an_idea_and_a_manager_selects_it") {
        return;
    }
    let app = TestApp::spawn(Engine::Sqlite).await;
    let manager = app.signed_up("boss").await; // first account: admin, runs campaigns
    let campaign = greener_office(&manager).await;

    let (_driver, browser) = start_browser().await;
    sign_up_in_browser(&browser, &app.base, "ana").await;
    click(&browser, "nav a[href='/campaigns']").await;
    wait_for_text(&browser, "Open now").await;
    click(&browser, ".campaigns a[href^='/campaigns/']").await;
    wait_for_text(&browser, "How do we save energy?").await;
    click(&browser, "a.button").await;
    wait_for_text(&browser, "Your idea").await;
    fill(&browser, "#title", "Motion sensors for the lights").await;
    fill(&browser, "#body", "Meeting rooms stay lit all night.").await;
    click(&browser, "form.stacked button").await;
    wait_for_text(&browser, "Your idea is in.").await;
    click(&browser, "form[action$='/vote'] button").await;
    let page = wait_for_text(&browser, "Take back my vote").await;
    assert!(page.contains("<strong>1</strong> vote") && page.contains("You have 2 votes left"));

    // The manager signs in on the same browser and moves the idea on.
    click(&browser, "form[action='/logout'] button").await;
    wait_for_text(&browser, "Sign in to Townhall").await;
    let list = manager.get(&format!("{campaign}?sort=newest")).await.body;
    let idea_id = list.split("href=\"/ideas/").nth(1).unwrap().split('"').next().unwrap().to_owned();
    // Opening the idea asks for sign-in first, and comes back to it after.
    browser.goto(&format!("{}/ideas/{idea_id}", app.base)).await.unwrap();
    fill(&browser, "#login", "boss").await;
    fill(&browser, "#password", common::PASSWORD).await;
    click(&browser, "form[action='/login'] button").await;
    wait_for_text(&browser, "Manage this idea").await;
    browser.find(Locator::Css("#stage option[value='selected']")).await.unwrap().click().await.unwrap();
    fill(&browser, "#reason", "Cheap, and it pays back in a year").await;
    click(&browser, "form[action$='/stage'] button").await;
    let page = wait_for_text(&browser, "The idea is now “Selected”.").await;
    assert!(page.contains("New → Selected"));
    if let Ok(png) = browser.screenshot().await {
        let _ = std::fs::write(std::env::temp_dir().join("townhall-idea.png"), png);
    }
    browser.close().await.unwrap();
}

async fn sign_in_in_browser(browser: &Client, base: &str, username: &str) {
    browser.goto(&format!("{base}/login")).await.unwrap();
    fill(browser, "#login", username).await;
    fill(browser, "#password", common::PASSWORD).await;
    click(browser, "form[action='/login'] button").await;
    wait_for_text(browser, "Sign out").await;
}

async fn sign_out_in_browser(browser: &Client) {
    click(browser, "form[action='/logout'] button").await;
    wait_for_text(browser, "Sign in to").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_reports_a_post_a_moderator_hides_it_and_the_reporter_sees_the_outcome() {
    if !browser_available("a_member_reports_a_post_a_moderator_hides_it_and_the_reporter_sees_the_outcome") {
        return;
    }
    let app = TestApp::spawn(Engine::Sqlite).await;
    let _admin = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    let _md = app.signed_up("md").await;
    townhall::accounts::store::set_role(&mut app.db.clone(), "md", townhall::accounts::Role::Moderator).await.unwrap();
    bo.write_post("Cheap watches, DM me for prices").await;
    let post = common::post_ids(&bo.get("/@bo").await.body)[0];

    let (_driver, browser) = start_browser().await;
    sign_up_in_browser(&browser, &app.base, "cy").await;
    browser.goto(&format!("{}/all", app.base)).await.unwrap();
    wait_for_text(&browser, "Cheap watches").await;
    click(&browser, &format!("a[href='/report/post/{post}']")).await;
    wait_for_text(&browser, "What is wrong with it?").await;
    click(&browser, "input[name='reason'][value='spam']").await;
    fill(&browser, "#note", "Posted in three communities today").await;
    click(&browser, "form[action^='/report/'] button").await;
    let mine = wait_for_text(&browser, "Waiting for a moderator").await;
    assert!(mine.contains("Spam or advertising"));
    sign_out_in_browser(&browser).await;

    sign_in_in_browser(&browser, &app.base, "md").await;
    click(&browser, "nav a[href='/moderation']").await;
    let queue = wait_for_text(&browser, "Posted in three communities today").await;
    assert!(queue.contains("Cheap watches"));
    click(&browser, &format!("form[action='/moderation/post/{post}/hide'] button")).await;
    wait_for_text(&browser, "The post is hidden.").await;
    sign_out_in_browser(&browser).await;

    sign_in_in_browser(&browser, &app.base, "cy").await;
    browser.goto(&format!("{}/all", app.base)).await.unwrap();
    let feed = wait_for_text(&browser, "This post was hidden by a moderator.").await;
    assert!(!feed.contains("Cheap watches"));
    browser.goto(&format!("{}/notifications", app.base)).await.unwrap();
    wait_for_text(&browser, "The moderators reviewed your report").await;
    browser.goto(&format!("{}/reports", app.base)).await.unwrap();
    wait_for_text(&browser, "Reviewed: hidden").await;
    browser.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_suspends_someone_signed_in_elsewhere_and_their_session_ends() {
    if !browser_available("an_admin_suspends_someone_signed_in_elsewhere_and_their_session_ends") {
        return;
    }
    let app = TestApp::spawn(Engine::Sqlite).await;
    let (_driver, browser) = start_browser().await;
    sign_up_in_browser(&browser, &app.base, "ana").await; // the first account: the admin
    let bo = app.signed_up("bo").await;
    bo.write_post("Bo is here").await;
    assert_eq!(bo.get("/").await.status, 200);

    click(&browser, "nav a[href='/admin/users']").await;
    wait_for_text(&browser, "People and roles").await;
    fill(&browser, "#q", "bo").await;
    click(&browser, "form.search button").await;
    // The list before the search shows bo too: wait for the search's own page before touching it.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !browser.current_url().await.unwrap().as_str().contains("q=bo") {
        assert!(Instant::now() < deadline, "the search page did not load");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    wait_for_text(&browser, "bo@example.com").await;
    click(&browser, "#user-bo details summary").await;
    browser.find(Locator::Css("#duration-bo")).await.unwrap().select_by_value("7d").await.unwrap();
    fill(&browser, "#reason-bo", "Shared customer data").await;
    click(&browser, "form[action='/admin/users/bo/suspend'] button").await;
    wait_for_text(&browser, "is suspended and was signed out everywhere").await;

    // Bo's open session, in another client, is over: its next page says why, once; signing in again
    // is refused with the reason.
    let told = bo.get("/").await;
    assert_eq!(told.status, 403);
    assert!(told.contains("Shared customer data"));
    let home = bo.get("/").await;
    assert_eq!(home.status, 303);
    assert!(home.location.unwrap().starts_with("/login"));
    let refused = bo.sign_in("bo", common::PASSWORD).await;
    assert_eq!(refused.status, 403);
    assert!(refused.contains("Shared customer data"));
    browser.goto(&format!("{}/@bo", app.base)).await.unwrap();
    wait_for_text(&browser, "Suspended").await;
    browser.close().await.unwrap();
}

/// A checkbox outside a fieldset is a small box on the line of its words, not a box stretched
/// across the form with its words below.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkboxes_sit_beside_their_words() {
    if !browser_available("checkboxes_sit_beside_their_words") {
        return;
    }
    let app = TestApp::spawn(Engine::Sqlite).await;
    let (_driver, browser) = start_browser().await;
    sign_up_in_browser(&browser, &app.base, "ana").await;
    browser.goto(&format!("{}/moderation/keywords", app.base)).await.unwrap();
    wait_for_text(&browser, "This is a regular expression").await;
    let measured = browser
        .execute(
            "const box = document.querySelector('input[name=regex]').getBoundingClientRect();
             const label = box && document.querySelector('input[name=regex]').parentElement.getBoundingClientRect();
             return [box.width, box.top - label.top];",
            vec![],
        )
        .await
        .unwrap();
    let width = measured[0].as_f64().unwrap();
    let below_label_top = measured[1].as_f64().unwrap();
    assert!(width < 40.0, "the checkbox is {width}px wide");
    assert!(below_label_top < 10.0, "the checkbox sits {below_label_top}px below its label's top");
}

/// Every page a person opens in their first day, at phone width: nothing wider than the screen
/// (no sideways scrolling), a header of one line with a menu button, and home's first post above
/// the fold.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_main_page_fits_a_phone_screen() {
    if !browser_available("every_main_page_fits_a_phone_screen") {
        return;
    }
    let app = TestApp::spawn(Engine::Sqlite).await;
    let ana = app.signed_up("ana").await; // the admin
    let bo = app.signed_up("bo").await;
    let long_word = "Supercalifragilisticexpialidocious".repeat(4);
    let long_link = format!("https://intranet.example/{}", "very-long-path-segment/".repeat(8));
    ana.write_post(&format!("Welcome, @bo! {long_word} {long_link} #kickoff")).await;
    bo.write_post("A second post, to have a feed.").await;
    let post = common::post_ids(&ana.get("/all").await.body)[0];
    bo.post(&format!("/posts/{post}/replies"), &[("body", "Thanks! @ana")]).await;
    assert_eq!(
        ana.post(
            "/communities/new",
            &[("name", "Plant Two"), ("slug", "plant2"), ("description", "Shop floor"), ("visibility", "public")]
        )
        .await
        .status,
        303
    );
    let campaign = greener_office(&ana).await;
    let idea = bo
        .post(
            &format!("{campaign}/ideas"),
            &[
                ("title", &format!("Sensors {}", &long_word[..100])),
                ("body", "Lights off at night."),
                ("confirmed", "yes"),
            ],
        )
        .await
        .location
        .unwrap();
    bo.post(&format!("/report/post/{post}"), &[("reason", "spam"), ("note", "test")]).await;

    let (_driver, browser) = start_browser().await;
    sign_in_in_browser(&browser, &app.base, "ana").await;
    sign_out_in_browser(&browser).await;
    browser.set_window_size(360, 800).await.unwrap();
    sign_in_in_browser(&browser, &app.base, "ana").await;
    let pages = [
        "/".to_owned(),
        "/all".to_owned(),
        "/people".to_owned(),
        "/communities".to_owned(),
        "/c/plant2".to_owned(),
        "/campaigns".to_owned(),
        campaign.clone(),
        format!("{campaign}/dashboard"),
        format!("{campaign}/edit"),
        "/campaigns/new".to_owned(),
        idea.clone(),
        format!("/posts/{post}"),
        "/notifications".to_owned(),
        "/@ana".to_owned(),
        "/topics/kickoff".to_owned(),
        "/search?q=welcome".to_owned(),
        "/moderation".to_owned(),
        "/moderation/handled".to_owned(),
        "/moderation/keywords".to_owned(),
        "/admin/users".to_owned(),
        "/admin/users/new".to_owned(),
        "/admin/audit".to_owned(),
        "/admin/settings".to_owned(),
        "/admin/export".to_owned(),
        "/invitations".to_owned(),
        "/settings/profile".to_owned(),
        "/settings/password".to_owned(),
        "/settings/data".to_owned(),
        "/posts/999999".to_owned(),
    ];
    let mut too_wide = Vec::new();
    for path in &pages {
        browser.goto(&format!("{}{path}", app.base)).await.unwrap();
        let measured = browser
            .execute(
                "const wide = [...document.querySelectorAll('body *')]
                   .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
                   .map(e => e.tagName + '.' + e.className).slice(0, 3);
                 return [document.documentElement.scrollWidth, window.innerWidth, wide.join(' ')];",
                vec![],
            )
            .await
            .unwrap();
        let (scroll, inner) = (measured[0].as_f64().unwrap(), measured[1].as_f64().unwrap());
        assert!(inner <= 400.0, "the window is {inner}px wide, not a phone's");
        if scroll > inner {
            too_wide.push(format!("{path}: {scroll}px in {inner}px ({})", measured[2]));
        }
    }
    assert!(too_wide.is_empty(), "pages wider than a 360px screen:\n{}", too_wide.join("\n"));

    // At 390×844 the header is one line with a menu button, and home's first post shows at once.
    browser.set_window_size(390, 844).await.unwrap();
    browser.goto(&format!("{}/", app.base)).await.unwrap();
    // The window's own bars take some height: make the page's viewport the phone's 844px.
    let bars = browser.execute("return window.outerHeight - window.innerHeight;", vec![]).await.unwrap();
    browser.set_window_size(390, 844 + bars.as_u64().unwrap_or(0) as u32).await.unwrap();
    if let Ok(png) = browser.screenshot().await {
        let _ = std::fs::write(std::env::temp_dir().join("townhall-phone-home.png"), png);
    }
    let measured = browser
        .execute(
            "return [document.querySelector('.site-header').getBoundingClientRect().height,
                     document.querySelector('.post').getBoundingClientRect().top,
                     window.innerHeight,
                     getComputedStyle(document.querySelector('nav[aria-label=Main]')).display];",
            vec![],
        )
        .await
        .unwrap();
    let (header, first_post, height) =
        (measured[0].as_f64().unwrap(), measured[1].as_f64().unwrap(), measured[2].as_f64().unwrap());
    assert!(header < 70.0, "the header is {header}px tall on a phone");
    assert!(first_post < height, "home's first post starts at {first_post}px, below the fold at {height}px");
    assert!(
        !browser
            .find(Locator::Css("nav[aria-label=Main] a[href='/people']"))
            .await
            .unwrap()
            .is_displayed()
            .await
            .unwrap()
    );
    // The menu button opens the menu, without a page load.
    click(&browser, ".site-menu > summary").await;
    let people = browser.find(Locator::Css("nav[aria-label=Main] a[href='/people']")).await.unwrap();
    assert!(people.is_displayed().await.unwrap(), "the menu opens");
    if let Ok(png) = browser.screenshot().await {
        let _ = std::fs::write(std::env::temp_dir().join("townhall-phone-menu.png"), png);
    }
    people.click().await.unwrap();
    wait_for_text(&browser, "Bo Example").await;
    if let Ok(png) = browser.screenshot().await {
        let _ = std::fs::write(std::env::temp_dir().join("townhall-phone.png"), png);
    }
    browser.close().await.unwrap();
}

/// Typing "@b" in the post box lists Bo; arrows and Enter pick him, Escape closes the list, and the
/// post that goes out mentions him.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typing_an_at_sign_suggests_people_to_mention() {
    if !browser_available("typing_an_at_sign_suggests_people_to_mention") {
        return;
    }
    let app = TestApp::spawn(Engine::Sqlite).await;
    app.signed_up("bo").await;
    app.signed_up("bea").await;
    let (_driver, browser) = start_browser().await;
    sign_up_in_browser(&browser, &app.base, "ana").await;

    fill(&browser, "#body", "Thanks @b").await;
    let list = wait_for_text(&browser, r#"role="option""#).await;
    assert!(list.contains("Bo Example") && list.contains("Bea Example"), "both match @b");
    let expanded = browser.find(Locator::Css("#body")).await.unwrap().attr("aria-expanded").await.unwrap();
    assert_eq!(expanded.as_deref(), Some("true"));
    // Escape closes the list and leaves the text alone.
    fill(&browser, "#body", "\u{E00C}").await;
    let closed = browser.find(Locator::Css("#body")).await.unwrap().attr("aria-expanded").await.unwrap();
    assert_eq!(closed.as_deref(), Some("false"));
    // Typing on narrows the list again; Enter picks the one left.
    fill(&browser, "#body", "o").await;
    wait_for_text(&browser, "Bo Example").await;
    let source = browser.source().await.unwrap();
    assert!(!source.contains("Bea Example"), "@bo no longer matches Bea");
    fill(&browser, "#body", "\u{E007}").await; // Enter
    let value = browser.find(Locator::Css("#body")).await.unwrap().prop("value").await.unwrap();
    assert_eq!(value.as_deref(), Some("Thanks @bo "));
    fill(&browser, "#body", "for the crates").await;
    click(&browser, "form.compose button[type=submit]").await;
    let home = wait_for_text(&browser, "for the crates").await;
    assert!(home.contains(r#"href="/@bo""#), "the picked name is a mention");

    // With two matches, Down then Enter takes the second.
    fill(&browser, "#body", "@b").await;
    wait_for_text(&browser, "Bea Example").await;
    let options = browser.find_all(Locator::Css(".mention-list [role=option]")).await.unwrap();
    let second = options[1].text().await.unwrap();
    fill(&browser, "#body", "\u{E015}\u{E007}").await; // Down, Enter
    let value = browser.find(Locator::Css("#body")).await.unwrap().prop("value").await.unwrap().unwrap();
    let picked = second.split('@').nth(1).unwrap().trim();
    assert_eq!(value, format!("@{picked} "));
    browser.close().await.unwrap();
}

/// After a refused form, the focus is on the problem: the error summary, or the first field in error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_form_puts_the_focus_on_its_first_problem() {
    if !browser_available("a_refused_form_puts_the_focus_on_its_first_problem") {
        return;
    }
    let app = TestApp::spawn(Engine::Sqlite).await;
    let (_driver, browser) = start_browser().await;
    sign_up_in_browser(&browser, &app.base, "ana").await;
    browser.goto(&format!("{}/settings/password", app.base)).await.unwrap();
    fill(&browser, "#new_password", "short").await;
    click(&browser, "form[action='/settings/password'] button").await;
    wait_for_text(&browser, "That is not your current password.").await;
    let focused = browser.execute("return document.activeElement.id;", vec![]).await.unwrap();
    assert_eq!(focused, "current_password", "the first field in error has the focus");

    sign_out_in_browser(&browser).await;
    fill(&browser, "#login", "ana").await;
    fill(&browser, "#password", "not the password").await;
    click(&browser, "form[action='/login'] button").await;
    wait_for_text(&browser, "login-error").await;
    let focused = browser.execute("return document.activeElement.id;", vec![]).await.unwrap();
    assert_eq!(focused, "login-error", "the error summary has the focus");
}

/// One full first day, through the browser only, on a laptop screen and again on a phone: an admin
/// sets up the site and makes two accounts from a CSV; the new manager publishes a campaign that is
/// open at once; a member spends their one vote and finds the other Vote buttons disabled; the
/// manager moves the member's idea twice and the member reads both stages; a moderator hides a
/// reported post and restores it from the handled view.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_first_day_on_a_laptop_and_on_a_phone() {
    if !browser_available("a_full_first_day_on_a_laptop_and_on_a_phone") {
        return;
    }
    for (width, height) in [(1280, 900), (390, 844)] {
        full_first_day(width, height).await;
    }
}

async fn full_first_day(width: u32, height: u32) {
    let app = TestApp::spawn(Engine::Sqlite).await;
    let base = app.base.clone();
    let (_driver, browser) = start_browser().await;
    browser.set_window_size(width, height).await.unwrap();
    let go = |path: &str| format!("{base}{path}");

    // The admin: the first account; names the site and makes two accounts from a pasted list.
    sign_up_in_browser(&browser, &base, "ada").await;
    browser.goto(&go("/admin/settings")).await.unwrap();
    let name = browser.find(Locator::Css("#name")).await.unwrap();
    name.clear().await.unwrap();
    name.send_keys("Acme Voice").await.unwrap();
    click(&browser, "form[action='/admin/settings'] button[type=submit]").await;
    wait_for_text(&browser, "Settings saved.").await;
    browser.goto(&go("/admin/users/new")).await.unwrap();
    fill(
        &browser,
        "#csv",
        "name,e-mail,department\nMia Manager,mia@acme.example,Innovation\nBo Member,bo@acme.example,Plant 2",
    )
    .await;
    click(&browser, "form[action='/admin/users/new'] button[type=submit]").await;
    wait_for_text(&browser, "Accounts made").await;
    let mut links = Vec::new();
    for field in browser.find_all(Locator::Css("input.copy")).await.unwrap() {
        links.push(field.prop("value").await.unwrap().unwrap());
    }
    assert_eq!(links.len(), 2, "a link for each person");
    browser.goto(&go("/admin/users?q=mia")).await.unwrap();
    click(&browser, "#role-mia option[value='manager']").await;
    click(&browser, "form[action='/admin/users/mia/role'] button").await;
    wait_for_text(&browser, "Mia Manager is now a manager.").await;
    menu_sign_out(&browser).await;

    // Each new person sets a password from their link; the manager publishes a campaign, open now.
    set_password_in_browser(&browser, &links[0]).await;
    browser.goto(&go("/campaigns/new")).await.unwrap();
    fill(&browser, "#title", "Greener office").await;
    fill(&browser, "#question", "How do we save energy?").await;
    fill(&browser, "#vote_budget", "1").await;
    click(&browser, "form[action='/campaigns/new'] button[type=submit]").await;
    wait_for_text(&browser, "saved as a draft").await;
    click(&browser, "form.publish button[type=submit]").await;
    wait_for_text(&browser, "The campaign is open and announced").await;
    let campaign = browser.current_url().await.unwrap().path().to_owned();
    click(&browser, "a.button[href$='/ideas/new']").await;
    fill(&browser, "#title", "Paperless invoices").await;
    fill(&browser, "#body", "Send them by e-mail.").await;
    click(&browser, "form[data-similar-url] button[type=submit]").await;
    wait_for_text(&browser, "Your idea is in.").await;
    menu_sign_out(&browser).await;

    // The member submits an idea, spends the one vote on it, and finds the other buttons disabled.
    set_password_in_browser(&browser, &links[1]).await;
    browser.goto(&go(&campaign)).await.unwrap();
    wait_for_text(&browser, "Greener office").await;
    click(&browser, "a.button[href$='/ideas/new']").await;
    fill(&browser, "#title", "Motion sensors for lights").await;
    fill(&browser, "#body", "Rooms stay lit all night.").await;
    click(&browser, "form[data-similar-url] button[type=submit]").await;
    wait_for_text(&browser, "Your idea is in.").await;
    let idea = browser.current_url().await.unwrap().path().to_owned();
    click(&browser, "form[action$='/vote'] button").await;
    wait_for_text(&browser, "Take back my vote").await;
    browser.goto(&go(&campaign)).await.unwrap();
    let page = wait_for_text(&browser, "Paperless invoices").await;
    assert!(page.contains("You have <strong>0</strong> votes left"), "the budget is spent");
    let disabled = browser.find(Locator::Css("button[disabled]")).await.unwrap();
    assert_eq!(disabled.text().await.unwrap(), "No votes left");
    browser.goto(&go("/")).await.unwrap();
    fill(&browser, "#body", "Lunch in the atrium today?").await;
    click(&browser, "form.compose button[type=submit]").await;
    let home = wait_for_text(&browser, "Lunch in the atrium today?").await;
    let post = common::post_ids(&home)[0];
    menu_sign_out(&browser).await;

    // The manager moves the member's idea twice, and reports the member's post.
    sign_in_in_browser(&browser, &base, "mia").await;
    for (stage, reason) in [("under_review", "We are pricing it"), ("selected", "Cheap, pays back in a year")] {
        browser.goto(&go(&idea)).await.unwrap();
        click(&browser, &format!("#stage option[value='{stage}']")).await;
        fill(&browser, "#reason", reason).await;
        click(&browser, "form[action$='/stage'] button").await;
        wait_for_text(&browser, "The idea is now").await;
    }
    browser.goto(&go(&format!("/report/post/{post}"))).await.unwrap();
    click(&browser, "input[name=reason][value=spam]").await;
    click(&browser, "form[action^='/report/'] button[type=submit]").await;
    wait_for_text(&browser, "A moderator will look at it").await;
    menu_sign_out(&browser).await;

    // The member reads both stages, each with its reason.
    sign_in_in_browser(&browser, &base, "bo").await;
    browser.goto(&go("/notifications")).await.unwrap();
    let said = wait_for_text(&browser, "to Selected").await;
    assert!(said.contains("to Under review") && said.contains("We are pricing it"), "both stages are told");
    menu_sign_out(&browser).await;

    // The admin, as moderator, hides the reported post and restores it from the handled view.
    sign_in_in_browser(&browser, &base, "ada").await;
    browser.goto(&go("/moderation")).await.unwrap();
    wait_for_text(&browser, "Lunch in the atrium").await;
    click(&browser, &format!("form[action='/moderation/post/{post}/hide'] button")).await;
    wait_for_text(&browser, "The post is hidden.").await;
    browser.goto(&go("/moderation/handled")).await.unwrap();
    click(&browser, &format!("form[action='/moderation/post/{post}/restore'] button")).await;
    wait_for_text(&browser, "The post is visible again.").await;
    browser.goto(&go(&format!("/posts/{post}"))).await.unwrap();
    let page = wait_for_text(&browser, "Lunch in the atrium").await;
    assert!(!page.contains("Hidden by a moderator"), "the post is back");
    let wide =
        browser.execute("return document.documentElement.scrollWidth <= window.innerWidth;", vec![]).await.unwrap();
    assert_eq!(wide, serde_json::Value::Bool(true), "no sideways scrolling at {width}px");
    browser.close().await.unwrap();
}

/// Opens a set-password link and chooses the test password; ends signed in.
async fn set_password_in_browser(browser: &Client, link: &str) {
    browser.goto(link).await.unwrap();
    fill(browser, "#new_password", common::PASSWORD).await;
    fill(browser, "#confirm_password", common::PASSWORD).await;
    click(browser, "form[action^='/password/'] button[type=submit]").await;
    wait_for_text(browser, "Your password is set").await;
}

/// Signs out through the header, unfolding the menu first where it is folded (phones).
async fn menu_sign_out(browser: &Client) {
    wait_for_text(browser, "site-menu").await;
    browser.execute("document.querySelector('.site-menu').open = true;", vec![]).await.unwrap();
    click(browser, "form[action='/logout'] button").await;
    wait_for_text(browser, "Sign in to").await;
}

/// Far down a long feed, the "N new posts" banner still comes into view: it sticks to the top.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_new_posts_banner_stays_in_view_down_the_feed() {
    if !browser_available("the_new_posts_banner_stays_in_view_down_the_feed") {
        return;
    }
    let app = TestApp::spawn(Engine::Sqlite).await;
    let bo = app.signed_up("bo").await;
    for n in 0..25 {
        bo.write_post(&format!("Post number {n} from Bo, long enough to take a line or two of the feed.")).await;
    }
    let (_driver, browser) = start_browser().await;
    sign_up_in_browser(&browser, &app.base, "ana").await;
    browser.goto(&format!("{}/all", app.base)).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let listening = "return document.documentElement.dataset.live === 'open'";
    while !browser.execute(listening, vec![]).await.ok().and_then(|v| v.as_bool()).unwrap_or(false) {
        assert!(Instant::now() < deadline, "the page never opened its event stream");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    browser.execute("window.scrollTo(0, document.body.scrollHeight);", vec![]).await.unwrap();
    bo.write_post("Fresh news from Bo").await;
    wait_for_text(&browser, "1 new post: show it").await;
    let place = browser
        .execute(
            "const r = document.querySelector('#new-posts').getBoundingClientRect();
             return [window.scrollY, r.top, r.bottom, window.innerHeight];",
            vec![],
        )
        .await
        .unwrap();
    let (scrolled, top, bottom, height) = (
        place[0].as_f64().unwrap(),
        place[1].as_f64().unwrap(),
        place[2].as_f64().unwrap(),
        place[3].as_f64().unwrap(),
    );
    assert!(scrolled > 500.0, "the feed was scrolled down ({scrolled}px)");
    assert!(top >= 0.0 && bottom <= height, "the banner is in view: {top}..{bottom} of {height}px");
    click(&browser, "#new-posts a").await;
    wait_for_text(&browser, "Fresh news from Bo").await;
}

/// "Forgot password?" on the sign-in page, the mail in the Maildir of a real SMTP server, its link,
/// a new password, and signed in; the old password no longer works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forgotten_password_is_reset_through_a_mailed_link() {
    let test = "a_forgotten_password_is_reset_through_a_mailed_link";
    if !browser_available(test) {
        return;
    }
    let Some(smtp) = common::mail::SmtpServer::start(test) else { return };
    let app = TestApp::spawn_with(Engine::Sqlite, |c| smtp.configure(c)).await;
    let base = app.base.clone();
    let (_driver, browser) = start_browser().await;
    sign_up_in_browser(&browser, &base, "ana").await;
    menu_sign_out(&browser).await;

    click(&browser, "#forgot-link").await;
    wait_for_text(&browser, "Forgot your password?").await;
    fill(&browser, "#login", "ana@example.com").await;
    click(&browser, "form[action='/password/forgot'] button[type=submit]").await;
    wait_for_text(&browser, "is on its way").await;

    let mail = smtp.mail_to("ana@example.com").await;
    browser.goto(&format!("{base}{}", mail.link_path("/password/"))).await.unwrap();
    fill(&browser, "#new_password", "a fresh password from the mail").await;
    fill(&browser, "#confirm_password", "a fresh password from the mail").await;
    click(&browser, "form[action^='/password/'] button[type=submit]").await;
    wait_for_text(&browser, "Your password was changed").await;
    menu_sign_out(&browser).await;

    fill(&browser, "#login", "ana").await;
    fill(&browser, "#password", common::PASSWORD).await;
    click(&browser, "form[action='/login'] button").await;
    wait_for_text(&browser, "do not match an account").await;
    browser.goto(&format!("{base}/login")).await.unwrap();
    fill(&browser, "#login", "ana").await;
    fill(&browser, "#password", "a fresh password from the mail").await;
    click(&browser, "form[action='/login'] button").await;
    wait_for_text(&browser, "Sign out").await;
    browser.close().await.unwrap();
}
