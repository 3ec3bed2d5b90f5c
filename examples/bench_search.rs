//! Benchmark: search over a generated company of 1,000,000 posts (2,000 people, 40 communities of
//! which 10 private), with the query alone and the whole `/search` page over HTTP from the real server.
//!
//!     cargo run --release --example bench_search
//!     BENCH_POSTS=200000 cargo run --release --example bench_search       # a smaller company
//!     TOWNHALL_BENCH_POSTGRES_URL=postgres://… cargo run --release --example bench_search   # also PostgreSQL
//!     BENCH_SQLITE=/tmp/search.db cargo run --release --example bench_search   # keep (and reuse) the SQLite file
//!
//! Post text follows Zipf's law over 20,000 words: the commonest ranks are English stop-words, then
//! the workplace vocabulary below, then rarer generated words, so the commonest searchable word is in
//! about one post in twenty. Queries are two words drawn from the vocabulary, skewed towards the
//! common ones, as people type them.
//! Prints the median and 95th percentile over 200 queries. Figures move with the machine; compare runs
//! on one machine.

mod common;

use std::time::Instant;

use common::{Failure, Server, ms, percentile};

use townhall::db::{Db, Exec, now, sql};
use townhall::search::Parsed;
use townhall::search::cache::best_first;
use townhall::search::store::{self, Filters, Ranked};
use townhall::seed::random::{self, Rng, WORDS};

const PEOPLE: i64 = 2_000;
const COMMUNITIES: i64 = 40;
const PRIVATE: i64 = 10;
const QUERIES: usize = 200;

/// Skewed towards the start of `0..n`, for picking what people search for.
fn skewed(rng: &mut Rng, n: usize) -> usize {
    (rng.unit().powi(3) * n as f64) as usize
}

#[tokio::main]
async fn main() -> Result<(), Failure> {
    let posts: i64 = std::env::var("BENCH_POSTS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    match std::env::var("BENCH_SQLITE") {
        Ok(file) => run("SQLite", format!("sqlite://{file}"), posts).await?,
        Err(_) => {
            let dir = std::env::temp_dir().join(format!("townhall-bench-{}", uuid::Uuid::new_v4().simple()));
            run("SQLite", format!("sqlite://{}", dir.join("bench.db").display()), posts).await?;
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
    if let Ok(server) = std::env::var("TOWNHALL_BENCH_POSTGRES_URL") {
        common::on_postgres(&server, |url| run("PostgreSQL", url, posts)).await?;
    }
    Ok(())
}

async fn run(engine: &str, url: String, posts: i64) -> Result<(), Failure> {
    let server = Server::start(&url).await?;
    let (db, base, client) = (server.db.clone(), server.base.clone(), server.client.clone());
    let (existing,): (i64,) = db.clone().fetch_one(sql("SELECT COUNT(*) FROM posts")).await?;
    let words: Vec<&str> = WORDS.split_whitespace().collect();
    if existing == 0 {
        let started = Instant::now();
        generate(&db, &words, posts).await?;
        println!("{engine}: generated {posts} posts by {PEOPLE} people in {:.0} s", started.elapsed().as_secs_f64());
    } else {
        println!("{engine}: reusing {existing} posts");
    }

    // The viewer belongs to half of the private communities (ids 1..=PRIVATE are private).
    let viewer = 1;
    let mut rng = Rng::new(7);
    let mut queries = Vec::new();
    let mut pages = Vec::new();
    let mut found = 0_usize;
    for _ in 0..QUERIES {
        let a = words[skewed(&mut rng, 300.min(words.len()))];
        let b = words[skewed(&mut rng, 300.min(words.len()))];
        let text = format!("{a} {b}");
        // What a query nobody asked for in the last 30 s costs: ranking its window of matches,
        // then reading the best of them with the permission rules (a little more than a page).
        let t = Instant::now();
        let mut db = db.clone();
        let expression = Parsed::parse(&text).expression(db.engine(), false);
        let ranked = store::ranked(&mut db, Ranked::Posts, &expression, 0).await?;
        let best: Vec<i64> = best_first(ranked).into_iter().take(27).map(|(id, _)| id).collect();
        let rows = store::posts_by_ids(&mut db, &best, viewer, &Filters::default()).await?;
        queries.push(t.elapsed());
        found += rows.len().min(20);
        let t = Instant::now();
        let page = client.get(format!("{base}/search?q={a}+{b}")).send().await?;
        let status = page.status();
        let _ = page.text().await?;
        pages.push(t.elapsed());
        assert!(status.is_success(), "{status}");
    }
    println!(
        "{:<28} {:>10} {:>10}\n{:<28} {:>7.1} ms {:>7.1} ms\n{:<28} {:>7.1} ms {:>7.1} ms\n(on average {:.1} posts per query on the first page)",
        "two-word search",
        "median",
        "p95",
        "posts, ranked afresh (first 27)",
        ms(percentile(&mut queries, 50)),
        ms(percentile(&mut queries, 95)),
        "whole /search page (HTTP)",
        ms(percentile(&mut pages, 50)),
        ms(percentile(&mut pages, 95)),
        found as f64 / QUERIES as f64,
    );
    server.stop().await
}

/// People, communities (the first [`PRIVATE`] private, the viewer a member of half of those), and
/// `posts` posts of 6 to 30 skewed words over the last year, a tenth of them in communities.
async fn generate(db: &Db, words: &[&str], posts: i64) -> Result<(), sqlx::Error> {
    let at = now();
    let mut tx = db.begin().await?;
    tx.execute(
        sql("WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < $1)
             INSERT INTO users (username, email, display_name, password_hash, department, created_at)
             SELECT 'person' || x, 'person' || x || '@example.com', 'Person ' || x, 'none', 'Dept ' || (x % 12), $2 FROM n")
        .bind(PEOPLE)
        .bind(at),
    )
    .await?;
    for c in 1..=COMMUNITIES {
        tx.execute(
            sql("INSERT INTO communities (slug, name, description, is_private, created_by, created_at)
                 VALUES ($1, $2, '', $3, 1, $4)")
            .bind(format!("c{c}"))
            .bind(format!("Community {c}"))
            .bind(c <= PRIVATE)
            .bind(at),
        )
        .await?;
        if c <= PRIVATE / 2 {
            tx.execute(
                sql("INSERT INTO community_members (community_id, user_id, is_admin, created_at) VALUES ($1, 1, TRUE, $2)")
                    .bind(c)
                    .bind(at),
            )
            .await?;
        }
    }
    tx.commit().await?;
    let mut rng = Rng::new(42);
    let year = 365 * 86_400;
    let mut written = 0;
    while written < posts {
        let mut tx = db.begin().await?;
        for _ in 0..20_000.min(posts - written) {
            let len = 6 + (rng.next_u64() % 25) as usize;
            let body = random::text(&mut rng, words, len);
            let author = 1 + (rng.next_u64() as i64 % PEOPLE);
            let community = rng.next_u64().is_multiple_of(10).then(|| 1 + (rng.next_u64() as i64 % COMMUNITIES));
            let members_only = community.filter(|c| *c <= PRIVATE);
            let created = at - year + written * year / posts;
            tx.execute(
                sql("INSERT INTO posts (author_id, body, created_at, community_id, members_only) VALUES ($1, $2, $3, $4, $5)")
                    .bind(author)
                    .bind(body)
                    .bind(created)
                    .bind(community)
                    .bind(members_only),
            )
            .await?;
            written += 1;
        }
        tx.commit().await?;
    }
    if let Db::Postgres(_) = db {
        db.clone().execute(sql("ANALYZE")).await?;
    }
    Ok(())
}
