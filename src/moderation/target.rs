//! What a report or a moderator's action is about (a post, an idea or a comment), as moderation
//! sees it, and who may report it.

use super::ObjectKind;
use crate::accounts::{self, User};
use crate::db::{Db, Exec};
use crate::ideas::store as ideas;
use crate::ideas::store::IdeaRow;
use crate::posts::PostRow;
use crate::posts::store as posts;
use crate::web::AppError;
use crate::web::path::parse_id;

/// Something reported, as a page shows it.
pub struct Target {
    pub kind: ObjectKind,
    pub id: i64,
    pub author_id: i64,
    /// The author's name, or "Anonymous" for an anonymous idea.
    pub author: String,
    pub author_username: Option<String>,
    pub text: String,
    pub link: String,
    pub hidden: bool,
    /// An anonymous idea: its author is not shown, and cannot be suspended from here.
    pub anonymous: bool,
}

pub fn excerpt(text: &str, max: usize) -> String {
    let mut out: String = text.chars().take(max).collect();
    if text.chars().count() > max {
        out.push('…');
    }
    out
}

fn post_target(p: PostRow) -> Target {
    Target {
        kind: ObjectKind::Post,
        id: p.id,
        author_id: p.author_id,
        author: p.author_display_name.clone(),
        author_username: Some(p.author_username.clone()),
        link: format!("/posts/{}#post-{}", p.thread_id(), p.id),
        hidden: p.hidden_at.is_some(),
        text: p.body,
        anonymous: false,
    }
}

fn idea_target(i: IdeaRow) -> Target {
    Target {
        kind: ObjectKind::Idea,
        id: i.id,
        author_id: i.author_id,
        // Moderators act on the idea, not its author: an anonymous one stays unnamed here.
        author: match crate::ideas::byline(i.anonymous, false) {
            crate::ideas::Byline::Named => i.author_display_name.clone(),
            _ => "Anonymous".into(),
        },
        author_username: (!i.anonymous).then(|| i.author_username.clone()),
        link: format!("/ideas/{}", i.id),
        hidden: i.hidden_at.is_some(),
        text: format!("{}\n\n{}", i.title, i.body),
        anonymous: i.anonymous,
    }
}

async fn comment_target(db: &mut impl Exec, id: i64) -> Result<Option<(Target, i64)>, sqlx::Error> {
    let Some(ideas::CommentFound { id, idea_id, author_id, body, hidden_at }) = ideas::find_comment(db, id).await?
    else {
        return Ok(None);
    };
    let author = accounts::store::find_by_id(db, author_id).await?;
    let target = Target {
        kind: ObjectKind::Comment,
        id,
        author_id,
        author: author.as_ref().map_or_else(|| accounts::FORMER_EMPLOYEE.into(), |a| a.display_name.clone()),
        author_username: author.map(|a| a.username),
        link: format!("/ideas/{idea_id}#comment-{id}"),
        hidden: hidden_at.is_some(),
        text: body,
        anonymous: false,
    };
    Ok(Some((target, idea_id)))
}

/// The object as a moderator sees it (whoever may see it otherwise); `None` when it is gone.
pub async fn load_target(db: &mut impl Exec, kind: ObjectKind, id: i64) -> Result<Option<Target>, sqlx::Error> {
    Ok(match kind {
        ObjectKind::Post => posts::find_any(db, id).await?.filter(|p| !p.is_deleted()).map(post_target),
        ObjectKind::Idea => ideas::find_idea(db, id).await?.map(idea_target),
        ObjectKind::Comment => comment_target(db, id).await?.map(|(target, _)| target),
    })
}

/// The object `viewer` asks to report, if they may see it; a 404 otherwise, as for any page.
pub async fn reportable(db: &Db, viewer: &User, kind: &str, raw_id: &str) -> Result<Target, AppError> {
    let kind = ObjectKind::parse(kind).ok_or(AppError::NotFound)?;
    let id = parse_id(raw_id)?;
    let mut reader = db;
    // An idea (a comment's too) the viewer may open: its campaign visible, itself not concealed.
    let visible_idea = |idea_id: i64| async move {
        let (idea, _) = crate::ideas::write::find(db, viewer, idea_id).await?;
        if idea.concealed_from(viewer) { Err(AppError::NotFound) } else { Ok(idea) }
    };
    let target = match kind {
        ObjectKind::Post => {
            let post = posts::find_visible(&mut reader, id, viewer.id).await?;
            post_target(post.filter(|p| !p.is_deleted()).ok_or(AppError::NotFound)?)
        }
        ObjectKind::Idea => idea_target(visible_idea(id).await?),
        ObjectKind::Comment => {
            let (target, idea_id) = comment_target(&mut reader, id).await?.ok_or(AppError::NotFound)?;
            visible_idea(idea_id).await?;
            target
        }
    };
    if target.hidden && !viewer.is_moderator() && target.author_id != viewer.id {
        return Err(AppError::NotFound);
    }
    Ok(target)
}
