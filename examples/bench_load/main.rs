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
//! Clients sign in through `/login` as people do, and every answer must be the page asked for: a
//! failed request, a redirect to the sign-in page or an acknowledged write missing afterwards makes
//! the run exit non-zero.
//!
//! The parts: `driver` (the closed-loop load and its figures), `ceiling` (the bare axum servers),
//! `company` (the seeded database, its per-run copy and what the scenarios read), `scenarios` (what
//! is measured, in order) and `checks` (that every acknowledged write is there).

mod ceiling;
mod checks;
#[allow(dead_code)]
#[path = "../common/mod.rs"]
mod common;
mod company;
mod driver;
mod meili;
mod scenarios;
mod sustained;

use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};

use clap::{Parser, Subcommand};
use common::{Failure, ms};
use townhall::config::Config;

use ceiling::Ceiling;
use company::{PostgresCopy, SqliteCopy, ensure_seeded, postgres_database};
use driver::Outcome;
use scenarios::run_engine;

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
    /// Also posts this many times a second for `--sustained-seconds` (after the other scenarios)
    /// and reports how long each post took to reach its followers' homes.
    #[arg(long)]
    sustained: Option<f64>,
    #[arg(long, default_value_t = 60.0)]
    sustained_seconds: f64,
    /// Also runs the search scenario with Townhall searching through this Meilisearch (e.g.
    /// http://127.0.0.1:7700; also TOWNHALL_BENCH_MEILI_URL), on SQLite. Its indexes are built once
    /// and kept with a copy of the seeded file.
    #[arg(long)]
    meili: Option<String>,
    /// Meilisearch's master key (default: MEILI_MASTER_KEY).
    #[arg(long)]
    meili_key: Option<String>,
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
    let seeded =
        args.sqlite.clone().unwrap_or_else(|| std::env::temp_dir().join(format!("townhall-bench-{}.db", args.people)));
    ensure_seeded("SQLite", &format!("sqlite://{}", seeded.display()), args.people).await?;
    let copy = SqliteCopy::of(&seeded).await?;
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

    let meili_url = args.meili.clone().or_else(|| std::env::var("TOWNHALL_BENCH_MEILI_URL").ok());
    if let Some(url) = meili_url {
        let key = args.meili_key.clone().or_else(|| std::env::var("MEILI_MASTER_KEY").ok());
        let run = meili::run(&seeded, &meili::Meili { url, key }, &args, &ceiling).await?;
        ok &= run.ok;
        print_table("Townhall on SQLite, searching through Meilisearch", &run.outcomes, run.peak_rss, ceiling_rows);
        if let (Some(m), Some(s)) = (run.outcomes.first(), sqlite_run.outcomes.iter().find(|o| o.name == "search")) {
            println!(
                "Meilisearch against the built-in engine on SQLite: of ceiling {:.2}x, p99 {:.2}x\n",
                share(m, ceiling_rows) / share(s, ceiling_rows).max(0.000_001),
                ms(m.p99) / ms(s.p99).max(0.001)
            );
        }
    }

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

/// A scenario's requests per second as a share of the ceiling measured just before it (or of `first`,
/// the one measured at the start, for a scenario that has none).
fn share(o: &Outcome, first: f64) -> f64 {
    o.per_second / o.ceiling.unwrap_or(first).max(0.001)
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
