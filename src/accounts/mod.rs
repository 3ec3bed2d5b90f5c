//! Accounts: who a person is, the rules for usernames, e-mail addresses and passwords, roles, and
//! password hashing.

pub mod addresses;
pub mod current;
pub mod invitations;
pub mod password_links;
pub mod routes;
pub mod sessions;
pub mod store;

pub use current::{CurrentUser, MaybeUser};

use std::fmt;
use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

use crate::web::AppError;

/// A signed-up person as the pages see them (never with the password hash).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub display_name: String,
    pub role: String,
    pub job_title: String,
    pub department: String,
    pub location: String,
    pub bio: String,
    pub created_at: i64,
    /// Until when the account is suspended (unix seconds; [`FOREVER`] for good), if it is.
    pub suspended_until: Option<i64>,
    pub suspension_reason: String,
    /// Set once the account was deleted: the row stays, anonymised, as a "former employee".
    pub deleted_at: Option<i64>,
    /// The time zone they chose (an IANA name), or empty for the site's.
    pub time_zone: String,
}

/// The `suspended_until` of a suspension without an end (the last second of the year 9999).
pub const FOREVER: i64 = 253_402_300_799;

impl User {
    pub fn role(&self) -> Role {
        Role::parse(&self.role).unwrap_or(Role::Member)
    }

    pub fn is_admin(&self) -> bool {
        self.role() == Role::Admin
    }

    /// Moderators and admins work the moderation queue and see hidden content.
    pub fn is_moderator(&self) -> bool {
        matches!(self.role(), Role::Moderator | Role::Admin)
    }

    /// True while a suspension lasts.
    pub fn is_suspended(&self, now: i64) -> bool {
        self.suspended_until.is_some_and(|until| until > now)
    }

    /// "for good" or "until 3 Dec 2026", for a suspended account.
    pub fn suspension_label(&self) -> String {
        match self.suspended_until {
            Some(FOREVER) => "for good".into(),
            Some(until) => format!("until {}", crate::format::date_time(until)),
            None => String::new(),
        }
    }
}

/// The form that names an account for a mailed link: a username or an e-mail address.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct LinkForm {
    pub login: String,
}

/// Someone not signed in asks for a link mailed to the account they name by username or address
/// ("Forgot password?", "Send the link again"). Mail must be configured (`no_mail` says what to do
/// instead); a client address may ask 20 times an hour, a typed name 3 times, and an account is sent
/// at most 3 such links an hour (counted in the database, so across processes).
/// `None` means: answer as if a link went out, so that neither whether the account exists nor
/// whether its allowance is used up shows (a link's mail is the one thing a stranger can make
/// Townhall send). Suspended and deleted accounts get nothing.
pub async fn link_asked_for<'a>(
    state: &'a crate::web::AppState,
    client: std::net::IpAddr,
    typed: &str,
    no_mail: &str,
) -> Result<Option<(crate::mail::Outgoing<'a>, User)>, AppError> {
    let Some(outgoing) = crate::mail::Outgoing::of(&state.config) else {
        return Err(AppError::BadRequest(no_mail.to_owned()));
    };
    let login: String = typed.trim().to_lowercase().chars().take(254).collect();
    if login.is_empty() {
        return Err(AppError::BadRequest("Type your username or e-mail address.".into()));
    }
    if !state.limits.reset_by_client.allow(&client.to_string()) {
        return Err(AppError::TooMany("Too many requests for mailed links from here. Try again in an hour."));
    }
    if !state.limits.reset_by_login.allow(&login) {
        return Ok(None);
    }
    let Some(user) = store::find_live_by_login(&mut &state.db, &login).await? else { return Ok(None) };
    // The account's own allowance is counted from the links it was sent, so it holds across processes.
    let at = crate::db::now();
    if user.is_suspended(at) || store::links_mailed_since(&mut &state.db, user.id, at - 3600).await? >= 3 {
        return Ok(None);
    }
    Ok(Some((outgoing, user)))
}

/// The account a path names (`/@Ana`, `/people/ana/follow`), whatever its case, or a 404.
pub async fn find_named(db: &mut impl crate::db::Exec, username: &str) -> Result<User, AppError> {
    store::find_by_username(db, &username.to_lowercase()).await?.ok_or(AppError::NotFound)
}

/// What a person may do beyond posting: managers run idea campaigns, moderators keep the peace,
/// admins run the site.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Member,
    Manager,
    Moderator,
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Member, Role::Manager, Role::Moderator, Role::Admin];

    pub fn parse(value: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str().eq_ignore_ascii_case(value.trim()))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Member => "member",
            Role::Manager => "manager",
            Role::Moderator => "moderator",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// 2-30 of `a-z 0-9 _`, stored in lower case so that "Ana" and "ana" are one name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(input: &str) -> Result<Username, String> {
        let name = input.trim().to_lowercase();
        if !(2..=30).contains(&name.chars().count()) {
            return Err("A username has 2 to 30 characters.".into());
        }
        if !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
            return Err("Use only letters a-z, digits and underscores.".into());
        }
        Ok(Username(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An e-mail address, trimmed and lower-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(input: &str) -> Result<Email, String> {
        let email = input.trim().to_lowercase();
        let valid = email.len() <= 254
            && !email.chars().any(|c| c.is_whitespace() || c.is_control())
            && email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            })
            // What the mail system can deliver to: no quotes, brackets or other header syntax.
            && email.parse::<lettre::Address>().is_ok();
        if valid { Ok(Email(email)) } else { Err("Enter an e-mail address such as ana@example.com.".into()) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password: 10 to 200 characters.
pub struct Password(String);

impl Password {
    pub fn parse(input: &str) -> Result<Password, String> {
        match input.chars().count() {
            n if n < 10 => Err("A password has at least 10 characters.".into()),
            n if n > 200 => Err("A password has at most 200 characters.".into()),
            _ => Ok(Password(input.to_owned())),
        }
    }
}

/// The name deleted accounts are shown under.
pub const FORMER_EMPLOYEE: &str = "Former employee";

/// A person's display name: text of 1 to 60 characters ([`crate::web::form::Field`]) on one line, without the characters that make one name
/// look like another (direction overrides and isolates, zero-width spaces and marks; a zero-width
/// joiner or non-joiner only between two visible characters, as scripts and emoji need them), and
/// never the name deleted accounts go by.
pub fn display_name(input: &str, label: &'static str) -> Result<String, String> {
    let name = String::from(crate::web::form::Field::new(label, 1, 60).read(input)?);
    if name.contains(['\n', '\r']) {
        return Err(format!("{label} fits on one line."));
    }
    let chars: Vec<char> = name.chars().collect();
    let visible = |c: Option<&char>| c.is_some_and(|c| !c.is_whitespace() && !is_invisible(*c));
    let spoofing = chars.iter().enumerate().any(|(i, c)| match c {
        '\u{200C}' | '\u{200D}' => !(i > 0 && visible(chars.get(i - 1)) && visible(chars.get(i + 1))),
        c => is_invisible(*c),
    });
    if spoofing {
        return Err(format!("{label} contains invisible or direction-changing characters."));
    }
    let folded = name.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
    if folded == FORMER_EMPLOYEE.to_lowercase() {
        return Err(format!("{label} cannot be “{FORMER_EMPLOYEE}”: that is how deleted accounts are shown."));
    }
    Ok(name)
}

/// Characters that change how text around them is shown without showing anything themselves
/// (joiners aside, which [`display_name`] allows between visible characters).
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}' | '\u{180E}'
        | '\u{200B}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{206F}' | '\u{3164}' | '\u{FEFF}' | '\u{FFA0}' | '\u{FFF9}'..='\u{FFFB}')
}

/// Password hashes computed at once. Each argon2 computation holds 19 MiB; without a bound, a burst
/// of sign-ins (or an attacker's) multiplies that (64 at once: 1.2 GiB) and the allocator keeps the
/// peak. Two at a time keep both cores busy; the rest wait their turn, in order.
static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

async fn hashing_turn() -> Result<tokio::sync::SemaphorePermit<'static>, AppError> {
    HASHING.acquire().await.map_err(|e| AppError::Internal(format!("password hashing: {e}")))
}

/// Hashes with argon2id (the crate's defaults: 19 MiB, 2 passes) off the async threads.
pub async fn hash_password(password: Password) -> Result<String, AppError> {
    let _turn = hashing_turn().await?;
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.0.as_bytes())
            .map(|hash| hash.to_string())
            .map_err(|e| AppError::Internal(format!("password hashing: {e}")))
    })
    .await
    .map_err(|e| AppError::Internal(format!("password hashing task: {e}")))?
}

/// Checks a password against a stored hash, off the async threads. With no hash (an unknown
/// account) it checks against a fixed dummy hash, so the answer takes as long either way and does not
/// tell which accounts exist.
pub async fn verify_password(password: String, hash: Option<String>) -> Result<bool, AppError> {
    let _turn = hashing_turn().await?;
    tokio::task::spawn_blocking(move || {
        let dummy = dummy_hash();
        // An account made by an admin has no password until its welcome link is used (`!`).
        let (hash, real) = match &hash {
            Some(h) if h.starts_with('$') => (h.as_str(), true),
            _ => (dummy, false),
        };
        let matches = Argon2::default().verify_password(password.as_bytes(), hash).is_ok();
        Ok(real && matches)
    })
    .await
    .map_err(|e| AppError::Internal(format!("password check task: {e}")))?
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        Argon2::default().hash_password(uuid::Uuid::new_v4().as_bytes()).map(|h| h.to_string()).unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_lower_cased_and_limited_to_a_small_alphabet() {
        assert_eq!(Username::parse(" Ana_B2 ").unwrap().as_str(), "ana_b2");
        assert!(Username::parse("a").is_err());
        assert!(Username::parse(&"a".repeat(31)).is_err());
        assert!(Username::parse("ana-b").is_err());
        assert!(Username::parse("ánä").is_err());
    }

    #[test]
    fn emails_need_a_local_part_and_a_dotted_domain() {
        assert_eq!(Email::parse(" Ana@Example.COM ").unwrap().as_str(), "ana@example.com");
        for bad in ["ana", "@example.com", "ana@example", "ana@@example.com", "a b@example.com", "ana@.com"] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_have_10_to_200_characters() {
        assert!(Password::parse("short").is_err());
        assert!(Password::parse("ten chars!").is_ok());
        assert!(Password::parse(&"x".repeat(201)).is_err());
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let hash = hash_password(Password::parse("correct horse battery").unwrap()).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery".into(), Some(hash.clone())).await.unwrap());
        assert!(!verify_password("wrong horse battery".into(), Some(hash)).await.unwrap());
        assert!(!verify_password("anything at all".into(), None).await.unwrap());
    }
}
