//! Moderation: reports and the queue, hiding and restoring, warnings, deletions, the keyword watch,
//! and suspensions, on both engines.

mod common;

use common::{Engine, PASSWORD, Person, TestApp, post_ids};
use townhall::accounts::Role;
use townhall::db::{now, sql};
use townhall::ideas::input_time;

on_both_engines!(
    a_report_reaches_the_queue_and_hiding_it_tells_the_reporter,
    moderators_warn_authors_delete_comments_and_dismiss_reports,
    keyword_rules_flag_matching_text_and_refuse_bad_expressions,
    a_suspension_ends_sessions_refuses_sign_in_and_shows_on_the_profile,
    moderators_cannot_suspend_their_equals_and_anonymous_authors_stay_hidden,
    a_moderator_restores_a_hidden_post_from_its_own_page,
    the_handled_view_lists_what_moderators_did_and_restores_what_is_hidden,
);

async fn promote(app: &TestApp, username: &str, role: Role) {
    townhall::accounts::store::set_role(&mut app.db.clone(), username, role).await.unwrap();
}

/// The id of the newest post on a person's profile.
async fn newest_post(person: &Person, username: &str) -> i64 {
    post_ids(&person.get(&format!("/@{username}")).await.body)[0]
}

async fn open_campaign(manager: &Person, anonymous: bool) -> i64 {
    let at = now();
    let (opens, closes) = (input_time(at - 3600), input_time(at + 7 * 86_400));
    let mut form =
        vec![("title", "Less packaging"), ("question", "How?"), ("opens_at", &opens), ("closes_at", &closes)];
    if anonymous {
        form.push(("allow_anonymous", "on"));
    }
    let made = manager.post("/campaigns/new", &form).await;
    assert_eq!(made.status, 303, "{}", made.body);
    let id: i64 = made.location.unwrap().trim_start_matches("/campaigns/").parse().unwrap();
    assert_eq!(manager.post(&format!("/campaigns/{id}/publish"), &[]).await.status, 303);
    id
}

async fn submit(person: &Person, campaign: i64, title: &str, anonymous: bool) -> i64 {
    let mut form = vec![("title", title), ("body", "Details."), ("confirmed", "yes")];
    if anonymous {
        form.push(("anonymous", "on"));
    }
    let page = person.post(&format!("/campaigns/{campaign}/ideas"), &form).await;
    assert_eq!(page.status, 303, "{}", page.body);
    page.location.unwrap().trim_start_matches("/ideas/").parse().unwrap()
}

async fn a_report_reaches_the_queue_and_hiding_it_tells_the_reporter(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ana = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    let cy = app.signed_up("cy").await;
    let di = app.signed_up("di").await;
    let md = app.signed_up("md").await;
    promote(&app, "md", Role::Moderator).await;

    bo.write_post("Buy cheap watches at my cousin's shop").await;
    let post = newest_post(&cy, "bo").await;
    let form = cy.get(&format!("/report/post/{post}")).await;
    assert_eq!(form.status, 200);
    assert!(form.contains("Spam or advertising") && form.contains("cheap watches"));

    // Refused kindly: no reason, one's own post, a second report.
    assert_eq!(cy.post(&format!("/report/post/{post}"), &[("reason", "")]).await.status, 422);
    let own = bo.post(&format!("/report/post/{post}"), &[("reason", "spam")]).await;
    assert_eq!(own.status, 422);
    assert!(own.contains("your own post"));
    let sent = cy.post(&format!("/report/post/{post}"), &[("reason", "spam"), ("note", "Third time this week")]).await;
    assert_eq!(sent.status, 303);
    assert_eq!(sent.location.as_deref(), Some("/reports"));
    let again = cy.post(&format!("/report/post/{post}"), &[("reason", "spam")]).await;
    assert_eq!(again.status, 409);
    assert!(again.contains("You have reported this post already"));
    assert!(cy.get("/reports").await.contains("Waiting for a moderator"));
    assert_eq!(di.post(&format!("/report/post/{post}"), &[("reason", "misleading")]).await.status, 303);

    // The queue: members may not look; moderators see the post, both reasons, the note and who.
    assert_eq!(cy.get("/moderation").await.status, 403);
    let queue = md.get("/moderation").await;
    assert_eq!(queue.status, 200);
    for text in
        ["2 reports", "cheap watches", "Spam or advertising", "False or misleading", "Third time this week", "@cy"]
    {
        assert!(queue.contains(text), "queue lacks {text}");
    }

    // Hide: the reporter sees a placeholder; the author and moderators see it, marked.
    let hidden = md.post(&format!("/moderation/post/{post}/hide"), &[]).await;
    assert_eq!(hidden.status, 303);
    let as_reporter = cy.get(&format!("/posts/{post}")).await;
    assert!(as_reporter.contains("hidden by a moderator"));
    assert!(!as_reporter.contains("cheap watches"));
    assert!(!cy.get("/all").await.contains("cheap watches"));
    let as_author = bo.get(&format!("/posts/{post}")).await;
    assert!(as_author.contains("cheap watches") && as_author.contains("Hidden by a moderator"));
    assert!(md.get(&format!("/posts/{post}")).await.contains("cheap watches"));

    // Each reporter hears the outcome; the queue is empty; the log has it.
    assert!(cy.get("/reports").await.contains("Reviewed: hidden"));
    let told = di.get("/notifications").await;
    assert!(told.contains("reviewed your report") && told.contains("was hidden"));
    assert!(md.get("/moderation").await.contains("Nothing to review"));

    // Restore: visible again to everyone.
    assert_eq!(md.post(&format!("/moderation/post/{post}/restore"), &[]).await.status, 303);
    assert!(cy.get(&format!("/posts/{post}")).await.contains("cheap watches"));
    let log = ana.get("/admin/audit").await;
    assert!(log.contains("post.hide") && log.contains("post.restore") && log.contains("@md"));
}

async fn moderators_warn_authors_delete_comments_and_dismiss_reports(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let _ana = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    let cy = app.signed_up("cy").await;
    let di = app.signed_up("di").await;
    let mo = app.signed_up("mo").await;
    let md = app.signed_up("md").await;
    promote(&app, "mo", Role::Manager).await;
    promote(&app, "md", Role::Moderator).await;

    let campaign = open_campaign(&mo, false).await;
    let idea = submit(&bo, campaign, "Ban all meetings forever", false).await;
    assert_eq!(cy.post(&format!("/ideas/{idea}/comments"), &[("body", "What a stupid idea, Bo")]).await.status, 303);
    let page = di.get(&format!("/ideas/{idea}")).await;
    let comment: i64 = page.body.split("id=\"comment-").nth(1).unwrap().split('"').next().unwrap().parse().unwrap();

    assert_eq!(di.post(&format!("/report/idea/{idea}"), &[("reason", "other")]).await.status, 303);
    assert_eq!(di.post(&format!("/report/comment/{comment}"), &[("reason", "harassment")]).await.status, 303);
    bo.write_post("An ordinary update").await;
    let post = newest_post(&di, "bo").await;
    assert_eq!(di.post(&format!("/report/post/{post}"), &[("reason", "other")]).await.status, 303);

    // A warning needs words, reaches the author with them, and closes the report.
    assert_eq!(md.post(&format!("/moderation/idea/{idea}/warn"), &[("message", "")]).await.status, 400);
    let warned =
        md.post(&format!("/moderation/idea/{idea}/warn"), &[("message", "Please keep proposals constructive.")]).await;
    assert_eq!(warned.status, 303);
    let told = bo.get("/notifications").await;
    assert!(told.contains("sent you a warning") && told.contains("Please keep proposals constructive."));
    assert!(told.contains("About your idea “Ban all meetings forever”:"), "the warning names what it is about");

    // Deleting asks for confirmation (it cannot be undone), then removes the comment and its count.
    let queue = md.get("/moderation").await;
    assert!(queue.contains("<summary>Delete…</summary>") && queue.contains("Delete for good"));
    let unconfirmed = md.post(&format!("/moderation/comment/{comment}/delete"), &[]).await;
    assert_eq!(unconfirmed.status, 400);
    assert!(di.get(&format!("/ideas/{idea}")).await.contains("stupid idea"), "nothing was deleted");
    let confirmed = md.post(&format!("/moderation/comment/{comment}/delete"), &[("confirm", "yes")]).await;
    assert_eq!(confirmed.status, 303);
    let idea_page = di.get(&format!("/ideas/{idea}")).await;
    assert!(!idea_page.contains("stupid idea"));
    assert!(idea_page.contains("Discussion (0)"));

    // Dismissing leaves the post as it is.
    assert_eq!(md.post(&format!("/moderation/post/{post}/dismiss"), &[]).await.status, 303);
    assert!(di.get(&format!("/posts/{post}")).await.contains("An ordinary update"));

    let reports = di.get("/reports").await;
    for state in ["Reviewed: the author was warned", "Reviewed: deleted", "Reviewed: no action taken"] {
        assert!(reports.contains(state), "missing {state}");
    }
    // The next report on bo's content shows the earlier actions on bo.
    bo.write_post("Another one").await;
    let second = newest_post(&di, "bo").await;
    assert_eq!(di.post(&format!("/report/post/{second}"), &[("reason", "spam")]).await.status, 303);
    assert!(md.get("/moderation").await.contains("Earlier actions on this author's content: 1 warned."));
    // A hidden comment shows as such to others, and its author still sees it.
    assert_eq!(
        cy.post(&format!("/ideas/{idea}/comments"), &[("body", "Sorry, I mean it is unusual")]).await.status,
        303
    );
    let page = di.get(&format!("/ideas/{idea}")).await;
    let second_comment: i64 =
        page.body.split("id=\"comment-").nth(1).unwrap().split('"').next().unwrap().parse().unwrap();
    assert_eq!(md.post(&format!("/moderation/comment/{second_comment}/hide"), &[]).await.status, 303);
    let as_other = di.get(&format!("/ideas/{idea}")).await;
    assert!(as_other.contains("This comment was hidden by a moderator.") && !as_other.contains("unusual"));
    assert!(cy.get(&format!("/ideas/{idea}")).await.contains("unusual"));
}

async fn keyword_rules_flag_matching_text_and_refuse_bad_expressions(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let _ana = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    let md = app.signed_up("md").await;
    let mo = app.signed_up("mo").await;
    promote(&app, "md", Role::Moderator).await;
    promote(&app, "mo", Role::Manager).await;

    assert_eq!(bo.get("/moderation/keywords").await.status, 403);
    let bad = md.post("/moderation/keywords", &[("pattern", "(unclosed"), ("regex", "on")]).await;
    assert_eq!(bad.status, 422);
    assert!(bad.contains("unclosed group"), "{}", bad.body);
    let huge = md.post("/moderation/keywords", &[("pattern", r"(\w{1000}){1000}"), ("regex", "on")]).await;
    assert_eq!(huge.status, 422);
    assert!(huge.contains("too large"));
    assert_eq!(md.post("/moderation/keywords", &[("pattern", "salary")]).await.status, 303);
    assert_eq!(md.post("/moderation/keywords", &[("pattern", "(a+)+$"), ("regex", "on")]).await.status, 303);
    assert_eq!(
        md.post("/moderation/keywords", &[("pattern", r"project\s+nightingale"), ("regex", "on")]).await.status,
        303
    );
    let rules = md.get("/moderation/keywords").await;
    assert!(rules.contains("salary") && rules.contains("project\\s+nightingale"));

    // Matching text goes through and is flagged, naming the rule.
    bo.write_post("Who knows the SALARY bands for 2027?").await;
    bo.write_post("Nothing to see here").await;
    let quiet = newest_post(&bo, "bo").await;
    let queue = md.get("/moderation").await;
    assert!(queue.contains("SALARY bands") && queue.contains("keyword rule “salary”"));
    assert!(!queue.contains("Nothing to see here"));
    // Edits, ideas and comments are watched too.
    assert_eq!(bo.post(&format!("/posts/{quiet}/edit"), &[("body", "About Project  Nightingale")]).await.status, 303);
    let campaign = open_campaign(&mo, false).await;
    let idea = submit(&bo, campaign, "Publish salary ranges", false).await;
    assert_eq!(
        bo.post(&format!("/ideas/{idea}/comments"), &[("body", "Project Nightingale agrees")]).await.status,
        303
    );
    let queue = md.get("/moderation").await;
    assert!(queue.contains("About Project  Nightingale"));
    assert!(queue.contains("Publish salary ranges"));
    assert!(queue.contains("Project Nightingale agrees"));
    // A text that makes a backtracking engine run for ages is checked at once.
    let hostile = format!("{}!", "a".repeat(900));
    assert_eq!(bo.post("/posts", &[("body", &hostile)]).await.status, 303);

    // A removed rule stops flagging.
    let rules = md.get("/moderation/keywords").await;
    let first_rule = rules.body.split("/moderation/keywords/").nth(1).unwrap().split('/').next().unwrap().to_owned();
    assert_eq!(md.post(&format!("/moderation/keywords/{first_rule}/delete"), &[]).await.status, 303);
    bo.write_post("salary again").await;
    assert!(!md.get("/moderation").await.contains("salary again"));
}

async fn a_suspension_ends_sessions_refuses_sign_in_and_shows_on_the_profile(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ana = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    let cy = app.signed_up("cy").await;
    let md = app.signed_up("md").await;
    promote(&app, "md", Role::Moderator).await;
    let bo_laptop = app.person();
    assert_eq!(bo_laptop.sign_in("bo", PASSWORD).await.status, 303);
    assert_eq!(bo_laptop.get("/").await.status, 200);

    assert_eq!(ana.post("/admin/users/bo/suspend", &[("duration", "7d"), ("reason", "")]).await.status, 400);
    assert_eq!(ana.post("/admin/users/bo/suspend", &[("duration", "a week"), ("reason", "x")]).await.status, 400);
    let done = ana.post("/admin/users/bo/suspend", &[("duration", "7d"), ("reason", "Spamming the feed")]).await;
    assert_eq!(done.status, 303);

    // Both of bo's sessions end at once. Each device's next page says why, once; then it is signed
    // out like any other, and signing in is refused with the reason.
    for device in [&bo, &bo_laptop] {
        let told = device.get("/").await;
        assert_eq!(told.status, 403);
        assert!(told.contains("suspended your account until") && told.contains("Spamming the feed"), "{}", told.body);
        assert!(!told.contains("Sign out"), "the page is not a signed-in one");
        let page = device.get("/").await;
        assert_eq!(page.status, 303);
        assert!(page.location.unwrap().starts_with("/login"));
    }
    let refused = bo.sign_in("bo", PASSWORD).await;
    assert_eq!(refused.status, 403);
    assert!(refused.contains("suspended until") && refused.contains("Spamming the feed"));
    // A wrong password still says only that it does not match.
    assert_eq!(bo.sign_in("bo", "wrong password!").await.status, 422);
    assert!(cy.get("/@bo").await.contains("Suspended"));
    assert!(ana.get("/admin/users?q=bo").await.contains("Suspended until"));

    // Reinstating is one action; both are in the log.
    assert_eq!(ana.post("/admin/users/bo/reinstate", &[]).await.status, 303);
    assert_eq!(bo.sign_in("bo", PASSWORD).await.status, 303);
    assert!(!cy.get("/@bo").await.contains("Suspended"));
    let log = ana.get("/admin/audit?action=user.suspend").await;
    assert!(log.contains("Spamming the feed") && !log.contains("<code>user.reinstate</code>"));
    assert!(ana.get("/admin/audit").await.contains("<code>user.reinstate</code>"));

    // From the queue, a moderator suspends for good.
    bo.write_post("Spam spam spam").await;
    let post = newest_post(&cy, "bo").await;
    assert_eq!(cy.post(&format!("/report/post/{post}"), &[("reason", "spam")]).await.status, 303);
    let suspended = md
        .post(&format!("/moderation/post/{post}/suspend"), &[("duration", "forever"), ("message", "Repeated spam")])
        .await;
    assert_eq!(suspended.status, 303, "{}", suspended.body);
    let told = bo.get("/").await;
    assert!(told.status == 403 && told.contains("suspended your account for good"), "{}", told.body);
    assert_eq!(bo.get("/").await.status, 303);
    let refused = bo.sign_in("bo", PASSWORD).await;
    assert!(refused.contains("suspended for good"));
    assert!(cy.get("/reports").await.contains("Reviewed: the author was suspended"));
    // The database holds no session of bo's.
    let bo_id = townhall::accounts::store::find_by_username(&mut app.db.clone(), "bo").await.unwrap().unwrap().id;
    let (sessions,): (i64,) = townhall::db::Exec::fetch_one(
        &mut app.db.clone(),
        sql("SELECT COUNT(*) FROM sessions WHERE user_id = $1").bind(bo_id),
    )
    .await
    .unwrap();
    assert_eq!(sessions, 0);
}

async fn moderators_cannot_suspend_their_equals_and_anonymous_authors_stay_hidden(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ana = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    let md = app.signed_up("md").await;
    let me = app.signed_up("me").await;
    let mo = app.signed_up("mo").await;
    promote(&app, "md", Role::Moderator).await;
    promote(&app, "me", Role::Moderator).await;
    promote(&app, "mo", Role::Manager).await;

    ana.write_post("An admin's post").await;
    let admin_post = newest_post(&bo, "ana").await;
    assert_eq!(bo.post(&format!("/report/post/{admin_post}"), &[("reason", "other")]).await.status, 303);
    let refused =
        md.post(&format!("/moderation/post/{admin_post}/suspend"), &[("duration", "1d"), ("message", "No")]).await;
    assert_eq!(refused.status, 403);
    me.write_post("A moderator's post").await;
    let peer_post = newest_post(&bo, "me").await;
    assert_eq!(bo.post(&format!("/report/post/{peer_post}"), &[("reason", "other")]).await.status, 303);
    let refused =
        md.post(&format!("/moderation/post/{peer_post}/suspend"), &[("duration", "1d"), ("message", "No")]).await;
    assert_eq!(refused.status, 403);
    // An admin cannot suspend or delete themselves.
    assert_eq!(ana.post("/admin/users/ana/suspend", &[("duration", "1d"), ("reason", "oops")]).await.status, 400);
    assert_eq!(ana.get("/admin/users/ana/delete").await.status, 400);

    // An anonymous idea's author is not shown in the queue, can be warned without being named, and
    // cannot be suspended from there.
    let campaign = open_campaign(&mo, true).await;
    let idea = submit(&bo, campaign, "An anonymous complaint", true).await;
    assert_eq!(me.post(&format!("/report/idea/{idea}"), &[("reason", "other")]).await.status, 303);
    let queue = md.get("/moderation").await;
    assert!(queue.contains("An anonymous complaint"));
    assert!(queue.contains("Anonymous"));
    assert!(!queue.contains("Bo Example"));
    assert!(!queue.contains("Suspend the author"));
    let refused = md.post(&format!("/moderation/idea/{idea}/suspend"), &[("duration", "1d"), ("message", "x")]).await;
    assert_eq!(refused.status, 400);
    assert_eq!(md.post(&format!("/moderation/idea/{idea}/warn"), &[("message", "Tone it down")]).await.status, 303);
    assert!(bo.get("/notifications").await.contains("Tone it down"));
    let log = ana.get("/admin/audit").await;
    assert!(log.contains("idea.warn_author") && !log.contains("user @bo"));
}

async fn a_moderator_restores_a_hidden_post_from_its_own_page(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let _admin = app.signed_up("admin").await;
    let bo = app.signed_up("bo").await;
    let cy = app.signed_up("cy").await;
    let md = app.signed_up("md").await;
    promote(&app, "md", Role::Moderator).await;
    bo.write_post("A post that is fine after all").await;
    let post = newest_post(&cy, "bo").await;
    assert_eq!(cy.post(&format!("/report/post/{post}"), &[("reason", "other")]).await.status, 303);
    assert_eq!(md.post(&format!("/moderation/post/{post}/hide"), &[]).await.status, 303);
    assert!(!md.get("/moderation").await.contains("A post that is fine after all"), "the queue is empty");

    // The post's own page offers the moderator a Restore button; its author sees only the mark.
    let restore = format!("action=\"/moderation/post/{post}/restore\"");
    let page = md.get(&format!("/posts/{post}")).await;
    assert!(page.contains("Hidden by a moderator") && page.contains(&restore), "{}", page.body);
    let own = bo.get(&format!("/posts/{post}")).await;
    assert!(own.contains("Hidden by a moderator") && !own.contains(&restore));
    let back = format!("/posts/{post}#post-{post}");
    let restored = md.post(&format!("/moderation/post/{post}/restore"), &[("back", &back)]).await;
    assert_eq!(restored.status, 303);
    assert_eq!(restored.location.as_deref(), Some(back.as_str()));
    assert!(md.follow(&restored).await.contains("The post is visible again."));
    assert!(cy.get(&format!("/posts/{post}")).await.contains("A post that is fine after all"));
}

async fn the_handled_view_lists_what_moderators_did_and_restores_what_is_hidden(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.signed_up("admin").await;
    let bo = app.signed_up("bo").await;
    let cy = app.signed_up("cy").await;
    let (md, mx) = (app.signed_up("md").await, app.signed_up("mx").await);
    promote(&app, "md", Role::Moderator).await;
    promote(&app, "mx", Role::Moderator).await;
    bo.write_post("First questionable post").await;
    let first = newest_post(&cy, "bo").await;
    bo.write_post("Second questionable post").await;
    let second = newest_post(&cy, "bo").await;
    for post in [first, second] {
        assert_eq!(cy.post(&format!("/report/post/{post}"), &[("reason", "other")]).await.status, 303);
    }
    assert_eq!(md.post(&format!("/moderation/post/{first}/hide"), &[("message", "Off topic")]).await.status, 303);
    assert_eq!(mx.post(&format!("/moderation/post/{second}/dismiss"), &[]).await.status, 303);
    assert_eq!(cy.get("/moderation/handled").await.status, 403, "for moderators only");
    assert_eq!(admin.post("/admin/users/cy/role", &[("role", "manager")]).await.status, 303);

    let restore = format!("action=\"/moderation/post/{first}/restore\"");
    let all = md.get("/moderation/handled").await;
    assert!(
        all.contains("<code>post.hide</code>")
            && all.contains("<code>post.dismiss_reports</code>")
            && all.contains("Off topic")
    );
    assert!(all.contains(&restore), "a hidden post offers Restore: {}", all.body);
    let by_mx = md.get("/moderation/handled?moderator=mx").await;
    assert!(by_mx.contains("<code>post.dismiss_reports</code>") && !by_mx.contains("<code>post.hide</code>"));
    let hides = md.get("/moderation/handled?action=post.hide").await;
    assert!(hides.contains("<code>post.hide</code>") && !hides.contains("<code>post.dismiss_reports</code>"));
    assert!(!md.get("/moderation/handled?from=2000-01-01&to=2000-01-02").await.contains("<code>post.hide</code>"));
    // Admin actions are not listed here.
    assert!(!all.contains("<code>settings.update</code>") && !all.contains("<code>user.role</code>"));

    let back = "/moderation/handled?action=post.hide&moderator=&from=&to=";
    let restored = md.post(&format!("/moderation/post/{first}/restore"), &[("back", back)]).await;
    assert_eq!(restored.location.as_deref(), Some(back));
    let after = md.follow(&restored).await;
    assert!(after.contains("The post is visible again.") && !after.contains(&restore));
    assert!(md.get("/moderation/handled").await.contains("<code>post.restore</code>"));
}
