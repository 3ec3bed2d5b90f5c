//! What a moderator does to a reported (or any) post, idea or comment, for any front door: the
//! action, its report's outcome and its audit entry commit together, and the author's open pages
//! hear of a warning or a suspension at once.

use super::target::{excerpt, load_target};
use super::{ObjectKind, Outcome, store, suspend_account, suspension_end};
use crate::accounts::{self, User};
use crate::bus::{Event, Hub};
use crate::db::{Db, now};
use crate::ideas::store as ideas;
use crate::notify::{self, About, Kind};
use crate::posts::store as posts;
use crate::web::AppError;

/// A moderator's action, as the queue's buttons name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Dismiss,
    Hide,
    Restore,
    Delete,
    Warn,
    Suspend,
}

impl Action {
    pub fn parse(value: &str) -> Option<Action> {
        Some(match value {
            "dismiss" => Action::Dismiss,
            "hide" => Action::Hide,
            "restore" => Action::Restore,
            "delete" => Action::Delete,
            "warn" => Action::Warn,
            "suspend" => Action::Suspend,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Dismiss => "dismiss",
            Action::Hide => "hide",
            Action::Restore => "restore",
            Action::Delete => "delete",
            Action::Warn => "warn",
            Action::Suspend => "suspend",
        }
    }
}

/// What the moderator gave with the action.
pub struct Asked<'a> {
    /// A warning's text, why the author is suspended, or a note for the audit log.
    pub message: &'a str,
    /// How long a suspension lasts (one of [`super::DURATIONS`]).
    pub duration: &'a str,
    /// A deletion was confirmed.
    pub confirmed: bool,
}

/// Takes `action` on the object; returns the notice for the moderator. The caller has checked that
/// `moderator` moderates.
pub async fn act(
    db: &Db,
    live: &Hub,
    moderator: &User,
    kind: ObjectKind,
    id: i64,
    action: Action,
    asked: Asked<'_>,
) -> Result<String, AppError> {
    let message = asked.message;
    let mut tx = db.begin().await?;
    let target = load_target(&mut tx, kind, id).await?.ok_or(AppError::NotFound)?;
    let me = moderator.id;
    let noun = kind.noun();
    let object = kind.as_str();
    let notice = match action {
        Action::Dismiss => {
            store::resolve(&mut tx, kind, id, Outcome::Dismissed, me).await?;
            crate::audit::record(&mut tx, me, &format!("{object}.dismiss_reports"), object, id, message).await?;
            format!("Reports on the {noun} dismissed.")
        }
        Action::Hide | Action::Restore => {
            let hidden_at = (action == Action::Hide).then(now);
            match kind {
                ObjectKind::Post => posts::set_hidden(&mut tx, id, hidden_at).await?,
                ObjectKind::Idea => ideas::set_idea_hidden(&mut tx, id, hidden_at).await?,
                ObjectKind::Comment => ideas::set_comment_hidden(&mut tx, id, hidden_at).await?,
            }
            if hidden_at.is_some() {
                store::resolve(&mut tx, kind, id, Outcome::Hidden, me).await?;
            }
            crate::audit::record(&mut tx, me, &format!("{object}.{}", action.as_str()), object, id, message).await?;
            if hidden_at.is_some() {
                format!("The {noun} is hidden. Its author and moderators still see it; you can restore it.")
            } else {
                format!("The {noun} is visible again.")
            }
        }
        Action::Delete => {
            if !asked.confirmed {
                return Err(AppError::BadRequest(format!(
                    "Confirm that the {noun} is to be deleted: it cannot be undone."
                )));
            }
            store::resolve(&mut tx, kind, id, Outcome::Deleted, me).await?;
            match kind {
                ObjectKind::Post => {
                    let row = posts::find_any(&mut tx, id).await?.ok_or(AppError::NotFound)?;
                    posts::delete(&mut tx, &row).await?;
                }
                ObjectKind::Idea => ideas::delete_idea(&mut tx, id).await?,
                ObjectKind::Comment => ideas::delete_comment(&mut tx, id).await?,
            }
            crate::audit::record(&mut tx, me, &format!("{object}.delete"), object, id, message).await?;
            format!("The {noun} was deleted.")
        }
        Action::Warn => {
            if message.is_empty() {
                return Err(AppError::BadRequest("Write the warning the author will read.".into()));
            }
            // The warning says what it is about: the first line of the text (an idea's title).
            let about = excerpt(target.text.lines().next().unwrap_or_default(), 80);
            let told = format!("About your {noun} “{about}”: {message}");
            notify::notify(&mut tx, target.author_id, Kind::Warning, me, About::Message(&told)).await?;
            store::resolve(&mut tx, kind, id, Outcome::Warned, me).await?;
            // An anonymous author stays anonymous in the log too: the entry names the idea.
            if target.anonymous {
                crate::audit::record(&mut tx, me, "idea.warn_author", object, id, message).await?;
            } else {
                crate::audit::record(&mut tx, me, "user.warn", "user", target.author_id, message).await?;
            }
            "The author was warned.".to_owned()
        }
        Action::Suspend => {
            if target.anonymous {
                return Err(AppError::BadRequest(
                    "This idea is anonymous. An admin can reveal its author first (that is written to the audit log)."
                        .into(),
                ));
            }
            if message.is_empty() {
                return Err(AppError::BadRequest("Give the reason for the suspension.".into()));
            }
            let until = suspension_end(asked.duration, now())
                .ok_or_else(|| AppError::BadRequest("Choose how long the suspension lasts.".into()))?;
            let author = accounts::store::find_by_id(&mut tx, target.author_id).await?.ok_or(AppError::NotFound)?;
            suspend_account(&mut tx, moderator, &author, until, message).await?;
            store::resolve(&mut tx, kind, id, Outcome::Suspended, me).await?;
            format!(
                "{} is suspended {}.",
                author.display_name,
                if until == accounts::FOREVER { "for good" } else { "for now" }
            )
        }
    };
    tx.commit().await?;
    if matches!(action, Action::Warn | Action::Suspend) {
        // The author's open pages hear of the warning, or end their live streams.
        live.publish(Event::Notified { user_id: target.author_id }).await;
    }
    tracing::info!(moderator = me, kind = object, id, action = action.as_str(), "moderation action");
    Ok(notice)
}
