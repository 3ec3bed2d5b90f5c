//! Home stays one indexed read whatever a person follows: someone who follows 2,000 people and 200
//! topics gets their page with under 50 rows read per post shown, on both engines.
//!
//! How it is checked: the data is made through the application's own store functions (so the
//! timeline is filled as in production), then home's two statements are explained (the page's
//! timeline entries with the cache's changes, and the posts looked up by id). On PostgreSQL, `EXPLAIN
//! ANALYZE` reports the rows each scan node really produced (rows × loops), which are added up, and
//! the plan must take the page of timeline entries (a `LIMIT` right above the timeline's scan)
//! before it reads any post. SQLite has no such counter, so its plan is checked instead: a search
//! of the timeline's primary key (a range that stops after one page) followed only by primary-key
//! lookups, with no scan of a table and no sort; that reads at most a page of timeline entries plus
//! four rows per post.

mod common;

use common::{Engine, TestApp};
use townhall::db::{Db, Exec, sql};
use townhall::posts::cache::PostCache;
use townhall::posts::store::Placement;
use townhall::posts::{PAGE_SIZE, PostBody};
use townhall::{follows, posts, topics};

on_both_engines!(home_reads_under_fifty_rows_per_post_for_someone_who_follows_2000_people_and_200_topics);

const PEOPLE: usize = 2_100;
const FOLLOWED: usize = 2_000;
const TOPICS: usize = 200;
const POSTS: usize = 3_000;

async fn company(db: &Db) -> i64 {
    let mut tx = db.begin().await.unwrap();
    for n in 0..PEOPLE {
        tx.execute(
            sql("INSERT INTO users (username, email, display_name, password_hash, created_at)
                 VALUES ($1, $2, $3, 'not-a-hash', 0)")
            .bind(format!("person{n}"))
            .bind(format!("person{n}@example.com"))
            .bind(format!("Person {n}")),
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    let (reader,): (i64,) = db.clone().fetch_one(sql("SELECT id FROM users WHERE username = 'person0'")).await.unwrap();
    for n in 1..=FOLLOWED {
        let (id,): (i64,) = db
            .clone()
            .fetch_one(sql("SELECT id FROM users WHERE username = $1").bind(format!("person{n}")))
            .await
            .unwrap();
        let mut tx = db.begin().await.unwrap();
        follows::store::follow(&mut tx, reader, id).await.unwrap();
        tx.commit().await.unwrap();
    }
    for t in 0..TOPICS {
        let mut tx = db.begin().await.unwrap();
        topics::store::follow(&mut tx, reader, &format!("topic{t}")).await.unwrap();
        tx.commit().await.unwrap();
    }
    // Posts by everyone, most by people the reader does not follow, a third with a topic.
    for n in 0..POSTS {
        let author = (n * 7919 % PEOPLE) as i64 + 1;
        let text = if n % 3 == 0 { format!("post {n} on #topic{}", n % 400) } else { format!("post {n}") };
        let mut tx = db.begin().await.unwrap();
        posts::store::create(&mut tx, author, &PostBody::parse(&text, 1000).unwrap(), None, Placement::Company)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    reader
}

async fn home_reads_under_fifty_rows_per_post_for_someone_who_follows_2000_people_and_200_topics(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let reader = company(&app.db).await;
    app.delivered().await;
    let mut db = app.db.clone();
    let cache = PostCache::default();
    let (shown, _) = posts::home::home_rows(&mut db, &cache, reader, None).await.unwrap();
    assert_eq!(shown.len() as i64, PAGE_SIZE + 1, "the reader's home is full");
    let deep_cursor = shown[shown.len() / 2].id;
    // Busy threads: every post on the page has 40 replies, of which the feed shows the newest two.
    for post in &shown {
        for n in 0..40 {
            let body = PostBody::parse(&format!("reply {n}"), 1000).unwrap();
            let mut tx = app.db.begin().await.unwrap();
            posts::store::create(&mut tx, post.author_id, &body, None, Placement::Reply(post)).await.unwrap();
            tx.commit().await.unwrap();
        }
    }
    // Most of a company's posts are by people a reader does not follow: 50,000 more here, newer than
    // all of the reader's home, so that the posts table is large enough for PostgreSQL to plan for
    // it as for a company's (a small table it reads whole), and a plan that reads posts newest first
    // until it meets the reader's would read all of them.
    db.execute(sql("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50000)
             INSERT INTO posts (author_id, body, created_at)
             SELECT (SELECT id FROM users WHERE username = 'person2050'), 'a stranger posts', 0 FROM n"))
        .await
        .unwrap();
    if engine == Engine::Postgres {
        db.execute(sql("ANALYZE")).await.unwrap();
    }
    let roots: Vec<i64> = shown.iter().map(|p| p.id).collect();
    let replies = posts::store::latest_replies(&mut db, &roots).await.unwrap();
    assert_eq!(replies.len(), roots.len() * 2);
    check_latest_replies_plan(engine, &mut db, &roots).await;

    // A page far down: 2,000 of the reader's posts are newer than it.
    let (far_cursor,): (i64,) = db
        .fetch_one(
            sql("SELECT post_id FROM timeline WHERE user_id = $1 ORDER BY post_id DESC LIMIT 1 OFFSET 2000")
                .bind(reader),
        )
        .await
        .unwrap();
    for cursor in [None, Some(deep_cursor), Some(far_cursor)] {
        let query = posts::home::home_query(db.engine(), reader, cursor, 1);
        let (page, _) = posts::home::home_rows(&mut db, &PostCache::default(), reader, cursor).await.unwrap();
        let ids: Vec<i64> = page.iter().map(|p| p.id).collect();
        assert_eq!(ids.len() as i64, PAGE_SIZE + 1);
        let lookup = posts::cache::fetch_query(&ids);
        match engine {
            Engine::Sqlite => {
                for (name, query) in [("entries", query), ("posts", lookup)] {
                    let plan: Vec<(i64, i64, i64, String)> =
                        db.fetch_all(query.explained("EXPLAIN QUERY PLAN ")).await.unwrap();
                    let steps: Vec<&str> = plan.iter().map(|(_, _, _, detail)| detail.as_str()).collect();
                    eprintln!("SQLite home plan, {name}: {steps:?}");
                    let base_tables = ["p", "u", "pp", "pu", "c", "posts", "users", "timeline", "post_changes"];
                    let scans_a_table = |step: &str| {
                        step.strip_prefix("SCAN ")
                            .and_then(|rest| rest.split_whitespace().next())
                            .is_some_and(|t| base_tables.contains(&t))
                    };
                    assert!(steps.iter().all(|s| !scans_a_table(s) && !s.contains("TEMP B-TREE")), "{steps:?}");
                    assert!(
                        steps
                            .iter()
                            .filter(|s| s.starts_with("SEARCH"))
                            .all(|s| s.contains("PRIMARY KEY") || s.contains("post_changes_mark")),
                        "{steps:?}"
                    );
                    if name == "entries" {
                        assert!(
                            steps
                                .iter()
                                .any(|s| s.starts_with("SEARCH timeline USING PRIMARY KEY (user_id=? AND post_id<?)")),
                            "{steps:?}"
                        );
                    }
                }
            }
            Engine::Postgres => {
                db.execute(sql("ANALYZE")).await.unwrap();
                let plan: Vec<(String,)> =
                    db.fetch_all(query.explained("EXPLAIN (ANALYZE, FORMAT TEXT) ")).await.unwrap();
                let posts_plan: Vec<(String,)> =
                    db.fetch_all(lookup.explained("EXPLAIN (ANALYZE, FORMAT TEXT) ")).await.unwrap();
                // Rows of posts and the timeline: this company's 2,100 people (and no communities)
                // are read whole into a hash, as PostgreSQL does with small tables; with 100,000
                // people it looks each author up by primary key (docs/benchmarks.md).
                let rows_read: i64 = plan
                    .iter()
                    .chain(&posts_plan)
                    .filter(|(l,)| l.contains("Scan") && (l.contains(" on posts ") || l.contains(" on timeline")))
                    .map(|(l,)| rows_times_loops(l))
                    .sum();
                let per_post = rows_read as f64 / (PAGE_SIZE + 1) as f64;
                eprintln!(
                    "PostgreSQL home page: {rows_read} rows read for {} posts ({per_post:.1} per post)",
                    PAGE_SIZE + 1
                );
                let shown = plan.iter().chain(&posts_plan).map(|(l,)| l.as_str()).collect::<Vec<_>>().join("\n");
                assert!(per_post < 50.0, "{per_post} rows per post:\n{shown}");
                // The page of timeline entries is a LIMIT right above the timeline's own scan.
                let limited_timeline = plan.windows(2).any(|pair| {
                    pair[0].0.trim_start().trim_start_matches("->  ").starts_with("Limit")
                        && pair[1].0.contains(" on timeline")
                });
                assert!(limited_timeline, "no LIMIT right above the timeline's scan:\n{shown}");
            }
        }
    }
}

/// The latest replies of a page's threads read two replies per thread through the (root_id, id)
/// index, however long the threads are.
async fn check_latest_replies_plan(engine: Engine, db: &mut Db, roots: &[i64]) {
    let query = posts::store::latest_replies_query(db.engine(), roots);
    match engine {
        Engine::Sqlite => {
            let plan: Vec<(i64, i64, i64, String)> =
                db.fetch_all(query.explained("EXPLAIN QUERY PLAN ")).await.unwrap();
            let steps: Vec<&str> = plan.iter().map(|(_, _, _, detail)| detail.as_str()).collect();
            // Scanning the small derived tables (`part2`, …) is fine; scanning a real table is not.
            let base_tables = ["p", "u", "pp", "pu", "h", "posts", "users", "timeline"];
            let scans_a_table = |step: &str| {
                step.strip_prefix("SCAN ")
                    .and_then(|rest| rest.split_whitespace().next())
                    .is_some_and(|t| base_tables.contains(&t))
            };
            assert!(!steps.iter().any(|s| scans_a_table(s)), "{steps:?}");
            let by_thread =
                steps.iter().filter(|s| s.starts_with("SEARCH p USING INDEX posts_root_id_id (root_id=?)")).count();
            // One index search per thread, and per padding placeholder (`db::list_size`).
            assert_eq!(by_thread, townhall::db::list_size(roots.len()), "{steps:?}");
        }
        Engine::Postgres => {
            let plan: Vec<(String,)> = db.fetch_all(query.explained("EXPLAIN (ANALYZE, FORMAT TEXT) ")).await.unwrap();
            let rows_read: i64 = plan.iter().filter(|(l,)| l.contains("Scan")).map(|(l,)| rows_times_loops(l)).sum();
            let per_post = rows_read as f64 / roots.len() as f64;
            eprintln!(
                "PostgreSQL latest replies: {rows_read} rows read for {} threads of 40 replies ({per_post:.1} per post)",
                roots.len()
            );
            let shown = plan.iter().map(|(l,)| l.as_str()).filter(|l| !l.contains("part")).collect::<Vec<_>>();
            assert!(per_post < 20.0, "{per_post} rows per thread:\n{}", shown.join("\n"));
            // The copies read reply ids only; the authors are looked up once for all of them. Each
            // copy joining its own was a plan PostgreSQL set up anew on every run (docs/benchmarks.md);
            // EXPLAIN names the copies' authors `u`, `u_1`, `u_2`, ….
            let author_lookups = plan.iter().filter(|(l,)| l.contains(" on users u")).count();
            assert_eq!(author_lookups, 1, "authors looked up per thread:\n{}", shown.join("\n"));
        }
    }
}

/// `rows=N loops=M` of an EXPLAIN ANALYZE line's actual figures, multiplied.
fn rows_times_loops(line: &str) -> i64 {
    let actual = line.split("actual").nth(1).unwrap_or("");
    let number = |key: &str| -> i64 {
        actual
            .split(key)
            .nth(1)
            .map(|rest| rest.chars().take_while(char::is_ascii_digit).collect::<String>())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    number("rows=") * number("loops=")
}
