//! The authorisation matrix: every route of the application, for each role (visitor, member,
//! manager, moderator, admin), with the outcome the gate must give, on both engines. The content the
//! routes act on belongs to a sixth person, so "author only" refuses every role here. A route in the
//! source without a row here fails the test.

mod common;

use common::{Engine, Person, TestApp, post_ids};
use townhall::accounts::Role;
use townhall::db::now;
use townhall::ideas::input_time;

on_both_engines!(
    every_route_gives_each_role_the_outcome_its_rights_allow,
    hidden_vote_counts_reach_only_managers_on_every_surface_until_the_close,
);

/// What the gate does with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gate {
    /// Let through: any answer but a sign-in redirect, 403 or 404 (a refused form still got in).
    Through,
    SignIn,
    Forbidden,
    NotFound,
    /// Anything below 500 (sign-out, which sends everyone to the sign-in page).
    Any,
}
use Gate::*;

/// A suspended person was signed in before the suspension: every page treats them as a visitor.
const ROLES: [&str; 6] = ["visitor", "member", "manager", "moderator", "admin", "suspended"];
const SIGNED: [Gate; 6] = [SignIn, Through, Through, Through, Through, SignIn];
const MANAGERS: [Gate; 6] = [SignIn, Forbidden, Through, Forbidden, Through, SignIn];
const MODERATORS: [Gate; 6] = [SignIn, Forbidden, Forbidden, Through, Through, SignIn];
const ADMINS: [Gate; 6] = [SignIn, Forbidden, Forbidden, Forbidden, Through, SignIn];
const AUTHOR: [Gate; 6] = [SignIn, Forbidden, Forbidden, Forbidden, Forbidden, SignIn];
const HIDDEN: [Gate; 6] = [SignIn, NotFound, NotFound, NotFound, NotFound, SignIn];
const DRAFT: [Gate; 6] = [SignIn, NotFound, Through, NotFound, Through, SignIn];
const OPEN: [Gate; 6] = [Through; 6];
/// A private community's campaign: its members and admins; a manager outside it sees nothing.
const PRIVATE_CAMPAIGN: [Gate; 6] = [SignIn, NotFound, NotFound, NotFound, Through, SignIn];
/// Its manager pages: admins only here (the manager is not a member).
const PRIVATE_EXPORT: [Gate; 6] = [SignIn, Forbidden, NotFound, Forbidden, Through, SignIn];

struct Row {
    template: &'static str,
    method: &'static str,
    path: String,
    gates: [Gate; 6],
}

fn row(template: &'static str, method: &'static str, path: impl Into<String>, gates: [Gate; 6]) -> Row {
    Row { template, method, path: path.into(), gates }
}

fn classify(status: u16, location: Option<&str>) -> Gate {
    match status {
        403 => Forbidden,
        404 => NotFound,
        303 | 302 if location.is_some_and(|l| l.starts_with("/login")) => SignIn,
        _ => Through,
    }
}

async fn every_route_gives_each_role_the_outcome_its_rights_allow(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.signed_up("ana").await;
    let member = app.signed_up("me").await;
    let manager = app.signed_up("mo").await;
    let moderator = app.signed_up("md").await;
    let owner = app.signed_up("ow").await;
    let suspended = app.signed_up("su").await;
    let mut db = app.db.clone();
    townhall::accounts::store::set_role(&mut db, "mo", Role::Manager).await.unwrap();
    townhall::accounts::store::set_role(&mut db, "md", Role::Moderator).await.unwrap();
    // Suspended in the database while their session row survives (as when another process races the
    // suspension), so that the gate itself must refuse them.
    townhall::db::Exec::execute(
        &mut db,
        townhall::db::sql("UPDATE users SET suspended_until = $1 WHERE username = 'su'").bind(now() + 86_400),
    )
    .await
    .unwrap();

    // The owner's content: a post, a public and a private community with a post each.
    owner.write_post("The owner's post").await;
    let post = post_ids(&owner.get("/@ow").await.body)[0];
    owner.post("/communities/new", &[("name", "Public"), ("slug", "pub"), ("visibility", "public")]).await;
    owner.post("/communities/new", &[("name", "Private"), ("slug", "priv"), ("visibility", "private")]).await;
    owner.post("/c/pub/posts", &[("body", "In public")]).await;
    owner.post("/c/priv/posts", &[("body", "In private")]).await;
    let pub_post = post_ids(&owner.get("/c/pub").await.body)[0];
    let priv_post = post_ids(&owner.get("/c/priv").await.body)[0];
    // An open campaign with the owner's idea and anonymous idea, and a draft.
    let (opens, closes) = (input_time(now() - 3600), input_time(now() + 86_400));
    let campaign_form = |title: &'static str| -> Vec<(&'static str, String)> {
        vec![
            ("title", title.into()),
            ("question", "Q?".into()),
            ("opens_at", opens.clone()),
            ("closes_at", closes.clone()),
        ]
    };
    let mut open_form = campaign_form("Open");
    open_form.push(("allow_anonymous", "on".into()));
    let made = manager.post("/campaigns/new", &pairs(&open_form)).await;
    let campaign: i64 = made.location.unwrap().trim_start_matches("/campaigns/").parse().unwrap();
    manager.post(&format!("/campaigns/{campaign}/publish"), &[]).await;
    let draft_made = manager.post("/campaigns/new", &pairs(&campaign_form("Draft"))).await;
    let draft: i64 = draft_made.location.unwrap().trim_start_matches("/campaigns/").parse().unwrap();
    // A campaign of the private community, made by an admin: the manager is not a member.
    let mut private_form = campaign_form("Private");
    private_form.push(("community", "priv".into()));
    let private_made = admin.post("/campaigns/new", &pairs(&private_form)).await;
    let private: i64 = private_made.location.unwrap().trim_start_matches("/campaigns/").parse().unwrap();
    admin.post(&format!("/campaigns/{private}/publish"), &[]).await;
    let idea_of = |page: common::Page| -> i64 { page.location.unwrap().trim_start_matches("/ideas/").parse().unwrap() };
    let idea = idea_of(
        owner
            .post(
                &format!("/campaigns/{campaign}/ideas"),
                &[("title", "Owner idea"), ("body", "b"), ("confirmed", "y")],
            )
            .await,
    );
    let anon = idea_of(
        owner
            .post(
                &format!("/campaigns/{campaign}/ideas"),
                &[("title", "Hidden idea"), ("body", "b"), ("confirmed", "y"), ("anonymous", "on")],
            )
            .await,
    );

    let rows = vec![
        row("/healthz", "GET", "/healthz", OPEN),
        row("/static/{file}", "GET", "/static/style.css", OPEN),
        row("/login", "GET", "/login", OPEN),
        row("/login", "POST", "/login", OPEN),
        row("/signup", "GET", "/signup", OPEN),
        row("/signup", "POST", "/signup", OPEN),
        row("/", "GET", "/", SIGNED),
        row("/all", "GET", "/all", SIGNED),
        row("/people", "GET", "/people?q=o", SIGNED),
        row("/@{username}", "GET", "/@ow", SIGNED),
        row("/people/{username}/follow", "POST", "/people/ow/follow", SIGNED),
        row("/people/{username}/unfollow", "POST", "/people/ow/unfollow", SIGNED),
        row("/settings", "GET", "/settings", SIGNED),
        row("/settings/profile", "GET", "/settings/profile", SIGNED),
        row("/settings/profile", "POST", "/settings/profile", SIGNED),
        row("/settings/password", "GET", "/settings/password", SIGNED),
        row("/settings/password", "POST", "/settings/password", SIGNED),
        row("/notifications", "GET", "/notifications", SIGNED),
        row("/notifications/read", "POST", "/notifications/read", SIGNED),
        row("/moderation/handled", "GET", "/moderation/handled", MODERATORS),
        row("/events", "GET", "/events?feed=home", SIGNED),
        row("/posts", "POST", "/posts", SIGNED),
        row("/posts/{id}", "GET", format!("/posts/{post}"), SIGNED),
        row("/posts/{id}", "GET", format!("/posts/{priv_post}"), HIDDEN),
        row("/posts/{id}/replies", "POST", format!("/posts/{post}/replies"), SIGNED),
        row("/posts/{id}/replies", "POST", format!("/posts/{priv_post}/replies"), HIDDEN),
        row("/posts/{id}/edit", "GET", format!("/posts/{post}/edit"), AUTHOR),
        row("/posts/{id}/edit", "POST", format!("/posts/{post}/edit"), AUTHOR),
        row("/posts/{id}/delete", "GET", format!("/posts/{post}/delete"), AUTHOR),
        row("/posts/{id}/delete", "POST", format!("/posts/{post}/delete"), AUTHOR),
        row("/posts/{id}/idea", "GET", format!("/posts/{post}/idea"), AUTHOR),
        row("/posts/{id}/idea", "POST", format!("/posts/{post}/idea"), AUTHOR),
        row("/posts/{id}/like", "POST", format!("/posts/{post}/like"), SIGNED),
        row("/posts/{id}/like", "POST", format!("/posts/{priv_post}/like"), HIDDEN),
        row("/posts/{id}/unlike", "POST", format!("/posts/{post}/unlike"), SIGNED),
        row("/posts/{id}/likes", "GET", format!("/posts/{post}/likes"), SIGNED),
        row("/posts/{id}/likes", "GET", format!("/posts/{priv_post}/likes"), HIDDEN),
        row("/posts/{id}/vote", "POST", format!("/posts/{post}/vote"), SIGNED),
        row("/posts/{id}/announce", "POST", format!("/posts/{post}/announce"), ADMINS),
        row("/posts/{id}/unannounce", "POST", format!("/posts/{post}/unannounce"), ADMINS),
        row("/announcements/{id}/dismiss", "POST", format!("/announcements/{post}/dismiss"), SIGNED),
        row("/topics/{topic}", "GET", "/topics/ideas", SIGNED),
        row("/topics/{topic}/follow", "POST", "/topics/ideas/follow", SIGNED),
        row("/topics/{topic}/unfollow", "POST", "/topics/ideas/unfollow", SIGNED),
        row("/communities", "GET", "/communities", SIGNED),
        row("/communities/new", "GET", "/communities/new", SIGNED),
        row("/communities/new", "POST", "/communities/new", SIGNED),
        row("/c/{slug}", "GET", "/c/pub", SIGNED),
        row("/c/{slug}", "GET", "/c/priv", SIGNED),
        row("/c/{slug}/posts", "POST", "/c/pub/posts", AUTHOR),
        row("/c/{slug}/members", "GET", "/c/pub/members", SIGNED),
        row("/c/{slug}/members", "GET", "/c/priv/members", ADMINS),
        row("/c/{slug}/invite", "POST", "/c/pub/invite", ADMINS),
        row("/c/{slug}/members/{username}/{action}", "POST", "/c/pub/members/ow/deny", ADMINS),
        row("/c/{slug}/posts/{id}/{action}", "POST", format!("/c/pub/posts/{pub_post}/pin"), ADMINS),
        row(
            "/c/{slug}/posts/{id}/{action}",
            "POST",
            format!("/c/priv/posts/{priv_post}/pin"),
            [SignIn, Forbidden, Forbidden, Forbidden, NotFound, SignIn],
        ),
        row("/c/{slug}/join", "POST", "/c/priv/join", SIGNED),
        row("/c/{slug}/join", "POST", "/c/pub/join", SIGNED),
        row("/c/{slug}/leave", "POST", "/c/pub/leave", SIGNED),
        row("/campaigns", "GET", "/campaigns", SIGNED),
        row("/campaigns/new", "GET", "/campaigns/new", MANAGERS),
        row("/campaigns/new", "POST", "/campaigns/new", MANAGERS),
        row("/campaigns/{id}", "GET", format!("/campaigns/{campaign}"), SIGNED),
        row("/campaigns/{id}", "GET", format!("/campaigns/{draft}"), DRAFT),
        row("/campaigns/{id}", "GET", format!("/campaigns/{private}"), PRIVATE_CAMPAIGN),
        row("/campaigns/{id}/export/{format}", "GET", format!("/campaigns/{private}/export/ideas.csv"), PRIVATE_EXPORT),
        row("/campaigns/{id}/dashboard", "GET", format!("/campaigns/{private}/dashboard"), PRIVATE_EXPORT),
        row("/campaigns/{id}/{action}", "POST", format!("/campaigns/{campaign}/publish"), MANAGERS),
        row("/campaigns/{id}/edit", "GET", format!("/campaigns/{campaign}/edit"), MANAGERS),
        row("/campaigns/{id}/edit", "POST", format!("/campaigns/{campaign}/edit"), MANAGERS),
        row("/campaigns/{id}/dashboard", "GET", format!("/campaigns/{campaign}/dashboard"), MANAGERS),
        row("/campaigns/{id}/export/{format}", "GET", format!("/campaigns/{campaign}/export/ideas.csv"), MANAGERS),
        row("/campaigns/{id}/export/{format}", "GET", format!("/campaigns/{campaign}/export/ideas.json"), MANAGERS),
        row("/campaigns/{id}/ideas/new", "GET", format!("/campaigns/{campaign}/ideas/new"), SIGNED),
        row("/campaigns/{id}/ideas/new", "GET", format!("/campaigns/{draft}/ideas/new"), DRAFT),
        row("/campaigns/{id}/ideas", "POST", format!("/campaigns/{campaign}/ideas"), SIGNED),
        row("/campaigns/{id}/similar", "GET", format!("/campaigns/{campaign}/similar?title=owner"), SIGNED),
        row("/ideas/{id}", "GET", format!("/ideas/{idea}"), SIGNED),
        row("/ideas/{id}/vote", "POST", format!("/ideas/{idea}/vote"), SIGNED),
        row("/ideas/{id}/unvote", "POST", format!("/ideas/{idea}/unvote"), SIGNED),
        row("/ideas/{id}/comments", "POST", format!("/ideas/{idea}/comments"), SIGNED),
        row("/ideas/{id}/edit", "GET", format!("/ideas/{idea}/edit"), AUTHOR),
        row("/ideas/{id}/edit", "POST", format!("/ideas/{idea}/edit"), AUTHOR),
        row("/ideas/{id}/withdraw", "POST", format!("/ideas/{idea}/withdraw"), AUTHOR),
        row("/ideas/{id}/comments/{comment}/edit", "POST", format!("/ideas/{idea}/comments/999999/edit"), HIDDEN),
        row("/ideas/{id}/comments/{comment}/delete", "POST", format!("/ideas/{idea}/comments/999999/delete"), HIDDEN),
        row("/ideas/{id}/stage", "POST", format!("/ideas/{idea}/stage"), MANAGERS),
        row("/ideas/{id}/response", "POST", format!("/ideas/{idea}/response"), MANAGERS),
        row("/ideas/{id}/merge", "POST", format!("/ideas/{idea}/merge"), MANAGERS),
        row("/ideas/{id}/unmerge", "POST", format!("/ideas/{idea}/unmerge"), MANAGERS),
        row("/ideas/{id}/reveal", "POST", format!("/ideas/{anon}/reveal"), ADMINS),
        row("/report/{kind}/{id}", "GET", format!("/report/post/{post}"), SIGNED),
        row("/report/{kind}/{id}", "GET", format!("/report/post/{priv_post}"), HIDDEN),
        row("/report/{kind}/{id}", "GET", format!("/report/idea/{idea}"), SIGNED),
        row("/report/{kind}/{id}", "POST", format!("/report/post/{post}"), SIGNED),
        row("/report/{kind}/{id}", "POST", format!("/report/post/{priv_post}"), HIDDEN),
        row("/reports", "GET", "/reports", SIGNED),
        row("/search", "GET", "/search?q=owner", SIGNED),
        row("/moderation", "GET", "/moderation", MODERATORS),
        row("/moderation/{kind}/{id}/{action}", "POST", format!("/moderation/post/{post}/dismiss"), MODERATORS),
        row("/moderation/keywords", "GET", "/moderation/keywords", MODERATORS),
        row("/moderation/keywords", "POST", "/moderation/keywords", MODERATORS),
        row(
            "/moderation/keywords/{id}/delete",
            "POST",
            "/moderation/keywords/999999/delete",
            [SignIn, Forbidden, Forbidden, NotFound, NotFound, SignIn],
        ),
        row("/invitations", "GET", "/invitations", SIGNED),
        row("/invitations", "POST", "/invitations", ADMINS),
        row("/invitations/{id}/withdraw", "POST", "/invitations/999999/withdraw", HIDDEN),
        row("/admin", "GET", "/admin", ADMINS),
        row("/admin/users", "GET", "/admin/users?q=o", ADMINS),
        row("/people/suggest", "GET", "/people/suggest?q=o", SIGNED),
        row("/admin/users/new", "GET", "/admin/users/new", ADMINS),
        row("/admin/users/new", "POST", "/admin/users/new", ADMINS),
        row("/admin/users/{username}/reset-link", "POST", "/admin/users/ow/reset-link", ADMINS),
        // A set-password link is for whoever holds it; an unknown token is gone for everyone.
        row("/password/{token}", "GET", format!("/password/{}", "0".repeat(64)), OPEN),
        row("/password/{token}", "POST", format!("/password/{}", "0".repeat(64)), OPEN),
        row("/password/forgot", "GET", "/password/forgot", OPEN),
        row("/password/forgot", "POST", "/password/forgot", OPEN),
        row("/confirm/resend", "POST", "/confirm/resend", OPEN),
        row("/confirm/{token}", "GET", format!("/confirm/{}", "0".repeat(64)), OPEN),
        row("/confirm/{token}", "POST", format!("/confirm/{}", "0".repeat(64)), OPEN),
        row("/settings/email", "GET", "/settings/email", SIGNED),
        row("/settings/email", "POST", "/settings/email", SIGNED),
        row("/settings/mail", "GET", "/settings/mail", SIGNED),
        row("/settings/mail", "POST", "/settings/mail", SIGNED),
        row(
            "/mail/unsubscribe/{user}/{what}/{sig}",
            "GET",
            format!("/mail/unsubscribe/1/likes/{}", "0".repeat(32)),
            [NotFound; 6],
        ),
        row(
            "/mail/unsubscribe/{user}/{what}/{sig}",
            "POST",
            format!("/mail/unsubscribe/1/likes/{}", "0".repeat(32)),
            [NotFound; 6],
        ),
        row("/invitations/{id}/resend", "POST", "/invitations/999999/resend", SIGNED),
        row("/admin/users/{username}/confirm-email", "POST", "/admin/users/ow/confirm-email", ADMINS),
        row("/admin/mail", "GET", "/admin/mail", ADMINS),
        row("/admin/mail/test", "POST", "/admin/mail/test", ADMINS),
        row("/admin/mail/{id}/again", "POST", "/admin/mail/999999/again", ADMINS),
        row("/admin/users/{username}/role", "POST", "/admin/users/ow/role", ADMINS),
        row("/admin/users/{username}/suspend", "POST", "/admin/users/ow/suspend", ADMINS),
        row("/admin/users/{username}/reinstate", "POST", "/admin/users/ow/reinstate", ADMINS),
        row("/admin/users/{username}/delete", "GET", "/admin/users/ow/delete", ADMINS),
        row("/admin/users/{username}/delete", "POST", "/admin/users/ow/delete", ADMINS),
        row("/admin/settings", "GET", "/admin/settings", ADMINS),
        row("/admin/settings", "POST", "/admin/settings", ADMINS),
        row("/admin/audit", "GET", "/admin/audit", ADMINS),
        row("/admin/audit.csv", "GET", "/admin/audit.csv", ADMINS),
        row("/admin/export", "GET", "/admin/export", ADMINS),
        row("/admin/export/ideas.csv", "GET", "/admin/export/ideas.csv", ADMINS),
        row("/admin/export/ideas.json", "GET", "/admin/export/ideas.json", ADMINS),
        row("/admin/export/posts.jsonl", "GET", "/admin/export/posts.jsonl", ADMINS),
        row("/admin/export/members.csv", "GET", "/admin/export/members.csv", ADMINS),
        row("/settings/data", "GET", "/settings/data", SIGNED),
        row("/settings/data.json", "GET", "/settings/data.json", SIGNED),
        // Last: signing out ends each role's session.
        row("/logout", "POST", "/logout", [Any; 6]),
    ];

    let people = [app.person(), member, manager, moderator, admin, suspended];
    let mut failures = Vec::new();
    for row in &rows {
        for (n, person) in people.iter().enumerate() {
            let page = match row.method {
                "GET" => get_head(person, &row.path).await,
                _ => {
                    let page = person.post(&row.path, &[]).await;
                    (page.status, page.location)
                }
            };
            assert!(page.0 < 500, "{} {} as {}: {}", row.method, row.path, ROLES[n], page.0);
            let got = classify(page.0, page.1.as_deref());
            if row.gates[n] != Any && got != row.gates[n] {
                failures.push(format!(
                    "{} {} as {}: expected {:?}, got {:?} ({})",
                    row.method, row.path, ROLES[n], row.gates[n], got, page.0
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // Every route in the source has a row.
    let covered: Vec<&str> = rows.iter().map(|r| r.template).collect();
    let missing: Vec<String> = routes_in_source().into_iter().filter(|r| !covered.contains(&r.as_str())).collect();
    assert!(missing.is_empty(), "routes without a row in the matrix: {missing:?}");
}

/// A form's fields as the HTTP helper takes them.
fn pairs<'a>(fields: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    fields.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// Status and location of a GET, without reading the body (an event stream never ends).
async fn get_head(person: &Person, path: &str) -> (u16, Option<String>) {
    let response = person.client.get(format!("{}{path}", person.base)).send().await.expect("GET reaches the server");
    let location = response.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_owned);
    (response.status().as_u16(), location)
}

/// Every path given to `.route(` in the application's source.
fn routes_in_source() -> Vec<String> {
    let mut found = Vec::new();
    let mut dirs = vec![std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/src"))];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for (at, _) in text.match_indices(".route(\"") {
                    let rest = &text[at + 8..];
                    if let Some(end) = rest.find('"') {
                        found.push(rest[..end].to_owned());
                    }
                }
            }
        }
    }
    found.sort();
    found.dedup();
    found
}

/// A campaign that hides its counts: a member learns them from no page, list order, JSON, search
/// or export until the close; a manager sees them throughout.
async fn hidden_vote_counts_reach_only_managers_on_every_surface_until_the_close(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    let cy = app.signed_up("cy").await;
    let at = now();
    let (opens, closes) = (input_time(at - 60), input_time(at + 86_400));
    let form = [
        ("title", "Secret ballot"),
        ("question", "Which one?"),
        ("opens_at", opens.as_str()),
        ("closes_at", closes.as_str()),
        ("hide_counts", "on"),
    ];
    let id: i64 =
        admin.post("/campaigns/new", &form).await.location.unwrap().trim_start_matches("/campaigns/").parse().unwrap();
    admin.post(&format!("/campaigns/{id}/publish"), &[]).await;
    let mut ideas = Vec::new();
    for title in ["Zebra popular", "Zebra quiet"] {
        let form = [("title", title), ("body", "Zebra crossing."), ("confirmed", "yes")];
        let page = bo.post(&format!("/campaigns/{id}/ideas"), &form).await;
        ideas.push(page.location.unwrap().trim_start_matches("/ideas/").parse::<i64>().unwrap());
    }
    let (popular, quiet) = (ideas[0], ideas[1]);
    for voter in [&admin, &cy] {
        assert_eq!(voter.post(&format!("/ideas/{popular}/vote"), &[]).await.status, 303);
    }

    let list = bo.get(&format!("/campaigns/{id}?sort=top")).await;
    assert!(!list.contains("<strong>2</strong>"), "no count on the list");
    let (p, q) = (
        list.body.find(&format!("/ideas/{popular}\"")).unwrap(),
        list.body.find(&format!("/ideas/{quiet}\"")).unwrap(),
    );
    assert!(q < p, "sort=top falls back to newest: the order does not tell the counts");
    assert!(!bo.get(&format!("/ideas/{popular}")).await.contains("<strong>2</strong>"));
    let similar = bo.get(&format!("/campaigns/{id}/similar?title=zebra")).await;
    assert!(similar.contains("Zebra popular") && !similar.contains(r#""votes":2"#), "{}", similar.body);
    let found = bo.get("/search?q=zebra").await;
    assert!(found.contains(&format!("/ideas/{popular}\"")) && !found.contains("2 votes"), "{}", found.body);
    let mine = bo.get("/settings/data.json").await;
    assert!(!mine.contains(r#""votes":2"#), "{}", mine.body);
    assert_eq!(bo.get(&format!("/campaigns/{id}/export/ideas.csv")).await.status, 403);
    assert_eq!(bo.get(&format!("/campaigns/{id}/dashboard")).await.status, 403);

    // A manager sees them all along; everyone after the close.
    assert!(admin.get(&format!("/ideas/{popular}")).await.contains("<strong>2</strong> votes"));
    assert!(admin.get(&format!("/campaigns/{id}/similar?title=zebra")).await.contains(r#""votes":2"#));
    admin.post(&format!("/campaigns/{id}/close"), &[]).await;
    assert!(bo.get(&format!("/ideas/{popular}")).await.contains("<strong>2</strong> votes"));
    assert!(bo.get(&format!("/campaigns/{id}/similar?title=zebra")).await.contains(r#""votes":2"#));
    assert!(bo.get("/settings/data.json").await.contains(r#""votes":2"#));
}
