//! The load itself: clients signed in as people sign in, each sending its next request when the last
//! one answered, and the figures of a scenario (throughput, percentiles, what was acknowledged).

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::{Method, Response, StatusCode};

use crate::ceiling::Ceiling;
use crate::common::{Failure, percentile};

/// The password `townhall seed` gives every account.
pub const PASSWORD: &str = "townhall-seed";
/// Request numbers of the measured phase start here (the warm-up's start at 0).
const MEASURED: u64 = 1 << 40;

/// A server process (pinned to CPU 0 when the load generator is pinned), killed when dropped.
pub struct Process {
    child: Child,
    pub base: String,
}

impl Process {
    pub async fn start(args: &[&str], env: &[(&str, String)]) -> Result<Process, Failure> {
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
        // The built-in engine's runs search without Meilisearch even when this shell has it set.
        for name in ["MEILI_URL", "MEILI_MASTER_KEY", "MEILI_INDEX_PREFIX"] {
            command.env_remove(name);
        }
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
    pub fn peak_rss_mib(&self) -> Option<f64> {
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
pub struct Outcome {
    pub name: String,
    pub requests: usize,
    pub per_second: f64,
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
    pub failures: usize,
    pub first_failure: Option<String>,
    /// Per client, the numbers of its requests the server acknowledged.
    pub acknowledged: Vec<Vec<u64>>,
    /// The 30-row ceiling's requests per second, measured just before this scenario.
    pub ceiling: Option<f64>,
}

/// Builds request `n` of client `i`.
pub type MakeRequest = Arc<dyn Fn(&reqwest::Client, usize, u64) -> reqwest::RequestBuilder + Send + Sync>;

/// Runs `make` from every client in a closed loop: a fifth of `seconds` unmeasured, then `seconds`
/// measured. A request is acknowledged when it gets what it asked for ([`answered`]); acknowledgements of both phases
/// are kept (writes made while warming up stay written), numbered so that later requests have larger
/// numbers and request `n` and `n + 1` alternate by parity.
/// With `pace`, client 0 waits that long after each of its requests.
pub async fn drive(
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
pub async fn beside_ceiling(ceiling: &Ceiling, scenario: impl Future<Output = Outcome>, seconds: f64) -> Outcome {
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
                let outcome = match make(&client, i, n).build() {
                    Ok(request) => {
                        let method = request.method().clone();
                        match client.execute(request).await {
                            Ok(response) => answered(&method, response).await,
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

/// Whether a response is what its request asked for. A page (GET) must answer 200: a redirect means
/// the client was not shown the page, most likely sent to sign in again, and measuring it would
/// measure a cheap redirect. A form (POST) may answer with a redirect to where its result is shown,
/// but not to the sign-in page.
async fn answered(method: &Method, response: Response) -> Result<(), String> {
    let status = response.status();
    let location = response.headers().get(reqwest::header::LOCATION).and_then(|l| l.to_str().ok()).map(str::to_owned);
    let body = response.bytes().await.map_err(|e| e.to_string())?;
    let signing_in = location.as_deref().is_some_and(|l| l.starts_with("/login"));
    match (method, status) {
        (_, _) if signing_in => Err(format!("{status}: sent to sign in ({})", location.unwrap_or_default())),
        (&Method::GET, StatusCode::OK) => Ok(()),
        (&Method::POST, s) if s.is_success() || s.is_redirection() => Ok(()),
        _ => Err(format!(
            "{status}{}: {}",
            location.map(|l| format!(" to {l}")).unwrap_or_default(),
            String::from_utf8_lossy(&body[..body.len().min(200)])
        )),
    }
}

/// Clients that take no cookies, for the ceiling.
pub fn plain_clients(count: usize) -> Result<Vec<reqwest::Client>, Failure> {
    (0..count).map(|_| Ok(reqwest::Client::builder().pool_max_idle_per_host(1).build()?)).collect()
}

/// A client per person, each signed in through the sign-in form with the seeded password, as a
/// person signs in. Each client connects from its own loopback address (127.0.0.2 onwards), as
/// people come from their own machines; sign-in counts attempts per address.
pub async fn sign_in(base: &str, people: &[(i64, String)]) -> Result<Vec<reqwest::Client>, Failure> {
    let mut clients = Vec::new();
    for (n, (_, username)) in people.iter().enumerate() {
        let address = std::net::Ipv4Addr::new(127, 0, (n / 250) as u8, (n % 250 + 2) as u8);
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .local_address(std::net::IpAddr::V4(address))
            .pool_max_idle_per_host(1)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(60))
            .build()?;
        let response = client
            .post(format!("{base}/login"))
            .header("origin", base)
            .form(&[("login", username.as_str()), ("password", PASSWORD), ("next", "/")])
            .send()
            .await?;
        let status = response.status();
        let location = response.headers().get(reqwest::header::LOCATION).and_then(|l| l.to_str().ok()).unwrap_or("");
        if !status.is_redirection() || location.starts_with("/login") {
            return Err(format!("signing in as {username} answered {status} {location}").into());
        }
        // The session works: home is shown, not the sign-in page.
        let home = client.get(format!("{base}/")).send().await?;
        if home.status() != StatusCode::OK {
            return Err(format!("{username}'s home after signing in answered {}", home.status()).into());
        }
        clients.push(client);
    }
    Ok(clients)
}
