//! Site settings an admin changes at run time (name, welcome text, post length, sign-up policy),
//! stored in the database and kept in memory for a few seconds, so pages do not read them each time.
//! The environment's values are the defaults until an admin saves the settings page.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::config::{Config, SignupPolicy};
use crate::db::{Db, Exec, Tx, sql};

/// How long a process trusts its copy; another process's change shows within this time.
const FRESH_FOR: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    pub name: String,
    /// A short text shown on the sign-in and sign-up pages.
    pub welcome: String,
    pub max_post_chars: usize,
    pub signup: SignupPolicy,
    /// Members (not only admins) may create invitation links.
    pub members_invite: bool,
    /// The time zone times are shown in for people who chose none (an IANA name).
    pub time_zone: String,
}

impl Site {
    /// The settings before anyone configured anything.
    fn built_in() -> Site {
        Site {
            name: "Townhall".into(),
            welcome: String::new(),
            max_post_chars: crate::config::DEFAULT_MAX_POST_CHARS,
            signup: SignupPolicy::Open,
            members_invite: false,
            time_zone: "UTC".into(),
        }
    }

    /// The environment's values over the built-in ones, until an admin saves the settings page.
    pub fn defaults(config: &Config) -> Site {
        Site { max_post_chars: config.max_post_chars, signup: config.signup.clone(), ..Site::built_in() }
    }

    fn apply(&mut self, key: &str, value: &str) {
        match key {
            "name" if !value.trim().is_empty() => self.name = value.to_owned(),
            "welcome" => self.welcome = value.to_owned(),
            "max_post_chars" => {
                if let Ok(n) = value.parse::<usize>()
                    && (1..=10_000).contains(&n)
                {
                    self.max_post_chars = n;
                }
            }
            "signup" => {
                if let Some(policy) = SignupPolicy::parse(value) {
                    self.signup = policy;
                }
            }
            "members_invite" => self.members_invite = value == "true",
            "time_zone" => {
                if let Some(zone) = crate::format::Zone::named(value) {
                    self.time_zone = zone.name().to_owned();
                }
            }
            _ => {}
        }
    }

    fn pairs(&self) -> [(&'static str, String); 6] {
        [
            ("name", self.name.clone()),
            ("welcome", self.welcome.clone()),
            ("max_post_chars", self.max_post_chars.to_string()),
            ("signup", self.signup.as_setting()),
            ("members_invite", self.members_invite.to_string()),
            ("time_zone", self.time_zone.clone()),
        ]
    }
}

/// The settings as this process last read them.
#[derive(Clone)]
pub struct Cache {
    defaults: Arc<Site>,
    current: Arc<RwLock<(Arc<Site>, Option<Instant>)>>,
}

impl Cache {
    pub fn new(defaults: Site) -> Cache {
        let defaults = Arc::new(defaults);
        Cache { current: Arc::new(RwLock::new((defaults.clone(), None))), defaults }
    }

    /// The settings, read again from the database when this copy is older than a few seconds. If the
    /// database does not answer, the last copy serves for another few seconds.
    pub async fn get(&self, db: &Db) -> Arc<Site> {
        if let Ok(guard) = self.current.read()
            && guard.1.is_some_and(|at| at.elapsed() < FRESH_FOR)
        {
            return guard.0.clone();
        }
        match load(&mut db.clone(), &self.defaults).await {
            Ok(site) => self.put(site),
            // The last copy serves for another few seconds rather than each request asking again.
            Err(e) => {
                tracing::warn!(error = %e, "site settings not read; using the last copy");
                let last = self.current.read().map(|g| g.0.clone()).unwrap_or_else(|_| self.defaults.clone());
                self.put((*last).clone())
            }
        }
    }

    fn put(&self, site: Site) -> Arc<Site> {
        let site = Arc::new(site);
        if let Ok(mut guard) = self.current.write() {
            *guard = (site.clone(), Some(Instant::now()));
        }
        site
    }

    /// Writes every setting in `tx` and returns what changed, for the audit log (see [`changes`]).
    /// After the commit, [`Cache::adopt`] makes them this process's copy at once.
    pub async fn write(&self, tx: &mut Tx, site: &Site) -> Result<String, sqlx::Error> {
        let before = load(tx, &self.defaults).await?;
        for (key, value) in site.pairs() {
            tx.execute(
                sql("INSERT INTO site_settings (key, value) VALUES ($1, $2)
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value")
                .bind(key)
                .bind(value),
            )
            .await?;
        }
        Ok(changes(&before, site))
    }

    /// Makes `site` this process's copy (other processes read it within a few seconds).
    pub fn adopt(&self, site: Site) {
        self.put(site);
    }
}

/// What a save changed, for the audit log: `name: “Townhall” → “Acme Talk”; signup: open → closed`
/// (each value cut at 80 characters), or "no change".
fn changes(before: &Site, after: &Site) -> String {
    let shown = |value: &str| {
        let mut cut: String = value.chars().take(80).collect();
        if value.chars().count() > 80 {
            cut.push('…');
        }
        format!("“{cut}”")
    };
    let lines: Vec<String> = before
        .pairs()
        .into_iter()
        .zip(after.pairs())
        .filter(|((_, old), (_, new))| old != new)
        .map(|((key, old), (_, new))| format!("{key}: {} → {}", shown(&old), shown(&new)))
        .collect();
    if lines.is_empty() { "no change".to_owned() } else { lines.join("; ") }
}

async fn load(db: &mut impl Exec, defaults: &Site) -> Result<Site, sqlx::Error> {
    let rows: Vec<(String, String)> = db.fetch_all(sql("SELECT key, value FROM site_settings")).await?;
    let mut site = defaults.clone();
    for (key, value) in rows {
        site.apply(&key, &value);
    }
    Ok(site)
}

tokio::task_local! {
    static CURRENT: Arc<Site>;
}

/// Makes the settings available to everything the request runs (templates read the site's name).
pub async fn middleware(State(cache): State<(Cache, Db)>, request: Request, next: Next) -> Response {
    let site = cache.0.get(&cache.1).await;
    // Times show in the site's zone until the signed-in person's own choice is known.
    let zone = crate::format::Zone::named(&site.time_zone).unwrap_or(crate::format::Zone::UTC);
    crate::format::with_zone(zone, CURRENT.scope(site, next.run(request))).await
}

/// The settings of the request being served; outside a request (unit tests), a default copy.
pub fn current() -> Arc<Site> {
    CURRENT.try_with(|site| site.clone()).unwrap_or_else(|_| Arc::new(Site::built_in()))
}

/// The site's name, for page titles and the header.
pub fn name() -> String {
    current().name.clone()
}
