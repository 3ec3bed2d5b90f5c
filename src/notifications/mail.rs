//! Notification mails: each person chooses, per topic, to get a mail at once, in a daily or weekly
//! digest, or never. A background job (every process runs one) deals with each new notification a
//! little after it was made: if the person has read it or opened their notifications page by then, or wants it in a digest
//! or not at all, nothing is mailed; otherwise one mail lists what came since. The digest, at 08:00
//! in the person's time zone, gathers what they missed: unread notifications, the most-liked posts
//! of people and topics they follow, announcements, and open campaigns about to close. Suspended,
//! deleted and unconfirmed accounts get nothing.

use std::collections::HashMap;
use std::time::Duration;

use blake2::{Blake2s256, Digest};

use super::NotificationRow;
use crate::db::{Db, Engine, Exec, Tx, now, sql, sql_in};
use crate::mail::{Action, Item, Listing, Section};

/// What notification mails are about; each has its own choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    Mentions,
    Replies,
    Likes,
    Follows,
    Communities,
    Ideas,
    Moderation,
    Announcements,
}

/// How a topic's mails come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cadence {
    Now,
    Daily,
    Weekly,
    Never,
}

impl Cadence {
    pub const ALL: [Cadence; 4] = [Cadence::Now, Cadence::Daily, Cadence::Weekly, Cadence::Never];

    pub fn key(self) -> &'static str {
        match self {
            Cadence::Now => "now",
            Cadence::Daily => "daily",
            Cadence::Weekly => "weekly",
            Cadence::Never => "never",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Cadence::Now => "At once",
            Cadence::Daily => "Daily digest",
            Cadence::Weekly => "Weekly digest",
            Cadence::Never => "Never",
        }
    }

    pub fn parse(key: &str) -> Option<Cadence> {
        Cadence::ALL.into_iter().find(|c| c.key() == key)
    }
}

impl Topic {
    pub const ALL: [Topic; 8] = [
        Topic::Mentions,
        Topic::Replies,
        Topic::Likes,
        Topic::Follows,
        Topic::Communities,
        Topic::Ideas,
        Topic::Moderation,
        Topic::Announcements,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Topic::Mentions => "mentions",
            Topic::Replies => "replies",
            Topic::Likes => "likes",
            Topic::Follows => "follows",
            Topic::Communities => "communities",
            Topic::Ideas => "ideas",
            Topic::Moderation => "moderation",
            Topic::Announcements => "announcements",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Topic::Mentions => "Mentions of you, in posts and idea comments",
            Topic::Replies => "Replies to your posts, comments on your ideas, answers to your comments",
            Topic::Likes => "Likes of your posts",
            Topic::Follows => "New followers",
            Topic::Communities => "Community invitations, join requests and approvals",
            Topic::Ideas => "Your ideas' stages and official answers, campaigns about to close",
            Topic::Moderation => "Moderators' warnings and what became of your reports",
            Topic::Announcements => "Announcements",
        }
    }

    /// Mentions and replies at once, the rest in a daily digest.
    pub fn default_cadence(self) -> Cadence {
        match self {
            Topic::Mentions | Topic::Replies => Cadence::Now,
            _ => Cadence::Daily,
        }
    }

    pub fn parse(key: &str) -> Option<Topic> {
        Topic::ALL.into_iter().find(|t| t.key() == key)
    }

    /// The topic a notification kind belongs to: the one that lists it (moderation for any other).
    pub fn of_kind(kind: &str) -> Topic {
        Topic::ALL.into_iter().find(|t| t.kinds().contains(&kind)).unwrap_or(Topic::Moderation)
    }

    fn kinds(self) -> &'static [&'static str] {
        match self {
            Topic::Mentions => &["mention", "idea_mention"],
            Topic::Replies => &["reply", "comment_reply", "idea_comment"],
            Topic::Likes => &["like"],
            Topic::Follows => &["follow"],
            Topic::Communities => &["invite", "join_request", "join_approved"],
            Topic::Ideas => &["idea_stage", "idea_response"],
            Topic::Moderation => &["warning", "report_outcome"],
            Topic::Announcements => &[],
        }
    }
}

/// A person's choices, one per topic (the default where they chose nothing).
pub type Choices = Vec<(Topic, Cadence)>;

pub async fn choices(db: &mut impl Exec, user_id: i64) -> Result<Choices, sqlx::Error> {
    let stored: Vec<(String, String)> =
        db.fetch_all(sql("SELECT topic, cadence FROM mail_settings WHERE user_id = $1").bind(user_id)).await?;
    Ok(merge(&stored))
}

fn merge(stored: &[(String, String)]) -> Choices {
    Topic::ALL
        .into_iter()
        .map(|topic| {
            let chosen = stored.iter().find(|(t, _)| t == topic.key()).and_then(|(_, c)| Cadence::parse(c));
            (topic, chosen.unwrap_or(topic.default_cadence()))
        })
        .collect()
}

fn cadence(choices: &Choices, topic: Topic) -> Cadence {
    choices.iter().find(|(t, _)| *t == topic).map_or(topic.default_cadence(), |(_, c)| *c)
}

pub async fn choose(db: &mut impl Exec, user_id: i64, topic: Topic, cadence: Cadence) -> Result<(), sqlx::Error> {
    db.execute(
        sql("INSERT INTO mail_settings (user_id, topic, cadence) VALUES ($1, $2, $3)
             ON CONFLICT (user_id, topic) DO UPDATE SET cadence = excluded.cadence")
        .bind(user_id)
        .bind(topic.key())
        .bind(cadence.key()),
    )
    .await?;
    Ok(())
}

/// The site's secret for unsubscribe links, made on first use.
async fn secret(db: &mut impl Exec) -> Result<String, sqlx::Error> {
    let read = sql("SELECT value FROM site_settings WHERE key = 'mail.secret'");
    if let Some((value,)) = db.fetch_optional::<(String,)>(read).await? {
        return Ok(value);
    }
    db.execute(
        sql("INSERT INTO site_settings (key, value) VALUES ('mail.secret', $1) ON CONFLICT (key) DO NOTHING")
            .bind(crate::accounts::invitations::store::one_time_token()),
    )
    .await?;
    // Another process may have made it first: the stored one counts.
    let (value,): (String,) = db.fetch_one(sql("SELECT value FROM site_settings WHERE key = 'mail.secret'")).await?;
    Ok(value)
}

/// The signature of an unsubscribe link for `user_id` and `what` (a topic's key, or `digest`).
fn signature(secret: &str, user_id: i64, what: &str) -> String {
    let digest = Blake2s256::digest(format!("{secret}|unsubscribe|{user_id}|{what}").as_bytes());
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// The path of a one-click unsubscribe link.
fn unsubscribe_path(secret: &str, user_id: i64, what: &str) -> String {
    format!("/mail/unsubscribe/{user_id}/{what}/{}", signature(secret, user_id, what))
}

/// Whether an unsubscribe link is genuine.
pub async fn genuine(db: &mut impl Exec, user_id: i64, what: &str, sig: &str) -> Result<bool, sqlx::Error> {
    let secret = secret(db).await?;
    let expected = signature(&secret, user_id, what);
    // Compared in full whatever the first difference, so timing says nothing.
    Ok(expected.len() == sig.len() && expected.bytes().zip(sig.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0)
}

/// What an unsubscribe link turns off: its topic, or for a digest every topic that goes in one.
pub async fn unsubscribe(db: &mut impl Exec, user_id: i64, what: &str) -> Result<Vec<Topic>, sqlx::Error> {
    let current = choices(db, user_id).await?;
    let topics: Vec<Topic> = match Topic::parse(what) {
        Some(topic) => vec![topic],
        None => {
            current.iter().filter(|(_, c)| matches!(c, Cadence::Daily | Cadence::Weekly)).map(|(t, _)| *t).collect()
        }
    };
    for topic in &topics {
        choose(db, user_id, *topic, Cadence::Never).await?;
    }
    Ok(topics)
}

/// Someone who may be mailed: not deleted, suspended or waiting to confirm their address.
#[derive(Debug, Clone, sqlx::FromRow)]
struct Reader {
    id: i64,
    email: String,
    display_name: String,
    time_zone: String,
    digest_sent_at: Option<i64>,
    /// When they last opened their notifications page.
    notifications_seen_at: Option<i64>,
}

const READERS: &str = "SELECT id, email, display_name, time_zone, digest_sent_at, notifications_seen_at FROM users
                       WHERE deleted_at IS NULL AND confirm_required = FALSE
                         AND (suspended_until IS NULL OR suspended_until <= $1) AND id IN ({list})";

/// The job's settings.
#[derive(Clone)]
pub struct Mailer {
    /// The site's public address, for links.
    pub origin: String,
    /// How long a notification waits before it is mailed: read on the site meanwhile, it is not.
    pub after: Duration,
    /// The site's settings (its name in every mail, its time zone for digests).
    pub site: crate::site::Cache,
}

/// What every mail of one round of the job shares, read once.
struct Round {
    site: std::sync::Arc<crate::site::Site>,
    secret: String,
}

impl Mailer {
    async fn round(&self, db: &Db) -> Result<Round, sqlx::Error> {
        Ok(Round { site: self.site.get(db).await, secret: secret(&mut db.clone()).await? })
    }
}

/// How often the job looks for notifications to mail and digests due.
const EVERY: Duration = Duration::from_secs(5);
/// Notifications one round deals with at most.
const BATCH: i64 = 500;

/// Runs for as long as the server does.
pub async fn run(db: Db, mailer: Mailer) {
    let mut ticks = tokio::time::interval(EVERY);
    loop {
        ticks.tick().await;
        loop {
            match mail_new(&db, &mailer).await {
                Ok(dealt) if dealt as i64 >= BATCH => continue,
                Ok(_) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "notification mails not made; trying again");
                    break;
                }
            }
        }
        if let Err(e) = send_digests(&db, &mailer).await {
            tracing::warn!(error = %e, "digests not made; trying again");
        }
    }
}

/// Deals with the notifications that have waited long enough; returns how many. One transaction
/// marks them dealt with and queues their mails, so a crash mails none twice and loses none.
pub async fn mail_new(db: &Db, mailer: &Mailer) -> Result<usize, crate::mail::QueueError> {
    let at = now();
    let cutoff = at - mailer.after.as_secs() as i64;
    let round = mailer.round(db).await?;
    let mut tx = db.begin().await?;
    let claim = match tx.engine() {
        Engine::Sqlite => sql("UPDATE notifications SET mailed_at = $1 WHERE id IN (
                                   SELECT id FROM notifications WHERE mailed_at IS NULL AND created_at <= $2
                                   ORDER BY created_at, id LIMIT 500)
                               RETURNING id, recipient_id, kind, read_at, created_at"),
        Engine::Postgres => sql("UPDATE notifications SET mailed_at = $1 WHERE id IN (
                                     SELECT id FROM notifications WHERE mailed_at IS NULL AND created_at <= $2
                                     ORDER BY created_at, id LIMIT 500 FOR UPDATE SKIP LOCKED)
                                 RETURNING id, recipient_id, kind, read_at, created_at"),
    };
    let claimed: Vec<(i64, i64, String, Option<i64>, i64)> = tx.fetch_all(claim.bind(at).bind(cutoff)).await?;
    let dealt = claimed.len();
    let unread: Vec<&(i64, i64, String, Option<i64>, i64)> = claimed.iter().filter(|n| n.3.is_none()).collect();
    let mut recipients: Vec<i64> = unread.iter().map(|n| n.1).collect();
    recipients.sort_unstable();
    recipients.dedup();
    if !recipients.is_empty() {
        let all_choices = choices_of(&mut tx, &recipients).await?;
        let readers: Vec<Reader> =
            tx.fetch_all(sql_in(READERS, 2, recipients.len()).bind(at).bind_list(&recipients)).await?;
        for reader in readers {
            let choices = all_choices.get(&reader.id).cloned().unwrap_or_else(|| merge(&[]));
            let ids: Vec<i64> = unread
                .iter()
                .filter(|n| n.1 == reader.id && cadence(&choices, Topic::of_kind(&n.2)) == Cadence::Now)
                .filter(|n| reader.notifications_seen_at.is_none_or(|seen| seen < n.4))
                .map(|n| n.0)
                .collect();
            let rows = super::store::rows_by_ids(&mut tx, reader.id, &ids).await?;
            if rows.is_empty() {
                continue;
            }
            queue_now(&mut tx, mailer, &round, &reader, rows).await?;
        }
    }
    tx.commit().await?;
    if dealt > 0 {
        crate::mail::wake();
    }
    Ok(dealt)
}

async fn choices_of(tx: &mut Tx, users: &[i64]) -> Result<HashMap<i64, Choices>, sqlx::Error> {
    let rows: Vec<(i64, String, String)> = tx
        .fetch_all(
            sql_in("SELECT user_id, topic, cadence FROM mail_settings WHERE user_id IN ({list})", 1, users.len())
                .bind_list(users),
        )
        .await?;
    let mut by_user: HashMap<i64, Vec<(String, String)>> = HashMap::new();
    for (user, topic, cadence) in rows {
        by_user.entry(user).or_default().push((topic, cadence));
    }
    Ok(by_user.into_iter().map(|(user, stored)| (user, merge(&stored))).collect())
}

/// The mail about notifications that came just now.
async fn queue_now(
    tx: &mut Tx,
    mailer: &Mailer,
    round: &Round,
    reader: &Reader,
    rows: Vec<NotificationRow>,
) -> Result<(), crate::mail::QueueError> {
    let zone = crate::format::Zone::named(&reader.time_zone).unwrap_or(crate::format::Zone::UTC);
    let topics: Vec<Topic> = rows.iter().map(|r| Topic::of_kind(&r.kind)).collect();
    let groups = super::group(rows, now());
    let items =
        crate::format::with_zone(zone, async { groups.iter().map(|g| item(mailer, g)).collect::<Vec<_>>() }).await;
    let first = items.first().map(|i| i.text.clone()).unwrap_or_default();
    let subject = if items.len() == 1 { first } else { format!("{} and {} more", first, items.len() - 1) };
    let what = if topics.iter().all(|t| *t == topics[0]) { topics[0].key() } else { "now" };
    let listing = Listing {
        subject,
        greeting: format!("Hello {},", reader.display_name),
        intro: "This happened on the site while you were away:".into(),
        sections: vec![Section { title: "New".into(), items }],
        action: Some(Action { label: "Open your notifications".into(), url: link(mailer, "/notifications") }),
        footer: "You got this mail because you asked to hear of these at once.".into(),
        settings_url: link(mailer, "/settings/mail"),
        unsubscribe_url: link(mailer, &unsubscribe_path(&round.secret, reader.id, what)),
    };
    let mail = listing.mail(&round.site.name, "notification", reader.id, &reader.email, &reader.display_name)?;
    crate::mail::queue(tx, &mail, crate::mail::host_of(&mailer.origin)).await?;
    Ok(())
}

fn link(mailer: &Mailer, path: &str) -> String {
    format!("{}{path}", mailer.origin.trim_end_matches('/'))
}

fn item(mailer: &Mailer, group: &super::Group) -> Item {
    let message = if group.message.is_empty() { group.post_excerpt.clone() } else { group.message.clone() };
    Item { text: format!("{} {}", group.who(), group.what()), quote: message, url: link(mailer, &group.link()) }
}

/// The hour of the morning digests go out, in each person's time zone.
const DIGEST_HOUR: u8 = 8;
/// People one round makes digests for at most.
const DIGESTS_PER_ROUND: i64 = 50;

/// Makes the digests that are due. Each person's next one is set in the transaction that makes
/// this one (compare-and-set), so two processes never make the same digest.
pub async fn send_digests(db: &Db, mailer: &Mailer) -> Result<(), crate::mail::QueueError> {
    let at = now();
    let round = mailer.round(db).await?;
    let zone_of = |name: &str| {
        crate::format::Zone::named(name)
            .or_else(|| crate::format::Zone::named(&round.site.time_zone))
            .unwrap_or(crate::format::Zone::UTC)
    };
    // Everyone gets a first due time: the next morning in the site's zone.
    let (first, _) = zone_of("").next_hour(at, DIGEST_HOUR);
    db.clone()
        .execute(
            sql("UPDATE users SET digest_due_at = $1 WHERE digest_due_at IS NULL AND deleted_at IS NULL").bind(first),
        )
        .await?;
    let due: Vec<(i64, i64, String)> = db
        .clone()
        .fetch_all(
            sql("SELECT id, digest_due_at, time_zone FROM users WHERE digest_due_at <= $1 AND deleted_at IS NULL
                 ORDER BY digest_due_at")
            .bind(at)
            .limit(DIGESTS_PER_ROUND),
        )
        .await?;
    let mut queued = false;
    for (user_id, due_at, zone_name) in due {
        let zone = zone_of(&zone_name);
        let (next, _) = zone.next_hour(at.max(due_at), DIGEST_HOUR);
        // The weekday of the morning this digest is for, in the person's zone.
        let (_, weekday) = zone.next_hour(due_at - 3600 * 12, DIGEST_HOUR);
        let mut tx = db.begin().await?;
        let taken = tx
            .execute(
                sql("UPDATE users SET digest_due_at = $1 WHERE id = $2 AND digest_due_at = $3")
                    .bind(next)
                    .bind(user_id)
                    .bind(due_at),
            )
            .await?;
        if taken == 1 {
            let weekly = weekday == time::Weekday::Monday;
            queued |= digest(&mut tx, mailer, &round, user_id, weekly, zone).await?;
        }
        tx.commit().await?;
    }
    if queued {
        crate::mail::wake();
    }
    Ok(())
}

/// One person's digest, if they may be mailed and anything is in it; true when one was queued.
async fn digest(
    tx: &mut Tx,
    mailer: &Mailer,
    round: &Round,
    user_id: i64,
    weekly: bool,
    zone: crate::format::Zone,
) -> Result<bool, crate::mail::QueueError> {
    let at = now();
    let readers: Vec<Reader> = tx.fetch_all(sql_in(READERS, 2, 1).bind(at).bind_list(&[user_id])).await?;
    let Some(reader) = readers.into_iter().next() else { return Ok(false) };
    let choices = choices(tx, user_id).await?;
    let included: Vec<Topic> = choices
        .iter()
        .filter(|(_, c)| *c == Cadence::Daily || (*c == Cadence::Weekly && weekly))
        .map(|(t, _)| *t)
        .collect();
    if included.is_empty() {
        return Ok(false);
    }
    let since_day = reader.digest_sent_at.unwrap_or(at - 86_400).max(at - 2 * 86_400);
    let since = |topic: Topic| if cadence(&choices, topic) == Cadence::Weekly { at - 7 * 86_400 } else { since_day };
    let oldest = included.iter().map(|t| since(*t)).min().unwrap_or(since_day);
    tx.execute(sql("UPDATE users SET digest_sent_at = $1 WHERE id = $2").bind(at).bind(user_id)).await?;

    let mut sections = Vec::new();
    // Notifications of the included topics, unread, from each topic's window.
    let candidates: Vec<(i64, String, i64)> = tx
        .fetch_all(
            sql("SELECT id, kind, created_at FROM notifications
                 WHERE recipient_id = $1 AND read_at IS NULL AND created_at > $2 ORDER BY id DESC")
            .bind(user_id)
            .bind(oldest.max(reader.notifications_seen_at.unwrap_or(0)))
            .limit(200),
        )
        .await?;
    let ids: Vec<i64> = candidates
        .iter()
        .filter(|(_, kind, created)| {
            let topic = Topic::of_kind(kind);
            included.contains(&topic) && topic.kinds().contains(&kind.as_str()) && *created > since(topic)
        })
        .map(|(id, _, _)| *id)
        .collect();
    let rows = super::store::rows_by_ids(tx, user_id, &ids).await?;
    let groups = super::group(rows, at);
    let popular = popular_posts(tx, user_id, since_day).await?;
    let announcements = if included.contains(&Topic::Announcements) {
        announcements(tx, user_id, since(Topic::Announcements)).await?
    } else {
        Vec::new()
    };
    let closing = if included.contains(&Topic::Ideas) { closing_campaigns(tx, user_id, at).await? } else { Vec::new() };
    crate::format::with_zone(zone, async {
        if !groups.is_empty() {
            sections.push(Section {
                title: "What you missed".into(),
                items: groups.iter().map(|g| item(mailer, g)).collect(),
            });
        }
        if !announcements.is_empty() {
            sections.push(Section {
                title: "Announcements".into(),
                items: announcements.iter().map(|p| post_item(mailer, p)).collect(),
            });
        }
        if !popular.is_empty() {
            sections.push(Section {
                title: "Most liked from people and topics you follow".into(),
                items: popular.iter().map(|p| post_item(mailer, p)).collect(),
            });
        }
        if !closing.is_empty() {
            sections.push(Section {
                title: "Campaigns closing soon".into(),
                items: closing
                    .iter()
                    .map(|(id, title, closes)| Item {
                        text: format!("{title}: closes {}", crate::format::date_time(*closes)),
                        quote: String::new(),
                        url: link(mailer, &format!("/campaigns/{id}")),
                    })
                    .collect(),
            });
        }
    })
    .await;
    if sections.is_empty() {
        return Ok(false);
    }
    let period =
        if weekly && included.iter().all(|t| cadence(&choices, *t) == Cadence::Weekly) { "week" } else { "day" };
    let site = &round.site.name;
    let listing = Listing {
        subject: format!("Your {site} digest: what you missed this {period}"),
        greeting: format!("Hello {},", reader.display_name),
        intro: format!("Here is what happened on {site} since your last digest."),
        sections,
        action: Some(Action { label: format!("Open {site}"), url: link(mailer, "/") }),
        footer: format!(
            "You got this digest because you chose a {} digest for some mails.",
            if period == "week" { "weekly" } else { "daily" }
        ),
        settings_url: link(mailer, "/settings/mail"),
        unsubscribe_url: link(mailer, &unsubscribe_path(&round.secret, user_id, "digest")),
    };
    let mail = listing.mail(site, "digest", user_id, &reader.email, &reader.display_name)?;
    crate::mail::queue(tx, &mail, crate::mail::host_of(&mailer.origin)).await?;
    Ok(true)
}

/// A post in a digest: who wrote it, its first words, its likes.
#[derive(Debug, Clone, sqlx::FromRow)]
struct PostLine {
    id: i64,
    thread_id: i64,
    author: String,
    body: String,
    like_count: i64,
}

fn post_item(mailer: &Mailer, post: &PostLine) -> Item {
    let mut quote: String = post.body.chars().take(120).collect();
    if post.body.chars().count() > 120 {
        quote.push('…');
    }
    let likes = match post.like_count {
        0 => String::new(),
        1 => " (1 like)".into(),
        n => format!(" ({n} likes)"),
    };
    Item {
        text: format!("{} wrote{likes}", post.author),
        quote,
        url: link(mailer, &format!("/posts/{}#post-{}", post.thread_id, post.id)),
    }
}

/// The five most-liked posts since `since` by people the person follows or in topics they follow,
/// that they may see, not their own.
async fn popular_posts(tx: &mut Tx, user_id: i64, since: i64) -> Result<Vec<PostLine>, sqlx::Error> {
    let followed = sql("p.like_count > 0
         AND (p.author_id IN (SELECT followee_id FROM follows WHERE follower_id = ")
    .value(user_id)
    .push(") OR p.id IN (SELECT pt.post_id FROM post_topics pt JOIN topic_follows tf ON tf.topic = pt.topic WHERE tf.user_id = ")
    .value(user_id)
    .push("))");
    digest_posts(tx, user_id, since, followed, " ORDER BY p.like_count DESC, p.id DESC").await
}

/// Announcements since `since` that the person may see.
async fn announcements(tx: &mut Tx, user_id: i64, since: i64) -> Result<Vec<PostLine>, sqlx::Error> {
    digest_posts(tx, user_id, since, sql("p.is_announcement"), " ORDER BY p.id DESC").await
}

/// Up to five posts shown in a digest: written since `since`, not by the reader, not hidden or
/// deleted, visible to them, and meeting `condition`.
async fn digest_posts(
    tx: &mut Tx,
    user_id: i64,
    since: i64,
    condition: crate::db::Query,
    order: &'static str,
) -> Result<Vec<PostLine>, sqlx::Error> {
    tx.fetch_all(
        sql("SELECT p.id, COALESCE(p.root_id, p.id) AS thread_id, u.display_name AS author, p.body,
                    CAST(p.like_count AS BIGINT) AS like_count
             FROM posts p JOIN users u ON u.id = p.author_id
             WHERE p.created_at > $1 AND p.author_id <> $2 AND p.hidden_at IS NULL AND p.deleted_at IS NULL AND ")
        .bind(since)
        .bind(user_id)
        .and(condition)
        .push(" AND ")
        .and(crate::posts::store::visible_to(user_id))
        .push(order)
        .limit(5),
    )
    .await
}

/// Open campaigns the person may take part in that close within three days.
async fn closing_campaigns(tx: &mut Tx, user_id: i64, at: i64) -> Result<Vec<(i64, String, i64)>, sqlx::Error> {
    tx.fetch_all(
        sql("SELECT c.id, c.title, c.closes_at FROM campaigns c
             WHERE c.status = 'published' AND c.opens_at <= $1 AND c.closes_at > $1 AND c.closes_at <= $2
               AND (c.community_id IS NULL OR EXISTS (SELECT 1 FROM community_members m
                                                      WHERE m.community_id = c.community_id AND m.user_id = $3))
             ORDER BY c.closes_at")
        .bind(at)
        .bind(at + 3 * 86_400)
        .bind(user_id)
        .limit(5),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_topic_that_lists_it() {
        for kind in [
            "reply",
            "mention",
            "like",
            "follow",
            "invite",
            "join_request",
            "join_approved",
            "idea_comment",
            "comment_reply",
            "idea_mention",
            "idea_stage",
            "idea_response",
            "warning",
            "report_outcome",
        ] {
            assert!(Topic::of_kind(kind).kinds().contains(&kind), "{kind}");
        }
    }

    #[test]
    fn defaults_mail_mentions_and_replies_at_once_and_the_rest_daily() {
        let choices = merge(&[("likes".into(), "never".into()), ("bogus".into(), "now".into())]);
        assert_eq!(cadence(&choices, Topic::Mentions), Cadence::Now);
        assert_eq!(cadence(&choices, Topic::Replies), Cadence::Now);
        assert_eq!(cadence(&choices, Topic::Likes), Cadence::Never);
        assert_eq!(cadence(&choices, Topic::Follows), Cadence::Daily);
    }

    #[test]
    fn unsubscribe_signatures_depend_on_person_and_topic() {
        let a = signature("s", 1, "likes");
        assert_eq!(a.len(), 32);
        assert_ne!(a, signature("s", 2, "likes"));
        assert_ne!(a, signature("s", 1, "mentions"));
        assert_ne!(a, signature("t", 1, "likes"));
    }
}
