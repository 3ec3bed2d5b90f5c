//! SQL for polls: options written with their post, votes, and the polls of a page loaded in batch.

use std::collections::HashMap;

use super::{NewPoll, OptionView, PollView, closing_label};
use crate::db::{Exec, now, sql, sql_in};

/// Writes a poll's options (inside the post's own transaction, which stores its closing time).
pub async fn add_options(db: &mut impl Exec, post_id: i64, poll: &NewPoll) -> Result<(), sqlx::Error> {
    for (position, label) in poll.options.iter().enumerate() {
        db.execute(
            sql("INSERT INTO poll_options (post_id, position, label) VALUES ($1, $2, $3)")
                .bind(post_id)
                .bind(position as i64)
                .bind(label),
        )
        .await?;
    }
    Ok(())
}

/// Why a vote was not taken.
#[derive(Debug, PartialEq, Eq)]
pub enum VoteRefused {
    NoSuchOption,
    Closed,
}

/// Records or changes the viewer's vote while the poll is open.
pub async fn vote(
    db: &mut impl Exec,
    post_id: i64,
    option_id: i64,
    user_id: i64,
) -> Result<Result<(), VoteRefused>, sqlx::Error> {
    let poll: Option<(Option<i64>, i64)> = db
        .fetch_optional(
            sql("SELECT p.poll_closes_at, o.id FROM posts p JOIN poll_options o ON o.post_id = p.id
                 WHERE p.id = $1 AND o.id = $2")
            .bind(post_id)
            .bind(option_id),
        )
        .await?;
    match poll {
        None | Some((None, _)) => return Ok(Err(VoteRefused::NoSuchOption)),
        Some((Some(closes_at), _)) if closes_at <= now() => return Ok(Err(VoteRefused::Closed)),
        Some(_) => {}
    }
    db.execute(
        sql("INSERT INTO poll_votes (post_id, user_id, option_id, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (post_id, user_id) DO UPDATE SET option_id = excluded.option_id, created_at = excluded.created_at")
        .bind(post_id)
        .bind(user_id)
        .bind(option_id)
        .bind(now()),
    )
    .await?;
    Ok(Ok(()))
}

/// The polls of these posts as the viewer sees them, keyed by post id: three queries for a page.
pub async fn load(
    db: &mut impl Exec,
    polls: &[(i64, i64)],
    viewer_id: i64,
) -> Result<HashMap<i64, PollView>, sqlx::Error> {
    if polls.is_empty() {
        return Ok(HashMap::new());
    }
    let ids: Vec<i64> = polls.iter().map(|(id, _)| *id).collect();
    let bind_ids = |query: crate::db::Query| query.bind_list(&ids);
    let options: Vec<(i64, i64, String)> = db
        .fetch_all(bind_ids(sql_in(
            "SELECT id, post_id, label FROM poll_options WHERE post_id IN ({list}) ORDER BY post_id, position",
            1,
            ids.len(),
        )))
        .await?;
    let counts: Vec<(i64, i64)> = db
        .fetch_all(bind_ids(sql_in(
            "SELECT option_id, COUNT(*) FROM poll_votes WHERE post_id IN ({list}) GROUP BY option_id",
            1,
            ids.len(),
        )))
        .await?;
    let mine: Vec<(i64, i64)> = db
        .fetch_all(bind_ids(
            sql_in(
                "SELECT post_id, option_id FROM poll_votes WHERE user_id = $1 AND post_id IN ({list})",
                2,
                ids.len(),
            )
            .bind(viewer_id),
        ))
        .await?;
    let now = now();
    let mut out = HashMap::new();
    for (post_id, closes_at) in polls {
        let mut views: Vec<OptionView> = options
            .iter()
            .filter(|(_, p, _)| p == post_id)
            .map(|(id, _, label)| OptionView {
                id: *id,
                label: label.clone(),
                votes: counts.iter().find(|(o, _)| o == id).map_or(0, |(_, n)| *n),
                percent: 0,
            })
            .collect();
        let total: i64 = views.iter().map(|o| o.votes).sum();
        for option in &mut views {
            option.percent = if total == 0 { 0 } else { option.votes * 100 / total };
        }
        let view = PollView {
            options: views,
            closed: *closes_at <= now,
            closing_label: closing_label(*closes_at, now),
            my_choice: mine.iter().find(|(p, _)| p == post_id).map(|(_, o)| *o),
            total_votes: total,
        };
        out.insert(*post_id, view);
    }
    Ok(out)
}

/// Takes back every poll vote of a departing account.
pub async fn forget_voter(db: &mut impl Exec, user_id: i64) -> Result<(), sqlx::Error> {
    db.execute(sql("DELETE FROM poll_votes WHERE user_id = $1").bind(user_id)).await?;
    Ok(())
}

/// A person's poll votes: (post id, the option's label, voted at), for their data export.
pub async fn votes_by(db: &mut impl Exec, user_id: i64) -> Result<Vec<(i64, String, i64)>, sqlx::Error> {
    db.fetch_all(
        sql("SELECT v.post_id, o.label, v.created_at FROM poll_votes v JOIN poll_options o ON o.id = v.option_id
             WHERE v.user_id = $1 ORDER BY v.created_at")
        .bind(user_id),
    )
    .await
}
