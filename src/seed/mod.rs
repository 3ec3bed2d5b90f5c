//! `townhall seed`: fills an empty database with a generated company (people in departments and
//! locations, follows, communities, a year of posts and replies with likes, mentions and topics, idea
//! campaigns with ideas, votes and comments, and everyone's home timeline), for trying Townhall at the
//! size of a large company and for the load benchmark.
//!
//! The same `--seed` gives the same company: every count, name, text and relation is drawn from a
//! seeded generator (one stream per part). Timestamps are placed relative to the moment of seeding,
//! so that the newest campaigns are open and the newest posts are recent whenever it runs.
//!
//! Rows are written with explicit ids in multi-row `INSERT`s, tens of thousands per transaction, on
//! either engine. Everyone's password is the one given (`--password`), hashed once.

mod ideas;
mod people;
mod posts;
pub mod random;

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use crate::db::{Arg, Db, Engine, Exec, Tx, sql, sql_values};

/// How big a company to generate. [`Size::for_people`] scales everything from the head count.
#[derive(Clone, Debug)]
pub struct Size {
    pub people: u32,
    pub communities: u32,
    /// Posts and replies together.
    pub posts: u32,
    pub campaigns: u32,
    pub ideas: u32,
    pub idea_votes: u32,
    pub idea_comments: u32,
}

impl Size {
    /// The default company is `for_people(100_000)`: 500 communities, 1,000,000 posts and replies,
    /// 1,000 campaigns with 100,000 ideas, 1,600,000 idea votes and 400,000 comments.
    pub fn for_people(people: u32) -> Size {
        let people = people.max(20);
        Size {
            people,
            communities: (people / 200).max(3),
            posts: people.saturating_mul(10),
            campaigns: (people / 100).max(2),
            ideas: people,
            idea_votes: people.saturating_mul(16),
            idea_comments: people.saturating_mul(4),
        }
    }
}

/// What the generator wrote, for its closing report.
#[derive(Default, Debug)]
pub struct Written {
    pub rows: Vec<(&'static str, u64)>,
}

impl Written {
    fn record(&mut self, tables: &[&Rows]) {
        self.rows.extend(tables.iter().map(|rows| (rows.label, rows.count)));
    }
}

/// Why seeding stopped.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("the database already has accounts; `townhall seed` fills an empty database only")]
    NotEmpty,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Generates the company into `db`, which must have no accounts yet. `password_hash` is stored for
/// every account. Prints progress to standard error.
pub async fn run(mut db: &Db, size: &Size, seed: u64, password_hash: &str) -> Result<Written, SeedError> {
    let (accounts,): (i64,) = db.fetch_one(sql("SELECT COUNT(*) FROM users")).await?;
    if accounts > 0 {
        return Err(SeedError::NotEmpty);
    }
    let run = Seeding { db, size, seed, now: crate::db::now() };
    let mut written = Written::default();
    let company = people::generate(run, password_hash, &mut written).await?;
    posts::generate(run, &company, &mut written).await?;
    ideas::generate(run, &company, &mut written).await?;
    posts::fill_homes(db, size.people, &mut written).await?;
    statistics(db).await?;
    Ok(written)
}

/// What every part of one seeding is given: where to write, how large a company, the seed its random
/// streams start from, and the moment of seeding (generated times lie before it).
#[derive(Clone, Copy)]
struct Seeding<'a> {
    db: &'a Db,
    size: &'a Size,
    seed: u64,
    now: i64,
}

/// Moves identity sequences past the ids written (PostgreSQL) and refreshes the planner's statistics.
async fn statistics(db: &Db) -> Result<(), sqlx::Error> {
    let progress = Progress::start("statistics", 1);
    let mut db = db.clone();
    if db.engine() == Engine::Postgres {
        macro_rules! setval {
            ($table:literal) => {
                sql(concat!(
                    "SELECT setval(pg_get_serial_sequence('",
                    $table,
                    "', 'id'), (SELECT MAX(id) FROM ",
                    $table,
                    "))"
                ))
            };
        }
        let sequences = [
            setval!("users"),
            setval!("posts"),
            setval!("communities"),
            setval!("campaigns"),
            setval!("ideas"),
            setval!("idea_comments"),
            setval!("notifications"),
            setval!("stage_changes"),
        ];
        for statement in sequences {
            // On an empty table MAX is NULL and setval (strict) leaves the sequence at its start.
            let _: Option<(Option<i64>,)> = db.fetch_optional(statement).await?;
        }
        db.execute(sql("VACUUM ANALYZE")).await?;
    } else {
        db.execute(sql("ANALYZE")).await?;
        db.execute(sql("PRAGMA wal_checkpoint(TRUNCATE)")).await?;
    }
    progress.done();
    Ok(())
}

/// The `INSERT` head for rows with explicit ids: PostgreSQL's identity columns need to be told.
macro_rules! with_ids {
    ($engine:expr, $head:literal) => {
        match $engine {
            $crate::db::Engine::Postgres => concat!($head, " OVERRIDING SYSTEM VALUE"),
            $crate::db::Engine::Sqlite => $head,
        }
    };
}
use with_ids;

/// Rows for one table, sent as multi-row `INSERT`s of a few hundred values each.
struct Rows {
    /// What the rows are, for the closing report.
    label: &'static str,
    head: &'static str,
    width: usize,
    per_statement: usize,
    args: Vec<Arg>,
    count: u64,
    statements: u64,
}

impl Rows {
    fn new(label: &'static str, head: &'static str, width: usize) -> Rows {
        // A few hundred values per statement: sqlx's SQLite driver slows down sharply on statements
        // with thousands of placeholders (2,000-row statements made the load four times slower).
        let per_statement = (600 / width).clamp(20, 200);
        Rows {
            label,
            head,
            width,
            per_statement,
            args: Vec::with_capacity(per_statement * width),
            count: 0,
            statements: 0,
        }
    }

    fn push<const N: usize>(&mut self, row: [Arg; N]) {
        debug_assert_eq!(N, self.width);
        self.args.extend(row);
        self.count += 1;
    }

    fn is_full(&self) -> bool {
        self.args.len() >= self.per_statement * self.width
    }

    async fn flush(&mut self, tx: &mut Tx) -> Result<(), sqlx::Error> {
        if self.args.is_empty() {
            return Ok(());
        }
        let args = std::mem::replace(&mut self.args, Vec::with_capacity(self.per_statement * self.width));
        tx.execute(sql_values(self.head, self.width, args)).await?;
        self.statements += 1;
        Ok(())
    }
}

/// Opens a bulk-loading transaction (on SQLite with a page cache of up to 1 GiB, so that the indexes
/// being filled in random order stay in memory; the pool's connections keep it until they close).
async fn begin(db: &Db) -> Result<Tx, sqlx::Error> {
    let mut tx = db.begin().await?;
    if tx.engine() == Engine::Sqlite {
        tx.execute(sql("PRAGMA cache_size = -1048576")).await?;
    }
    Ok(tx)
}

/// Writes what is buffered, in order (rows that others refer to first).
async fn flush_all(tx: &mut Tx, tables: &mut [&mut Rows]) -> Result<(), sqlx::Error> {
    for rows in tables.iter_mut() {
        rows.flush(tx).await?;
    }
    Ok(())
}

/// Writes what is buffered, commits, and goes on in a new transaction.
async fn checkpoint(db: &Db, mut tx: Tx, tables: &mut [&mut Rows]) -> Result<Tx, sqlx::Error> {
    flush_all(&mut tx, tables).await?;
    tx.commit().await?;
    begin(db).await
}

/// Writes what is buffered and commits, and counts the rows for the closing report.
async fn finish(mut tx: Tx, tables: &mut [&mut Rows], written: &mut Written) -> Result<(), sqlx::Error> {
    flush_all(&mut tx, tables).await?;
    tx.commit().await?;
    written.record(&tables.iter().map(|rows| &**rows).collect::<Vec<_>>());
    Ok(())
}

/// After item `id` of a part: writes the tables once a statement is full (and moves the progress
/// bar), and every `every` items commits and goes on in a new transaction.
async fn after_item(
    db: &Db,
    mut tx: Tx,
    tables: &mut [&mut Rows],
    id: i64,
    every: i64,
    progress: &mut Progress,
) -> Result<Tx, sqlx::Error> {
    if tables.iter().any(|rows| rows.is_full()) {
        flush_all(&mut tx, tables).await?;
        progress.set(id as u64);
    }
    if id % every == 0 {
        return checkpoint(db, tx, tables).await;
    }
    Ok(tx)
}

/// Commits every hundred statements of `rows` and goes on in a new transaction, so that one
/// transaction holds up to 200,000 rows.
async fn renew(db: &Db, tx: Tx, rows: &Rows) -> Result<Tx, sqlx::Error> {
    if !rows.statements.is_multiple_of(100) {
        return Ok(tx);
    }
    tx.commit().await?;
    begin(db).await
}

/// A one-line progress bar on standard error (redrawn at most five times a second on a terminal;
/// elsewhere only the closing line per part), ending with how long the part took.
struct Progress {
    label: &'static str,
    total: u64,
    started: Instant,
    drawn: Instant,
    terminal: bool,
}

impl Progress {
    fn start(label: &'static str, total: u64) -> Progress {
        let terminal = std::io::stderr().is_terminal();
        let progress =
            Progress { label, total: total.max(1), started: Instant::now(), drawn: Instant::now(), terminal };
        progress.draw(0);
        progress
    }

    fn set(&mut self, done: u64) {
        if self.terminal && self.drawn.elapsed() > Duration::from_millis(200) {
            self.drawn = Instant::now();
            self.draw(done);
        }
    }

    fn draw(&self, done: u64) {
        if !self.terminal {
            return;
        }
        let share = (done.min(self.total) as f64 / self.total as f64 * 30.0) as usize;
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r{:<14} [{}{}] {:>3}% {:>6.1} s",
            self.label,
            "#".repeat(share),
            " ".repeat(30 - share),
            done.min(self.total) * 100 / self.total,
            self.started.elapsed().as_secs_f64()
        );
        let _ = err.flush();
    }

    fn done(self) {
        let mut err = std::io::stderr().lock();
        if self.terminal {
            let _ = write!(err, "\r{:<60}\r", "");
        }
        let _ = writeln!(err, "{:<14} done in {:.1} s", self.label, self.started.elapsed().as_secs_f64());
    }
}

const DAY: i64 = 86_400;

#[cfg(test)]
mod tests {
    use super::random::{Rng, Shuffle};

    #[test]
    fn the_same_seed_gives_the_same_numbers() {
        let (mut a, mut b) = (Rng::stream(7, 3), Rng::stream(7, 3));
        let first: Vec<u64> = (0..5).map(|_| a.next_u64()).collect();
        assert_eq!(first, (0..5).map(|_| b.next_u64()).collect::<Vec<_>>());
        assert_ne!(first[0], Rng::stream(8, 3).next_u64());
    }

    #[test]
    fn a_shuffle_is_a_permutation() {
        for n in [1_u64, 2, 10, 97, 100, 1000] {
            let shuffle = Shuffle::new(n, &mut Rng::new(n));
            let mut seen: Vec<u64> = (0..n).map(|i| shuffle.at(i)).collect();
            seen.sort();
            assert_eq!(seen, (0..n).collect::<Vec<_>>(), "n = {n}");
        }
    }
}
