//! The fault suite: a full disk, a database that goes away, clients that never finish their requests.
//! Each fault is made for real on this machine (a small tmpfs, a PostgreSQL cluster of the test's
//! own that it stops, half-open sockets), bounded in time and on loopback only.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{Engine, PASSWORD, Person, TestApp, start_process, wait_until_healthy};
use townhall::db::{Exec, now, sql};

on_both_engines!(acknowledged_writes_of_every_kind_survive_kill_9_under_load);

/// A tmpfs of a few megabytes, unmounted when dropped.
struct SmallDisk {
    dir: PathBuf,
}

impl SmallDisk {
    /// Mounts one, or says why it cannot: mounting needs root (or CAP_SYS_ADMIN), which CI has.
    fn mount(megabytes: u32) -> Result<SmallDisk, String> {
        let dir = std::env::temp_dir().join(format!("townhall-full-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(&dir)
            .output()
            .map_err(|e| e.to_string())?;
        if !mounted.status.success() {
            let _ = std::fs::remove_dir(&dir);
            return Err(String::from_utf8_lossy(&mounted.stderr).trim().to_owned());
        }
        Ok(SmallDisk { dir })
    }

    /// Writes a file until the disk has no room left; returns its path.
    fn fill(&self) -> PathBuf {
        use std::io::Write;
        let path = self.dir.join("filler");
        let mut file = std::fs::File::create(&path).unwrap();
        let block = vec![7_u8; 64 * 1024];
        while file.write_all(&block).and_then(|_| file.sync_all()).is_ok() {}
        // The last blocks may fit in smaller pieces.
        while file.write_all(&block[..512]).and_then(|_| file.sync_all()).is_ok() {}
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn running_in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

async fn health(base: &str) -> (u16, String) {
    let response = reqwest::get(format!("{base}/healthz")).await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

async fn posts_by(app: &TestApp, username: &str) -> i64 {
    let query = sql("SELECT CAST(COUNT(*) AS BIGINT) FROM posts p JOIN users u ON u.id = p.author_id
                     WHERE u.username = $1")
    .bind(username);
    let (count,): (i64,) = app.db.clone().fetch_one(query).await.unwrap();
    count
}

/// SQLite on a disk that fills up: writes are refused with a plain 503 while it is full, health says
/// so, and writes work again as soon as there is room, without a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_full_disk_writes_answer_503_and_come_back_with_the_space() {
    let disk = match SmallDisk::mount(24) {
        Ok(disk) => disk,
        Err(why) => {
            // Only root can mount; under CI (root) this is a failure.
            assert!(!running_in_ci(), "CI=true but no tmpfs could be mounted: {why}");
            eprintln!("SKIPPED the full-disk test: cannot mount a tmpfs here ({why})");
            return;
        }
    };
    let file = disk.dir.join("townhall.db");
    let app = TestApp::spawn_with(Engine::Sqlite, |config| {
        config.database_url = format!("sqlite://{}", file.display());
        config.max_post_chars = 10_000;
    })
    .await;
    let ana = app.signed_up("ana").await;
    let filler = disk.fill();

    // Write until the disk refuses; every post acknowledged before that must be kept.
    let long = "Packaging waste is everyone's problem. ".repeat(250);
    let mut acknowledged = 0;
    let refused = loop {
        let page = ana.post("/posts", &[("body", &long)]).await;
        if page.status != 303 {
            break page;
        }
        acknowledged += 1;
        assert!(acknowledged < 2_000, "the disk never filled");
    };
    assert_eq!(refused.status, 503, "{}", refused.body);
    assert!(refused.contains("storage is full"), "{}", refused.body);
    assert!(refused.contains("not saved"), "{}", refused.body);
    let (status, said) = health(&app.base).await;
    assert_eq!(status, 503, "health while writes fail: {said}");
    assert!(said.contains("full"), "{said}");
    // Reading still works.
    assert_eq!(ana.get("/").await.status, 200);

    std::fs::remove_file(&filler).unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let page = ana.post("/posts", &[("body", "Room again")]).await;
        if page.status == 303 {
            break;
        }
        assert!(Instant::now() < deadline, "writes did not recover without a restart: {} {}", page.status, page.body);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(health(&app.base).await.0, 200);
    assert_eq!(posts_by(&app, "ana").await, acknowledged + 1, "an acknowledged post was lost");
    drop(app);
}

/// A PostgreSQL cluster of the test's own, which it can stop and start again.
struct OwnPostgres {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
}

impl OwnPostgres {
    /// Creates and starts one; an error says what is missing (PostgreSQL's programs).
    fn start() -> Result<OwnPostgres, String> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .map_err(|e| format!("no PostgreSQL under /usr/lib/postgresql: {e}"))?
            .filter_map(|entry| entry.ok().map(|e| e.path().join("bin")))
            .filter(|bin| bin.join("initdb").exists())
            .max()
            .ok_or("no initdb under /usr/lib/postgresql")?;
        let dir = std::env::temp_dir().join(format!("townhall-own-pg-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let cluster = OwnPostgres { bin, dir, port };
        if is_root() {
            run(Command::new("chown").arg("postgres").arg(&cluster.dir))?;
        }
        run(cluster.command("initdb").arg("-D").arg(cluster.dir.join("data")).args([
            "-U",
            "postgres",
            "-A",
            "trust",
            "--no-sync",
        ]))?;
        cluster.resume()?;
        Ok(cluster)
    }

    fn command(&self, program: &str) -> Command {
        let program = self.bin.join(program);
        if is_root() {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        }
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn resume(&self) -> Result<(), String> {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off",
            self.port,
            self.dir.display()
        );
        run(self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.dir.join("data"))
            .arg("-l")
            .arg(self.dir.join("log"))
            .args(["-w", "start", "-o", &options]))
    }

    /// Stops the server as an operator does (`-m fast`: sessions are ended, with the message
    /// "terminating connection due to administrator command").
    fn stop(&self) -> Result<(), String> {
        run(self.command("pg_ctl").arg("-D").arg(self.dir.join("data")).args(["-m", "fast", "-w", "stop"]))
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let _ = self.command("pg_ctl").arg("-D").arg(self.dir.join("data")).args(["-m", "immediate", "stop"]).output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

fn run(command: &mut Command) -> Result<(), String> {
    let output = command.output().map_err(|e| format!("{command:?}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!("{command:?}: {}", String::from_utf8_lossy(&output.stderr)))
    }
}

/// What a loop of one kind of request saw: (status, how long it took).
type Seen = Vec<(u16, Duration)>;

/// PostgreSQL stopped under load and started again: while it is away every page answers a plain 503
/// quickly (health within its second, static files at once), never a 500; when it is back, the
/// same process serves again and every post it acknowledged is there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgresql_stopped_under_load_gives_quick_503s_and_service_comes_back() {
    let cluster = match OwnPostgres::start() {
        Ok(cluster) => cluster,
        Err(why) => {
            assert!(!running_in_ci(), "CI=true but no PostgreSQL cluster could be started: {why}");
            eprintln!("SKIPPED the PostgreSQL outage test: {why}");
            return;
        }
    };
    // The harness's engine label is SQLite's, but the URL makes it run on the test's own cluster.
    let url = cluster.url();
    let app = TestApp::spawn_with(Engine::Sqlite, |config| config.database_url = url).await;
    let ana = app.signed_up("ana").await;
    let base = app.base.clone();

    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (client, base, stop) = (ana.client.clone(), base.clone(), stop.clone());
        tokio::spawn(async move {
            let mut seen: Vec<(u16, Duration, String)> = Vec::new();
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && seen.len() < 5_000 {
                n += 1;
                let body = format!("Load post {n}");
                let started = Instant::now();
                let sent = client.post(format!("{base}/posts")).header("origin", &base).form(&[("body", &body)]);
                let status = sent.send().await.map_or(0, |r| r.status().as_u16());
                seen.push((status, started.elapsed(), body));
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            seen
        })
    };
    let reader = {
        let (client, base, stop) = (ana.client.clone(), base.clone(), stop.clone());
        tokio::spawn(async move {
            let mut seen: Seen = Vec::new();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && seen.len() < 5_000 {
                let started = Instant::now();
                let status = client.get(format!("{base}/")).send().await.map_or(0, |r| r.status().as_u16());
                seen.push((status, started.elapsed()));
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            seen
        })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    cluster.stop().unwrap();

    // While it is away: health answers within its second, static files at once, pages with 503.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let client = reqwest::Client::new();
    let mut health_times = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let (status, said) = health(&base).await;
        health_times.push(started.elapsed());
        assert_eq!(status, 503, "{said}");
        let started = Instant::now();
        let style = client.get(format!("{base}/static/style.css")).send().await.unwrap();
        assert_eq!(style.status().as_u16(), 200);
        assert!(started.elapsed() < Duration::from_secs(1), "a static file waited {:?}", started.elapsed());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(health_times.iter().all(|t| *t < Duration::from_millis(1_500)), "health took {health_times:?}");
    let away = ana.get("/").await;
    assert_eq!(away.status, 503);
    assert!(away.contains("cannot reach its database"), "{}", away.body);

    cluster.resume().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while health(&base).await.0 != 200 {
        assert!(Instant::now() < deadline, "the same process did not serve again after PostgreSQL came back");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let written = writer.await.unwrap();
    let read = reader.await.unwrap();

    let statuses = |seen: &mut dyn Iterator<Item = u16>| {
        let mut counts = std::collections::BTreeMap::new();
        for status in seen {
            *counts.entry(status).or_insert(0) += 1;
        }
        counts
    };
    let wrote = statuses(&mut written.iter().map(|w| w.0));
    let reads = statuses(&mut read.iter().map(|r| r.0));
    assert!(wrote.keys().all(|s| [303, 503].contains(s)), "posts answered {wrote:?}");
    assert!(reads.keys().all(|s| [200, 503].contains(s)), "pages answered {reads:?}");
    assert!(wrote.contains_key(&503) && reads.contains_key(&503), "the outage was seen: {wrote:?} {reads:?}");
    assert_eq!(ana.post("/posts", &[("body", "After the outage")]).await.status, 303);
    // Refused at once while the database is known to be away: most 503s took well under a second.
    let mut slow: Vec<Duration> = read.iter().filter(|r| r.0 == 503).map(|r| r.1).collect();
    slow.sort();
    let median = slow[slow.len() / 2];
    assert!(median < Duration::from_secs(1), "503s took {median:?} (median)");

    let acknowledged: Vec<&String> = written.iter().filter(|w| w.0 == 303).map(|w| &w.2).collect();
    let stored: Vec<(String,)> = app.db.clone().fetch_all(sql("SELECT body FROM posts")).await.unwrap();
    let stored: std::collections::HashSet<String> = stored.into_iter().map(|(b,)| b).collect();
    let lost: Vec<&&String> = acknowledged.iter().filter(|b| !stored.contains(b.as_str())).collect();
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
    drop(app);
    drop(cluster);
}

/// Connections that never finish their request's head, more of them than the server's hard limit of
/// open files (1,024, the usual default): other clients still get health and pages at once, and the
/// half-open ones are closed after the head timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_open_connections_cannot_take_the_server_down() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // The test itself holds 1,100 sockets.
    let own_limit = townhall::web::server::raise_file_limit();
    if own_limit < 2_000 {
        assert!(!running_in_ci(), "CI=true but this process may open only {own_limit} files");
        eprintln!("SKIPPED the half-open connections test: this process may open only {own_limit} files");
        return;
    }
    let dir = std::env::temp_dir().join(format!("townhall-half-open-{}", uuid::Uuid::new_v4().simple()));
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{port}");
    // The server runs as its own process, with a hard limit it cannot raise.
    let mut server = Command::new("sh")
        .args(["-c", "ulimit -n 1024 && exec \"$0\" serve", env!("CARGO_BIN_EXE_townhall")])
        .env("DATABASE_URL", format!("sqlite://{}", dir.join("townhall.db").display()))
        .env("TOWNHALL_LISTEN", format!("127.0.0.1:{port}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    common::wait_until_healthy(&base).await;

    let mut half_open = Vec::new();
    for _ in 0..1_100 {
        match tokio::net::TcpStream::connect(("127.0.0.1", port)).await {
            Ok(mut stream) => {
                let _ = stream.write_all(b"GET / HTTP/1.1\r\nHost: townhall\r\nX-Slow: ").await;
                half_open.push(stream);
            }
            Err(e) => panic!("the kernel refused a connection: {e}"),
        }
    }
    // Another client (another loopback address) is served at once.
    let other = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let started = Instant::now();
    let health = other.get(format!("{base}/healthz")).send().await.expect("health answers during the flood");
    assert_eq!(health.status().as_u16(), 200);
    let login = other.get(format!("{base}/login")).send().await.expect("a page answers during the flood");
    assert_eq!(login.status().as_u16(), 200);
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());

    // Over its own limit the flooding address is told so, and its half-open connections are closed
    // once the head timeout passes.
    let mut refused = 0;
    let mut closed = 0;
    let deadline = Instant::now() + townhall::web::server::HEAD_TIMEOUT + Duration::from_secs(10);
    for mut stream in half_open {
        let mut answer = Vec::new();
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read_to_end(&mut answer)).await {
            Ok(_) => {
                closed += 1;
                if answer.starts_with(b"HTTP/1.1 503") {
                    refused += 1;
                }
            }
            Err(_) => panic!("a half-open connection was still open {:?} after the flood", deadline),
        }
    }
    assert_eq!(closed, 1_100);
    assert!(refused >= 1_100 - townhall::config::DEFAULT_CONNECTIONS_PER_ADDRESS, "{refused} told 503");
    let _ = server.kill();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&dir);
}

/// Posts, replies and idea comments from six writers at once; the process is killed (SIGKILL) while
/// requests are still in flight. Everything it acknowledged is there after a restart.
async fn acknowledged_writes_of_every_kind_survive_kill_9_under_load(engine: Engine) {
    let mut app = TestApp::spawn(engine).await;
    let ana = app.signed_up("ana").await;
    let _bo = app.signed_up("bo").await;
    let (opens, closes) = (townhall::ideas::input_time(now() - 3600), townhall::ideas::input_time(now() + 86_400));
    let made = ana
        .post("/campaigns/new", &[("title", "T"), ("question", "Q?"), ("opens_at", &opens), ("closes_at", &closes)])
        .await;
    let campaign: i64 = made.location.unwrap().trim_start_matches("/campaigns/").parse().unwrap();
    assert_eq!(ana.post(&format!("/campaigns/{campaign}/publish"), &[]).await.status, 303);
    let made = ana
        .post(&format!("/campaigns/{campaign}/ideas"), &[("title", "An idea"), ("body", "b"), ("confirmed", "y")])
        .await;
    let idea: i64 = made.location.unwrap().trim_start_matches("/ideas/").parse().unwrap();
    ana.write_post("The thread everyone answers").await;
    let thread = common::post_ids(&ana.get("/@ana").await.body)[0];
    app.stop().await;
    let url = app.config.database_url.clone();

    let mut process = start_process(&url);
    wait_until_healthy(&process.base).await;
    let mut writers = Vec::new();
    for w in 0..6 {
        let person = Person::new(&process.base);
        assert_eq!(person.sign_in(if w % 2 == 0 { "ana" } else { "bo" }, PASSWORD).await.status, 303);
        writers.push(tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            for n in 0..2_000 {
                let body = format!("kill-{w}-{n}");
                let (path, kind) = match n % 3 {
                    0 => ("/posts".to_owned(), "posts"),
                    1 => (format!("/posts/{thread}/replies"), "posts"),
                    _ => (format!("/ideas/{idea}/comments"), "idea_comments"),
                };
                let sent = person.client.post(format!("{}{path}", person.base)).header("origin", &person.base);
                match sent.form(&[("body", &body)]).send().await {
                    Ok(r) if r.status().as_u16() == 303 => acknowledged.push((kind, body)),
                    Ok(r) => assert!(r.status().as_u16() == 503, "{path} answered {}", r.status()),
                    Err(_) => break, // the process is gone
                }
            }
            acknowledged
        }));
    }
    // Kill it mid-stream, once every writer has had some writes acknowledged.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    process.child.kill().unwrap();
    process.child.wait().unwrap();
    let mut acknowledged = Vec::new();
    for writer in writers {
        acknowledged.extend(writer.await.unwrap());
    }
    assert!(acknowledged.len() >= 30, "only {} writes were acknowledged before the kill", acknowledged.len());
    eprintln!("{} writes acknowledged before the kill", acknowledged.len());

    let mut process = start_process(&url);
    wait_until_healthy(&process.base).await;
    let mut db = townhall::db::Db::connect(&url).await.unwrap();
    let posts: Vec<(String,)> = db.fetch_all(sql("SELECT body FROM posts")).await.unwrap();
    let comments: Vec<(String,)> = db.fetch_all(sql("SELECT body FROM idea_comments")).await.unwrap();
    let stored: std::collections::HashSet<(&str, String)> = posts
        .into_iter()
        .map(|(b,)| ("posts", b))
        .chain(comments.into_iter().map(|(b,)| ("idea_comments", b)))
        .collect();
    let lost: Vec<_> = acknowledged.iter().filter(|(kind, body)| !stored.contains(&(*kind, body.clone()))).collect();
    assert!(lost.is_empty(), "{} of {} acknowledged writes lost: {lost:?}", lost.len(), acknowledged.len());
    process.child.kill().unwrap();
    process.child.wait().unwrap();
    db.close().await;
}
