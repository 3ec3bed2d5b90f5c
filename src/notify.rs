//! Telling people: what a notification is (its [`Kind`], what it is [`About`]) and writing one, in
//! the transaction of what caused it. Every feature that tells someone something calls [`notify`];
//! the notifications page and the header's count are in `notifications`.

use crate::db::{Exec, now, sql};

/// Why someone is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Reply,
    Mention,
    Like,
    Follow,
    Invite,
    JoinRequest,
    JoinApproved,
    IdeaComment,
    /// An answer to a comment of theirs on an idea.
    CommentReply,
    /// A comment on an idea names them.
    IdeaMention,
    IdeaStage,
    IdeaResponse,
    /// A moderator's warning, with its text.
    Warning,
    /// What became of a report the person made.
    ReportOutcome,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Reply => "reply",
            Kind::Mention => "mention",
            Kind::Like => "like",
            Kind::Follow => "follow",
            Kind::Invite => "invite",
            Kind::JoinRequest => "join_request",
            Kind::JoinApproved => "join_approved",
            Kind::IdeaComment => "idea_comment",
            Kind::CommentReply => "comment_reply",
            Kind::IdeaMention => "idea_mention",
            Kind::IdeaStage => "idea_stage",
            Kind::IdeaResponse => "idea_response",
            Kind::Warning => "warning",
            Kind::ReportOutcome => "report_outcome",
        }
    }
}

/// What a notification is about.
#[derive(Debug, Clone, Copy)]
pub enum About<'a> {
    /// A post (a reply, a mention, a like), or nothing more than the actor (a follow).
    Post(Option<i64>),
    /// An idea (a comment, an answer, a mention in a comment, an official response).
    Idea(i64),
    /// A community (an invitation, a join request, an approval).
    Community(i64),
    /// Words of a moderator's (a warning, what became of a report).
    Message(&'a str),
}

/// Tells `recipient_id` that `actor_id` did something. Nobody is told of their own actions, nor of a
/// post they may not see (a mention in a private community they are not in); a moderator's message
/// always goes.
pub async fn notify(
    db: &mut impl Exec,
    recipient_id: i64,
    kind: Kind,
    actor_id: i64,
    about: About<'_>,
) -> Result<(), sqlx::Error> {
    if recipient_id == actor_id && !matches!(about, About::Message(_)) {
        return Ok(());
    }
    // `$4` is now, `$5` what it is about.
    let text = match about {
        About::Post(_) => {
            "INSERT INTO notifications (recipient_id, kind, actor_id, created_at, post_id)
             SELECT $1, $2, $3, $4, $5
             WHERE NOT EXISTS (SELECT 1 FROM posts p
                               WHERE p.id = $5 AND p.members_only IS NOT NULL
                                 AND NOT EXISTS (SELECT 1 FROM community_members m
                                                 WHERE m.community_id = p.members_only AND m.user_id = $1))"
        }
        About::Idea(_) => {
            "INSERT INTO notifications (recipient_id, kind, actor_id, created_at, idea_id) VALUES ($1, $2, $3, $4, $5)"
        }
        About::Community(_) => {
            "INSERT INTO notifications (recipient_id, kind, actor_id, created_at, community_id)
             VALUES ($1, $2, $3, $4, $5)"
        }
        About::Message(_) => {
            "INSERT INTO notifications (recipient_id, kind, actor_id, created_at, message) VALUES ($1, $2, $3, $4, $5)"
        }
    };
    let query = sql(text).bind(recipient_id).bind(kind.as_str()).bind(actor_id).bind(now());
    let query = match about {
        About::Post(post_id) => query.bind(post_id),
        About::Idea(idea_id) => query.bind(idea_id),
        About::Community(community_id) => query.bind(community_id),
        About::Message(message) => query.bind(message.to_owned()),
    };
    db.execute(query).await?;
    Ok(())
}

/// Tells an idea's author and voters (but not `actor_id`) that it moved to `stage`, with the reason:
/// each notification keeps the stage it was sent for.
pub async fn notify_stage_change(
    db: &mut impl Exec,
    idea_id: i64,
    author_id: i64,
    actor_id: i64,
    stage: &str,
    reason: &str,
) -> Result<(), sqlx::Error> {
    db.execute(
        sql("INSERT INTO notifications (recipient_id, kind, actor_id, idea_id, created_at, stage, message)
             SELECT user_id, $5, $2, $1, $3, $6, $7 FROM idea_votes WHERE idea_id = $1 AND user_id <> $2 AND user_id <> $4
             UNION SELECT $4, $5, $2, $1, $3, $6, $7 WHERE $4 <> $2")
        .bind(idea_id)
        .bind(actor_id)
        .bind(now())
        .bind(author_id)
        .bind(Kind::IdeaStage.as_str())
        .bind(stage)
        .bind(reason),
    )
    .await?;
    Ok(())
}

/// Takes back a notification whose cause was undone (an unlike, an unfollow) if it is still unread.
pub async fn retract(
    db: &mut impl Exec,
    kind: Kind,
    actor_id: i64,
    recipient_id: i64,
    post_id: Option<i64>,
) -> Result<(), sqlx::Error> {
    db.execute(
        sql("DELETE FROM notifications
             WHERE kind = $1 AND actor_id = $2 AND recipient_id = $3
               AND (post_id = $4 OR (post_id IS NULL AND $4 IS NULL)) AND read_at IS NULL")
        .bind(kind.as_str())
        .bind(actor_id)
        .bind(recipient_id)
        .bind(post_id),
    )
    .await?;
    Ok(())
}
