//! Cross-site requests, cookies, headers, size limits and hostile input.

mod common;

use common::{Engine, TestApp};

on_both_engines!(
    a_cross_site_form_post_is_refused_and_changes_nothing,
    the_session_cookie_is_http_only_same_site_and_secure_only_behind_https,
    every_page_carries_the_security_headers,
    an_over_large_request_body_is_refused,
    hostile_input_never_gives_a_server_error,
    guessing_a_password_is_slowed_down_for_that_account,
    mass_sign_ups_from_one_address_are_slowed_down,
);

async fn a_cross_site_form_post_is_refused_and_changes_nothing(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ana = app.signed_up("ana").await;
    for (origin, fetch_site) in [("https://evil.example", "cross-site"), ("http://evil.example", "same-site")] {
        let response = ana
            .client
            .post(format!("{}/posts", app.base))
            .header("origin", origin)
            .header("sec-fetch-site", fetch_site)
            .form(&[("body", "forged post")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 403, "{origin}");
    }
    assert!(!ana.get("/all").await.contains("forged post"));
    // The same form from the site itself goes through.
    ana.write_post("real post").await;
}

async fn the_session_cookie_is_http_only_same_site_and_secure_only_behind_https(engine: Engine) {
    let cookie_of = |page: &common::Page| {
        page.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with("townhall_session="))
            .map(str::to_owned)
            .expect("a session cookie")
    };
    let app = TestApp::spawn(engine).await;
    let page = app.person().sign_up("ana", "Ana", "ana@example.com", common::PASSWORD).await;
    let cookie = cookie_of(&page);
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain http: {cookie}");

    let https = TestApp::spawn_with(engine, |c| c.public_url = Some("https://townhall.example.com".into())).await;
    let cookie = cookie_of(&https.person().sign_up("ana", "Ana", "ana@example.com", common::PASSWORD).await);
    assert!(cookie.contains("Secure"), "{cookie}");
}

async fn every_page_carries_the_security_headers(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ana = app.signed_up("ana").await;
    for path in ["/", "/login", "/no-such-page", "/static/style.css"] {
        let page = if path == "/login" { app.person().get(path).await } else { ana.get(path).await };
        let header = |name: &str| page.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        let csp = header("content-security-policy");
        assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}");
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header("referrer-policy"), "same-origin", "{path}");
        assert!(!header("x-request-id").is_empty(), "{path}");
    }
}

async fn an_over_large_request_body_is_refused(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ana = app.signed_up("ana").await;
    let huge = "x".repeat(200 * 1024);
    let page = ana.post("/posts", &[("body", huge.as_str())]).await;
    assert_eq!(page.status, 413);
    // The server answers before reading the whole body and closes that connection, so look with a
    // fresh one (a pooled client may otherwise try to reuse the closed connection).
    let reader = app.person();
    reader.sign_in("ana", common::PASSWORD).await;
    assert!(!reader.get("/all").await.contains("xxxxxxxxxx"));
}

async fn hostile_input_never_gives_a_server_error(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ana = app.signed_up("ana").await;
    let nasty = [
        "'; DROP TABLE users; --",
        "\u{0}\u{1}\u{202e}",
        "🦀🦀🦀 #🦀 @🦀",
        "%00%ff",
        "<img src=x onerror=alert(1)>",
        "\\\\..\\..\\etc\\passwd",
        "@@@@ #### https://",
    ];
    for text in nasty {
        for (path, field) in
            [("/posts", "body"), ("/login", "login"), ("/signup", "username"), ("/settings/profile", "bio")]
        {
            let page = ana.post(path, &[(field, text)]).await;
            assert!(page.status < 500, "{path} {text:?}: {}", page.status);
        }
        let encoded: String = text.bytes().map(|b| format!("%{b:02X}")).collect();
        for path in [
            format!("/people?q={encoded}"),
            format!("/@{encoded}"),
            format!("/topics/{encoded}"),
            format!("/posts/{encoded}"),
        ] {
            let page = ana.get(&path).await;
            assert!(page.status < 500, "{path}: {}", page.status);
        }
    }
    let raw = ana
        .client
        .post(format!("{}/posts", app.base))
        .header("origin", &app.base)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(vec![0xff, 0xfe, b'=', 0x80])
        .send()
        .await
        .unwrap();
    assert!(raw.status().is_client_error(), "{}", raw.status());
    assert!(ana.get("/people?q=x&after=%FF").await.status < 500);
    assert!(ana.get("/all").await.status == 200, "the site still works");
}

async fn guessing_a_password_is_slowed_down_for_that_account(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    app.signed_up("ana").await;
    app.signed_up("bo").await;
    let guesser = app.person();
    for n in 0..10 {
        assert_eq!(guesser.sign_in("ana", &format!("guess number {n}")).await.status, 422);
    }
    let blocked = guesser.sign_in("ana", common::PASSWORD).await;
    assert_eq!(blocked.status, 429, "even the right password waits once the limit is reached");
    assert!(blocked.contains("Too many sign-in attempts"));
    assert_eq!(app.person().sign_in("bo", common::PASSWORD).await.status, 303, "other accounts are not locked out");
}

async fn mass_sign_ups_from_one_address_are_slowed_down(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    for n in 0..20 {
        let name = format!("bulk{n}");
        let page = app.person().sign_up(&name, &name, &format!("{name}@example.com"), common::PASSWORD).await;
        assert_eq!(page.status, 303);
    }
    let refused = app.person().sign_up("bulk20", "Bulk", "bulk20@example.com", common::PASSWORD).await;
    assert_eq!(refused.status, 429);
    assert!(refused.contains("Too many accounts were made from this address"));
}
