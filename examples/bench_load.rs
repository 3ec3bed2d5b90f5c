//! The load benchmark: the real server on a generated company (`townhall seed`), driven over
//! loopback by many signed-in clients at once, beside the machine's ceiling measured in the same run
//! (a bare axum handler serving a fixed page, and one reading 30 rows by an indexed key from the same
//! SQLite file), whose 30-row handler is measured again just before each scenario. Prints one table
//! per engine: requests per second, p50 / p99 / max latency, the ratio of requests per second to the
//! bare axum + SQLite ceiling measured just before, and the server's peak RSS.
//!
//!     cargo run --release --example bench_load                          # 100,000 people, SQLite
//!     cargo run --release --example bench_load -- --postgres postgres://postgres@127.0.0.1:5432/postgres
//!     cargo run --release --example bench_load -- --people 300 --seconds 1 --clients 8   # what CI runs
//!
//! The seeded SQLite file (and PostgreSQL database `townhall_bench_<people>`) is kept and reused; the
//! first run seeds it (minutes at the default size). Each run works on a copy of it (a file copy; a
//! database created from it as a template), removed afterwards, so every run starts from the same
//! company: the benchmark's own posts and replies would otherwise pile up on the pages it reads.
//! With two or more CPUs the servers run pinned to CPU 0 and the load generator to CPU 1 (`taskset`).
//! Exits non-zero when a request fails or an acknowledged write is missing afterwards.

#[allow(dead_code)]
mod common;

use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use common::{Failure, ms, percentile};
use townhall::config::Config;
use townhall::db::{Db, Exec, sql};

const PASSWORD: &str = "townhall-seed";
/// Request numbers of the measured phase start here (the warm-up's start at 0).
const MEASURED: u64 = 1 << 40;
const VOTING: &str = "voting and unvoting, 5 hot ideas";
/// In home while others write, one client in this many writes (8 of 64), each pausing
/// [`WRITER_PACE`] after each write: at most 320 writes a second at 64 clients, whatever the build,
/// so that runs compare.
const CLIENTS_PER_WRITER: usize = 8;
const WRITER_PACE: Duration = Duration::from_millis(25);
const MIXED: &str = "replying while the most followed person posts every 5 s";
const LEADER_PACE: Duration = Duration::from_secs(5);

#[derive(Parser)]
struct Args {
    #[command(subcommand)]
    role: Option<Role>,
    /// People in the generated company (everything else scales with it, as in `townhall seed`).
    #[arg(long, default_value_t = 100_000)]
    people: u32,
    /// Concurrent signed-in clients.
    #[arg(long, default_value_t = 64)]
    clients: usize,
    /// Seconds each scenario is measured (after a fifth of that to warm up).
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// The SQLite file to seed or reuse (default: townhall-bench-<people>.db in the temp folder).
    #[arg(long)]
    sqlite: Option<PathBuf>,
    /// A PostgreSQL server to run the same scenarios on, e.g. postgres://postgres@127.0.0.1/postgres
    /// (also TOWNHALL_BENCH_POSTGRES_URL).
    #[arg(long)]
    postgres: Option<String>,
    /// Runs only the scenarios whose name contains this text (the ceiling is measured anyway).
    #[arg(long)]
    only: Option<String>,
}

#[derive(Subcommand)]
enum Role {
    /// (internal) Runs Townhall itself on DATABASE_URL at TOWNHALL_LISTEN.
    #[command(hide = true)]
    Townhall,
    /// (internal) Runs the bare axum ceiling on a SQLite file.
    #[command(hide = true)]
    Ceiling { sqlite: PathBuf },
}

fn main() -> ExitCode {
    let args = Args::parse();
    let result = match &args.role {
        Some(Role::Townhall) => {
            // `RUST_LOG=sqlx::query=debug` logs every statement the server runs, with its time.
            if let Ok(filter) = tracing_subscriber::EnvFilter::try_from_default_env() {
                tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
            }
            server_runtime().and_then(|rt| rt.block_on(run_townhall()))
        }
        Some(Role::Ceiling { sqlite }) => server_runtime().and_then(|rt| rt.block_on(ceiling::serve(sqlite.clone()))),
        None => match pin_self() {
            Some(code) => return code,
            None => tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(Failure::from)
                .and_then(|rt| rt.block_on(bench(args))),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench_load: {e}");
            ExitCode::FAILURE
        }
    }
}

fn server_runtime() -> Result<tokio::runtime::Runtime, Failure> {
    Ok(tokio::runtime::Builder::new_multi_thread().enable_all().build()?)
}

async fn run_townhall() -> Result<(), Failure> {
    townhall::serve(Config::from_env()?).await?;
    Ok(())
}

/// Whether the servers and the load generator get a CPU each.
fn pinned() -> bool {
    std::thread::available_parallelism().is_ok_and(|n| n.get() >= 2)
        && Command::new("taskset").arg("-V").stdout(Stdio::null()).status().is_ok_and(|s| s.success())
}

/// Re-runs this benchmark on CPU 1 (once), returning its exit code; None when already pinned or
/// when pinning is not possible.
fn pin_self() -> Option<ExitCode> {
    if std::env::var_os("TOWNHALL_BENCH_PINNED").is_some() || !pinned() {
        return None;
    }
    let exe = std::env::current_exe().ok()?;
    let status = Command::new("taskset")
        .arg("-c")
        .arg("1")
        .arg(exe)
        .args(std::env::args_os().skip(1))
        .env("TOWNHALL_BENCH_PINNED", "1")
        .status()
        .ok()?;
    Some(if status.success() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// A server process (pinned to CPU 0 when the load generator is pinned), killed when dropped.
struct Process {
    child: Child,
    base: String,
}

impl Process {
    async fn start(args: &[&str], env: &[(&str, String)]) -> Result<Process, Failure> {
        let port = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0")?;
            probe.local_addr()?.port()
        };
        let exe = std::env::current_exe()?;
        let mut command = if std::env::var_os("TOWNHALL_BENCH_PINNED").is_some() {
            let mut c = Command::new("taskset");
            c.arg("-c").arg("0").arg(exe);
            c
        } else {
            Command::new(exe)
        };
        let listen = format!("127.0.0.1:{port}");
        command.args(args).env("TOWNHALL_LISTEN", &listen).env("TOWNHALL_BENCH_LISTEN", &listen);
        for (name, value) in env {
            command.env(name, value);
        }
        let child = command.stdin(Stdio::null()).stdout(Stdio::null()).spawn()?;
        let process = Process { child, base: format!("http://{listen}") };
        let client = reqwest::Client::new();
        let started = Instant::now();
        loop {
            if let Ok(r) = client.get(format!("{}/healthz", process.base)).send().await
                && r.status().is_success()
            {
                return Ok(process);
            }
            if started.elapsed() > Duration::from_secs(60) {
                return Err("the server did not answer within a minute".into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The peak resident set size so far, in MiB (Linux's VmHWM).
    fn peak_rss_mib(&self) -> Option<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib / 1024.0)
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One measured scenario.
struct Outcome {
    name: String,
    requests: usize,
    per_second: f64,
    p50: Duration,
    p99: Duration,
    max: Duration,
    failures: usize,
    first_failure: Option<String>,
    /// Per client, the numbers of its requests the server acknowledged.
    acknowledged: Vec<Vec<u64>>,
    /// The 30-row ceiling's requests per second, measured just before this scenario.
    ceiling: Option<f64>,
}

/// Builds request `n` of client `i`.
type MakeRequest = Arc<dyn Fn(&reqwest::Client, usize, u64) -> reqwest::RequestBuilder + Send + Sync>;

/// Runs `make` from every client in a closed loop: a fifth of `seconds` unmeasured, then `seconds`
/// measured. A request is acknowledged when it answers 2xx or 3xx; acknowledgements of both phases
/// are kept (writes made while warming up stay written), numbered so that later requests have larger
/// numbers and request `n` and `n + 1` alternate by parity.
/// With `pace`, client 0 waits that long after each of its requests.
async fn drive(
    name: &str,
    clients: &[reqwest::Client],
    seconds: f64,
    make: MakeRequest,
    pace: Option<Duration>,
    writers: usize,
) -> Outcome {
    // `pace` holds back the writers, or client 0 when no client is a writer.
    let paced = writers.max(1);
    let warm_up = run_for(clients, seconds / 5.0, make.clone(), 0, pace, paced).await;
    let started = Instant::now();
    let results = run_for(clients, seconds, make, MEASURED, pace, paced).await;
    let elapsed = started.elapsed();
    let mut latencies = Vec::new();
    let mut failures = 0;
    let mut first_failure = None;
    let mut acknowledged = Vec::new();
    for (i, ((_, warm_failed, warm_first, mut acks), (samples, failed, first, measured_acks))) in
        warm_up.into_iter().zip(results).enumerate()
    {
        // The first `writers` clients write beside a read scenario: only the readers' figures count.
        if i >= writers {
            latencies.extend(samples);
        }
        failures += failed + warm_failed;
        first_failure = first_failure.or(warm_first).or(first);
        acks.extend(measured_acks);
        acknowledged.push(acks);
    }
    let requests = latencies.len();
    let max = latencies.iter().max().copied().unwrap_or_default();
    let (p50, p99) = if latencies.is_empty() {
        (Duration::ZERO, Duration::ZERO)
    } else {
        (percentile(&mut latencies, 50), percentile(&mut latencies, 99))
    };
    Outcome {
        name: name.to_owned(),
        requests,
        per_second: requests as f64 / elapsed.as_secs_f64(),
        p50,
        p99,
        max,
        failures,
        first_failure,
        acknowledged,
        ceiling: None,
    }
}

/// Measures the ceiling for half of `seconds`, then runs the scenario, which keeps that measurement
/// (a failed ceiling request counts as the scenario's failure).
async fn beside_ceiling(ceiling: &Ceiling, scenario: impl Future<Output = Outcome>, seconds: f64) -> Outcome {
    let before = ceiling.rows(seconds / 2.0).await;
    let mut outcome = scenario.await;
    outcome.ceiling = Some(before.per_second);
    if before.failures > 0 {
        outcome.failures += before.failures;
        outcome.first_failure = outcome.first_failure.or(before.first_failure.map(|f| format!("ceiling: {f}")));
    }
    outcome
}

type ClientResult = (Vec<Duration>, usize, Option<String>, Vec<u64>);

async fn run_for(
    clients: &[reqwest::Client],
    seconds: f64,
    make: MakeRequest,
    first_n: u64,
    pace: Option<Duration>,
    paced: usize,
) -> Vec<ClientResult> {
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let mut tasks = tokio::task::JoinSet::new();
    for (i, client) in clients.iter().enumerate() {
        let (client, make) = (client.clone(), make.clone());
        tasks.spawn(async move {
            let (mut samples, mut failed, mut first, mut acks) = (Vec::new(), 0, None, Vec::new());
            let mut n = first_n;
            while Instant::now() < deadline {
                let started = Instant::now();
                let outcome = match make(&client, i, n).send().await {
                    Ok(response) => {
                        let status = response.status();
                        match response.bytes().await {
                            Ok(_) if status.is_success() || status.is_redirection() => Ok(()),
                            Ok(body) => {
                                Err(format!("{status}: {}", String::from_utf8_lossy(&body[..body.len().min(200)])))
                            }
                            Err(e) => Err(e.to_string()),
                        }
                    }
                    Err(e) => Err(e.to_string()),
                };
                samples.push(started.elapsed());
                match outcome {
                    Ok(()) => acks.push(n),
                    Err(e) => {
                        failed += 1;
                        first.get_or_insert(e);
                    }
                }
                n += 1;
                if let Some(pause) = pace.filter(|_| i < paced) {
                    tokio::time::sleep(pause.min(deadline.saturating_duration_since(Instant::now()))).await;
                }
            }
            (i, (samples, failed, first, acks))
        });
    }
    let mut results: Vec<(usize, ClientResult)> = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        if let Ok(result) = joined {
            results.push(result);
        }
    }
    // In client order, so that entry i is client i's.
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

async fn bench(args: Args) -> Result<(), Failure> {
    let pinned = std::env::var_os("TOWNHALL_BENCH_PINNED").is_some();
    println!(
        "{}",
        if pinned {
            "Pinned: servers on CPU 0, load generator on CPU 1 (taskset)."
        } else {
            "Not pinned (fewer than two CPUs or no taskset): servers and load generator share the CPUs."
        }
    );
    println!("{} clients, {} s per scenario after {} s of warm-up.\n", args.clients, args.seconds, args.seconds / 5.0);
    let sqlite =
        args.sqlite.clone().unwrap_or_else(|| std::env::temp_dir().join(format!("townhall-bench-{}.db", args.people)));
    ensure_seeded("SQLite", &format!("sqlite://{}", sqlite.display()), args.people).await?;
    let copy = SqliteCopy::of(&sqlite).await?;
    let sqlite = copy.path.clone();
    let sqlite_url = format!("sqlite://{}", sqlite.display());

    // The ceiling, on the same file; its server stays up to be measured again before each scenario.
    let ceiling = Ceiling::start(&sqlite, args.clients).await?;
    let first = vec![ceiling.fixed(args.seconds).await, ceiling.rows(args.seconds).await];
    let ceiling_rows = first[1].per_second;
    print_table("Ceiling", &first, None, ceiling_rows);

    let mut ok = first.iter().all(|o| o.failures == 0);
    let sqlite_run = run_engine("SQLite", &sqlite_url, &args, &ceiling).await?;
    ok &= sqlite_run.ok;
    print_table("Townhall on SQLite", &sqlite_run.outcomes, sqlite_run.peak_rss, ceiling_rows);

    let postgres = args.postgres.clone().or_else(|| std::env::var("TOWNHALL_BENCH_POSTGRES_URL").ok());
    if let Some(server) = postgres {
        let url = postgres_database(&server, args.people).await?;
        ensure_seeded("PostgreSQL", &url, args.people).await?;
        let copy = PostgresCopy::of(&server, args.people).await?;
        let pg = run_engine("PostgreSQL", &copy.url, &args, &ceiling).await;
        copy.remove().await?;
        let pg = pg?;
        ok &= pg.ok;
        print_table("Townhall on PostgreSQL", &pg.outcomes, pg.peak_rss, ceiling_rows);
        println!(
            "PostgreSQL against SQLite: requests per second, and shares of the ceiling measured just before each \
             (which cancels the machine's drift between the two runs), and p99:"
        );
        for (p, s) in pg.outcomes.iter().zip(&sqlite_run.outcomes) {
            println!(
                "  {:<40} {:>5.2}x slower   of ceiling {:>5.2}x   p99 {:>5.2}x",
                p.name,
                s.per_second / p.per_second.max(0.001),
                share(s, ceiling_rows) / share(p, ceiling_rows).max(0.000_001),
                ms(p.p99) / ms(s.p99).max(0.001)
            );
        }
    }
    if ok { Ok(()) } else { Err("some requests failed or acknowledged writes are missing (see above)".into()) }
}

/// The bare axum + SQLite ceiling's server, up for the whole run: measured once at the start, and its
/// 30-row handler again for half a scenario's time just before each Townhall scenario, whose share of
/// the ceiling is taken against that. The machines drift within minutes (the 30-row ceiling has moved
/// from 4,000 to 8,300 per second within half an hour), and a single measurement at the start let that
/// drift into every ratio.
struct Ceiling {
    server: Process,
    clients: Vec<reqwest::Client>,
    authors: Arc<Vec<i64>>,
}

impl Ceiling {
    async fn start(sqlite: &std::path::Path, clients: usize) -> Result<Ceiling, Failure> {
        let server = Process::start(&["ceiling", &sqlite.display().to_string()], &[]).await?;
        let db = Db::connect(&format!("sqlite://{}", sqlite.display())).await?;
        let authors: Vec<(i64,)> = db
            .clone()
            .fetch_all(sql("SELECT author_id FROM posts GROUP BY author_id HAVING COUNT(*) >= 30 LIMIT 1000"))
            .await?;
        db.close().await;
        let authors = Arc::new(authors.into_iter().map(|(a,)| a).collect());
        Ok(Ceiling { server, clients: plain_clients(clients)?, authors })
    }

    async fn fixed(&self, seconds: f64) -> Outcome {
        let base = self.server.base.clone();
        drive(
            "bare axum: fixed page",
            &self.clients,
            seconds,
            Arc::new(move |c, _, _| c.get(format!("{base}/fixed"))),
            None,
            0,
        )
        .await
    }

    async fn rows(&self, seconds: f64) -> Outcome {
        let (base, authors) = (self.server.base.clone(), self.authors.clone());
        let make: MakeRequest = Arc::new(move |c, i, n| {
            c.get(format!("{base}/rows/{}", authors[(i * 7919 + n as usize) % authors.len().max(1)]))
        });
        drive("bare axum + SQLite: 30 rows", &self.clients, seconds, make, None, 0).await
    }
}

/// A scenario's requests per second as a share of the ceiling measured just before it (or of `first`,
/// the one measured at the start, for a scenario that has none).
fn share(o: &Outcome, first: f64) -> f64 {
    o.per_second / o.ceiling.unwrap_or(first).max(0.001)
}

fn plain_clients(count: usize) -> Result<Vec<reqwest::Client>, Failure> {
    (0..count).map(|_| Ok(reqwest::Client::builder().pool_max_idle_per_host(1).build()?)).collect()
}

async fn ensure_seeded(engine: &str, url: &str, people: u32) -> Result<(), Failure> {
    let mut config = Config::from_lookup(|_| None)?;
    config.database_url = url.to_owned();
    let db = townhall::open_database(&config).await?;
    let (accounts,): (i64,) = db.clone().fetch_one(sql("SELECT COUNT(*) FROM users")).await?;
    if accounts == 0 {
        println!("{engine}: seeding a company of {people} people (once; the database is kept for later runs)");
        let started = Instant::now();
        let password = townhall::accounts::Password::parse(PASSWORD)?;
        let hash = townhall::accounts::hash_password(password).await?;
        townhall::seed::run(&db, &townhall::seed::Size::for_people(people), 1, &hash).await?;
        println!("{engine}: seeded in {:.0} s\n", started.elapsed().as_secs_f64());
    }
    db.close().await;
    Ok(())
}

/// A run's copy of the seeded SQLite file, removed when dropped.
struct SqliteCopy {
    path: PathBuf,
}

impl SqliteCopy {
    async fn of(seeded: &std::path::Path) -> Result<SqliteCopy, Failure> {
        // Everything in the seeded file itself, none of it left in its write-ahead log.
        let db = Db::connect(&format!("sqlite://{}", seeded.display())).await?;
        db.clone().execute(sql("PRAGMA wal_checkpoint(TRUNCATE)")).await?;
        db.close().await;
        let copy = SqliteCopy { path: seeded.with_extension("run.db") };
        copy.remove_files();
        let started = Instant::now();
        std::fs::copy(seeded, &copy.path)?;
        println!(
            "SQLite: this run works on a copy of the seeded file ({:.1} s to copy)",
            started.elapsed().as_secs_f64()
        );
        Ok(copy)
    }

    fn remove_files(&self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.path.display()));
        }
    }
}

impl Drop for SqliteCopy {
    fn drop(&mut self) {
        self.remove_files();
    }
}

/// A run's copy of the seeded PostgreSQL database (`CREATE DATABASE … TEMPLATE`).
struct PostgresCopy {
    server: String,
    name: String,
    url: String,
}

impl PostgresCopy {
    async fn of(server: &str, people: u32) -> Result<PostgresCopy, Failure> {
        use sqlx::Connection;
        let name = format!("townhall_bench_{people}_run");
        let mut admin = sqlx::PgConnection::connect(server).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name}"))).execute(&mut admin).await?;
        let started = Instant::now();
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name} TEMPLATE townhall_bench_{people}")))
            .execute(&mut admin)
            .await?;
        admin.close().await?;
        println!(
            "PostgreSQL: this run works on a copy of the seeded database ({:.1} s to copy)",
            started.elapsed().as_secs_f64()
        );
        Ok(PostgresCopy { server: server.to_owned(), url: database_url(server, &name), name })
    }

    async fn remove(self) -> Result<(), Failure> {
        use sqlx::Connection;
        let mut admin = sqlx::PgConnection::connect(&self.server).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)))
            .execute(&mut admin)
            .await?;
        Ok(())
    }
}

/// The benchmark's own database on a PostgreSQL server, created when missing.
async fn postgres_database(server: &str, people: u32) -> Result<String, Failure> {
    use sqlx::Connection;
    let name = format!("townhall_bench_{people}");
    let mut admin = sqlx::PgConnection::connect(server).await?;
    let exists: Option<(i32,)> =
        sqlx::query_as("SELECT 1 FROM pg_database WHERE datname = $1").bind(&name).fetch_optional(&mut admin).await?;
    if exists.is_none() {
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut admin).await?;
    }
    Ok(database_url(server, &name))
}

/// The URL of database `name` on the server `server` names (its URL with the database swapped).
fn database_url(server: &str, name: &str) -> String {
    let base = server.rsplit_once('/').map_or(server, |(b, _)| b);
    format!("{base}/{name}")
}

struct EngineRun {
    outcomes: Vec<Outcome>,
    peak_rss: Option<f64>,
    ok: bool,
}

/// What the scenarios read and write, chosen from the seeded data.
struct Fixtures {
    typical: Vec<(i64, String)>,
    /// The most followed person, and how many follow them.
    leader: ((i64, String), i64),
    heavy: Vec<(i64, String)>,
    typical_deep: Vec<i64>,
    heavy_deep: Vec<i64>,
    profiles: Vec<String>,
    thread: (i64, i64),
    campaign: i64,
    ideas: Vec<i64>,
    hot_ideas: Vec<i64>,
    recent_posts: Vec<i64>,
    /// The posts on the typical people's first home pages.
    home_posts: Vec<i64>,
}

async fn fixtures(db: &Db, clients: usize) -> Result<Fixtures, Failure> {
    let mut db = db.clone();
    let limit = clients as i64;
    // Typical: follows 40 to 120 people and is followed by 20 to 200 (not one of the leaders whom
    // most of the company follows). Heavy: the people who follow the most.
    let typical: Vec<(i64, String)> = db
        .fetch_all(
            sql("SELECT u.id, u.username FROM users u
                 WHERE u.id > 1 AND (SELECT COUNT(*) FROM follows f WHERE f.follower_id = u.id) BETWEEN 40 AND 120
                   AND (SELECT COUNT(*) FROM follows f WHERE f.followee_id = u.id) BETWEEN 20 AND 200
                 ORDER BY u.id LIMIT $1")
            .bind(limit),
        )
        .await?;
    let heavy: Vec<(i64, String)> = db
        .fetch_all(
            sql("SELECT u.id, u.username FROM users u JOIN follows f ON f.follower_id = u.id
                 WHERE u.id > 1 GROUP BY u.id, u.username ORDER BY COUNT(*) DESC, u.id LIMIT $1")
            .bind(limit),
        )
        .await?;
    let (leader_id, leader_name, followers): (i64, String, i64) = db
        .fetch_one(sql("SELECT u.id, u.username, COUNT(*) FROM users u JOIN follows f ON f.followee_id = u.id
                        GROUP BY u.id, u.username ORDER BY COUNT(*) DESC, u.id LIMIT 1"))
        .await?;
    let typical_deep = deep_cursors(&mut db, &typical, 300).await?;
    let heavy_deep = deep_cursors(&mut db, &heavy, 3_000).await?;
    let profiles: Vec<(String,)> =
        db.fetch_all(sql("SELECT username FROM users WHERE id > 1 ORDER BY id LIMIT 2000")).await?;
    let thread: (i64, i64) = db
        .fetch_optional(sql("SELECT id, CAST(reply_count AS BIGINT) FROM posts
                              WHERE parent_id IS NULL AND members_only IS NULL AND deleted_at IS NULL
                              ORDER BY ABS(reply_count - 100), id LIMIT 1"))
        .await?
        .ok_or("the seeded database has no posts")?;
    let (campaign,): (i64,) = db
        .fetch_optional(
            sql("SELECT c.id FROM campaigns c
                 WHERE c.status = 'published' AND c.community_id IS NULL AND c.opens_at <= $1 AND c.closes_at > $1
                 ORDER BY (SELECT COUNT(*) FROM ideas i WHERE i.campaign_id = c.id) DESC, c.id LIMIT 1")
            .bind(townhall::db::now()),
        )
        .await?
        .ok_or("the seeded database has no open campaign")?;
    let ideas: Vec<(i64,)> =
        db.fetch_all(sql("SELECT id FROM ideas WHERE campaign_id = $1 ORDER BY id LIMIT 500").bind(campaign)).await?;
    let hot: Vec<(i64,)> = db
        .fetch_all(
            sql("SELECT id FROM ideas WHERE campaign_id = $1 AND stage IN ('new', 'under_review')
                 ORDER BY vote_count DESC, id LIMIT 5")
            .bind(campaign),
        )
        .await?;
    let recent: Vec<(i64,)> = db
        .fetch_all(sql("SELECT id FROM posts WHERE parent_id IS NULL AND members_only IS NULL
                        ORDER BY id DESC LIMIT 50"))
        .await?;
    let mut home_posts = Vec::new();
    for (id, _) in &typical {
        let page: Vec<(i64,)> = db
            .fetch_all(
                sql("SELECT t.post_id FROM timeline t JOIN posts p ON p.id = t.post_id
                      WHERE t.user_id = $1 AND p.members_only IS NULL AND p.deleted_at IS NULL
                      ORDER BY t.post_id DESC LIMIT 30")
                .bind(*id),
            )
            .await?;
        home_posts.extend(page.into_iter().map(|(p,)| p));
    }
    home_posts.sort_unstable();
    home_posts.dedup();
    if typical.is_empty() || heavy.is_empty() || ideas.is_empty() || hot.is_empty() || home_posts.is_empty() {
        return Err("the seeded database lacks people, ideas or votes for the scenarios".into());
    }
    Ok(Fixtures {
        typical,
        leader: ((leader_id, leader_name), followers),
        heavy,
        typical_deep,
        heavy_deep,
        profiles: profiles.into_iter().map(|(u,)| u).collect(),
        thread,
        campaign,
        ideas: ideas.into_iter().map(|(i,)| i).collect(),
        hot_ideas: hot.into_iter().map(|(i,)| i).collect(),
        recent_posts: recent.into_iter().map(|(i,)| i).collect(),
        home_posts,
    })
}

/// For each person, the home cursor `depth` entries down (or halfway down a shorter home).
async fn deep_cursors(db: &mut Db, people: &[(i64, String)], depth: i64) -> Result<Vec<i64>, Failure> {
    let mut cursors = Vec::new();
    for (id, _) in people {
        let (entries,): (i64,) =
            db.fetch_one(sql("SELECT COUNT(*) FROM timeline WHERE user_id = $1").bind(*id)).await?;
        let offset = depth.min(entries / 2);
        let cursor: Option<(i64,)> = db
            .fetch_optional(
                sql("SELECT post_id FROM timeline WHERE user_id = $1 ORDER BY post_id DESC LIMIT 1 OFFSET $2")
                    .bind(*id)
                    .bind(offset),
            )
            .await?;
        cursors.push(cursor.map_or(i64::MAX, |(c,)| c));
    }
    Ok(cursors)
}

/// A client per person, signed in by a session row made the way signing in makes one (sign-in
/// itself refuses a burst of sign-ins from one address, as it should).
async fn sign_in(db: &Db, people: &[(i64, String)]) -> Result<Vec<reqwest::Client>, Failure> {
    let mut clients = Vec::new();
    for (id, _) in people {
        let session = tower_sessions_core::session::Id::default().to_string();
        db.clone()
            .execute(
                sql("INSERT INTO sessions (id, user_id, data, expires_at) VALUES ($1, $2, $3, $4)")
                    .bind(session.as_str())
                    .bind(*id)
                    .bind(format!("{{\"user_id\":{id}}}"))
                    .bind(townhall::db::now() + 86_400),
            )
            .await?;
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(reqwest::header::COOKIE, format!("townhall_session={session}").parse()?);
        let client = reqwest::Client::builder()
            .default_headers(headers)
            .pool_max_idle_per_host(1)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(60))
            .build()?;
        clients.push(client);
    }
    Ok(clients)
}

async fn run_engine(engine: &str, url: &str, args: &Args, ceiling: &Ceiling) -> Result<EngineRun, Failure> {
    let db = Db::connect(url).await?;
    let f = Arc::new(fixtures(&db, args.clients).await?);
    let data = std::env::temp_dir().join(format!("townhall-bench-data-{}", std::process::id()));
    let server = Process::start(
        &["townhall"],
        &[("DATABASE_URL", url.to_owned()), ("TOWNHALL_DATA_DIR", data.display().to_string())],
    )
    .await?;
    let base = Arc::new(server.base.clone());
    let typical = sign_in(&db, &f.typical).await?;
    let heavy = sign_in(&db, &f.heavy).await?;
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
    let words = ["packaging waste", "coffee", "budget meeting", "solar energy", "recycling plastic", "hybrid office"];
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
        words[(i + n as usize) % words.len()].replace(' ', "+")
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
    let leader = sign_in(&db, std::slice::from_ref(&f.leader.0)).await?;
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
    let peak_rss = server.peak_rss_mib();
    drop(server);

    // Every acknowledged write is there.
    let mut ok = true;
    for o in &outcomes {
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
    let mut db = db;
    fn named<'a>(outcomes: &'a [Outcome], name: &'a str) -> impl Iterator<Item = &'a Outcome> {
        outcomes.iter().filter(move |o| o.name == name)
    }
    let acked = |name: &str, clients: &dyn Fn(usize) -> bool| -> i64 {
        named(&outcomes, name)
            .flat_map(|o| o.acknowledged.iter().enumerate())
            .filter(|(i, _)| clients(*i))
            .map(|(_, acks)| acks.len() as i64)
            .sum()
    };
    let acked_posts = acked("posting", &|_| true) + acked(MIXED, &|i| i == 0);
    let acked_replies = acked("replying", &|_| true) + acked(MIXED, &|i| i > 0) + {
        let writes = named(&outcomes, &home_while_writing).flat_map(|o| o.acknowledged.iter().take(home_writers));
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
    for o in named(&outcomes, VOTING) {
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
    for o in named(&outcomes, &home_while_writing) {
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
    ok &= posts == acked_posts
        && replies == acked_replies
        && vote_errors == 0
        && miscounted == 0
        && drained
        && short == 0;
    db.close().await;
    let _ = std::fs::remove_dir_all(&data);
    Ok(EngineRun { outcomes, peak_rss, ok })
}

/// How long after a post is sent its follower's home has it, with nothing else running: `client`
/// (signed in as `author`) posts 20 times, one post at a time, and each post's first follower's home
/// is read every millisecond until it has it. These posts carry no benchmark marker, so the checks of
/// acknowledged writes leave them out.
async fn time_to_home(db: &Db, base: &str, client: &reqwest::Client, author: i64) -> Result<Vec<Duration>, Failure> {
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
async fn drain(db: &Db) -> Result<(i64, Option<Duration>), Failure> {
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

/// A table of outcomes; "of ceiling" is each one's share of the ceiling measured just before it,
/// shown beside it, or of `ceiling` (the first measurement) for those measured without.
fn print_table(title: &str, outcomes: &[Outcome], peak_rss: Option<f64>, ceiling: f64) {
    println!("\n{title}\n");
    println!("| scenario | requests | req/s | p50 ms | p99 ms | max ms | ceiling just before, req/s | of ceiling |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for o in outcomes {
        println!(
            "| {} | {} | {:.0} | {:.1} | {:.1} | {:.1} | {} | {:.0} % |",
            o.name,
            o.requests,
            o.per_second,
            ms(o.p50),
            ms(o.p99),
            ms(o.max),
            o.ceiling.map_or("".to_owned(), |c| format!("{c:.0}")),
            share(o, ceiling) * 100.0
        );
    }
    if let Some(rss) = peak_rss {
        println!("\nPeak RSS of the server: {rss:.0} MiB");
    }
    println!();
}

mod ceiling {
    //! The machine's ceiling: the least a web handler can do, with the same runtime, HTTP stack and
    //! SQLite driver as Townhall.

    use std::path::PathBuf;

    use axum::Router;
    use axum::extract::{Path, State};
    use axum::http::StatusCode;
    use axum::response::Html;
    use axum::routing::get;
    use townhall::db::{Db, Exec, sql};

    use super::Failure;

    pub async fn serve(file: PathBuf) -> Result<(), Failure> {
        let listen = std::env::var("TOWNHALL_BENCH_LISTEN")?;
        let db = Db::connect(&format!("sqlite://{}", file.display())).await?;
        let page: &'static str = Box::leak(fixed_page().into_boxed_str());
        let app = Router::new()
            .route("/healthz", get(|| async { "ok" }))
            .route("/fixed", get(move || async move { Html(page) }))
            .route("/rows/{author}", get(rows))
            .with_state(db);
        let listener = tokio::net::TcpListener::bind(&listen).await?;
        axum::serve(listener, app).await?;
        Ok(())
    }

    async fn rows(State(mut db): State<Db>, Path(author): Path<i64>) -> Result<Html<String>, StatusCode> {
        let rows: Vec<(i64, i64, String, i64)> = db
            .fetch_all(
                sql("SELECT id, author_id, body, created_at FROM posts WHERE author_id = $1 ORDER BY id DESC LIMIT 30")
                    .bind(author),
            )
            .await
            .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
        let mut html = String::from("<!doctype html><title>rows</title><ul>");
        for (id, author, body, at) in rows {
            html.push_str(&format!(
                "<li id=\"p{id}\">{author} at {at}: {}</li>",
                body.replace('&', "&amp;").replace('<', "&lt;")
            ));
        }
        html.push_str("</ul>");
        Ok(Html(html))
    }

    fn fixed_page() -> String {
        let mut page = String::from("<!doctype html><html><head><title>Fixed</title></head><body><main>");
        for i in 0..30 {
            page.push_str(&format!(
                "<article id=\"p{i}\"><p>A fixed post of about the length of a real one, number {i}.</p></article>"
            ));
        }
        page.push_str("</main></body></html>");
        page
    }
}
