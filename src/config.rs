//! Configuration from the environment, read and checked once at start.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

/// The longest post, in characters, unless configured.
pub const DEFAULT_MAX_POST_CHARS: usize = 1000;

/// Who may create an account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignupPolicy {
    Open,
    /// Only e-mail addresses at one of these domains (lower case, without `@`).
    Domains(Vec<String>),
    /// Only with an invitation link.
    Invitation,
    /// Nobody: admins create accounts (`townhall user create`).
    Closed,
}

impl SignupPolicy {
    /// Whether someone without an invitation may sign up with this address.
    pub fn allows(&self, email: &str) -> bool {
        match self {
            SignupPolicy::Open => true,
            SignupPolicy::Domains(domains) => {
                email.rsplit_once('@').is_some_and(|(_, domain)| domains.iter().any(|d| d.eq_ignore_ascii_case(domain)))
            }
            SignupPolicy::Invitation | SignupPolicy::Closed => false,
        }
    }

    /// `open`, `invite`, `closed`, or a comma-separated list of e-mail domains.
    pub fn parse(value: &str) -> Option<SignupPolicy> {
        match value.trim().to_lowercase().as_str() {
            "open" => return Some(SignupPolicy::Open),
            "invite" | "invitation" => return Some(SignupPolicy::Invitation),
            "closed" => return Some(SignupPolicy::Closed),
            _ => {}
        }
        let domains: Vec<String> = value
            .split(',')
            .map(|d| d.trim().trim_start_matches('@').to_lowercase())
            .filter(|d| !d.is_empty())
            .collect();
        let valid = |d: &String| {
            d.contains('.')
                && d.len() <= 253
                && d.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
                && !d.starts_with('.')
                && !d.ends_with('.')
        };
        (!domains.is_empty() && domains.len() <= 50 && domains.iter().all(valid))
            .then_some(SignupPolicy::Domains(domains))
    }

    /// The form [`SignupPolicy::parse`] reads.
    pub fn as_setting(&self) -> String {
        match self {
            SignupPolicy::Open => "open".into(),
            SignupPolicy::Domains(domains) => domains.join(","),
            SignupPolicy::Invitation => "invite".into(),
            SignupPolicy::Closed => "closed".into(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    pub listen: SocketAddr,
    pub database_url: String,
    pub data_dir: PathBuf,
    /// The address people use to reach the site, if set (`https://townhall.example.com`).
    pub public_url: Option<String>,
    pub max_post_chars: usize,
    pub signup: SignupPolicy,
    /// Meilisearch, when configured (`MEILI_URL`, and `MEILI_MASTER_KEY` if it needs a key).
    pub meili: Option<MeiliConfig>,
    /// Reverse proxies whose `X-Forwarded-For` / `Forwarded` headers name the client.
    pub trusted_proxies: TrustedProxies,
    /// Open connections at most (`TOWNHALL_MAX_CONNECTIONS`); unset, a number that fits the
    /// process's open-file limit.
    pub max_connections: Option<usize>,
    /// Open connections at most from one client address, trusted proxies excepted.
    pub max_connections_per_address: usize,
    /// Sending mail, when an SMTP server is configured (`TOWNHALL_SMTP_URL`).
    pub mail: Option<MailConfig>,
}

/// How mail leaves: the SMTP server, the sender, and the worker's patience.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailConfig {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    /// User name and password for SMTP AUTH, if the URL has them.
    pub credentials: Option<(String, String)>,
    /// A PEM file of a certificate authority to trust besides the usual ones (`TOWNHALL_SMTP_CA_FILE`),
    /// for a company relay with its own certificate.
    pub ca_file: Option<PathBuf>,
    /// The `From:` of every mail (`TOWNHALL_MAIL_FROM`): an address, or `Name <address>`.
    pub from: String,
    /// How long the worker waits before the first retry of a mail the server could not take now; the
    /// wait doubles with each attempt (up to an hour).
    pub first_retry: std::time::Duration,
    /// How long a notification waits before it is mailed, so that what the person reads on the site
    /// meanwhile is not mailed.
    pub notify_after: std::time::Duration,
    /// How long one mail's conversation with the server may take before it is cut off and tried
    /// again later (`TOWNHALL_SMTP_TIMEOUT`, seconds).
    pub timeout: std::time::Duration,
}

/// How the connection to the SMTP server is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain text: only for a server on this machine or one the URL says needs none (`?tls=none`).
    None,
    /// STARTTLS, required (`smtp://`, port 587 by default).
    StartTls,
    /// TLS from the first byte (`smtps://`, port 465 by default).
    Implicit,
}

impl MailConfig {
    /// Reads `smtp://user:pass@host:587`, `smtps://host`, or `smtp://127.0.0.1:2525` (a server on
    /// this machine is spoken to without TLS unless the URL adds `?tls=starttls`).
    fn parse(url: &str, from: &str) -> Result<MailConfig, ConfigError> {
        let bad = |why: &str| ConfigError(format!("TOWNHALL_SMTP_URL: `{}` {why}", redact_password(url)));
        let parsed =
            url::Url::parse(url.trim()).map_err(|_| bad("is not a URL such as smtp://mail.example.com:587"))?;
        let implicit = match parsed.scheme() {
            "smtp" => false,
            "smtps" => true,
            _ => return Err(bad("must start with smtp:// or smtps://")),
        };
        let host = parsed.host_str().filter(|h| !h.is_empty()).ok_or_else(|| bad("names no server"))?;
        let host = host.trim_start_matches('[').trim_end_matches(']').to_owned();
        let loopback = host == "localhost" || host.parse::<IpAddr>().is_ok_and(|a| a.is_loopback());
        let asked = parsed.query_pairs().find(|(k, _)| k == "tls").map(|(_, v)| v.to_lowercase());
        let tls = match (implicit, asked.as_deref()) {
            (true, None | Some("implicit")) => SmtpTls::Implicit,
            (false, Some("starttls" | "required")) => SmtpTls::StartTls,
            (false, Some("none")) => SmtpTls::None,
            (false, None) if loopback => SmtpTls::None,
            (false, None) => SmtpTls::StartTls,
            _ => return Err(bad("has a `tls` setting other than none or starttls (smtp://) or implicit (smtps://)")),
        };
        let port = parsed.port().unwrap_or(if implicit { 465 } else { 587 });
        let credentials = match (parsed.username(), parsed.password()) {
            ("", None) => None,
            (user, password) => Some((percent(user), password.map(percent).unwrap_or_default())),
        };
        let from = from.trim();
        if from.is_empty() {
            return Err(ConfigError(
                "TOWNHALL_MAIL_FROM: set the sender of Townhall's mail, such as `Townhall <townhall@example.com>`"
                    .into(),
            ));
        }
        if from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(ConfigError(format!(
                "TOWNHALL_MAIL_FROM: `{from}` is not an address such as townhall@example.com or `Townhall <townhall@example.com>`"
            )));
        }
        Ok(MailConfig {
            host,
            port,
            tls,
            credentials,
            ca_file: None,
            from: from.to_owned(),
            first_retry: std::time::Duration::from_secs(60),
            notify_after: std::time::Duration::from_secs(120),
            timeout: std::time::Duration::from_secs(30),
        })
    }
}

/// A URL's percent-encoded user name or password, decoded (`p%40ss` is `p@ss`).
fn percent(part: &str) -> String {
    percent_encoding::percent_decode_str(part).decode_utf8_lossy().into_owned()
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MeiliConfig {
    pub url: String,
    pub key: Option<String>,
    /// Index names start with this (`MEILI_INDEX_PREFIX`, default `townhall`), so that several sites
    /// (or test runs) can share one Meilisearch.
    pub prefix: String,
}

/// A configuration value that cannot be used: the message names the variable.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(String);

impl Config {
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
    }

    /// Builds the configuration from any lookup of variable names (the environment, or a test's map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let listen = match get("TOWNHALL_LISTEN") {
            None => SocketAddr::from(([127, 0, 0, 1], 8080)),
            Some(v) => v.trim().parse().map_err(|_| {
                ConfigError(format!("TOWNHALL_LISTEN: `{v}` is not an address and port such as 127.0.0.1:8080"))
            })?,
        };
        let data_dir = PathBuf::from(get("TOWNHALL_DATA_DIR").unwrap_or_else(|| "./data".into()));
        let database_url = match get("DATABASE_URL") {
            None => format!("sqlite://{}", data_dir.join("townhall.db").display()),
            Some(v) if ["sqlite:", "postgres://", "postgresql://"].iter().any(|p| v.starts_with(p)) => v,
            Some(v) => {
                return Err(ConfigError(format!(
                    "DATABASE_URL: `{}` must start with sqlite: or postgres://",
                    redact_password(&v)
                )));
            }
        };
        let public_url = match get("TOWNHALL_PUBLIC_URL") {
            None => None,
            Some(v) => {
                let v = v.trim().trim_end_matches('/').to_owned();
                let rest = v.strip_prefix("https://").or_else(|| v.strip_prefix("http://"));
                match rest {
                    Some(host) if !host.is_empty() && !host.contains('/') => Some(v),
                    _ => {
                        return Err(ConfigError(format!(
                            "TOWNHALL_PUBLIC_URL: `{v}` must be an http:// or https:// origin without a path"
                        )));
                    }
                }
            }
        };
        let max_post_chars = match get("TOWNHALL_MAX_POST_CHARS") {
            None => DEFAULT_MAX_POST_CHARS,
            Some(v) => match v.trim().parse::<usize>() {
                Ok(n) if (1..=10_000).contains(&n) => n,
                _ => {
                    return Err(ConfigError(format!(
                        "TOWNHALL_MAX_POST_CHARS: `{v}` must be a whole number from 1 to 10000"
                    )));
                }
            },
        };
        let signup = match get("TOWNHALL_SIGNUP") {
            None => SignupPolicy::Open,
            Some(v) => SignupPolicy::parse(&v).ok_or_else(|| {
                ConfigError(format!(
                    "TOWNHALL_SIGNUP: `{v}` must be `open`, `invite`, `closed` or a comma-separated list of e-mail domains such as example.com,example.org"
                ))
            })?,
        };
        let meili = match get("MEILI_URL") {
            None => None,
            Some(v) => {
                let url = v.trim().trim_end_matches('/').to_owned();
                let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
                if rest.is_none_or(str::is_empty) {
                    return Err(ConfigError(format!(
                        "MEILI_URL: `{url}` must be an http:// or https:// address such as http://127.0.0.1:7700"
                    )));
                }
                let prefix = get("MEILI_INDEX_PREFIX").unwrap_or_else(|| "townhall".into()).trim().to_owned();
                if !prefix.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') || prefix.len() > 100 {
                    return Err(ConfigError(format!(
                        "MEILI_INDEX_PREFIX: `{prefix}` may hold only letters, digits, `_` and `-`"
                    )));
                }
                Some(MeiliConfig { url, key: get("MEILI_MASTER_KEY").map(|k| k.trim().to_owned()), prefix })
            }
        };
        let trusted_proxies =
            TrustedProxies::parse(&get("TOWNHALL_TRUSTED_PROXIES").unwrap_or_default()).map_err(|entry| {
                ConfigError(format!(
                    "TOWNHALL_TRUSTED_PROXIES: `{entry}` is not an address or network such as 10.0.0.5 or 10.0.0.0/8"
                ))
            })?;
        let max_connections = get("TOWNHALL_MAX_CONNECTIONS")
            .map(|v| whole_number("TOWNHALL_MAX_CONNECTIONS", &v, 16, 1_000_000))
            .transpose()?;
        let max_connections_per_address = get("TOWNHALL_MAX_CONNECTIONS_PER_ADDRESS")
            .map(|v| whole_number("TOWNHALL_MAX_CONNECTIONS_PER_ADDRESS", &v, 1, 1_000_000))
            .transpose()?
            .unwrap_or(DEFAULT_CONNECTIONS_PER_ADDRESS);
        let mail = match get("TOWNHALL_SMTP_URL") {
            None => None,
            Some(url) => {
                let mut mail = MailConfig::parse(&url, &get("TOWNHALL_MAIL_FROM").unwrap_or_default())?;
                if public_url.is_none() {
                    return Err(ConfigError(
                        "TOWNHALL_PUBLIC_URL: required when TOWNHALL_SMTP_URL is set, since every link in a mail is built from it (such as https://townhall.example.com)".into(),
                    ));
                }
                if let Some(v) = get("TOWNHALL_SMTP_TIMEOUT") {
                    mail.timeout =
                        std::time::Duration::from_secs(whole_number("TOWNHALL_SMTP_TIMEOUT", &v, 1, 300)? as u64);
                }
                if let Some(file) = get("TOWNHALL_SMTP_CA_FILE") {
                    let file = PathBuf::from(file.trim());
                    if !file.is_file() {
                        return Err(ConfigError(format!(
                            "TOWNHALL_SMTP_CA_FILE: `{}` is not a readable file",
                            file.display()
                        )));
                    }
                    mail.ca_file = Some(file);
                }
                Some(mail)
            }
        };
        Ok(Config {
            listen,
            database_url,
            data_dir,
            public_url,
            max_post_chars,
            signup,
            meili,
            trusted_proxies,
            max_connections,
            max_connections_per_address,
            mail,
        })
    }

    /// Session cookies carry `Secure` only when people reach the site over https: browsers and
    /// clients drop Secure cookies on plain-http hosts other than localhost.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.as_deref().is_some_and(|u| u.starts_with("https://"))
    }

    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }
}

/// Connections one client address may hold open by default. A browser opens about six per site;
/// the margin is for several people behind one address that is not a configured proxy.
pub const DEFAULT_CONNECTIONS_PER_ADDRESS: usize = 512;

fn whole_number(name: &str, value: &str, least: usize, most: usize) -> Result<usize, ConfigError> {
    match value.trim().parse::<usize>() {
        Ok(n) if (least..=most).contains(&n) => Ok(n),
        _ => Err(ConfigError(format!("{name}: `{value}` must be a whole number from {least} to {most}"))),
    }
}

fn redact_password(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}://***{}", &url[..scheme_end], &url[at..])
        }
        _ => url.to_owned(),
    }
}

/// Networks whose connections may say whom they forward (`10.0.0.0/8`, `127.0.0.1`, `::1`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<(IpAddr, u8)>);

impl TrustedProxies {
    /// Parses a comma list of addresses and networks; the error names the entry that is neither.
    pub fn parse(list: &str) -> Result<TrustedProxies, String> {
        let mut networks = Vec::new();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (address, prefix) = entry.split_once('/').unwrap_or((entry, ""));
            let address: IpAddr = address.parse().map_err(|_| entry.to_owned())?;
            let widest = if address.is_ipv4() { 32 } else { 128 };
            let prefix = if prefix.is_empty() { widest } else { prefix.parse::<u8>().map_err(|_| entry.to_owned())? };
            if prefix > widest {
                return Err(entry.to_owned());
            }
            networks.push((address, prefix));
        }
        Ok(TrustedProxies(networks))
    }

    pub fn contains(&self, address: IpAddr) -> bool {
        let address = canonical(address);
        self.0.iter().any(|(network, prefix)| match (canonical(*network), address) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                masked(u32::from(n).into(), *prefix, 32) == masked(u32::from(a).into(), *prefix, 32)
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                masked(u128::from(n), *prefix, 128) == masked(u128::from(a), *prefix, 128)
            }
            _ => false,
        })
    }
}

fn masked(value: u128, prefix: u8, width: u8) -> u128 {
    if prefix == 0 { 0 } else { value >> (width - prefix) }
}

/// An IPv4 address seen as IPv6 (`::ffff:10.0.0.1`) is the IPv4 address.
pub fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_serve_sqlite_under_data_on_localhost() {
        let c = config(&[]).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.database_url, "sqlite://./data/townhall.db");
        assert_eq!(c.max_post_chars, 1000);
        assert_eq!(c.signup, SignupPolicy::Open);
        assert!(!c.secure_cookies());
    }

    #[test]
    fn each_bad_value_names_its_variable() {
        for (name, value) in [
            ("TOWNHALL_LISTEN", "localhost"),
            ("DATABASE_URL", "mysql://u:secret@h/db"),
            ("TOWNHALL_PUBLIC_URL", "ftp://x"),
            ("TOWNHALL_MAX_POST_CHARS", "0"),
            ("TOWNHALL_SIGNUP", "nobody"),
            ("TOWNHALL_TRUSTED_PROXIES", "10.0.0.0/8,proxy"),
            ("TOWNHALL_MAX_CONNECTIONS", "5"),
            ("TOWNHALL_MAX_CONNECTIONS_PER_ADDRESS", "many"),
        ] {
            let message = config(&[(name, value)]).unwrap_err().to_string();
            assert!(message.starts_with(name), "{message}");
            assert!(!message.contains("secret"), "{message}");
        }
    }

    #[test]
    fn https_public_url_makes_cookies_secure_and_domains_limit_signup() {
        let c = config(&[
            ("TOWNHALL_PUBLIC_URL", "https://th.example.com/"),
            ("TOWNHALL_SIGNUP", "Example.com, @corp.org"),
        ])
        .unwrap();
        assert!(c.secure_cookies());
        assert_eq!(c.public_url.as_deref(), Some("https://th.example.com"));
        assert!(c.signup.allows("ana@EXAMPLE.com"));
        assert!(c.signup.allows("bo@corp.org"));
        assert!(!c.signup.allows("eve@example.com.evil.net"));
    }

    #[test]
    fn smtp_urls_choose_tls_port_and_credentials() {
        let with = |url: &str| {
            config(&[
                ("TOWNHALL_SMTP_URL", url),
                ("TOWNHALL_MAIL_FROM", "Townhall <townhall@example.com>"),
                ("TOWNHALL_PUBLIC_URL", "https://th.example.com"),
            ])
        };
        let m = with("smtp://ana%40example.com:p%40ss%3Aw@mail.example.com").unwrap().mail.unwrap();
        assert_eq!((m.host.as_str(), m.port, m.tls), ("mail.example.com", 587, SmtpTls::StartTls));
        assert_eq!(m.credentials, Some(("ana@example.com".into(), "p@ss:w".into())));
        let m = with("smtps://mail.example.com").unwrap().mail.unwrap();
        assert_eq!((m.port, m.tls, m.credentials), (465, SmtpTls::Implicit, None));
        let m = with("smtp://127.0.0.1:2525").unwrap().mail.unwrap();
        assert_eq!((m.port, m.tls), (2525, SmtpTls::None));
        assert_eq!(with("smtp://127.0.0.1:2525?tls=starttls").unwrap().mail.unwrap().tls, SmtpTls::StartTls);
        assert_eq!(with("smtp://relay.corp:25?tls=none").unwrap().mail.unwrap().tls, SmtpTls::None);
        for bad in ["http://mail.example.com", "smtp://", "smtps://h?tls=none", "smtp://h?tls=maybe"] {
            let message = with(bad).unwrap_err().to_string();
            assert!(message.starts_with("TOWNHALL_SMTP_URL"), "{bad}: {message}");
        }
        let secret = with("smtp://u:hunter2@h:x").unwrap_err().to_string();
        assert!(!secret.contains("hunter2"), "{secret}");
    }

    #[test]
    fn mail_needs_a_sender_and_a_public_address() {
        let no_from =
            config(&[("TOWNHALL_SMTP_URL", "smtp://127.0.0.1"), ("TOWNHALL_PUBLIC_URL", "https://t.example")]);
        assert!(no_from.unwrap_err().to_string().starts_with("TOWNHALL_MAIL_FROM"));
        let bad_from = config(&[
            ("TOWNHALL_SMTP_URL", "smtp://127.0.0.1"),
            ("TOWNHALL_MAIL_FROM", "Townhall <not an address>"),
            ("TOWNHALL_PUBLIC_URL", "https://t.example"),
        ]);
        assert!(bad_from.unwrap_err().to_string().starts_with("TOWNHALL_MAIL_FROM"));
        let no_public = config(&[("TOWNHALL_SMTP_URL", "smtp://127.0.0.1"), ("TOWNHALL_MAIL_FROM", "t@example.com")]);
        assert!(no_public.unwrap_err().to_string().starts_with("TOWNHALL_PUBLIC_URL"));
        assert!(config(&[]).unwrap().mail.is_none());
    }
}
