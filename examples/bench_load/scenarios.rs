//! What is measured, in order: reading home, lists, profiles, threads, ideas and search; then
//! posting, replying and voting, whose writes are checked afterwards.

use std::sync::Arc;
use std::time::Duration;

use townhall::db::Db;

use crate::Args;
use crate::ceiling::Ceiling;
use crate::checks::{self, Made, drain, time_to_home};
use crate::common::Failure;
use crate::company::fixtures;
use crate::driver::{MakeRequest, Outcome, Process, beside_ceiling, drive, sign_in};

/// What the search scenarios ask for: common and rarer words of the seed's vocabulary, one or two.
pub const SEARCH_WORDS: [&str; 6] =
    ["packaging waste", "coffee", "budget meeting", "solar energy", "recycling plastic", "hybrid office"];
pub const VOTING: &str = "voting and unvoting, 5 hot ideas";
/// In home while others write, one client in this many writes (8 of 64), each pausing
/// [`WRITER_PACE`] after each write: at most 320 writes a second at 64 clients, whatever the build,
/// so that runs compare.
const CLIENTS_PER_WRITER: usize = 8;
const WRITER_PACE: Duration = Duration::from_millis(25);
pub const MIXED: &str = "replying while the most followed person posts every 5 s";
const LEADER_PACE: Duration = Duration::from_secs(5);

/// One engine's scenarios, and whether every request got its page and every write is there.
pub struct EngineRun {
    pub outcomes: Vec<Outcome>,
    pub peak_rss: Option<f64>,
    pub ok: bool,
}

/// Starts Townhall on `url`, signs the clients in and runs every scenario (or those `--only` names)
/// beside the ceiling, then checks the writes.
pub async fn run_engine(engine: &str, url: &str, args: &Args, ceiling: &Ceiling) -> Result<EngineRun, Failure> {
    let db = Db::connect(url).await?;
    let f = Arc::new(fixtures(&db, args.clients).await?);
    let data = std::env::temp_dir().join(format!("townhall-bench-data-{}", std::process::id()));
    let server = Process::start(
        &["townhall"],
        &[("DATABASE_URL", url.to_owned()), ("TOWNHALL_DATA_DIR", data.display().to_string())],
    )
    .await?;
    let base = Arc::new(server.base.clone());
    let typical = sign_in(&base, &f.typical).await?;
    let heavy = sign_in(&base, &f.heavy).await?;
    let marker = format!("bench{}", townhall::db::now());
    let seconds = args.seconds;
    let mut outcomes = Vec::new();
    let chosen = |name: &str| args.only.as_deref().is_none_or(|only| name.contains(only));
    let mut pace = None;
    let mut writers = 0;
    macro_rules! get {
        ($name:expr, $clients:expr, |$f:ident, $i:ident, $n:ident| $path:expr) => {{
            let name = $name.to_string();
            let (base, $f) = (base.clone(), f.clone());
            let make: MakeRequest = Arc::new(move |c, $i, $n| {
                let _ = (&$f, $i, $n);
                c.get(format!("{base}{}", $path))
            });
            if chosen(&name) {
                outcomes
                    .push(beside_ceiling(ceiling, drive(&name, $clients, seconds, make, pace, writers), seconds).await);
            }
        }};
    }
    macro_rules! post {
        ($name:expr, $clients:expr, |$f:ident, $i:ident, $n:ident| ($path:expr, $form:expr)) => {{
            let name = $name.to_string();
            let (base, $f, marker) = (base.clone(), f.clone(), marker.clone());
            let make: MakeRequest = Arc::new(move |c, $i, $n| {
                let _ = (&$f, &marker, $i, $n);
                c.post(format!("{base}{}", $path)).header("origin", base.as_str()).form(&$form(&marker))
            });
            if chosen(&name) {
                outcomes
                    .push(beside_ceiling(ceiling, drive(&name, $clients, seconds, make, pace, writers), seconds).await);
            }
        }};
    }
    get!("home, typical follower", &typical, |f, i, n| "/".to_owned());
    get!(&format!("home, typical, page {} deep", 300 / 30), &typical, |f, i, n| format!(
        "/?before={}",
        f.typical_deep[i % f.typical_deep.len()]
    ));
    // Home while some people like, answer and unlike the posts on those homes: each write changes
    // a post that the cache holds (docs/benchmarks.md). Only the readers' requests are in the figures.
    let home_writers = (typical.len() / CLIENTS_PER_WRITER).max(1);
    let home_while_writing = format!(
        "home, typical, while {home_writers} others like, reply, unlike (up to {}/s)",
        home_writers as u128 * 1000 / WRITER_PACE.as_millis()
    );
    writers = home_writers;
    pace = Some(WRITER_PACE);
    let base_w = base.clone();
    let (fw, marker_w) = (f.clone(), marker.clone());
    let reading_and_writing: MakeRequest = Arc::new(move |c, i, n| {
        if i >= home_writers {
            return c.get(format!("{base_w}/"));
        }
        let post = fw.home_posts[(i * 131 + n as usize / 3) % fw.home_posts.len()];
        let (path, form) = match n % 3 {
            0 => (format!("/posts/{post}/like"), Vec::new()),
            1 => (format!("/posts/{post}/replies"), vec![("body", format!("Load test reply {marker_w} w{i}-{n}"))]),
            _ => (format!("/posts/{post}/unlike"), Vec::new()),
        };
        c.post(format!("{base_w}{path}")).header("origin", base_w.as_str()).form(&form)
    });
    if chosen(&home_while_writing) {
        let outcome = drive(&home_while_writing, &typical, seconds, reading_and_writing, pace, writers);
        outcomes.push(beside_ceiling(ceiling, outcome, seconds).await);
    }
    writers = 0;
    pace = None;
    get!("home, heavy follower", &heavy, |f, i, n| "/".to_owned());
    get!(&format!("home, heavy, page {} deep", 3000 / 30), &heavy, |f, i, n| format!(
        "/?before={}",
        f.heavy_deep[i % f.heavy_deep.len()]
    ));
    get!("/all", &typical, |f, i, n| "/all".to_owned());
    get!("profile", &typical, |f, i, n| format!("/@{}", f.profiles[(i * 31 + n as usize) % f.profiles.len()]));
    get!(&format!("post page, {} replies", f.thread.1), &typical, |f, i, n| format!("/posts/{}", f.thread.0));
    get!("ideas by top", &typical, |f, i, n| format!("/campaigns/{}?sort=top", f.campaign));
    get!("ideas by trending", &typical, |f, i, n| format!("/campaigns/{}?sort=trending", f.campaign));
    get!("ideas by newest", &typical, |f, i, n| format!("/campaigns/{}?sort=newest", f.campaign));
    get!("idea page", &typical, |f, i, n| format!("/ideas/{}", f.ideas[(i * 13 + n as usize) % f.ideas.len()]));
    get!("search", &typical, |f, i, n| format!(
        "/search?q={}",
        SEARCH_WORDS[(i + n as usize) % SEARCH_WORDS.len()].replace(' ', "+")
    ));
    post!("posting", &typical, |f, i, n| ("/posts".to_owned(), |m: &str| [("body", format!("Load test {m} {i}-{n}"))]));
    // Homes are written in the background: the next scenario starts once they all are.
    let mut drains = Vec::new();
    let mut reaching = None;
    if chosen("posting") {
        drains.push(("posting", drain(&db).await?));
        reaching = Some(time_to_home(&db, &base, &typical[0], f.typical[0].0).await?);
    }
    post!("replying", &typical, |f, i, n| (
        format!("/posts/{}/replies", f.recent_posts[(i + n as usize) % f.recent_posts.len()]),
        |m: &str| [("body", format!("Load test reply {m} {i}-{n}"))]
    ));
    post!(VOTING, &typical, |f, i, n| (
        format!("/ideas/{}/{}", f.hot_ideas[i % f.hot_ideas.len()], if n % 2 == 0 { "vote" } else { "unvote" }),
        |_: &str| [("back", String::new())]
    ));
    // The most followed person posts every few seconds (client 0) while everyone else replies: their
    // post's first chunk of homes is written at once, the rest by the delivery worker in between the
    // replies.
    let leader = sign_in(&base, std::slice::from_ref(&f.leader.0)).await?;
    pace = Some(LEADER_PACE);
    let mut mixed = leader.clone();
    mixed.extend(typical.iter().skip(1).cloned());
    post!(MIXED, &mixed, |f, i, n| (
        if i == 0 {
            "/posts".to_owned()
        } else {
            format!("/posts/{}/replies", f.recent_posts[(i + n as usize) % f.recent_posts.len()])
        },
        |m: &str| [("body", format!("Load test {} {m} {i}-{n}", if i == 0 { "leader" } else { "reply" }))]
    ));

    drains.push(("the last scenario", drain(&db).await?));
    let mut steady_ok = true;
    if let Some(rate) = args.sustained {
        let steady = crate::sustained::run(&db, &base, &typical, rate, args.sustained_seconds).await?;
        println!(
            "{engine}: sustained posting, {rate}/s for {} s: {} sent, {} acknowledged; delivery lag from \
             acknowledgement to the last follower's home p50 {:.2} s, p99 {:.2} s, max {:.2} s; {} not delivered \
             within 300 s",
            args.sustained_seconds,
            steady.sent,
            steady.acknowledged,
            steady.lag_p50.as_secs_f64(),
            steady.lag_p99.as_secs_f64(),
            steady.lag_max.as_secs_f64(),
            steady.unfinished,
        );
        steady_ok = steady.unfinished == 0 && steady.acknowledged as u64 == steady.sent;
    }
    let peak_rss = server.peak_rss_mib();
    drop(server);

    let made =
        Made { engine, marker: &marker, home_while_writing: &home_while_writing, home_writers, drains, reaching };
    let ok = checks::every_write_is_there(&db, &f, &outcomes, made).await? && steady_ok;
    db.close().await;
    let _ = std::fs::remove_dir_all(&data);
    Ok(EngineRun { outcomes, peak_rss, ok })
}
