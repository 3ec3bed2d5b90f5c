//! A real SMTP server for the mail tests: aiosmtpd (tests/support/smtp_server.py) on a loopback
//! port, delivering to a Maildir that the tests read.

use std::io::BufRead;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use townhall::config::{Config, MailConfig};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/smtp_server.py");

/// A Python that has aiosmtpd (Debian's python3-aiosmtpd lives in the system Python).
fn python() -> Option<String> {
    let mut candidates: Vec<String> = std::env::var("TOWNHALL_TEST_PYTHON").into_iter().collect();
    candidates.extend(["/usr/bin/python3".to_owned(), "python3".to_owned()]);
    candidates.into_iter().find(|python| {
        Command::new(python)
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

pub struct SmtpServer {
    child: Option<Child>,
    python: String,
    pub port: u16,
    pub maildir: PathBuf,
    args: Vec<String>,
}

impl SmtpServer {
    /// A plain SMTP server; `None` (the test skips) when no Python has aiosmtpd, a failure under CI=true.
    pub fn start(test: &str) -> Option<SmtpServer> {
        SmtpServer::start_with(test, &[])
    }

    /// With extra arguments (`--tls starttls --cert … --key …`, `--auth user:pass`).
    pub fn start_with(test: &str, args: &[&str]) -> Option<SmtpServer> {
        let Some(python) = python() else {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("CI=true but no Python with aiosmtpd (apt install python3-aiosmtpd): {test} cannot run");
            }
            eprintln!("SKIPPED {test}: install python3-aiosmtpd to run the mail tests");
            return None;
        };
        let maildir = std::env::temp_dir().join(format!("townhall-maildir-{}", uuid::Uuid::new_v4().simple()));
        let mut server =
            SmtpServer { child: None, python, port: 0, maildir, args: args.iter().map(|a| a.to_string()).collect() };
        server.spawn(None);
        Some(server)
    }

    fn spawn(&mut self, port: Option<u16>) {
        let mut command = Command::new(&self.python);
        command.arg(SCRIPT).arg("serve").arg(&self.maildir).args(&self.args);
        if let Some(port) = port {
            command.args(["--port", &port.to_string()]);
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start aiosmtpd");
        let stdout = child.stdout.take().expect("its stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = std::io::BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(Duration::from_secs(20)).expect("aiosmtpd says its port within 20 s");
        self.port = line.trim().strip_prefix("port ").and_then(|p| p.parse().ok()).expect("a port line");
        self.child = Some(child);
    }

    /// Kills the server at once (connections in flight break).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port and Maildir.
    pub fn start_again(&mut self) {
        self.kill();
        let port = self.port;
        self.spawn(Some(port));
    }

    pub fn url(&self) -> String {
        let scheme = if self.args.iter().any(|a| a == "implicit") { "smtps" } else { "smtp" };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    /// Sends through this server: links in mails start with `http://townhall.test`; retries come
    /// after a second and a stalled conversation ends after two.
    pub fn configure(&self, config: &mut Config) {
        configure_with(config, &self.url(), &[]);
    }

    /// Every mail delivered so far, oldest first.
    pub fn mails(&self) -> Vec<Delivered> {
        let output =
            Command::new(&self.python).arg(SCRIPT).arg("read").arg(&self.maildir).output().expect("read the Maildir");
        assert!(output.status.success(), "reading the Maildir failed: {}", String::from_utf8_lossy(&output.stderr));
        let list: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).expect("the Maildir as JSON");
        list.into_iter()
            .map(|m| Delivered {
                headers: m["headers"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|pair| (pair[0].as_str().unwrap_or("").to_owned(), pair[1].as_str().unwrap_or("").to_owned()))
                    .collect(),
                raw_headers: m["raw_headers"].as_str().unwrap_or("").to_owned(),
                text: m["text"].as_str().unwrap_or("").to_owned(),
                html: m["html"].as_str().unwrap_or("").to_owned(),
            })
            .collect()
    }

    /// The mails to `address`, waiting (up to 20 s) until there are at least `count`.
    pub async fn wait_for(&self, address: &str, count: usize) -> Vec<Delivered> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let mails: Vec<Delivered> = self.mails().into_iter().filter(|m| m.to().contains(address)).collect();
            if mails.len() >= count {
                return mails;
            }
            assert!(Instant::now() < deadline, "{} mail(s) to {address} after 20 s, wanted {count}", mails.len());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The one mail to `address` (waiting for it).
    pub async fn mail_to(&self, address: &str) -> Delivered {
        let mut mails = self.wait_for(address, 1).await;
        mails.remove(0)
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.maildir);
    }
}

/// Mail settings read as from the environment, with test-sized waits.
pub fn configure_with(config: &mut Config, smtp_url: &str, extra: &[(&str, &str)]) {
    let mut vars: Vec<(String, String)> = vec![
        ("TOWNHALL_SMTP_URL".into(), smtp_url.into()),
        ("TOWNHALL_MAIL_FROM".into(), "Townhall <townhall@townhall.test>".into()),
        ("TOWNHALL_PUBLIC_URL".into(), PUBLIC_URL.into()),
    ];
    vars.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let read = Config::from_lookup(|name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
        .expect("valid mail settings");
    let mut mail: MailConfig = read.mail.expect("mail is configured");
    mail.first_retry = Duration::from_secs(1);
    mail.timeout = Duration::from_secs(2);
    mail.notify_after = Duration::ZERO;
    config.mail = Some(mail);
    config.public_url = read.public_url;
}

/// The public address the test sites' mails link to.
pub const PUBLIC_URL: &str = "http://townhall.test";

pub struct Delivered {
    pub headers: Vec<(String, String)>,
    pub raw_headers: String,
    pub text: String,
    pub html: String,
}

impl Delivered {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn to(&self) -> String {
        self.header("To").unwrap_or("").to_owned()
    }

    pub fn subject(&self) -> String {
        self.header("Subject").unwrap_or("").to_owned()
    }

    /// The path of the first link in the text part under the site's address that starts with
    /// `prefix` (such as `/password/`), to open on the test server.
    pub fn link_path(&self, prefix: &str) -> String {
        let start = format!("{PUBLIC_URL}{prefix}");
        let at = self.text.find(&start).unwrap_or_else(|| panic!("no {start}… link in:\n{}", self.text));
        let link: String = self.text[at..].chars().take_while(|c| !c.is_whitespace()).collect();
        link[PUBLIC_URL.len()..].to_owned()
    }
}
