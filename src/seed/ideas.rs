//! Idea campaigns over the year, with ideas, votes, comments and stage changes.

use std::collections::HashSet;

use super::people::Company;
use super::random::{self, QUESTIONS, Rng, Shuffle, capitalised};
use super::{DAY, Progress, Rows, Seeding, Written, after_item, begin, finish, with_ids};
use crate::db::{Arg, Exec};

struct Campaign {
    id: i64,
    opens_at: i64,
    closes_at: i64,
    community: Option<u32>,
    anonymous_allowed: bool,
    creator: u32,
}

struct Idea {
    campaign: usize,
    author: u32,
    created_at: i64,
    /// Relative popularity (Pareto, mean 2.5).
    weight: f64,
}

/// Campaigns open one after another over the year for two to six weeks each, so the newest are still
/// open; one in twenty is a draft, one in ten belongs to a public community, a third allow anonymous
/// ideas. Ideas go to campaigns by popularity and arrive while the campaign is open; votes and
/// comments per idea are skewed (a few ideas gather thousands of votes). Ideas of closed campaigns
/// are spread over the stages; open campaigns' ideas are new or under review.
pub(super) async fn generate(run: Seeding<'_>, company: &Company, written: &mut Written) -> Result<(), sqlx::Error> {
    let Seeding { db, size, seed, now } = run;
    let mut rng = Rng::stream(seed, 7);
    let mut progress = Progress::start("ideas", size.ideas as u64);
    let public: Vec<u32> =
        (1..=company.communities.len() as u32).filter(|c| !company.communities[*c as usize - 1].private).collect();
    let mut campaigns = Rows::new(
        "campaigns",
        with_ids!(
            db.engine(),
            "INSERT INTO campaigns (id, title, question, description, community_id, status, opens_at, closes_at,
                                    hide_counts, allow_anonymous, created_by, created_at)"
        ),
        12,
    );
    let mut plans = Vec::with_capacity(size.campaigns as usize);
    let mut tx = begin(db).await?;
    for i in 1..=size.campaigns {
        // The last campaign opens ten days ago, so the newest are open whatever the size.
        let opens_at = now - 365 * DAY + (i as i64 - 1) * 355 * DAY / (size.campaigns as i64 - 1).max(1)
            - rng.below(2 * DAY as u64) as i64;
        let closes_at = opens_at + (14 + rng.below(29) as i64) * DAY;
        let status = match i {
            _ if i % 20 == 7 => "draft",
            _ if i % 5 == 0 && closes_at < now - 60 * DAY => "archived",
            _ => "published",
        };
        let community = (i % 10 == 5 && !public.is_empty()).then(|| *rng.pick(&public));
        let creator = *rng.pick(&company.managers);
        let (a, b) = (company.vocabulary[rng.zipf(120)], company.vocabulary[rng.zipf(120)]);
        let question = rng.pick(&QUESTIONS).replace("{a}", a).replace("{b}", b);
        let anonymous_allowed = i % 3 == 0;
        campaigns.push([
            Arg::Int(i as i64),
            Arg::Text(format!("{} {b}", capitalised(a))),
            Arg::Text(question),
            Arg::Text(random::text(&mut rng, &company.vocabulary, 30)),
            community.map_or(Arg::NullInt, |c| Arg::Int(c as i64)),
            Arg::Text(status.to_owned()),
            Arg::Int(opens_at),
            Arg::Int(closes_at),
            Arg::Bool(i % 17 == 0),
            Arg::Bool(anonymous_allowed),
            Arg::Int(creator as i64),
            Arg::Int(opens_at - 7 * DAY),
        ]);
        if campaigns.is_full() {
            campaigns.flush(&mut tx).await?;
        }
        if status != "draft" && opens_at < now {
            plans.push(Campaign { id: i as i64, opens_at, closes_at, community, anonymous_allowed, creator });
        }
    }
    finish(tx, &mut [&mut campaigns], written).await?;

    // Plan the ideas, then write them oldest first so that ids follow time.
    let order = Shuffle::new(plans.len() as u64, &mut rng);
    let mut ideas: Vec<Idea> = (0..size.ideas)
        .map(|_| {
            let campaign = order.at((plans.len() as f64 * rng.unit().powf(1.5)) as u64) as usize;
            let plan = &plans[campaign];
            let author = audience_member(company, plan, &mut rng);
            let open_for = (plan.closes_at.min(now) - plan.opens_at).max(1);
            let created_at = plan.opens_at + rng.below(open_for as u64) as i64;
            let weight = (1.0 - rng.unit()).powf(-0.6);
            Idea { campaign, author, created_at, weight }
        })
        .collect();
    ideas.sort_by_key(|idea| idea.created_at);

    let mut rows = Rows::new(
        "ideas",
        with_ids!(
            db.engine(),
            "INSERT INTO ideas (id, campaign_id, author_id, anonymous, title, body, stage, vote_count, comment_count,
                                trend_score, created_at, updated_at)"
        ),
        12,
    );
    let mut votes = Rows::new("idea votes", "INSERT INTO idea_votes (idea_id, user_id, campaign_id, created_at)", 4);
    let mut comments = Rows::new(
        "idea comments",
        with_ids!(db.engine(), "INSERT INTO idea_comments (id, idea_id, parent_id, author_id, body, created_at)"),
        6,
    );
    let mut stages = Rows::new(
        "stage changes",
        "INSERT INTO stage_changes (idea_id, actor_id, from_stage, to_stage, reason, created_at)",
        6,
    );
    let vote_scale = size.idea_votes as f64 / (size.ideas.max(1) as f64 * 2.5);
    let comment_scale = size.idea_comments as f64 / (size.ideas.max(1) as f64 * 2.1);
    let week_ago = now - 7 * DAY;
    let mut voters: HashSet<u32> = HashSet::new();
    let mut comment_id = 0_i64;
    let mut tx = begin(db).await?;
    for (index, idea) in ideas.iter().enumerate() {
        let id = index as i64 + 1;
        let plan = &plans[idea.campaign];
        let campaign_id = plan.id;
        let audience =
            plan.community.map_or(company.people, |c| company.communities[c as usize - 1].members.len() as u32);
        let until = plan.closes_at.min(now).max(idea.created_at + 1);
        let open = plan.closes_at > now;
        let stage = if open {
            if rng.chance(0.8) { "new" } else { "under_review" }
        } else {
            *rng.pick(&[
                "new",
                "new",
                "new",
                "new",
                "new",
                "under_review",
                "under_review",
                "under_review",
                "under_review",
                "selected",
                "selected",
                "in_progress",
                "implemented",
                "implemented",
                "declined",
                "declined",
                "declined",
                "declined",
                "declined",
                "declined",
            ])
        };
        let wanted = ((idea.weight * vote_scale).round() as u32).min(audience / 2);
        voters.clear();
        let mut recent = 0;
        while voters.len() < wanted as usize {
            let voter = audience_member(company, plan, &mut rng);
            if voters.insert(voter) {
                let at = idea.created_at + rng.below((until - idea.created_at) as u64) as i64;
                recent += i64::from(at >= week_ago);
                votes.push([Arg::Int(id), Arg::Int(voter as i64), Arg::Int(campaign_id), Arg::Int(at)]);
            }
        }
        let wanted_comments = (idea.weight.powf(0.8) * comment_scale).round() as u32;
        let mut previous = None;
        for _ in 0..wanted_comments {
            comment_id += 1;
            let parent = previous.filter(|_| rng.chance(0.2));
            let words = 5 + rng.below(35) as usize;
            comments.push([
                Arg::Int(comment_id),
                Arg::Int(id),
                parent.map_or(Arg::NullInt, Arg::Int),
                Arg::Int(audience_member(company, plan, &mut rng) as i64),
                Arg::Text(random::text(&mut rng, &company.vocabulary, words)),
                Arg::Int(idea.created_at + rng.below((now - idea.created_at).max(1) as u64) as i64),
            ]);
            previous = Some(comment_id);
        }
        if stage != "new" {
            stages.push([
                Arg::Int(id),
                Arg::Int(plan.creator as i64),
                Arg::Text("new".into()),
                Arg::Text(stage.to_owned()),
                Arg::Text(String::new()),
                Arg::Int(until),
            ]);
        }
        let title_words = 3 + rng.below(5) as usize;
        let body_words = 20 + rng.below(60) as usize;
        rows.push([
            Arg::Int(id),
            Arg::Int(campaign_id),
            Arg::Int(idea.author as i64),
            Arg::Bool(plan.anonymous_allowed && rng.chance(0.15)),
            Arg::Text(capitalised(&random::text(&mut rng, &company.vocabulary, title_words))),
            Arg::Text(random::text(&mut rng, &company.vocabulary, body_words)),
            Arg::Text(stage.to_owned()),
            Arg::Int(wanted as i64),
            Arg::Int(wanted_comments as i64),
            Arg::Int(wanted as i64 + 3 * recent),
            Arg::Int(idea.created_at),
            Arg::Int(until),
        ]);
        tx = after_item(db, tx, &mut [&mut rows, &mut votes, &mut comments, &mut stages], id, 5_000, &mut progress)
            .await?;
    }
    finish(tx, &mut [&mut rows, &mut votes, &mut comments, &mut stages], written).await?;
    progress.done();
    Ok(())
}

/// Someone who can take part: a member of the campaign's community, or anyone by popularity.
fn audience_member(company: &Company, plan: &Campaign, rng: &mut Rng) -> u32 {
    match plan.community {
        Some(c) => *rng.pick(&company.communities[c as usize - 1].members),
        None => company.someone(rng, 1.5),
    }
}
