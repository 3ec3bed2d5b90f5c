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
