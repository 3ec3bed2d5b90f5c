//! After the scenarios: every acknowledged post, reply and vote is in the database, every post in
//! every home it belongs in; and how soon homes are written.

use std::time::{Duration, Instant};

use townhall::db::{Db, Exec, sql};

use crate::common::{Failure, ms, percentile};
use crate::company::Fixtures;
use crate::driver::Outcome;
use crate::scenarios::{MIXED, VOTING};

/// What the scenarios made, for the checks.
pub struct Made<'a> {
    pub engine: &'a str,
    /// In the text of every post and reply the scenarios wrote.
    pub marker: &'a str,
    pub home_while_writing: &'a str,
    /// In home while others write, the first this many clients wrote.
    pub home_writers: usize,
    /// After which scenario the delivery queue was drained: how many were queued, how long it took.
    pub drains: Vec<(&'static str, (i64, Option<Duration>))>,
    /// How soon each of 20 posts was in a follower's home, when measured.
    pub reaching: Option<Vec<Duration>>,
}

/// Prints what was acknowledged and found; false when a request failed or anything acknowledged is
/// missing.
pub async fn every_write_is_there(
    db: &Db,
    f: &Fixtures,
    outcomes: &[Outcome],
    made: Made<'_>,
) -> Result<bool, Failure> {
    let Made { engine, marker, home_while_writing, home_writers, drains, mut reaching } = made;
    let mut ok = true;
    for o in outcomes {
        if o.failures > 0 {
            ok = false;
            println!(
                "{engine}: {} had {} failed requests, the first: {}",
                o.name,
                o.failures,
                o.first_failure.as_deref().unwrap_or("")
            );
        }
    }
    let mut db = db.clone();
    fn named<'a>(outcomes: &'a [Outcome], name: &'a str) -> impl Iterator<Item = &'a Outcome> {
        outcomes.iter().filter(move |o| o.name == name)
    }
    let acked = |name: &str, clients: &dyn Fn(usize) -> bool| -> i64 {
        named(outcomes, name)
            .flat_map(|o| o.acknowledged.iter().enumerate())
            .filter(|(i, _)| clients(*i))
            .map(|(_, acks)| acks.len() as i64)
            .sum()
    };
    let acked_posts = acked("posting", &|_| true) + acked(MIXED, &|i| i == 0);
    let acked_replies = acked("replying", &|_| true) + acked(MIXED, &|i| i > 0) + {
        let writes = named(outcomes, home_while_writing).flat_map(|o| o.acknowledged.iter().take(home_writers));
        writes.flatten().filter(|n| *n % 3 == 1).count() as i64
    };
    let pattern = format!("%{marker}%");
    let (posts,): (i64,) =
        db.fetch_one(sql("SELECT COUNT(*) FROM posts WHERE body LIKE $1 AND parent_id IS NULL").bind(&pattern)).await?;
    let (replies,): (i64,) = db
        .fetch_one(sql("SELECT COUNT(*) FROM posts WHERE body LIKE $1 AND parent_id IS NOT NULL").bind(&pattern))
        .await?;
    let mut vote_errors = 0;
    let mut votes = 0;
    for o in named(outcomes, VOTING) {
        for (i, acks) in o.acknowledged.iter().enumerate() {
            votes += acks.len();
            let Some(last) = acks.iter().max() else { continue };
            let idea = f.hot_ideas[i % f.hot_ideas.len()];
            let voted: Option<(i64,)> = db
                .fetch_optional(
                    sql("SELECT CAST(1 AS BIGINT) FROM idea_votes WHERE idea_id = $1 AND user_id = $2")
                        .bind(idea)
                        .bind(f.typical[i].0),
                )
                .await?;
            if voted.is_some() != (last % 2 == 0) {
                vote_errors += 1;
            }
        }
    }
    let (miscounted,): (i64,) = db
        .fetch_one(sql("SELECT COUNT(*) FROM ideas i
                        WHERE i.campaign_id = $1 AND i.vote_count <> (SELECT COUNT(*) FROM idea_votes v WHERE v.idea_id = i.id)")
            .bind(f.campaign))
        .await?;
    // Each post is in its author's home and every follower's (the benchmark's posts have no topic
    // or community), the most followed person's among them.
    let (homes, short): (i64, i64) = db
        .fetch_one(
            sql("SELECT CAST(COALESCE(SUM(u.follower_count + 1), 0) AS BIGINT),
                        CAST(COALESCE(SUM(CASE WHEN (SELECT COUNT(*) FROM timeline t WHERE t.post_id = p.id)
                                                    <> u.follower_count + 1
                                               THEN 1 ELSE 0 END), 0) AS BIGINT)
                 FROM posts p JOIN users u ON u.id = p.author_id
                 WHERE p.body LIKE $1 AND p.parent_id IS NULL")
            .bind(&pattern),
        )
        .await?;
    println!(
        "{engine}: acknowledged {acked_posts} posts ({posts} found, {short} of them missing from some of the {homes} \
         homes they belong in), {acked_replies} replies ({replies} found), {votes} votes and unvotes ({vote_errors} \
         voters' final state wrong, {miscounted} ideas miscounted)"
    );
    for o in named(outcomes, home_while_writing) {
        let writes: usize = o.acknowledged.iter().take(home_writers).map(Vec::len).sum();
        println!(
            "{engine}: while {} read home, {home_writers} clients liked, replied and unliked {writes} times \
             (warm-up included) on posts of those homes",
            o.acknowledged.len().saturating_sub(home_writers)
        );
    }
    if let Some(times) = &mut reaching {
        println!(
            "{engine}: with no other load, a post was in a follower's home {:.1} ms (median of {}; {:.1} ms at most) \
             after it was sent",
            ms(percentile(times, 50)),
            times.len(),
            ms(percentile(times, 100))
        );
    }
    let mut drained = true;
    for (after, (queued, took)) in &drains {
        match took {
            Some(took) => println!(
                "{engine}: {queued} queued deliveries when {after} ended, all written {:.1} s later",
                took.as_secs_f64()
            ),
            None => {
                drained = false;
                println!("{engine}: deliveries still queued {} s after {after} ended", DRAIN_LIMIT.as_secs())
            }
        }
    }
    Ok(ok
        && posts == acked_posts
        && replies == acked_replies
        && vote_errors == 0
        && miscounted == 0
        && drained
        && short == 0)
}

/// How long after a post is sent its follower's home has it, with nothing else running: `client`
/// (signed in as `author`) posts 20 times, one post at a time, and each post's first follower's home
/// is read every millisecond until it has it. These posts carry no benchmark marker, so the checks of
/// acknowledged writes leave them out.
pub async fn time_to_home(
    db: &Db,
    base: &str,
    client: &reqwest::Client,
    author: i64,
) -> Result<Vec<Duration>, Failure> {
    let mut reader = db.clone();
    let (follower,): (i64,) = reader
        .fetch_one(
            sql("SELECT follower_id FROM follows WHERE followee_id = $1 ORDER BY follower_id LIMIT 1").bind(author),
        )
        .await?;
    let mut times = Vec::new();
    for n in 0..20 {
        let body = format!("How soon does this reach home? {n} {}", townhall::db::now());
        let sent = Instant::now();
        let response =
            client.post(format!("{base}/posts")).header("origin", base).form(&[("body", body.as_str())]).send().await?;
        if !response.status().is_redirection() {
            return Err(format!("posting for the delivery time answered {}", response.status()).into());
        }
        let (post_id,): (i64,) = reader
            .fetch_one(sql("SELECT id FROM posts WHERE author_id = $1 AND body = $2").bind(author).bind(&body))
            .await?;
        loop {
            let home: Option<(i64,)> = reader
                .fetch_optional(
                    sql("SELECT post_id FROM timeline WHERE user_id = $1 AND post_id = $2")
                        .bind(follower)
                        .bind(post_id),
                )
                .await?;
            if home.is_some() {
                times.push(sent.elapsed());
                break;
            }
            if sent.elapsed() > Duration::from_secs(10) {
                return Err(format!("post {post_id} not in its follower's home 10 s after it was sent").into());
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    Ok(times)
}

/// How long [`drain`] waits for the delivery worker.
const DRAIN_LIMIT: Duration = Duration::from_secs(600);

/// Waits until the delivery worker has written every queued home; returns how many deliveries were
/// queued, and how long they took (`None`: still queued after [`DRAIN_LIMIT`]).
pub async fn drain(db: &Db) -> Result<(i64, Option<Duration>), Failure> {
    let started = Instant::now();
    let mut reader = db.clone();
    let (queued,): (i64,) = reader.fetch_one(sql("SELECT CAST(COUNT(*) AS BIGINT) FROM deliveries")).await?;
    let mut left = queued;
    while left > 0 {
        if started.elapsed() > DRAIN_LIMIT {
            return Ok((queued, None));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        (left,) = reader.fetch_one(sql("SELECT CAST(COUNT(*) AS BIGINT) FROM deliveries")).await?;
    }
    Ok((queued, Some(started.elapsed())))
}
