//! Benchmark: a campaign with 5,000 ideas and 200,000 votes, and how fast its first page comes back
//! for each sort, as the database query alone and as the whole page over HTTP from the real server.
//!
//!     cargo run --release --example bench_ideas
//!     TOWNHALL_BENCH_POSTGRES_URL=postgres://… cargo run --release --example bench_ideas   # also PostgreSQL
//!
//! Prints the median and 95th percentile of 50 runs per sort. Figures move with the machine; compare
//! runs on the same machine, not with other machines.

mod common;

use std::time::Instant;

use common::{Failure, Server, ms, percentile};

use townhall::db::{Db, Exec, now, sql};
use townhall::ideas::store::{self, Sort};

const IDEAS: i64 = 5_000;
const VOTERS: i64 = 2_000;
const VOTES: i64 = 200_000;
const RUNS: usize = 50;

#[tokio::main]
async fn main() -> Result<(), Failure> {
    let dir = std::env::temp_dir().join(format!("townhall-bench-{}", uuid::Uuid::new_v4().simple()));
    run("SQLite", format!("sqlite://{}", dir.join("bench.db").display())).await?;
    let _ = std::fs::remove_dir_all(&dir);
    if let Ok(server) = std::env::var("TOWNHALL_BENCH_POSTGRES_URL") {
        common::on_postgres(&server, |url| run("PostgreSQL", url)).await?;
    }
    Ok(())
}

async fn run(engine: &str, url: String) -> Result<(), Failure> {
    // The server's first account is an admin, so it may see everything.
    let server = Server::start(&url).await?;
    let (db, base, client) = (server.db.clone(), server.base.clone(), server.client.clone());
    let started = Instant::now();
    let campaign = generate(&db).await?;
    println!(
        "{engine}: generated {IDEAS} ideas and {VOTES} votes by {VOTERS} people in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    println!("{:<12} {:>16} {:>16} {:>16} {:>16}", "sort", "query median", "query p95", "page median", "page p95");
    for sort in [Sort::Top, Sort::Newest, Sort::Trending, Sort::Discussed] {
        let mut queries = Vec::new();
        let mut pages = Vec::new();
        for _ in 0..RUNS {
            let t = Instant::now();
            let rows = store::list_ideas(&mut db.clone(), campaign, sort, None, None, 31).await?;
            queries.push(t.elapsed());
            assert_eq!(rows.len(), 31);
            let t = Instant::now();
            let page = client.get(format!("{base}/campaigns/{campaign}?sort={}", sort.as_str())).send().await?;
            let status = page.status();
            let _ = page.text().await?;
            pages.push(t.elapsed());
            assert!(status.is_success(), "{status}");
        }
        println!(
            "{:<12} {:>13.2} ms {:>13.2} ms {:>13.2} ms {:>13.2} ms",
            sort.as_str(),
            ms(percentile(&mut queries, 50)),
            ms(percentile(&mut queries, 95)),
            ms(percentile(&mut pages, 50)),
            ms(percentile(&mut pages, 95))
        );
    }
    server.stop().await
}

/// Fills the database with one open campaign of [`IDEAS`] ideas, [`VOTERS`] people and [`VOTES`]
/// votes spread unevenly over the ideas and over the last two weeks.
async fn generate(db: &Db) -> Result<i64, sqlx::Error> {
    let mut tx = db.begin().await?;
    let at = now();
    tx.execute(
        sql("WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < $1)
             INSERT INTO users (username, email, display_name, password_hash, department, created_at)
             SELECT 'voter' || x, 'voter' || x || '@example.com', 'Voter ' || x, 'none', 'Dept ' || (x % 12), $2 FROM n")
        .bind(VOTERS)
        .bind(at),
    )
    .await?;
    let (campaign,): (i64,) = tx
        .fetch_one(
            sql("INSERT INTO campaigns (title, question, status, opens_at, closes_at, created_at)
                 VALUES ('Benchmark', 'How fast is it?', 'published', $1, $2, $1) RETURNING id")
            .bind(at - 30 * 86_400)
            .bind(at + 30 * 86_400),
        )
        .await?;
    tx.execute(
        sql("WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < $1)
             INSERT INTO ideas (campaign_id, author_id, title, body, comment_count, created_at, updated_at)
             SELECT $2, (SELECT MIN(id) FROM users) + (x % $3), 'Idea ' || x, 'Why idea ' || x || ' helps', x % 17,
                    $4 - x * 60, $4 - x * 60 FROM n")
        .bind(IDEAS)
        .bind(campaign)
        .bind(VOTERS)
        .bind(at),
    )
    .await?;
    let (first_idea, first_user): (i64, i64) = tx
        .fetch_one(
            sql("SELECT (SELECT MIN(id) FROM ideas WHERE campaign_id = $1), (SELECT MIN(id) FROM users WHERE username LIKE 'voter%')")
                .bind(campaign),
        )
        .await?;
    // Voter v votes for VOTES / VOTERS ideas; low-numbered ideas get far more votes than the rest.
    let per_voter = VOTES / VOTERS;
    tx.execute(
        sql("WITH RECURSIVE n(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM n WHERE x < $1 - 1)
             INSERT INTO idea_votes (idea_id, user_id, campaign_id, created_at)
             SELECT $2 + ((x % $3) * (x % $3) + (x / $3) * 7) % $4, $5 + x / $3, $6, $7 - (x * 37) % 1209600 FROM n
             WHERE true ON CONFLICT DO NOTHING")
        .bind(VOTES)
        .bind(first_idea)
        .bind(per_voter)
        .bind(IDEAS)
        .bind(first_user)
        .bind(campaign)
        .bind(at),
    )
    .await?;
    tx.execute(
        sql("UPDATE ideas SET vote_count = (SELECT COUNT(*) FROM idea_votes v WHERE v.idea_id = ideas.id) WHERE campaign_id = $1")
            .bind(campaign),
    )
    .await?;
    store::refresh_trending(&mut tx).await?;
    tx.commit().await?;
    let (votes,): (i64,) =
        db.clone().fetch_one(sql("SELECT COUNT(*) FROM idea_votes WHERE campaign_id = $1").bind(campaign)).await?;
    println!("  votes stored: {votes} (pairs repeated by the generator count once)");
    if let Db::Postgres(_) = db {
        db.clone().execute(sql("ANALYZE")).await?;
    }
    Ok(campaign)
}
