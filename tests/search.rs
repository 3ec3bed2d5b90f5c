//! Search on both engines over a generated corpus: what it finds and how it marks it, paging and
//! filters, every permission rule, and hostile queries.

mod common;

use common::{Engine, Person, TestApp, post_ids};
use townhall::accounts::Role;
use townhall::db::now;
use townhall::ideas::input_time;

on_both_engines!(
    search_finds_people_posts_ideas_topics_and_communities_and_marks_the_words,
    results_page_by_cursor_and_narrow_by_author_community_campaign_and_date,
    nobody_finds_what_they_could_not_open,
    hostile_queries_never_fail,
    a_reused_ranking_finds_new_posts_at_once_and_shows_each_person_only_theirs,
);

fn q(text: &str) -> String {
    format!("/search?q={}", townhall::web::form::percent_encode(text))
}

async fn newest_post(person: &Person, username: &str) -> i64 {
    post_ids(&person.get(&format!("/@{username}")).await.body)[0]
}

async fn open_campaign(manager: &Person, title: &str, community: &str) -> i64 {
    let at = now();
    let (opens, closes) = (input_time(at - 3600), input_time(at + 7 * 86_400));
    let form = [
        ("title", title),
        ("question", "How?"),
        ("opens_at", opens.as_str()),
        ("closes_at", closes.as_str()),
        ("allow_anonymous", "on"),
        ("community", community),
    ];
    let made = manager.post("/campaigns/new", &form).await;
    assert_eq!(made.status, 303, "{}", made.body);
    let id: i64 = made.location.unwrap().trim_start_matches("/campaigns/").parse().unwrap();
    assert_eq!(manager.post(&format!("/campaigns/{id}/publish"), &[]).await.status, 303);
    id
}

async fn submit(person: &Person, campaign: i64, title: &str, body: &str, anonymous: bool) -> i64 {
    let mut form = vec![("title", title), ("body", body), ("confirmed", "yes")];
    if anonymous {
        form.push(("anonymous", "on"));
    }
    let page = person.post(&format!("/campaigns/{campaign}/ideas"), &form).await;
    assert_eq!(page.status, 303, "{}", page.body);
    page.location.unwrap().trim_start_matches("/ideas/").parse().unwrap()
}

/// A small generated company: filler posts from a fixed vocabulary, so that the words searched for
/// stand among others.
async fn filler(people: &[&Person], count: usize) {
    let words = ["meeting", "budget", "coffee", "quarter", "roadmap", "office", "travel", "design", "review", "launch"];
    for n in 0..count {
        let text = format!("{} {} {} note {n}", words[n % 10], words[(n * 3 + 1) % 10], words[(n * 7 + 2) % 10]);
        people[n % people.len()].write_post(&text).await;
    }
}

async fn search_finds_people_posts_ideas_topics_and_communities_and_marks_the_words(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ana = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    let cy = app.signed_up("cy").await;
    filler(&[&ana, &bo, &cy], 30).await;
    let profile = [
        ("display_name", "Cy Lima"),
        ("job_title", "Packaging engineer"),
        ("department", "Logistics"),
        ("location", "Porto"),
        ("bio", ""),
    ];
    assert_eq!(cy.post("/settings/profile", &profile).await.status, 303);
    bo.write_post("We should cut packaging waste in the warehouse #packaging").await;
    bo.write_post("Crates crates crates: reusable crates").await;
    bo.write_post("A long note about many things, among them one crates mention, and more words after it").await;
    bo.write_post("<b>packaging</b> & <script>alert(1)</script>").await;
    ana.post("/communities/new", &[("name", "Packaging Guild"), ("slug", "guild"), ("visibility", "public")]).await;
    let campaign = open_campaign(&ana, "Less waste", "").await;
    submit(&bo, campaign, "Reusable packaging crates", "Return them to suppliers.", false).await;

    let page = ana.get(&q("packag")).await;
    assert_eq!(page.status, 200);
    assert!(page.contains("cut <mark>packaging</mark> waste"), "stems and prefixes mark: {}", page.body);
    assert!(page.contains("Cy Lima"), "people by job title");
    assert!(page.contains("Reusable <mark>packaging</mark> crates"), "ideas");
    assert!(
        page.contains("href=\"/topics/packaging\">#packaging</a> <span class=\"muted\">1 post</span>"),
        "topics, counted"
    );
    assert!(page.contains("Packaging Guild"), "communities");
    bo.write_post("Again #Packaging, and #packagingday").await;
    bo.write_post("Not a topic: packaging, and #pack").await;
    let topics = ana.get(&format!("{}&type=topics", q("packag"))).await;
    let shown: Vec<&str> =
        topics.body.split("href=\"/topics/").skip(1).map(|s| &s[..s.find('"').unwrap_or(0)]).collect();
    assert_eq!(shown, ["packaging", "packagingday"], "most used first, only those starting with the word");
    assert!(topics.contains("#packaging</a> <span class=\"muted\">2 posts</span>"), "{}", topics.body);
    // User markup is text; only our <mark> is markup.
    assert!(page.contains("&#60;b&#62;<mark>packaging</mark>&#60;/b&#62;"));
    assert!(!page.contains("<script>alert"));

    // Phrases match as phrases.
    let phrase = ana.get(&q("\"cut packaging\" waste")).await;
    assert!(phrase.contains("<mark>cut</mark> <mark>packaging</mark> <mark>waste</mark>"));
    assert!(!ana.get(&q("\"packaging cut\"")).await.contains("warehouse"));

    // Relevance: three mentions in a short post rank above one in a long post.
    let ranked = ana.get(&format!("{}&type=posts", q("crates"))).await;
    let first = ranked.body.find("reusable <mark>crates</mark>").expect("the short post");
    let second = ranked.body.find("one <mark>crates</mark> mention").expect("the long post");
    assert!(first < second);

    // A name finds a person by prefix; a word found nowhere says so.
    assert!(ana.get(&format!("{}&type=people", q("lim"))).await.contains("@cy"));
    assert!(ana.get(&q("zebra")).await.contains("Nothing found for"));
    // Stop-words and symbols alone: a friendly message, not an error.
    let nothing = ana.get(&q("the of and")).await;
    assert_eq!(nothing.status, 200);
    assert!(nothing.contains("Nothing to search"));
}

async fn results_page_by_cursor_and_narrow_by_author_community_campaign_and_date(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ana = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    for n in 0..25 {
        let author = if n % 2 == 0 { &ana } else { &bo };
        author.write_post(&format!("Bicycle parking idea number {n}")).await;
    }
    let first = ana.get(&format!("{}&type=posts", q("bicycle"))).await;
    let first_links: Vec<&str> = first.body.matches("href=\"/posts/").collect();
    assert_eq!(first.body.matches("class=\"search-hit\"").count(), 20);
    let more = first.body.split("<p class=\"pager\"><a href=\"").nth(1).unwrap().split('"').next().unwrap();
    let more = more.replace("&#38;", "&");
    assert!(more.contains("after=20"), "{more}");
    let second = ana.get(&more).await;
    assert_eq!(second.body.matches("class=\"search-hit\"").count(), 5);
    assert!(!second.contains("More posts"), "{}", second.body);
    assert!(!first_links.is_empty());
    let ids = |body: &str| -> Vec<String> {
        body.split("class=\"search-hit\"")
            .skip(1)
            .map(|hit| hit.split("#post-").nth(1).unwrap().split('"').next().unwrap().to_owned())
            .collect()
    };
    let (a, b) = (ids(&first.body), ids(&second.body));
    assert!(a.iter().all(|id| !b.contains(id)), "pages do not overlap");

    // Author, community, date.
    let by_bo = ana.get(&format!("{}&type=posts&author=@bo", q("bicycle"))).await;
    assert_eq!(by_bo.body.matches("class=\"search-hit\"").count(), 12);
    assert!(!by_bo.contains("<p class=\"muted\"><a href=\"/@ana\">"));
    assert!(by_bo.contains("<p class=\"muted\"><a href=\"/@bo\">"));
    ana.post("/communities/new", &[("name", "Riders"), ("slug", "riders"), ("visibility", "public")]).await;
    ana.post("/c/riders/posts", &[("body", "Bicycle repair day")]).await;
    let in_riders = ana.get(&format!("{}&type=posts&community=riders", q("bicycle"))).await;
    assert_eq!(in_riders.body.matches("class=\"search-hit\"").count(), 1);
    assert!(in_riders.contains("repair day"));
    assert!(!ana.get(&format!("{}&from=2099-01-01", q("bicycle"))).await.contains("search-hit"));
    assert!(!ana.get(&format!("{}&to=2001-01-01", q("bicycle"))).await.contains("search-hit"));
    let both_ends = ana.get(&format!("{}&type=posts&from=2001-01-01&to=2099-01-01", q("bicycle"))).await;
    assert!(both_ends.contains("repair day"), "a window around today finds today's posts");
    assert_eq!(ana.get(&format!("{}&from=soon", q("bicycle"))).await.status, 400);

    // Campaign.
    let one = open_campaign(&ana, "One", "").await;
    let two = open_campaign(&ana, "Two", "").await;
    submit(&bo, one, "Bicycle sheds", "More sheds", false).await;
    submit(&bo, two, "Bicycle lanes", "Paint lanes", false).await;
    let in_two = ana.get(&format!("{}&type=ideas&campaign={two}", q("bicycle"))).await;
    assert!(in_two.contains("lanes") && !in_two.contains("sheds"));
    assert_eq!(ana.get(&format!("{}&campaign=two", q("bicycle"))).await.status, 400);
}

async fn nobody_finds_what_they_could_not_open(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ana = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    let eve = app.signed_up("eve").await;
    let md = app.signed_up("md").await;
    let gone = app.signed_up("gone").await;
    townhall::accounts::store::set_role(&mut app.db.clone(), "md", Role::Moderator).await.unwrap();
    filler(&[&ana, &bo], 10).await;

    // A private community's posts, topics and campaign ideas: members only.
    bo.post("/communities/new", &[("name", "Board"), ("slug", "board"), ("visibility", "private")]).await;
    bo.post("/c/board/posts", &[("body", "Secret merger plans #merger")]).await;
    for (who, expect) in [(&bo, true), (&eve, false)] {
        let page = who.get(&q("merger")).await;
        assert_eq!(page.contains("Secret <mark>merger</mark> plans"), expect);
        assert_eq!(page.contains("href=\"/topics/merger\""), expect);
    }

    // Hidden and deleted posts: nobody.
    eve.write_post("Cheap unicorn watches for sale").await;
    let spam = newest_post(&eve, "eve").await;
    assert!(bo.get(&q("unicorn")).await.contains("<mark>unicorn</mark>"));
    assert_eq!(md.post(&format!("/moderation/post/{spam}/hide"), &[]).await.status, 303);
    for who in [&bo, &eve, &md] {
        assert!(!who.get(&q("unicorn")).await.contains("watches"));
    }
    eve.write_post("A typo-ridden narwhal post").await;
    let typo = newest_post(&eve, "eve").await;
    assert_eq!(eve.post(&format!("/posts/{typo}/delete"), &[]).await.status, 303);
    assert!(!bo.get(&q("narwhal")).await.contains("narwhal post"));
    // An edit changes what is found, at once.
    eve.write_post("Meet at the lighthouse").await;
    let edited = newest_post(&eve, "eve").await;
    assert_eq!(eve.post(&format!("/posts/{edited}/edit"), &[("body", "Meet at the harbour")]).await.status, 303);
    assert!(!bo.get(&q("lighthouse")).await.contains("Meet at"));
    assert!(bo.get(&q("harbour")).await.contains("<mark>harbour</mark>"));

    // A community campaign's ideas: its members only.
    ana.post("/communities/new", &[("name", "Lab"), ("slug", "lab"), ("visibility", "private")]).await;
    let lab_campaign = open_campaign(&ana, "Lab ideas", "lab").await;
    submit(&ana, lab_campaign, "Quantum coffee machine", "For the lab", false).await;
    assert!(ana.get(&q("quantum")).await.contains("<mark>Quantum</mark> coffee"));
    assert!(!eve.get(&q("quantum")).await.contains("coffee machine"));

    // Anonymous ideas: found by their words, never by their author's name.
    let open = open_campaign(&ana, "Open ideas", "").await;
    submit(&bo, open, "Anonymous walrus suggestion", "Say it quietly", true).await;
    let found = eve.get(&q("walrus")).await;
    assert!(found.contains("<mark>walrus</mark>") && found.contains("Anonymous"));
    assert!(!found.contains("Bo Example"));
    assert!(!eve.get(&format!("{}&author=bo", q("walrus"))).await.contains("walrus suggestion"));

    // Former employees are not found as people (their words stay, as "Former employee").
    gone.write_post("Goodbye albatross").await;
    let deleted =
        ana.post("/admin/users/gone/delete", &[("mode", "anonymise"), ("reason", "Left"), ("confirm", "gone")]).await;
    assert_eq!(deleted.status, 303);
    assert!(!eve.get(&format!("{}&type=people", q("gone"))).await.contains("@gone"));
    assert!(eve.get(&q("albatross")).await.contains("Former employee"));
}

async fn hostile_queries_never_fail(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ana = app.signed_up("ana").await;
    ana.write_post("Café naïve résumé 🎉 and 日本語 text, C++ and \"quotes\"").await;
    let long = "packaging ".repeat(2000);
    let hostile = [
        "\"",
        "\"\"\"",
        "*",
        "NEAR(a b)",
        "a AND OR NOT b",
        "body:foo",
        "^foo",
        "foo:*",
        "'; DROP TABLE posts; --",
        "\\",
        "(((",
        "a <-> b & !c | d",
        "!@#$%^&*()_+{}|:<>?",
        "🎉🚀",
        "NULL",
        "%_%",
        "\u{0}",
        long.as_str(),
        "the",
    ];
    for query in hostile {
        let page = ana.get(&q(query)).await;
        assert_eq!(page.status, 200, "{query:?}: {}", page.body);
        for kind in ["people", "posts", "ideas", "topics", "communities"] {
            let page = ana.get(&format!("{}&type={kind}&after=999999", q(query))).await;
            assert_eq!(page.status, 200, "{query:?} {kind}");
        }
    }
    assert!(ana.get(&q("café")).await.contains("<mark>Café</mark>"));
    assert!(ana.get(&q("résumé")).await.contains("<mark>résumé</mark>"));
    assert!(ana.get(&q("C++")).await.contains("<mark>C</mark>++"));
}

/// Rankings are reused for a few seconds (`search::cache`): within that time a new post is found at
/// once, a deleted one is gone at once, and a ranking made for one person never shows another what
/// they may not open.
async fn a_reused_ranking_finds_new_posts_at_once_and_shows_each_person_only_theirs(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ana = app.signed_up("ana").await;
    let bo = app.signed_up("bo").await;
    ana.write_post("Kingfisher seen at the first pond").await;
    let first = newest_post(&ana, "ana").await;
    ana.post("/communities/new", &[("name", "Board"), ("slug", "board"), ("visibility", "private")]).await;
    ana.post("/c/board/posts", &[("body", "Kingfisher plans of the board")]).await;
    // Ana's search makes the ranking, with the board's post in it.
    assert!(ana.get(&q("kingfisher")).await.contains("plans of the board"));
    let page = bo.get(&q("kingfisher")).await;
    assert!(page.contains("first pond") && !page.contains("plans of the board"), "{}", page.body);

    ana.write_post("Kingfisher seen at the second pond").await;
    let page = bo.get(&q("kingfisher")).await;
    assert!(page.contains("second pond"), "a new post is found at once");
    assert_eq!(ana.post(&format!("/posts/{first}/delete"), &[]).await.status, 303);
    let page = bo.get(&q("kingfisher")).await;
    assert!(!page.contains("first pond"), "a deleted post is gone at once");
    assert!(page.contains("second pond"));
}
