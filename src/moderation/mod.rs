//! Moderation: members report posts, replies, ideas and comments; a keyword watch list flags new and
//! edited text; moderators work the queue (dismiss, hide and restore, delete, warn, suspend), and every
//! action closes the reports, tells the reporters and is written to the audit log.

pub mod act;
pub mod handled;
pub mod routes;
pub mod store;
pub mod target;

pub use crate::watch::ObjectKind;

use crate::accounts::CurrentUser;
use crate::accounts::{self, Role, User};
use crate::db::Tx;
use crate::web::AppError;
use crate::web::form::Field;

/// A reporter's note to the moderators.
pub const NOTE: Field = Field::new("The note", 0, 1000);
/// A moderator's warning, or why an author is suspended.
pub const MESSAGE: Field = Field::new("The message", 0, 1000);

/// Why a member reports something: (value, label).
pub const REASONS: [(&str, &str); 6] = [
    ("spam", "Spam or advertising"),
    ("harassment", "Harassment or bullying"),
    ("hateful", "Hateful or discriminatory"),
    ("confidential", "Shares confidential or personal information"),
    ("misleading", "False or misleading"),
    ("other", "Something else"),
];

pub fn reason_label(value: &str) -> &str {
    match value {
        "keyword" => "Matched a watched keyword",
        _ => REASONS.iter().find(|(v, _)| *v == value).map_or(value, |(_, label)| label),
    }
}

/// What a moderator did with a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Dismissed,
    Hidden,
    Deleted,
    Warned,
    Suspended,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Dismissed => "dismissed",
            Outcome::Hidden => "hidden",
            Outcome::Deleted => "deleted",
            Outcome::Warned => "warned",
            Outcome::Suspended => "suspended",
        }
    }

    /// What the reporter is told.
    pub fn for_reporter(self, noun: &str) -> String {
        match self {
            Outcome::Dismissed => format!("The {noun} you reported was reviewed and left as it is."),
            Outcome::Hidden => format!("The {noun} you reported was hidden. Thank you."),
            Outcome::Deleted => format!("The {noun} you reported was deleted. Thank you."),
            Outcome::Warned => format!("The author of the {noun} you reported was warned. Thank you."),
            Outcome::Suspended => format!("The author of the {noun} you reported was suspended. Thank you."),
        }
    }
}

/// How a report reads to the person who made it.
pub fn state_label(outcome: Option<&str>) -> &'static str {
    match outcome {
        None => "Waiting for a moderator",
        Some("dismissed") => "Reviewed: no action taken",
        Some("hidden") => "Reviewed: hidden",
        Some("deleted") => "Reviewed: deleted",
        Some("warned") => "Reviewed: the author was warned",
        Some("suspended") => "Reviewed: the author was suspended",
        Some(_) => "Reviewed",
    }
}

/// Moderators and admins only.
pub fn require_moderator(current: &CurrentUser) -> Result<(), AppError> {
    if current.user.is_moderator() { Ok(()) } else { Err(AppError::Forbidden("Only moderators can do that.")) }
}

/// How long a suspension lasts: (form value, label, seconds; None for good).
pub const DURATIONS: [(&str, &str, Option<i64>); 5] = [
    ("1d", "1 day", Some(86_400)),
    ("7d", "7 days", Some(7 * 86_400)),
    ("30d", "30 days", Some(30 * 86_400)),
    ("90d", "90 days", Some(90 * 86_400)),
    ("forever", "For good", None),
];

/// The `suspended_until` of a duration chosen in a form, from `now`.
pub fn suspension_end(value: &str, now: i64) -> Option<i64> {
    DURATIONS
        .iter()
        .find(|(v, _, _)| *v == value)
        .map(|(_, _, secs)| secs.map_or(crate::accounts::FOREVER, |s| now + s))
}

/// Moderators may suspend members and managers; admins anyone but themselves.
pub fn may_suspend(actor: &User, target: &User) -> bool {
    if actor.id == target.id {
        return false;
    }
    match actor.role() {
        Role::Admin => true,
        Role::Moderator => matches!(target.role(), Role::Member | Role::Manager),
        _ => false,
    }
}

/// Suspends `target` (an admin's action from their account page): one transaction, then their
/// open pages' live streams end at once.
pub async fn suspend(
    db: &crate::db::Db,
    live: &crate::bus::Hub,
    actor: &User,
    target: &User,
    until: i64,
    reason: &str,
) -> Result<(), AppError> {
    let mut tx = db.begin().await?;
    suspend_account(&mut tx, actor, target, until, reason).await?;
    tx.commit().await?;
    live.publish(crate::bus::Event::Notified { user_id: target.id }).await;
    tracing::info!(admin = actor.id, user = target.id, until, "account suspended");
    Ok(())
}

/// Suspends `target` inside `tx`: checks the actor may, keeps one admin able to sign in, ends the
/// target's sessions, and writes the audit log.
pub async fn suspend_account(
    tx: &mut Tx,
    actor: &User,
    target: &User,
    until: i64,
    reason: &str,
) -> Result<(), AppError> {
    if !may_suspend(actor, target) {
        return Err(AppError::Forbidden("You cannot suspend this person."));
    }
    if target.is_admin() && accounts::store::active_admins(tx).await? <= 1 {
        return Err(AppError::BadRequest("This is the last administrator who can sign in.".into()));
    }
    accounts::store::suspend(tx, target.id, until, reason).await?;
    let what = if until == accounts::FOREVER {
        "for good".to_owned()
    } else {
        format!("until {}", crate::format::date_time(until))
    };
    crate::audit::record(tx, actor.id, "user.suspend", "user", target.id, &format!("{what}: {reason}")).await?;
    Ok(())
}
