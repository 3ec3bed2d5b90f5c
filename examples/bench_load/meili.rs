//! Search through Meilisearch: the same search scenario as the built-in engine's, on a kept copy of
//! the seeded SQLite file whose Meilisearch indexes are built once and kept, like the seed.
//!
//! Building the indexes of a million posts takes many minutes, so the copy (`<seed>.meili.db`) and
//! its indexes (prefix `townhall_bench_<people>`) stay between runs; a newer seeded file makes a new
//! copy and build. The scenario only reads, so the indexes stay as the copy is.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use townhall::db::{Db, Exec, sql};

use crate::Args;
use crate::ceiling::Ceiling;
use crate::common::Failure;
use crate::company::{checkpoint, fixtures};
use crate::driver::{MakeRequest, Outcome, Process, beside_ceiling, drive, sign_in};
use crate::scenarios::SEARCH_WORDS;

/// How long the first build of the indexes may take.
const BUILD_LIMIT: Duration = Duration::from_secs(3600);

/// Where to find Meilisearch.
pub struct Meili {
    pub url: String,
    pub key: Option<String>,
}

pub struct MeiliRun {
    pub outcomes: Vec<Outcome>,
    pub peak_rss: Option<f64>,
    pub ok: bool,
}

/// Runs the search scenario with Townhall searching through Meilisearch, after making sure the kept
/// copy's indexes are built; checks afterwards that Meilisearch answered (a typo only it forgives).
pub async fn run(seeded: &Path, meili: &Meili, args: &Args, ceiling: &Ceiling) -> Result<MeiliRun, Failure> {
    let copy = kept_copy(seeded).await?;
    let url = format!("sqlite://{}", copy.display());
    let prefix = format!("townhall_bench_{}", args.people);
    let data = std::env::temp_dir().join(format!("townhall-bench-meili-data-{}", std::process::id()));
    let mut env = vec![
        ("DATABASE_URL", url.clone()),
        ("TOWNHALL_DATA_DIR", data.display().to_string()),
        ("MEILI_URL", meili.url.clone()),
        ("MEILI_INDEX_PREFIX", prefix.clone()),
    ];
    if let Some(key) = &meili.key {
        env.push(("MEILI_MASTER_KEY", key.clone()));
    }
    let server = Process::start(&["townhall"], &env).await?;
    let db = Db::connect(&url).await?;
    wait_until_built(&db, &prefix).await?;
    let f = fixtures(&db, args.clients).await?;
    let clients = sign_in(&server.base, &f.typical).await?;

    let base = Arc::new(server.base.clone());
    let make: MakeRequest = Arc::new(move |c, i, n| {
        c.get(format!("{base}/search?q={}", SEARCH_WORDS[(i + n as usize) % SEARCH_WORDS.len()].replace(' ', "+")))
    });
    let name = "search, Meilisearch";
    let outcome = beside_ceiling(ceiling, drive(name, &clients, args.seconds, make, None, 0), args.seconds).await;

    // The built-in engine finds nothing for misspelt words; Meilisearch forgives one typo a word.
    let typo = clients[0].get(format!("{}/search?q=packagng+wastte", server.base)).send().await?.text().await?;
    let answered = typo.contains("id=\"posts-heading\"");
    println!(
        "Meilisearch: {}",
        if answered {
            "answered the searches (a query misspelt as \"packagng wastte\" found posts, which the built-in engine does not)"
        } else {
            "DID NOT ANSWER: \"packagng wastte\" found no posts, so the figures are the built-in engine's"
        }
    );
    let peak_rss = server.peak_rss_mib();
    drop(server);
    db.close().await;
    let _ = std::fs::remove_dir_all(&data);
    let ok = answered && outcome.failures == 0;
    if outcome.failures > 0 {
        println!(
            "Meilisearch: {} failed requests, the first: {}",
            outcome.failures,
            outcome.first_failure.as_deref().unwrap_or("")
        );
    }
    Ok(MeiliRun { outcomes: vec![outcome], peak_rss, ok })
}

/// The kept copy of the seeded file, made afresh when the seeded file is newer.
async fn kept_copy(seeded: &Path) -> Result<PathBuf, Failure> {
    let copy = seeded.with_extension("meili.db");
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    if modified(&copy).is_some() && modified(&copy) >= modified(seeded) {
        return Ok(copy);
    }
    checkpoint(seeded).await?;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", copy.display()));
    }
    std::fs::copy(seeded, &copy)?;
    println!("Meilisearch: copied the seeded file to {} (kept with its indexes for later runs)", copy.display());
    Ok(copy)
}

/// Waits until the server has built the Meilisearch indexes (its own record in `site_settings`).
async fn wait_until_built(db: &Db, prefix: &str) -> Result<(), Failure> {
    let started = Instant::now();
    let mut said = None;
    loop {
        let state: Option<(String,)> = db
            .clone()
            .fetch_optional(
                sql("SELECT value FROM site_settings WHERE key = $1").bind(format!("search.meili.{prefix}")),
            )
            .await?;
        if state.as_ref().is_some_and(|(s,)| s == "ready") {
            if said.is_some() {
                println!("Meilisearch: indexes built in {:.0} s", started.elapsed().as_secs_f64());
            }
            return Ok(());
        }
        if started.elapsed() > BUILD_LIMIT {
            return Err(format!("Meilisearch: the indexes were not built within {} s", BUILD_LIMIT.as_secs()).into());
        }
        if said.is_none_or(|at: Instant| at.elapsed() > Duration::from_secs(60)) {
            println!(
                "Meilisearch: waiting for the server to build its indexes ({:.0} s so far)",
                started.elapsed().as_secs_f64()
            );
            said = Some(Instant::now());
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
