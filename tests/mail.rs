//! Mail against a real SMTP server (aiosmtpd on loopback, delivering to a Maildir): forgotten
//! passwords, confirmed addresses, welcome mails and invitations, and an outbox that loses nothing
//! and sends nothing twice when the server refuses, hangs, goes away, or the sender is killed.

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::mail::{SmtpServer, configure_with};
use common::{Engine, PASSWORD, TestApp};
use townhall::config::SignupPolicy;
use townhall::db::{Exec, sql};

async fn app_with_mail(engine: Engine, smtp: &SmtpServer) -> TestApp {
    TestApp::spawn_with(engine, |c| smtp.configure(c)).await
}

/// Counts of the outbox's rows by state.
async fn states(app: &TestApp) -> HashMap<String, i64> {
    states_in(&app.db).await
}

async fn states_in(db: &townhall::db::Db) -> HashMap<String, i64> {
    let rows: Vec<(String, i64)> = db
        .clone()
        .fetch_all(sql("SELECT state, CAST(COUNT(*) AS BIGINT) FROM mail_outbox GROUP BY state"))
        .await
        .unwrap();
    rows.into_iter().collect()
}

/// Waits (up to 30 s) until the outbox has nothing waiting or in hand.
async fn settled(app: &TestApp) -> HashMap<String, i64> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let now = states(app).await;
        if ["waiting", "claimed", "sending"].iter().all(|s| !now.contains_key(*s)) {
            return now;
        }
        assert!(Instant::now() < deadline, "the outbox did not settle: {now:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn forgotten_passwords_are_mailed_a_one_time_link(engine: Engine) {
    let Some(smtp) = SmtpServer::start("forgotten_passwords_are_mailed_a_one_time_link") else { return };
    let app = app_with_mail(engine, &smtp).await;
    let ana = app.signed_up("ana").await;
    let other_device = app.person();
    assert_eq!(other_device.sign_in("ana", PASSWORD).await.status, 303);

    let visitor = app.person();
    assert!(visitor.get("/login").await.contains("href=\"/password/forgot\""));
    let known = visitor.post("/password/forgot", &[("login", "Ana@Example.com")]).await;
    let unknown = visitor.post("/password/forgot", &[("login", "nobody@example.com")]).await;
    assert_eq!((known.status, unknown.status), (200, 200));
    assert!(known.contains("id=\"forgot-sent\""), "{}", known.body);
    assert_eq!(known.body, unknown.body, "the answer says nothing about whether the account exists");

    let mail = smtp.mail_to("ana@example.com").await;
    assert!(mail.subject().starts_with("Choose a new password"), "{}", mail.subject());
    assert_eq!(mail.header("From"), Some("Townhall <townhall@townhall.test>"));
    assert_eq!(mail.header("Auto-Submitted"), Some("auto-generated"));
    assert!(mail.header("Message-ID").is_some_and(|id| id.ends_with("@townhall.test>")));
    let path = mail.link_path("/password/");
    assert!(mail.html.contains(&format!("href=\"{}{path}\"", common::mail::PUBLIC_URL)), "{}", mail.html);

    assert_eq!(visitor.get(&path).await.status, 200);
    let new_password = "a brand new password";
    let set = visitor.post(&path, &[("new_password", new_password), ("confirm_password", new_password)]).await;
    assert_eq!((set.status, set.location.as_deref()), (303, Some("/")));
    assert_eq!(visitor.get("/").await.status, 200, "the link signs its user in");
    assert_eq!(other_device.get("/").await.status, 303, "every other session ended");
    assert_eq!(ana.get("/").await.status, 303);
    let again = visitor.post(&path, &[("new_password", "yet another one!"), ("confirm_password", "yet another one!")]);
    assert_eq!(again.await.status, 410, "the link works once");
    assert_eq!(app.person().sign_in("ana", new_password).await.status, 303);

    // Three links an hour per account; the fourth request gets the same answer and no mail.
    for _ in 0..3 {
        let page = app.person().post("/password/forgot", &[("login", "ana")]).await;
        assert!(page.contains("id=\"forgot-sent\""));
    }
    settled(&app).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(smtp.wait_for("ana@example.com", 3).await.len(), 3, "the fourth request mailed nothing");
    assert!(smtp.mails().iter().all(|m| !m.to().contains("nobody")), "an unknown address gets no mail");
    let audit = ana_admin_audit(&app, new_password).await;
    assert!(audit.contains("password_link.forgot"), "the request is in the audit log");
}

/// The audit log as the admin (ana, the first account) sees it.
async fn ana_admin_audit(app: &TestApp, password: &str) -> String {
    let ana = app.person();
    assert_eq!(ana.sign_in("ana", password).await.status, 303);
    ana.get("/admin/audit").await.body
}

async fn a_domain_sign_up_is_usable_once_its_address_is_confirmed(engine: Engine) {
    let Some(smtp) = SmtpServer::start("a_domain_sign_up_is_usable_once_its_address_is_confirmed") else { return };
    let app = TestApp::spawn_with(engine, |c| {
        smtp.configure(c);
        c.signup = SignupPolicy::Domains(vec!["acme.example".into()]);
    })
    .await;
    // The first account (the admin) confirms its address like anyone else; the test lets it in.
    let admin = app.person();
    assert_eq!(admin.sign_up("ana", "Ana Example", "ana@acme.example", PASSWORD).await.status, 200);
    app.db.clone().execute(sql("UPDATE users SET confirm_required = FALSE WHERE username = 'ana'")).await.unwrap();
    assert_eq!(admin.sign_in("ana", PASSWORD).await.status, 303);
    let bo = app.person();
    let page = bo.sign_up("bo", "Bo Example", "bo@acme.example", PASSWORD).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.contains("We sent a link to bo@acme.example"), "{}", page.body);
    assert_eq!(bo.get("/").await.status, 303, "not signed in before confirming");

    let refused = bo.sign_in("bo", PASSWORD).await;
    assert_eq!(refused.status, 403);
    assert!(refused.contains("Confirm your e-mail address first") && refused.contains("id=\"resend-confirmation\""));
    let first = smtp.mail_to("bo@acme.example").await.link_path("/confirm/");
    let resent = bo.post("/confirm/resend", &[("login", "bo")]).await;
    assert!(resent.contains("id=\"confirm-sent\""), "{}", resent.body);
    let mails = smtp.wait_for("bo@acme.example", 2).await;
    let second = mails[1].link_path("/confirm/");
    assert_ne!(first, second);
    assert_eq!(bo.get(&first).await.status, 410, "a resend ends the earlier link");

    // An admin sees that bo waits (cy too, below, is let in by the admin without any link).
    let cy = app.person();
    assert_eq!(cy.sign_up("cy", "Cy Example", "cy@acme.example", PASSWORD).await.status, 200);
    let admin_page = admin.get("/admin/users?q=cy").await;
    assert!(admin_page.contains("Awaiting e-mail confirmation") && admin_page.contains("id=\"confirm-cy\""));
    assert_eq!(admin.post("/admin/users/cy/confirm-email", &[]).await.status, 303);
    assert_eq!(cy.sign_in("cy", PASSWORD).await.status, 303, "the admin vouched for cy's address");

    let page = bo.get(&second).await;
    assert!(page.contains("id=\"confirm-button\""), "opening the link alone confirms nothing: {}", page.body);
    assert_eq!(app.person().sign_in("bo", PASSWORD).await.status, 403, "still unconfirmed");
    let confirmed = bo.post(&second, &[]).await;
    assert_eq!((confirmed.status, confirmed.location.as_deref()), (303, Some("/")));
    assert_eq!(bo.get("/").await.status, 200);
    assert_eq!(app.person().sign_in("bo@acme.example", PASSWORD).await.status, 303);
    assert_eq!(bo.post(&second, &[]).await.status, 410, "the link works once");
}

async fn a_new_address_takes_effect_once_confirmed(engine: Engine) {
    let Some(smtp) = SmtpServer::start("a_new_address_takes_effect_once_confirmed") else { return };
    let app = app_with_mail(engine, &smtp).await;
    let ana = app.signed_up("ana").await;
    let wrong = ana.post("/settings/email", &[("new_email", "ana.lee@example.org"), ("current_password", "nope")]);
    assert_eq!(wrong.await.status, 422);
    let asked = ana.post("/settings/email", &[("new_email", "Ana.Lee@example.org"), ("current_password", PASSWORD)]);
    assert_eq!(asked.await.status, 303);
    let page = ana.get("/settings/email").await;
    assert!(page.contains("id=\"pending-email\"") && page.contains("ana@example.com"), "{}", page.body);

    let heads_up = smtp.mail_to("ana@example.com").await;
    assert!(heads_up.text.contains("ana.lee@example.org"), "the old address hears of the change");
    let link = smtp.mail_to("ana.lee@example.org").await.link_path("/confirm/");
    assert_eq!(app.person().sign_in("ana.lee@example.org", PASSWORD).await.status, 422, "not yet");
    let used = ana.post(&link, &[]).await;
    assert_eq!((used.status, used.location.as_deref()), (303, Some("/settings/email")));
    let page = ana.get("/settings/email").await;
    assert!(page.contains("<strong id=\"current-email\">ana.lee@example.org</strong> (confirmed)"), "{}", page.body);
    assert_eq!(app.person().sign_in("ana.lee@example.org", PASSWORD).await.status, 303);
    assert_eq!(app.person().sign_in("ana@example.com", PASSWORD).await.status, 422);
}

async fn welcome_links_and_invitations_go_by_mail(engine: Engine) {
    let Some(mut smtp) = SmtpServer::start("welcome_links_and_invitations_go_by_mail") else { return };
    let app = app_with_mail(engine, &smtp).await;
    let admin = app.signed_up("ana").await;
    let made = admin.post("/admin/users/new", &[("name", "Cy Example"), ("email", "cy@example.com")]).await;
    assert!(made.contains("Mailed to cy@example.com"), "{}", made.body);
    assert!(!made.contains("id=\"link-1\""), "the link is mailed, not shown");
    let welcome = smtp.mail_to("cy@example.com").await;
    assert_eq!(welcome.subject(), "Your account on Townhall");
    assert!(welcome.text.contains("Your username is cy."), "{}", welcome.text);
    let cy = app.person();
    let path = welcome.link_path("/password/");
    let set = cy.post(&path, &[("new_password", "cy's own password"), ("confirm_password", "cy's own password")]);
    assert_eq!(set.await.status, 303);
    assert_eq!(cy.get("/").await.status, 200);

    let sent = admin
        .post(
            "/invitations",
            &[("emails", "dee@example.com,\n eve@example.com"), ("note", "Join the packaging campaign"), ("days", "")],
        )
        .await;
    assert!(sent.contains("Invitations mailed to dee@example.com, eve@example.com"), "{}", sent.body);
    let to_eve = smtp.mail_to("eve@example.com").await;
    assert_eq!(to_eve.subject(), "Ana Example invites you to Townhall");
    assert!(to_eve.text.contains("“Join the packaging campaign”"), "{}", to_eve.text);
    let first_dee = smtp.mail_to("dee@example.com").await.link_path("/signup?invite=");

    let list = admin.get("/invitations").await;
    let id_at = list.body.find("/resend\"").expect("a resend button");
    let start = list.body[..id_at].rfind("/invitations/").unwrap() + "/invitations/".len();
    let dee_or_eve = &list.body[start..id_at];
    let resent = admin.post(&format!("/invitations/{dee_or_eve}/resend"), &[]).await;
    assert_eq!(resent.status, 303);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (who, old) = if smtp.mails().iter().filter(|m| m.to().contains("dee@")).count() == 2 {
        ("dee", first_dee)
    } else {
        ("eve", to_eve.link_path("/signup?invite="))
    };
    let newest = smtp.wait_for(&format!("{who}@example.com"), 2).await.remove(1).link_path("/signup?invite=");
    assert_ne!(old, newest);
    assert_eq!(app.person().get(&old).await.status, 403, "the earlier link stops working");
    let person = app.person();
    assert_eq!(person.get(&newest).await.status, 200);
    let invite = newest.trim_start_matches("/signup?invite=");
    let email = format!("{who}@example.com");
    let form = [
        ("username", who),
        ("display_name", "Invited Person"),
        ("email", email.as_str()),
        ("password", PASSWORD),
        ("invite", invite),
    ];
    assert_eq!(person.post("/signup", &form).await.status, 303);
    let (verified,): (Option<i64>,) = app
        .db
        .clone()
        .fetch_one(sql("SELECT email_verified_at FROM users WHERE username = $1").bind(who))
        .await
        .unwrap();
    assert!(verified.is_some(), "an invitation mailed to the address confirms it");

    // A deleted account's mails that have not gone yet do not go.
    smtp.kill();
    assert_eq!(app.person().post("/password/forgot", &[("login", "cy")]).await.status, 200);
    let waiting = |app: &TestApp| {
        let mut db = app.db.clone();
        async move {
            let (n,): (i64,) = db
                .fetch_one(sql("SELECT CAST(COUNT(*) AS BIGINT) FROM mail_outbox WHERE to_address = 'cy@example.com' AND state <> 'sent'"))
                .await
                .unwrap();
            n
        }
    };
    assert_eq!(waiting(&app).await, 1);
    let deleted = admin.post("/admin/users/cy/delete", &[("mode", "anonymise"), ("reason", "Left"), ("confirm", "cy")]);
    assert_eq!(deleted.await.status, 303);
    assert_eq!(waiting(&app).await, 0);
}

async fn the_outbox_outlasts_refusals_hangs_and_a_server_that_is_away(engine: Engine) {
    let Some(mut smtp) = SmtpServer::start("the_outbox_outlasts_refusals_hangs_and_a_server_that_is_away") else {
        return;
    };
    let app = app_with_mail(engine, &smtp).await;
    let admin = app.signed_up("ana").await;
    let test_mail = |to: &'static str| {
        let admin = &admin;
        async move {
            let started = Instant::now();
            let page = admin.post("/admin/mail/test", &[("to", to)]).await;
            assert_eq!(page.status, 303, "{}", page.body);
            assert!(started.elapsed() < Duration::from_secs(2), "queuing never waits for the mail server");
        }
    };
    test_mail("tempfail-bo@example.com").await;
    test_mail("reject-cy@example.com").await;
    test_mail("hang-dee@example.com").await;
    assert_eq!(smtp.wait_for("tempfail-bo@example.com", 1).await.len(), 1, "a 4xx is retried and lands");

    let page = admin.get("/admin/mail?state=failed").await;
    assert!(page.contains("reject-cy@example.com") && page.contains("No such mailbox here"), "{}", page.body);
    assert!(page.contains("Send again"));
    // A hung conversation is cut off and tried again. Between tries it waits; during one it is being
    // sent, so the check waits for the first cut-off and then looks at what state it is in.
    let deadline = Instant::now() + Duration::from_secs(20);
    let (state, error) = loop {
        let row: (String, String) = app
            .db
            .clone()
            .fetch_one(sql("SELECT state, last_error FROM mail_outbox WHERE to_address = 'hang-dee@example.com'"))
            .await
            .unwrap();
        if row.1.contains("did not finish within") {
            break row;
        }
        assert!(Instant::now() < deadline, "the hung conversation was not cut off: {row:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        ["waiting", "claimed", "sending"].contains(&state.as_str()),
        "a hung conversation waits for another try: {state} {error}"
    );
    let all = admin.get("/admin/mail").await;
    assert!(all.contains("hang-dee@example.com") && all.contains("did not finish within 2 s"), "{}", all.body);

    // The server goes away: what is queued meanwhile waits, and lands once when it is back.
    smtp.kill();
    test_mail("eve@example.com").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(states(&app).await.get("waiting").copied().unwrap_or(0) >= 1);
    smtp.start_again();
    assert_eq!(smtp.wait_for("eve@example.com", 1).await.len(), 1);
    tokio::time::sleep(Duration::from_secs(2)).await;
    for to in ["tempfail-bo@", "eve@", "reject-cy@"] {
        let n = smtp.mails().iter().filter(|m| m.to().contains(to)).count();
        assert_eq!(n, usize::from(to != "reject-cy@"), "{to} got {n} mails");
    }
    assert!(admin.get("/admin/mail?state=sent").await.contains("(2 attempts)"), "the retried mail shows its attempts");
}

/// A name or subject with a line break cannot add a header (a Bcc to someone else, say).
async fn names_and_subjects_cannot_inject_headers(engine: Engine) {
    let Some(smtp) = SmtpServer::start("names_and_subjects_cannot_inject_headers") else { return };
    let app = app_with_mail(engine, &smtp).await;
    let mail = townhall::mail::Mail {
        kind: "test",
        recipient_id: None,
        to_address: "ana@example.com".into(),
        to_name: "Ana\r\nBcc: eve@evil.example".into(),
        subject: "Hello\r\nBcc: eve@evil.example\r\n\r\nforged body".into(),
        text: "text".into(),
        html: "<p>html</p>".into(),
        unsubscribe_url: None,
    };
    townhall::mail::queue(&mut app.db.clone(), &mail, "townhall.test").await.unwrap();
    townhall::mail::wake();
    let delivered = smtp.mail_to("ana@example.com").await;
    assert!(!delivered.raw_headers.lines().any(|l| l.to_lowercase().starts_with("bcc:")), "{}", delivered.raw_headers);
    assert_eq!(delivered.text.trim(), "text");
    settled(&app).await;
    assert_eq!(smtp.mails().len(), 1, "nobody else got it");
    let bad = townhall::mail::Mail { to_address: "eve@evil.example>\r\nBcc: x@y.z".into(), ..mail };
    assert!(
        townhall::mail::queue(&mut app.db.clone(), &bad, "townhall.test").await.is_err(),
        "a bad address is refused"
    );
}

async fn without_smtp_every_place_says_so(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.signed_up("ana").await;
    let page = app.person().get("/password/forgot").await;
    assert!(page.contains("This site does not send e-mail"), "{}", page.body);
    assert_eq!(app.person().post("/password/forgot", &[("login", "ana")]).await.status, 400);
    assert!(admin.get("/admin/mail").await.contains("No mail server is configured"));
    let made = admin.post("/admin/users/new", &[("name", "Cy Example"), ("email", "cy@example.com")]).await;
    assert!(made.contains("id=\"link-1\""), "the link is shown to copy: {}", made.body);
    let (count,): (i64,) =
        app.db.clone().fetch_one(sql("SELECT CAST(COUNT(*) AS BIGINT) FROM mail_outbox")).await.unwrap();
    assert_eq!(count, 0, "nothing is queued without a mail server");
}

/// The id of `author`'s newest post.
async fn newest_post(app: &TestApp, author: &str) -> i64 {
    let (id,): (i64,) = app
        .db
        .clone()
        .fetch_one(
            sql("SELECT MAX(p.id) FROM posts p JOIN users u ON u.id = p.author_id WHERE u.username = $1").bind(author),
        )
        .await
        .unwrap();
    id
}

/// Notification mails: (the "notification" rows queued for `username`).
async fn notification_mails(app: &TestApp, address: &str) -> i64 {
    let (n,): (i64,) = app
        .db
        .clone()
        .fetch_one(
            sql("SELECT CAST(COUNT(*) AS BIGINT) FROM mail_outbox WHERE kind = 'notification' AND to_address = $1")
                .bind(address),
        )
        .await
        .unwrap();
    n
}

async fn a_mention_is_mailed_at_once_and_one_click_stops_it(engine: Engine) {
    let Some(smtp) = SmtpServer::start("a_mention_is_mailed_at_once_and_one_click_stops_it") else { return };
    let app = app_with_mail(engine, &smtp).await;
    let ana = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    ana.write_post("Packaging ideas, anyone?").await;
    let post = newest_post(&app, "ana").await;
    assert_eq!(bo.post(&format!("/posts/{post}/like"), &[]).await.status, 303);
    bo.write_post("@ana has the best packaging ideas").await;

    let mail = smtp.mail_to("ana@example.com").await;
    assert_eq!(
        mail.subject(),
        "Bo Example mentioned you",
        "one mail, about the mention only (likes wait for the digest)"
    );
    assert!(mail.text.contains("“@ana has the best packaging ideas”"), "{}", mail.text);
    assert!(mail.text.contains("http://townhall.test/settings/mail"));
    assert_eq!(mail.header("List-Unsubscribe-Post"), Some("List-Unsubscribe=One-Click"));
    let unsubscribe = mail.header("List-Unsubscribe").expect("a List-Unsubscribe header").to_owned();
    let path = unsubscribe.trim_matches(['<', '>']).trim_start_matches(common::mail::PUBLIC_URL).to_owned();
    assert!(path.starts_with("/mail/unsubscribe/") && path.ends_with(&path[path.len() - 32..]));
    settled(&app).await;
    assert_eq!(smtp.wait_for("ana@example.com", 1).await.len(), 1);

    // A forged link changes nothing; the real one works with a plain POST, as mail programs send it.
    let forged = format!("{}{}", &path[..path.len() - 1], if path.ends_with('0') { '1' } else { '0' });
    let client = reqwest::Client::new();
    let post_to = |p: String| client.post(format!("{}{p}", app.base)).body("List-Unsubscribe=One-Click").send();
    assert_eq!(post_to(forged).await.unwrap().status().as_u16(), 404);
    assert_eq!(post_to(path.clone()).await.unwrap().status().as_u16(), 200);
    let settings = ana.get("/settings/mail").await;
    assert!(
        settings
            .contains(r#"id="mentions-never" aria-label="Mentions of you, in posts and idea comments: Never" checked"#),
        "{}",
        settings.body
    );

    bo.write_post("@ana once more").await;
    tokio::time::sleep(Duration::from_secs(7)).await;
    settled(&app).await;
    assert_eq!(notification_mails(&app, "ana@example.com").await, 1, "no more mention mails");

    // Replies are still mailed at once; choosing "never" on the settings page stops them too.
    let reply = bo.post(&format!("/posts/{post}/replies"), &[("body", "Here is one: reuse the boxes")]).await;
    assert_eq!(reply.status, 303, "{}", reply.body);
    let mails = smtp.wait_for("ana@example.com", 2).await;
    assert_eq!(mails[1].subject(), "Bo Example replied to your post");
    let saved = ana.post("/settings/mail", &[("replies", "never"), ("likes", "weekly")]).await;
    assert_eq!(saved.status, 303);
    assert_eq!(ana.post("/settings/mail", &[("announcements", "now")]).await.status, 400);

    // Her data export holds her mail choices and the mails sent to her.
    let mine: serde_json::Value = serde_json::from_str(&ana.get("/settings/data.json").await.body).unwrap();
    assert_eq!(mine["mail"]["choices"]["replies"], "never");
    assert_eq!(mine["mail"]["choices"]["likes"], "weekly");
    assert_eq!(mine["mail"]["mails"][0]["subject"], "Bo Example mentioned you");
    assert_eq!(mine["mail"]["mails"][0]["state"], "sent");
}

async fn nothing_is_mailed_about_what_was_seen_or_to_suspended_people(engine: Engine) {
    let Some(smtp) = SmtpServer::start("nothing_is_mailed_about_what_was_seen_or_to_suspended_people") else {
        return;
    };
    let app = TestApp::spawn_with(engine, |c| {
        smtp.configure(c);
        if let Some(mail) = c.mail.as_mut() {
            mail.notify_after = Duration::from_secs(8);
        }
    })
    .await;
    let ana = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    let _cy = app.signed_up("cy").await;
    bo.write_post("@ana and @cy: lunch?").await;
    assert!(ana.get("/notifications").await.contains("mentioned you"), "ana reads it on the site at once");
    assert_eq!(ana.post("/admin/users/cy/suspend", &[("duration", "1d"), ("reason", "Cooling off")]).await.status, 303);
    tokio::time::sleep(Duration::from_secs(14)).await;
    let (dealt,): (i64,) = app
        .db
        .clone()
        .fetch_one(sql("SELECT CAST(COUNT(*) AS BIGINT) FROM notifications WHERE mailed_at IS NOT NULL"))
        .await
        .unwrap();
    assert_eq!(dealt, 2, "the mailer dealt with both mentions");
    settled(&app).await;
    assert_eq!(notification_mails(&app, "ana@example.com").await, 0, "seen on the site: not mailed");
    assert_eq!(notification_mails(&app, "cy@example.com").await, 0, "suspended: not mailed");
}

async fn the_morning_digest_gathers_what_was_missed(engine: Engine) {
    let Some(smtp) = SmtpServer::start("the_morning_digest_gathers_what_was_missed") else { return };
    let app = app_with_mail(engine, &smtp).await;
    let ana = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    let cy = app.signed_up("cy").await;
    assert_eq!(ana.post("/people/bo/follow", &[]).await.status, 303);
    ana.write_post("Our packaging pilot starts Monday").await;
    let mine = newest_post(&app, "ana").await;
    assert_eq!(bo.post(&format!("/posts/{mine}/like"), &[]).await.status, 303);
    bo.write_post("Returnable crates cut our waste by half").await;
    let popular = newest_post(&app, "bo").await;
    assert_eq!(cy.post(&format!("/posts/{popular}/like"), &[]).await.status, 303);
    let at = townhall::db::now();
    let (opens, closes) = (townhall::ideas::input_time(at - 60), townhall::ideas::input_time(at + 86_400));
    let form = [
        ("title", "Less packaging"),
        ("question", "How do we cut packaging waste?"),
        ("opens_at", opens.as_str()),
        ("closes_at", closes.as_str()),
        ("vote_budget", "3"),
    ];
    let campaign = ana.post("/campaigns/new", &form).await.location.expect("the campaign is made");
    ana.post(&format!("{campaign}/publish"), &[]).await;
    // bo is suspended, cy chose no digest: only ana gets one.
    assert_eq!(ana.post("/admin/users/bo/suspend", &[("duration", "1d"), ("reason", "Cooling off")]).await.status, 303);
    assert_eq!(
        cy.post(
            "/settings/mail",
            &[
                ("likes", "never"),
                ("follows", "never"),
                ("communities", "never"),
                ("ideas", "never"),
                ("moderation", "never"),
                ("announcements", "never")
            ]
        )
        .await
        .status,
        303
    );
    app.db.clone().execute(sql("UPDATE users SET digest_due_at = $1").bind(at - 1)).await.unwrap();

    let digest = smtp.mail_to("ana@example.com").await;
    assert_eq!(digest.subject(), "Your Townhall digest: what you missed this day");
    for expected in [
        "Bo Example liked your post",
        "“Our packaging pilot starts Monday”",
        "Most liked from people and topics you follow",
        "“Returnable crates cut our waste by half”",
        "Campaigns closing soon",
        "Less packaging: closes",
    ] {
        assert!(
            digest.text.contains(expected),
            "{expected:?} missing from:
{}",
            digest.text
        );
    }
    assert!(digest.header("List-Unsubscribe").is_some_and(|u| u.contains("/digest/")));
    let (next,): (i64,) =
        app.db.clone().fetch_one(sql("SELECT digest_due_at FROM users WHERE username = 'ana'")).await.unwrap();
    assert!(next > at && next <= at + 86_400 + 3600, "the next digest is tomorrow morning");
    tokio::time::sleep(Duration::from_secs(6)).await;
    settled(&app).await;
    let kinds: Vec<(String,)> =
        app.db.clone().fetch_all(sql("SELECT to_address FROM mail_outbox WHERE kind = 'digest'")).await.unwrap();
    assert_eq!(kinds, vec![("ana@example.com".to_owned(),)], "one digest, to ana only");
}

on_both_engines!(
    a_mention_is_mailed_at_once_and_one_click_stops_it,
    nothing_is_mailed_about_what_was_seen_or_to_suspended_people,
    the_morning_digest_gathers_what_was_missed,
    forgotten_passwords_are_mailed_a_one_time_link,
    a_domain_sign_up_is_usable_once_its_address_is_confirmed,
    a_new_address_takes_effect_once_confirmed,
    welcome_links_and_invitations_go_by_mail,
    the_outbox_outlasts_refusals_hangs_and_a_server_that_is_away,
    names_and_subjects_cannot_inject_headers,
    without_smtp_every_place_says_so,
    a_killed_sender_leaves_each_mail_sent_once_or_marked_possibly_sent,
);

/// A certificate authority and a certificate for 127.0.0.1 signed by it, made with openssl.
fn certificates(dir: &std::path::Path) -> (String, String, String) {
    let run = |args: &[&str]| {
        let out = std::process::Command::new("openssl").args(args).current_dir(dir).output().expect("openssl runs");
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=Townhall test CA",
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    std::fs::write(dir.join("san.ext"), "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n").unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "san.ext",
    ]);
    let path = |name: &str| dir.join(name).display().to_string();
    (path("ca.pem"), path("server.pem"), path("server.key"))
}

/// STARTTLS and implicit TLS against a company relay with its own certificate authority, with AUTH;
/// an unknown certificate or a wrong password is not sent to.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_and_auth_to_a_relay_with_its_own_certificate() {
    let dir = std::env::temp_dir().join(format!("townhall-tls-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let (ca, cert, key) = certificates(&dir);
    let test = "tls_and_auth_to_a_relay_with_its_own_certificate";
    let Some(starttls) = SmtpServer::start_with(
        test,
        &["--tls", "starttls", "--cert", &cert, "--key", &key, "--auth", "townhall:s3cr%t"],
    ) else {
        return;
    };
    let Some(implicit) = SmtpServer::start_with(test, &["--tls", "implicit", "--cert", &cert, "--key", &key]) else {
        return;
    };
    let with_auth = format!("smtp://townhall:s3cr%25t@127.0.0.1:{}?tls=starttls", starttls.port);
    let app = TestApp::spawn_with(Engine::Sqlite, |c| {
        configure_with(c, &with_auth, &[("TOWNHALL_SMTP_CA_FILE", ca.as_str())]);
    })
    .await;
    let admin = app.signed_up("ana").await;
    assert_eq!(admin.post("/admin/mail/test", &[("to", "bo@example.com")]).await.status, 303);
    let mail = starttls.mail_to("bo@example.com").await;
    assert!(mail.subject().starts_with("Test mail from"));

    let implicit_url = implicit.url();
    let app2 = TestApp::spawn_with(Engine::Sqlite, |c| {
        configure_with(c, &implicit_url, &[("TOWNHALL_SMTP_CA_FILE", ca.as_str())]);
    })
    .await;
    let admin2 = app2.signed_up("ana").await;
    assert_eq!(admin2.post("/admin/mail/test", &[("to", "cy@example.com")]).await.status, 303);
    implicit.mail_to("cy@example.com").await;

    // Without the company's certificate authority nothing is sent (and it is retried, not lost);
    // with a wrong password the server's refusal is recorded.
    let untrusted = format!("smtp://townhall:s3cr%25t@127.0.0.1:{}?tls=starttls", starttls.port);
    let app3 = TestApp::spawn_with(Engine::Sqlite, |c| configure_with(c, &untrusted, &[])).await;
    let admin3 = app3.signed_up("ana").await;
    assert_eq!(admin3.post("/admin/mail/test", &[("to", "dee@example.com")]).await.status, 303);
    let wrong = format!("smtp://townhall:wrong@127.0.0.1:{}?tls=starttls", starttls.port);
    let app4 = TestApp::spawn_with(Engine::Sqlite, |c| {
        configure_with(c, &wrong, &[("TOWNHALL_SMTP_CA_FILE", ca.as_str())]);
    })
    .await;
    let admin4 = app4.signed_up("ana").await;
    assert_eq!(admin4.post("/admin/mail/test", &[("to", "eve@example.com")]).await.status, 303);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let waiting = admin3.get("/admin/mail?state=waiting").await;
    assert!(waiting.contains("dee@example.com"), "an untrusted certificate: tried again later: {}", waiting.body);
    let failed = admin4.get("/admin/mail").await;
    assert!(failed.contains("eve@example.com") && failed.contains("535"), "{}", failed.body);
    assert!(starttls.mails().iter().all(|m| !m.to().contains("dee@") && !m.to().contains("eve@")));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Queues `count` mails straight into the outbox (as the pages would), to `prefix-N@example.com`.
async fn queue_many(db: &townhall::db::Db, count: usize, prefix: &str) {
    let mut tx = db.begin().await.unwrap();
    for n in 0..count {
        let mail = townhall::mail::Mail {
            kind: "test",
            recipient_id: None,
            to_address: format!("{prefix}-{n}@example.com"),
            to_name: String::new(),
            subject: format!("Mail {n}"),
            text: format!("Mail number {n}"),
            html: format!("<p>Mail number {n}</p>"),
            unsubscribe_url: None,
        };
        townhall::mail::queue(&mut tx, &mail, "townhall.test").await.unwrap();
    }
    tx.commit().await.unwrap();
}

/// The environment a `townhall serve` process needs to send through `smtp`.
fn mail_env(smtp: &SmtpServer) -> Vec<(&'static str, String)> {
    vec![
        ("TOWNHALL_SMTP_URL", smtp.url()),
        ("TOWNHALL_MAIL_FROM", "townhall@townhall.test".into()),
        ("TOWNHALL_PUBLIC_URL", common::mail::PUBLIC_URL.into()),
        ("TOWNHALL_SMTP_TIMEOUT", "1".into()),
    ]
}

/// Message-IDs delivered, with how often each was.
fn delivered_ids(smtp: &SmtpServer) -> HashMap<String, usize> {
    let mut seen = HashMap::new();
    for mail in smtp.mails() {
        *seen.entry(mail.header("Message-ID").unwrap_or("").to_owned()).or_insert(0) += 1;
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_postgresql_send_each_mail_once() {
    let Some(app) = TestApp::spawn_postgres_only("two_processes_on_postgresql_send_each_mail_once").await else {
        return;
    };
    let Some(smtp) = SmtpServer::start("two_processes_on_postgresql_send_each_mail_once") else { return };
    queue_many(&app.db, 300, "pg").await;
    let env = mail_env(&smtp);
    let vars: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut one = common::start_process_with(&app.config.database_url, &vars);
    let mut two = common::start_process_with(&app.config.database_url, &vars);
    smtp.wait_for("@example.com", 300).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let ids = delivered_ids(&smtp);
    assert_eq!(ids.len(), 300, "every mail arrived");
    assert!(ids.values().all(|n| *n == 1), "none twice");
    let (sent,): (i64,) = app
        .db
        .clone()
        .fetch_one(sql("SELECT CAST(COUNT(*) AS BIGINT) FROM mail_outbox WHERE state = 'sent'"))
        .await
        .unwrap();
    assert_eq!(sent, 300);
    let (workers,): (i64,) = app
        .db
        .clone()
        .fetch_one(sql("SELECT CAST(COUNT(DISTINCT claimed_by) AS BIGINT) FROM mail_outbox"))
        .await
        .unwrap();
    assert_eq!(workers, 2, "both processes sent");
    for process in [&mut one, &mut two] {
        let _ = process.child.kill();
        let _ = process.child.wait();
    }
}

async fn a_killed_sender_leaves_each_mail_sent_once_or_marked_possibly_sent(engine: Engine) {
    let Some(smtp) = SmtpServer::start("a_killed_sender_leaves_each_mail_sent_once_or_marked_possibly_sent") else {
        return;
    };
    let mut app = TestApp::spawn(engine).await;
    app.stop().await;
    let db = townhall::open_database(&app.config).await.unwrap();
    queue_many(&db, 400, "kill").await;
    let env = mail_env(&smtp);
    let vars: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut first = common::start_process_with(&app.config.database_url, &vars);
    smtp.wait_for("@example.com", 30).await;
    first.child.kill().expect("kill -9");
    first.child.wait().unwrap();
    let mut second = common::start_process_with(&app.config.database_url, &vars);
    let deadline = Instant::now() + Duration::from_secs(60);
    let outcome = loop {
        let now = states_in(&db).await;
        if ["waiting", "claimed", "sending"].iter().all(|s| !now.contains_key(*s)) {
            break now;
        }
        assert!(Instant::now() < deadline, "the outbox did not settle after the kill: {now:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let _ = second.child.kill();
    let _ = second.child.wait();
    let ids = delivered_ids(&smtp);
    assert!(ids.values().all(|n| *n == 1), "no mail was sent twice");
    let rows: Vec<(String, String)> =
        db.clone().fetch_all(sql("SELECT message_id, state FROM mail_outbox")).await.unwrap();
    assert_eq!(rows.len(), 400);
    for (id, state) in &rows {
        match state.as_str() {
            "sent" => assert_eq!(ids.get(id), Some(&1), "a sent mail arrived once"),
            "uncertain" => assert!(ids.get(id).copied().unwrap_or(0) <= 1),
            other => panic!("a mail ended {other}: {outcome:?}"),
        }
    }
    let uncertain = rows.iter().filter(|(_, s)| s == "uncertain").count();
    assert!(uncertain <= townhall::mail::smtp::CONNECTIONS as usize, "only mails in flight are uncertain: {uncertain}");
}
