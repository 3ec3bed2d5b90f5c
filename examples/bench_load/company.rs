//! The company the benchmark runs on: seeded once and kept, copied for each run, and the people,
//! posts and ideas its scenarios read and write.

use std::path::PathBuf;
use std::time::Instant;

use townhall::config::Config;
use townhall::db::{Db, Exec, sql};

use crate::common::Failure;

pub async fn ensure_seeded(engine: &str, url: &str, people: u32) -> Result<(), Failure> {
    let mut config = Config::from_lookup(|_| None)?;
    config.database_url = url.to_owned();
    let db = townhall::open_database(&config).await?;
    let (accounts,): (i64,) = db.clone().fetch_one(sql("SELECT COUNT(*) FROM users")).await?;
    if accounts == 0 {
        println!("{engine}: seeding a company of {people} people (once; the database is kept for later runs)");
        let started = Instant::now();
        let password = townhall::accounts::Password::parse(crate::driver::PASSWORD)?;
        let hash = townhall::accounts::hash_password(password).await?;
        townhall::seed::run(&db, &townhall::seed::Size::for_people(people), 1, &hash).await?;
        println!("{engine}: seeded in {:.0} s\n", started.elapsed().as_secs_f64());
    }
    db.close().await;
    Ok(())
}

/// Moves everything of an SQLite file's write-ahead log into the file itself, so that copying the
/// file copies all of it.
pub async fn checkpoint(file: &std::path::Path) -> Result<(), Failure> {
    let db = Db::connect(&format!("sqlite://{}", file.display())).await?;
    db.clone().execute(sql("PRAGMA wal_checkpoint(TRUNCATE)")).await?;
    db.close().await;
    Ok(())
}

/// A run's copy of the seeded SQLite file, removed when dropped.
pub struct SqliteCopy {
    pub path: PathBuf,
}

impl SqliteCopy {
    pub async fn of(seeded: &std::path::Path) -> Result<SqliteCopy, Failure> {
        checkpoint(seeded).await?;
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
pub struct PostgresCopy {
    server: String,
    name: String,
    pub url: String,
}

impl PostgresCopy {
    pub async fn of(server: &str, people: u32) -> Result<PostgresCopy, Failure> {
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

    pub async fn remove(self) -> Result<(), Failure> {
        use sqlx::Connection;
        let mut admin = sqlx::PgConnection::connect(&self.server).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)))
            .execute(&mut admin)
            .await?;
        Ok(())
    }
}

/// The benchmark's own database on a PostgreSQL server, created when missing.
pub async fn postgres_database(server: &str, people: u32) -> Result<String, Failure> {
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

/// What the scenarios read and write, chosen from the seeded data.
pub struct Fixtures {
    pub typical: Vec<(i64, String)>,
    /// The most followed person, and how many follow them.
    pub leader: ((i64, String), i64),
    pub heavy: Vec<(i64, String)>,
    pub typical_deep: Vec<i64>,
    pub heavy_deep: Vec<i64>,
    pub profiles: Vec<String>,
    pub thread: (i64, i64),
    pub campaign: i64,
    pub ideas: Vec<i64>,
    pub hot_ideas: Vec<i64>,
    pub recent_posts: Vec<i64>,
    /// The posts on the typical people's first home pages.
    pub home_posts: Vec<i64>,
}

pub async fn fixtures(db: &Db, clients: usize) -> Result<Fixtures, Failure> {
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
