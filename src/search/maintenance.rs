//! `townhall search reindex` and `townhall search status`.

use std::io::Write;

use super::meili::{IDEAS, Meili, PEOPLE, POSTS};
use super::outbox;
use crate::config::Config;
use crate::db::{Db, Engine, Exec, sql};

/// Documents sent per request while rebuilding.
const CHUNK: i64 = 1000;

async fn resume_point(db: &mut impl Exec, kind: &str) -> Result<i64, sqlx::Error> {
    let key = format!("search.reindex.{kind}");
    let row: Option<(String,)> =
        db.fetch_optional(sql("SELECT value FROM site_settings WHERE key = $1").bind(key)).await?;
    Ok(row.and_then(|(v,)| v.parse().ok()).unwrap_or(0))
}

async fn save_point(db: &mut impl Exec, kind: &str, last: Option<i64>) -> Result<(), sqlx::Error> {
    let key = format!("search.reindex.{kind}");
    match last {
        Some(id) => {
            db.execute(
                sql("INSERT INTO site_settings (key, value) VALUES ($1, $2)
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value")
                .bind(key)
                .bind(id.to_string()),
            )
            .await?
        }
        None => db.execute(sql("DELETE FROM site_settings WHERE key = $1").bind(key)).await?,
    };
    Ok(())
}

fn progress(kind: &str, done: i64, total: i64) {
    let percent = if total > 0 { (done * 100 / total).min(100) } else { 100 };
    let filled = (percent / 5) as usize;
    eprint!("\r{kind:<7} [{}{}] {percent:>3}%  {done}/{total}", "#".repeat(filled), " ".repeat(20 - filled));
    let _ = std::io::stderr().flush();
}

/// Rebuilds the search index from the database. With Meilisearch it sends every person, post and
/// idea in chunks, remembering how far it got, so an interrupted run resumes where it stopped
/// (`restart` starts over).
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
    meili.prepare().await.map_err(|e| format!("Meilisearch at {}: {e}", meili.url))?;
    let [people_total, posts_total, ideas_total] = outbox::totals(&mut conn).await.map_err(|e| e.to_string())?;
    for (kind, total) in [("people", people_total), ("posts", posts_total), ("ideas", ideas_total)] {
        if restart {
            save_point(&mut conn, kind, None).await.map_err(|e| e.to_string())?;
        }
        let mut after = resume_point(&mut conn, kind).await.map_err(|e| e.to_string())?;
        if after > 0 {
            eprintln!("{kind}: resuming after id {after}");
        }
        let mut done = count_upto(&mut conn, kind, after).await.map_err(|e| e.to_string())?;
        loop {
            progress(kind, done, total);
            let sent = match kind {
                "people" => {
                    let docs = outbox::person_docs_after(&mut conn, after, CHUNK).await.map_err(|e| e.to_string())?;
                    meili.replace(PEOPLE, &docs, &[], |d| d.id).await.map_err(|e| e.to_string())?;
                    docs.last().map(|d| (d.id, docs.len()))
                }
                "posts" => {
                    let docs = outbox::post_docs_after(&mut conn, after, CHUNK).await.map_err(|e| e.to_string())?;
                    meili.replace(POSTS, &docs, &[], |d| d.id).await.map_err(|e| e.to_string())?;
                    docs.last().map(|d| (d.id, docs.len()))
                }
                _ => {
                    let docs = outbox::idea_docs_after(&mut conn, after, CHUNK).await.map_err(|e| e.to_string())?;
                    meili.replace(IDEAS, &docs, &[], |d| d.id).await.map_err(|e| e.to_string())?;
                    docs.last().map(|d| (d.id, docs.len()))
                }
            };
            let Some((last, count)) = sent else { break };
            after = last;
            done += count as i64;
            save_point(&mut conn, kind, Some(after)).await.map_err(|e| e.to_string())?;
        }
        progress(kind, total.max(done), total.max(done));
        eprintln!();
        save_point(&mut conn, kind, None).await.map_err(|e| e.to_string())?;
    }
    eprintln!("All documents were sent; Meilisearch indexes them in the background (see `townhall search status`).");
    Ok(())
}

async fn count_upto(db: &mut impl Exec, kind: &str, after: i64) -> Result<i64, sqlx::Error> {
    let query = match kind {
        "people" => sql("SELECT COUNT(*) FROM users WHERE id <= $1"),
        "posts" => sql("SELECT COUNT(*) FROM posts WHERE id <= $1"),
        _ => sql("SELECT COUNT(*) FROM ideas WHERE id <= $1"),
    };
    let (n,): (i64,) = db.fetch_one(query.bind(after)).await?;
    Ok(n)
}

/// What `townhall search status` prints: the engine, the outbox backlog, unfinished rebuilds.
pub async fn status(config: &Config, db: &Db) -> Result<String, String> {
    let mut conn = db;
    let mut out = String::new();
    let (backlog, oldest) = outbox::backlog(&mut conn).await.map_err(|e| e.to_string())?;
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
            let health = if meili.is_healthy().await { "answering" } else { "NOT answering" };
            out.push_str(&format!("engine: Meilisearch at {} ({health})\n", settings.url));
        }
    }
    out.push_str(&format!("outbox backlog: {backlog} change(s) waiting"));
    if let Some(age) = oldest {
        out.push_str(&format!(", the oldest {age} s old"));
    }
    out.push('\n');
    for kind in ["people", "posts", "ideas"] {
        let point = resume_point(&mut conn, kind).await.map_err(|e| e.to_string())?;
        if point > 0 {
            out.push_str(&format!(
                "rebuild of {kind} interrupted after id {point}: run `townhall search reindex` to resume\n"
            ));
        }
    }
    Ok(out)
}
