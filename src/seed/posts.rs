//! A year of posts and replies with topics, mentions, likes and their notifications, and then
//! everyone's home timeline.

use std::collections::{HashSet, VecDeque};

use super::people::Company;
use super::random::{self, Rng};
use super::{DAY, Progress, Rows, Seeding, Size, Written, after_item, begin, finish, with_ids};
use crate::db::{Arg, Db, Exec, sql};

/// One post as planned before anything is written, so that reply and like counts are known when the
/// post's row is.
#[derive(Clone, Copy, Default)]
struct Plan {
    author: u32,
    /// 0 for a top-level post.
    parent: u32,
    root: u32,
    /// 1-based; 0 for none.
    community: u32,
    replies: u32,
    likes: u32,
}

/// Plans and writes `size.posts` posts over the year before `now`, oldest first. Four in ten are
/// replies, mostly to the newest fifty threads and, a third of the time, to the thread that is "hot"
/// at the moment (hot threads gather from a few dozen to several hundred replies); a quarter of
/// replies answer the thread's latest reply. A post in seven is in a community (by one of its
/// members); a quarter of top-level posts carry one or two topics; one post in twelve mentions
/// someone. Likes per post are skewed (most have none, some hundreds).
pub(super) async fn generate(run: Seeding<'_>, company: &Company, written: &mut Written) -> Result<(), sqlx::Error> {
    let Seeding { db, size, seed, now } = run;
    let plan = plan(company, size, seed);
    let total = size.posts;
    let mut rng = Rng::stream(seed, 6);
    let start = now - 365 * DAY;
    let created = |id: u32| start + (id as i64 * 365 * DAY) / total.max(1) as i64;
    let week_ago = now - 7 * DAY;

    let mut progress = Progress::start("posts", total as u64);
    let mut posts = Rows::new(
        "posts and replies",
        with_ids!(
            db.engine(),
            "INSERT INTO posts (id, author_id, body, mentions, created_at, parent_id, root_id, community_id,
                                members_only, reply_count, like_count)"
        ),
        11,
    );
    let mut topics = Rows::new("post topics", "INSERT INTO post_topics (topic, post_id)", 2);
    let mut likes = Rows::new("likes", "INSERT INTO likes (post_id, user_id, created_at)", 3);
    let mut notes = Rows::new(
        "notifications",
        "INSERT INTO notifications (recipient_id, kind, actor_id, post_id, created_at, read_at)",
        6,
    );
    let mut tx = begin(db).await?;
    let mut likers: HashSet<u32> = HashSet::new();
    for id in 1..=total {
        let p = plan[id as usize];
        let at = created(id);
        // A notification of this post to `recipient`; those older than a week have been read.
        let notification = |recipient: u32, kind: &str| {
            let read_at = if at < week_ago { Arg::Int(at + 3_600) } else { Arg::NullInt };
            [
                Arg::Int(recipient as i64),
                Arg::Text(kind.into()),
                Arg::Int(p.author as i64),
                Arg::Int(id as i64),
                Arg::Int(at),
                read_at,
            ]
        };
        let community = (p.community > 0).then(|| &company.communities[p.community as usize - 1]);
        let private = community.is_some_and(|c| c.private);
        let words = 6 + rng.below(30) as usize;
        let mut body = random::text(&mut rng, &company.vocabulary, words);
        let mut mentions = String::new();
        if rng.chance(0.08) {
            let mentioned = company.active(&mut rng);
            if mentioned != p.author && !private {
                body.push_str(" @");
                body.push_str(company.username(mentioned));
                mentions.push_str(company.username(mentioned));
                notes.push(notification(mentioned, "mention"));
            }
        }
        if p.parent == 0 && rng.chance(0.25) {
            let mut chosen: Vec<usize> = (0..1 + rng.below(2)).map(|_| rng.zipf(company.topics.len())).collect();
            chosen.dedup();
            for topic in chosen {
                body.push_str(" #");
                body.push_str(company.topics[topic]);
                topics.push([Arg::Text(company.topics[topic].to_owned()), Arg::Int(id as i64)]);
            }
        }
        let optional = |v: u32| if v == 0 { Arg::NullInt } else { Arg::Int(v as i64) };
        posts.push([
            Arg::Int(id as i64),
            Arg::Int(p.author as i64),
            Arg::Text(body),
            Arg::Text(mentions),
            Arg::Int(at),
            optional(p.parent),
            optional(p.root),
            optional(p.community),
            if private { Arg::Int(p.community as i64) } else { Arg::NullInt },
            Arg::Int(p.replies as i64),
            Arg::Int(p.likes as i64),
        ]);
        if p.parent != 0 {
            let answered = plan[p.parent as usize].author;
            if answered != p.author {
                notes.push(notification(answered, "reply"));
            }
        }
        likers.clear();
        while likers.len() < p.likes as usize {
            let liker = match community {
                Some(c) if c.private => *rng.pick(&c.members),
                _ => company.someone(&mut rng, 1.5),
            };
            if liker != p.author && likers.insert(liker) {
                likes.push([
                    Arg::Int(id as i64),
                    Arg::Int(liker as i64),
                    Arg::Int((at + rng.below(DAY as u64) as i64).min(now)),
                ]);
            }
        }
        tx = after_item(
            db,
            tx,
            &mut [&mut posts, &mut topics, &mut likes, &mut notes],
            id as i64,
            25_000,
            &mut progress,
        )
        .await?;
    }
    finish(tx, &mut [&mut posts, &mut topics, &mut likes, &mut notes], written).await?;
    progress.done();
    Ok(())
}

fn plan(company: &Company, size: &Size, seed: u64) -> Vec<Plan> {
    let mut rng = Rng::stream(seed, 5);
    let total = size.posts as usize;
    let mut plan = vec![Plan::default(); total + 1];
    let mut recent: VecDeque<u32> = VecDeque::with_capacity(51);
    let mut last_reply = vec![0_u32; total + 1];
    let (mut hot, mut hot_left) = (0_u32, 0_u32);
    let member = |rng: &mut Rng, community: u32| *rng.pick(&company.communities[community as usize - 1].members);
    for id in 1..=total as u32 {
        let entry = if !recent.is_empty() && rng.chance(0.4) {
            let root = if hot != 0 && rng.chance(0.35) { hot } else { recent[rng.below(recent.len() as u64) as usize] };
            let parent =
                if last_reply[root as usize] != 0 && rng.chance(0.25) { last_reply[root as usize] } else { root };
            let community = plan[root as usize].community;
            let author = if community > 0 && company.communities[community as usize - 1].private {
                member(&mut rng, community)
            } else {
                company.active(&mut rng)
            };
            plan[root as usize].replies += 1;
            last_reply[root as usize] = id;
            Plan { author, parent, root, community, ..Plan::default() }
        } else {
            let community = if rng.chance(0.15) { 1 + rng.below(company.communities.len() as u64) as u32 } else { 0 };
            let author = if community > 0 { member(&mut rng, community) } else { company.active(&mut rng) };
            recent.push_back(id);
            if recent.len() > 50 {
                recent.pop_front();
            }
            Plan { author, community, ..Plan::default() }
        };
        plan[id as usize] = entry;
        if hot_left == 0 {
            hot = recent.back().copied().unwrap_or(0);
            hot_left = 200 + rng.below(4_000) as u32;
        } else {
            hot_left -= 1;
        }
    }
    for p in plan.iter_mut().skip(1) {
        let audience = match p.community {
            c if c > 0 && company.communities[c as usize - 1].private => {
                company.communities[c as usize - 1].members.len() as u32
            }
            _ => company.people,
        };
        let likes = 40_f64.powf(rng.unit().powi(4)) as u32 - 1 + p.replies / 3;
        p.likes = likes.min(audience.saturating_sub(1)).min(company.people / 2);
    }
    plan
}

/// Fills every home timeline as posting would have (the author, the author's followers, the
/// followers of its topics, the members of its community; a private community's members only), a
/// range of readers at a time so that each home is written in key order. The index by post is
/// dropped meanwhile and built once at the end, which is several times faster than keeping it.
pub(super) async fn fill_homes(db: &Db, people: u32, written: &mut Written) -> Result<(), sqlx::Error> {
    let chunk = 1_000;
    let mut progress = Progress::start("home timelines", people as u64);
    change_schema(db, sql("DROP INDEX timeline_post_id")).await?;
    let mut rows = 0;
    let mut first = 1;
    while first <= people as i64 {
        let last = first + chunk - 1;
        let mut tx = begin(db).await?;
        rows += tx
            .execute(
                sql("INSERT INTO timeline (user_id, post_id)
                     SELECT user_id, post_id FROM (
                       SELECT p.author_id AS user_id, p.id AS post_id FROM posts p
                        WHERE p.author_id BETWEEN $1 AND $2 AND p.parent_id IS NULL AND p.members_only IS NULL
                       UNION
                       SELECT f.follower_id, p.id FROM follows f JOIN posts p ON p.author_id = f.followee_id
                        WHERE f.follower_id BETWEEN $1 AND $2 AND p.parent_id IS NULL AND p.members_only IS NULL
                       UNION
                       SELECT tf.user_id, pt.post_id FROM topic_follows tf
                         JOIN post_topics pt ON pt.topic = tf.topic
                         JOIN posts p ON p.id = pt.post_id
                        WHERE tf.user_id BETWEEN $1 AND $2 AND p.parent_id IS NULL AND p.members_only IS NULL
                       UNION
                       SELECT m.user_id, p.id FROM community_members m JOIN posts p ON p.community_id = m.community_id
                        WHERE m.user_id BETWEEN $1 AND $2 AND p.parent_id IS NULL
                     ) deliveries ORDER BY user_id, post_id")
                .bind(first)
                .bind(last),
            )
            .await?;
        tx.commit().await?;
        progress.set(last as u64);
        first = last + 1;
    }
    change_schema(db, sql("CREATE INDEX timeline_post_id ON timeline (post_id)")).await?;
    written.rows.push(("home timeline entries", rows));
    progress.done();
    Ok(())
}

/// Runs DDL in a transaction that first reads the schema: an SQLite connection of the pool that has
/// not looked since another one changed it would otherwise judge the statement against its stale
/// copy ("index already exists").
async fn change_schema(db: &Db, statement: crate::db::Query) -> Result<(), sqlx::Error> {
    let mut tx = begin(db).await?;
    if tx.engine() == crate::db::Engine::Sqlite {
        let _: (i64,) = tx.fetch_one(sql("SELECT COUNT(*) FROM sqlite_master")).await?;
    }
    tx.execute(statement).await?;
    tx.commit().await
}
