//! The mail benchmark: how fast the outbox's worker hands mails to a local SMTP server (aiosmtpd,
//! Debian's python3-aiosmtpd, started here on loopback and delivering to a Maildir), and how fast the
//! notification mailer deals with new notifications. Prints the median of three runs of each.
//!
//!     cargo run --release --example bench_mail                       # SQLite in a temporary folder
//!     cargo run --release --example bench_mail -- --postgres postgres://postgres@127.0.0.1:5432/postgres
//!
//! Each run starts from an empty database (a new SQLite file, or a new PostgreSQL database dropped
//! afterwards), queues `--mails` mails in one transaction, starts the worker, and times until the
//! last one is marked sent; every mail must arrive exactly once (checked by Message-ID).

use std::collections::HashSet;
use std::io::BufRead;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use clap::Parser;
use sqlx::{AssertSqlSafe, Connection};
use townhall::config::Config;
use townhall::db::{Db, Exec, sql};

#[derive(Parser)]
struct Args {
    /// Mails per run.
    #[arg(long, default_value_t = 2000)]
    mails: usize,
    /// Notifications per run of the notification mailer.
    #[arg(long, default_value_t = 20_000)]
    notifications: usize,
    /// Run on PostgreSQL (a database made and dropped on this server) instead of SQLite.
    #[arg(long)]
    postgres: Option<String>,
    #[arg(long, default_value_t = 3)]
    runs: usize,
}

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/smtp_server.py");

struct Smtpd {
    child: std::process::Child,
    port: u16,
    maildir: std::path::PathBuf,
}

impl Smtpd {
    fn start() -> Result<Smtpd, String> {
        let maildir = std::env::temp_dir().join(format!("townhall-bench-maildir-{}", uuid::Uuid::new_v4().simple()));
        let mut child = Command::new("/usr/bin/python3")
            .arg(SCRIPT)
            .arg("serve")
            .arg(&maildir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start aiosmtpd (apt install python3-aiosmtpd): {e}"))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut line = String::new();
        std::io::BufReader::new(stdout).read_line(&mut line).map_err(|e| e.to_string())?;
        let port = line.trim().strip_prefix("port ").and_then(|p| p.parse().ok()).ok_or("aiosmtpd said no port")?;
        Ok(Smtpd { child, port, maildir })
    }

    /// Message-IDs delivered, by reading the Maildir's files' headers.
    fn delivered(&self) -> Vec<String> {
        let mut ids = Vec::new();
        for dir in ["new", "cur"] {
            let Ok(entries) = std::fs::read_dir(self.maildir.join(dir)) else { continue };
            for entry in entries.flatten() {
                let Ok(text) = std::fs::read_to_string(entry.path()) else { continue };
                if let Some(line) = text.lines().find(|l| l.to_ascii_lowercase().starts_with("message-id:")) {
                    ids.push(line[11..].trim().to_owned());
                }
            }
        }
        ids
    }
}

impl Drop for Smtpd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.maildir);
    }
}

/// A fresh database for one run, and what to drop afterwards.
async fn fresh(postgres: Option<&str>) -> Result<(Config, Option<(String, String)>, std::path::PathBuf), String> {
    let mut config = Config::from_lookup(|_| None).map_err(|e| e.to_string())?;
    let dir = std::env::temp_dir().join(format!("townhall-bench-mail-{}", uuid::Uuid::new_v4().simple()));
    config.data_dir = dir.clone();
    let mut drop = None;
    match postgres {
        None => config.database_url = format!("sqlite://{}", dir.join("townhall.db").display()),
        Some(server) => {
            let name = format!("townhall_bench_mail_{}", uuid::Uuid::new_v4().simple());
            let mut admin = sqlx::PgConnection::connect(server).await.map_err(|e| e.to_string())?;
            sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut admin)
                .await
                .map_err(|e| e.to_string())?;
            let base = server.rsplit_once('/').map_or(server, |(b, _)| b);
            config.database_url = format!("{base}/{name}");
            drop = Some((server.to_owned(), name));
        }
    }
    Ok((config, drop, dir))
}

async fn cleanup(drop: Option<(String, String)>, dir: &std::path::Path) {
    let _ = std::fs::remove_dir_all(dir);
    if let Some((server, name)) = drop
        && let Ok(mut admin) = sqlx::PgConnection::connect(&server).await
    {
        let _ = sqlx::query(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
            .execute(&mut admin)
            .await;
    }
}

async fn count(db: &Db, text: &'static str) -> i64 {
    let row: Result<(i64,), _> = db.clone().fetch_one(sql(text)).await;
    row.map(|(n,)| n).unwrap_or(-1)
}

/// One run of the outbox: mails per second from the worker's start to the last one marked sent.
async fn outbox_run(args: &Args) -> Result<f64, String> {
    let smtpd = Smtpd::start()?;
    let (mut config, drop, dir) = fresh(args.postgres.as_deref()).await?;
    let mut mail = Config::from_lookup(|name| match name {
        "TOWNHALL_SMTP_URL" => Some(format!("smtp://127.0.0.1:{}", smtpd.port)),
        "TOWNHALL_MAIL_FROM" => Some("townhall@bench.test".into()),
        "TOWNHALL_PUBLIC_URL" => Some("http://bench.test".into()),
        _ => None,
    })
    .map_err(|e| e.to_string())?;
    config.mail = mail.mail.take();
    let db = townhall::open_database(&config).await.map_err(|e| e.to_string())?;
    let mut tx = db.begin().await.map_err(|e| e.to_string())?;
    for n in 0..args.mails {
        let one = townhall::mail::Mail {
            kind: "test",
            recipient_id: None,
            to_address: format!("person{n}@bench.test"),
            to_name: format!("Person {n}"),
            subject: format!("Bench mail {n}"),
            text: "A short notification mail, about the size of a real one. ".repeat(8),
            html: format!("<p>{}</p>", "A short notification mail, about the size of a real one. ".repeat(8)),
            unsubscribe_url: Some("http://bench.test/mail/unsubscribe/1/mentions/00".into()),
        };
        townhall::mail::queue(&mut tx, &one, "bench.test").await.map_err(|e| e.to_string())?;
    }
    tx.commit().await.map_err(|e| e.to_string())?;
    let settings = config.mail.clone().ok_or("mail settings")?;
    let smtp = townhall::mail::smtp::Smtp::new(&settings)?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let started = Instant::now();
    let worker =
        tokio::spawn(townhall::mail::worker::run(db.clone(), smtp, settings.first_retry, settings.timeout, stopped));
    let wanted = args.mails as i64;
    loop {
        let sent = count(&db, "SELECT CAST(COUNT(*) AS BIGINT) FROM mail_outbox WHERE state = 'sent'").await;
        if sent >= wanted {
            break;
        }
        if started.elapsed() > Duration::from_secs(600) {
            return Err(format!("only {sent} of {wanted} mails sent after 10 minutes"));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let seconds = started.elapsed().as_secs_f64();
    let _ = stop.send(true);
    let _ = worker.await;
    let ids = smtpd.delivered();
    let unique: HashSet<&String> = ids.iter().collect();
    if ids.len() != args.mails || unique.len() != args.mails {
        return Err(format!("{} delivered, {} distinct, {} queued", ids.len(), unique.len(), args.mails));
    }
    db.close().await;
    cleanup(drop, &dir).await;
    Ok(args.mails as f64 / seconds)
}

/// One run of the notification mailer over `--notifications` new mentions among 1,000 people:
/// notifications dealt with per second (each person's mentions become one mail per round).
async fn notifier_run(args: &Args) -> Result<f64, String> {
    let (mut config, drop, dir) = fresh(args.postgres.as_deref()).await?;
    config.public_url = Some("http://bench.test".into());
    let db = townhall::open_database(&config).await.map_err(|e| e.to_string())?;
    let people = 1000usize;
    let mut tx = db.begin().await.map_err(|e| e.to_string())?;
    let at = townhall::db::now() - 600;
    for n in 0..people {
        tx.execute(
            sql("INSERT INTO users (username, email, display_name, password_hash, created_at) VALUES ($1, $2, $3, '!', $4)")
                .bind(format!("p{n}"))
                .bind(format!("p{n}@bench.test"))
                .bind(format!("Person {n}"))
                .bind(at),
        )
        .await
        .map_err(|e| e.to_string())?;
    }
    for n in 0..args.notifications {
        let recipient = (n % people) as i64 + 1;
        let actor = ((n + 1) % people) as i64 + 1;
        tx.execute(
            sql("INSERT INTO notifications (recipient_id, kind, actor_id, created_at) VALUES ($1, 'follow', $2, $3)")
                .bind(recipient)
                .bind(actor)
                .bind(at),
        )
        .await
        .map_err(|e| e.to_string())?;
    }
    // Follows are mailed at once for everyone, so every notification makes (part of) a mail.
    for n in 0..people {
        tx.execute(
            sql("INSERT INTO mail_settings (user_id, topic, cadence) VALUES ($1, 'follows', 'now')").bind(n as i64 + 1),
        )
        .await
        .map_err(|e| e.to_string())?;
    }
    tx.commit().await.map_err(|e| e.to_string())?;
    let mailer = townhall::notifications::mail::Mailer {
        origin: "http://bench.test".into(),
        after: Duration::ZERO,
        site: townhall::site::Cache::new(townhall::site::Site::defaults(&config)),
    };
    let started = Instant::now();
    let mut dealt = 0;
    while dealt < args.notifications {
        let round = townhall::notifications::mail::mail_new(&db, &mailer).await.map_err(|e| e.to_string())?;
        if round == 0 {
            return Err(format!("the mailer stopped after {dealt} notifications"));
        }
        dealt += round;
    }
    let seconds = started.elapsed().as_secs_f64();
    let mails = count(&db, "SELECT CAST(COUNT(*) AS BIGINT) FROM mail_outbox").await;
    println!("    {dealt} notifications made {mails} mails in {seconds:.2} s");
    db.close().await;
    cleanup(drop, &dir).await;
    Ok(dealt as f64 / seconds)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    values[values.len() / 2]
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let engine = if args.postgres.is_some() { "PostgreSQL" } else { "SQLite" };
    println!(
        "mail benchmark on {engine}: {} mails and {} notifications a run, {} runs",
        args.mails, args.notifications, args.runs
    );
    let mut sent = Vec::new();
    let mut dealt = Vec::new();
    for run in 1..=args.runs.max(1) {
        match outbox_run(&args).await {
            Ok(rate) => {
                println!("  run {run}: outbox sent {rate:.0} mails/s to aiosmtpd on loopback");
                sent.push(rate);
            }
            Err(e) => {
                eprintln!("outbox run failed: {e}");
                return std::process::ExitCode::FAILURE;
            }
        }
        match notifier_run(&args).await {
            Ok(rate) => {
                println!("  run {run}: notification mailer dealt with {rate:.0} notifications/s");
                dealt.push(rate);
            }
            Err(e) => {
                eprintln!("notifier run failed: {e}");
                return std::process::ExitCode::FAILURE;
            }
        }
    }
    println!("median: outbox {:.0} mails/s; notification mailer {:.0} notifications/s", median(sent), median(dealt));
    std::process::ExitCode::SUCCESS
}
