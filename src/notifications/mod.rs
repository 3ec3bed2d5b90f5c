//! Notifications: replies to your posts, mentions, likes and new followers; likes and follows are
//! grouped when shown ("Ana and 3 others liked your post"), with an unread count in the header.

pub mod mail;
pub mod routes;
pub mod settings;
pub mod store;

/// A notification row with its actor and post.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NotificationRow {
    pub id: i64,
    pub kind: String,
    pub post_id: Option<i64>,
    pub thread_id: Option<i64>,
    pub post_excerpt: Option<String>,
    pub created_at: i64,
    pub read_at: Option<i64>,
    pub actor_username: String,
    pub actor_display_name: String,
    pub community_slug: Option<String>,
    pub community_name: Option<String>,
    pub idea_id: Option<i64>,
    pub idea_title: Option<String>,
    pub idea_stage: Option<String>,
    pub message: String,
}

/// Notifications about the same thing, shown as one line.
pub struct Group {
    pub kind: String,
    /// Display names, newest first (at most three are named).
    pub actors: Vec<(String, String)>,
    pub post_id: Option<i64>,
    pub thread_id: Option<i64>,
    pub post_excerpt: String,
    pub community: Option<(String, String)>,
    /// The idea it is about: (id, title, stage).
    pub idea: Option<(i64, String, String)>,
    pub unread: bool,
    pub created_iso: String,
    pub created_label: String,
    /// The exact time, in the viewer's zone, shown on hover and focus.
    pub created_exact: String,
    /// A moderator's words (warnings, report outcomes).
    pub message: String,
}

impl Group {
    /// "Ana", "Ana and Bo", "Ana and 3 others".
    pub fn who(&self) -> String {
        if matches!(self.kind.as_str(), "warning" | "report_outcome") {
            return "The moderators".into();
        }
        let name = |i: usize| self.actors.get(i).map(|(_, n)| n.as_str()).unwrap_or("");
        match self.actors.len() {
            0 => String::new(),
            1 => name(0).to_owned(),
            2 => format!("{} and {}", name(0), name(1)),
            n => format!("{} and {} others", name(0), n - 1),
        }
    }

    pub fn what(&self) -> String {
        let community = self.community.as_ref().map(|(_, name)| name.as_str()).unwrap_or("a community");
        match self.kind.as_str() {
            "reply" => "replied to your post".into(),
            "mention" => "mentioned you".into(),
            "like" => "liked your post".into(),
            "invite" => format!("invited you to {community}"),
            "join_request" => format!("asked to join {community}"),
            "join_approved" => format!("let you into {community}"),
            "warning" => "sent you a warning".into(),
            "report_outcome" => "reviewed your report".into(),
            "idea_comment" => format!("commented on your idea “{}”", self.idea_title()),
            "comment_reply" => format!("answered your comment on the idea “{}”", self.idea_title()),
            "idea_mention" => format!("mentioned you in a comment on the idea “{}”", self.idea_title()),
            "idea_response" => format!("answered your idea “{}” officially", self.idea_title()),
            "idea_stage" => format!(
                "moved the idea “{}” to {}",
                self.idea_title(),
                self.idea.as_ref().map_or("", |(_, _, stage)| crate::ideas::stage_label(stage))
            ),
            _ => "followed you".into(),
        }
    }

    fn idea_title(&self) -> &str {
        self.idea.as_ref().map_or("", |(_, title, _)| title.as_str())
    }

    pub fn link(&self) -> String {
        match self.kind.as_str() {
            "report_outcome" => return "/reports".into(),
            "warning" => return "/notifications".into(),
            _ => {}
        }
        if let Some((id, _, _)) = &self.idea {
            return format!("/ideas/{id}");
        }
        if let Some((slug, _)) = &self.community {
            return match self.kind.as_str() {
                "join_request" => format!("/c/{slug}/members"),
                _ => format!("/c/{slug}"),
            };
        }
        match (self.thread_id, self.post_id, self.actors.first()) {
            (Some(thread), Some(post), _) => format!("/posts/{thread}#post-{post}"),
            (_, _, Some((username, _))) if self.actors.len() == 1 => format!("/@{username}"),
            _ => "/@".to_owned(),
        }
    }
}

/// Groups rows (newest first): likes by post and follows together; replies and mentions stand one by
/// one, since each carries its own text. `store::unread_count` counts by the same rule.
pub fn group(rows: Vec<NotificationRow>, now: i64) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    for row in rows {
        let key_matches = |g: &Group| {
            g.kind == row.kind && matches!(row.kind.as_str(), "like" | "follow") && g.post_id == row.post_id
        };
        let actor = (row.actor_username.clone(), row.actor_display_name.clone());
        if let Some(group) = groups.iter_mut().find(|g| key_matches(g)) {
            if !group.actors.contains(&actor) {
                group.actors.push(actor);
            }
            group.unread |= row.read_at.is_none();
            continue;
        }
        groups.push(Group {
            kind: row.kind,
            actors: vec![actor],
            post_id: row.post_id,
            thread_id: row.thread_id,
            post_excerpt: excerpt(row.post_excerpt.as_deref().unwrap_or("")),
            community: row.community_slug.zip(row.community_name),
            idea: match (row.idea_id, row.idea_title, row.idea_stage) {
                (Some(id), Some(title), Some(stage)) => Some((id, title, stage)),
                _ => None,
            },
            unread: row.read_at.is_none(),
            created_iso: crate::format::iso_time(row.created_at),
            created_label: crate::format::relative(row.created_at, now),
            created_exact: crate::format::date_time(row.created_at),
            message: row.message,
        });
    }
    groups
}

fn excerpt(text: &str) -> String {
    let mut out: String = text.chars().take(80).collect();
    if text.chars().count() > 80 {
        out.push('…');
    }
    out
}
