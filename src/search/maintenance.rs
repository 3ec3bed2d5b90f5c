//! `townhall search reindex` and `townhall search status`.

use std::io::Write;

use super::meili::Meili;
use super::outbox;
use crate::config::Config;
use crate::db::{Db, Engine, Exec};

fn progress(kind: &str, done: i64, total: i64) {
    let percent = if total > 0 { (done * 100 / total).min(100) } else { 100 };
    let filled = (percent / 5) as usize;
    eprint!("\r{kind:<7} [{}{}] {percent:>3}%  {done}/{total}", "#".repeat(filled), " ".repeat(20 - filled));
    let _ = std::io::stderr().flush();
}

/// Rebuilds the search index from the database. With Meilisearch it builds fresh indexes from
/// every person, post and idea and swaps them in, remembering how far it got, so an interrupted run
/// resumes where it stopped (`restart` starts over).
pub async fn reindex(config: &Config, db: &Db, restart: bool) -> Result<(), String> {
    let mut conn = db;
    let Some(settings) = &config.meili else {
        return match conn.engine() {
            Engine::Sqlite => {
                eprintln!("Rebuilding the built-in SQLite full-text indexes…");
                super::store::rebuild(&mut conn).await.map_err(|e| e.to_string())?;
                eprintln!("Done.");
                Ok(())
            }
            Engine::Postgres => {
                eprintln!("Nothing to rebuild: PostgreSQL computes the search columns itself on every write.");
                Ok(())
            }
        };
    };
    let meili = Meili::new(settings)?;
    meili.check(db).await?;
    // From now on every change is recorded for Meilisearch, also by a server that runs without it.
    outbox::set_enabled(&mut conn, true).await.map_err(|e| e.to_string())?;
    let mut shown = String::new();
    let mut bar = |kind: &str, done: i64, total: i64| {
        if shown != kind && !shown.is_empty() {
            eprintln!();
        }
        shown = kind.to_owned();
        progress(kind, done, total);
    };
    meili.rebuild(db, true, restart, &mut bar).await.map_err(|e| format!("Meilisearch at {}: {e}", meili.url))?;
    eprintln!();
    eprintln!("Meilisearch's indexes are built and in use.");
    Ok(())
}

/// What `townhall search status` prints: the engine, whether Meilisearch answers and accepts the
/// key, the state of its indexes, the outbox backlog, unfinished rebuilds. An error (the command
/// exits non-zero) when Meilisearch is configured but cannot be used.
pub async fn status(config: &Config, db: &Db) -> Result<String, String> {
    let mut conn = db;
    let mut out = String::new();
    let (backlog, oldest) = outbox::backlog(&mut conn).await.map_err(|e| e.to_string())?;
    let mut usable = Ok(());
    match &config.meili {
        None => {
            let engine = match conn.engine() {
                Engine::Sqlite => "built-in (SQLite FTS5)",
                Engine::Postgres => "built-in (PostgreSQL full text)",
            };
            out.push_str(&format!("engine: {engine}, kept current in each write's transaction\n"));
        }
        Some(settings) => {
            let meili = Meili::new(settings)?;
            match meili.check(db).await {
                Ok(line) => out.push_str(&format!("engine: {line}\n")),
                Err(problem) => {
                    out.push_str(&format!("engine: {problem}; the built-in engine answers searches\n"));
                    usable = Err(problem);
                }
            }
        }
    }
    out.push_str(&format!("outbox backlog: {backlog} change(s) waiting"));
    if let Some(age) = oldest {
        out.push_str(&format!(", the oldest {age} s old"));
    }
    out.push('\n');
    for kind in ["people", "posts", "ideas"] {
        let point = super::meili::resume_point(&mut conn, kind).await.map_err(|e| e.to_string())?;
        if point > 0 {
            out.push_str(&format!(
                "rebuild of {kind} interrupted after id {point}: run `townhall search reindex` to resume\n"
            ));
        }
    }
    match usable {
        Ok(()) => Ok(out),
        Err(_) => Err(out.trim_end().to_owned()),
    }
}
