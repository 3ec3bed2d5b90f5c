//! SQL for curating ideas: stage changes and their history, official responses, merges and their
//! undoing, and the histories exports carry.

use super::{IdeaRow, RECENT_BONUS, TRENDING_WINDOW};
use crate::db::{Engine, Exec, Tx, now, sql};
use crate::ideas::Stage;
use crate::notify::{self, About, Kind};

/// Locks the ideas `ids` that stand (are not merged into another) for the rest of the transaction,
/// in id order, and returns them with their stages. On PostgreSQL a row another transaction is
/// changing is waited for and then read as that transaction left it; SQLite's writers take turns.
/// Every curation reads its ideas here, so two managers acting at once see each other's outcome
/// instead of both acting on what stood before.
pub(super) async fn lock_standing(tx: &mut Tx, ids: &[i64]) -> Result<Vec<(i64, Stage)>, sqlx::Error> {
    let lock = match tx.engine() {
        Engine::Sqlite => {
            sql("SELECT id, stage FROM ideas WHERE id IN ($1, $2) AND merged_into_id IS NULL ORDER BY id")
        }
        Engine::Postgres => sql("SELECT id, stage FROM ideas WHERE id IN ($1, $2) AND merged_into_id IS NULL
                                 ORDER BY id FOR NO KEY UPDATE"),
    };
    let second = ids.get(1).or(ids.first()).copied().unwrap_or(0);
    tx.fetch_all(lock.bind(ids.first().copied().unwrap_or(0)).bind(second)).await
}

/// Moves an idea to another stage with a reason: the history keeps it (from the stage it had when
/// the move committed), and its author and voters are told. False when the idea was merged
/// meanwhile.
pub async fn change_stage(
    tx: &mut Tx,
    idea: &IdeaRow,
    to: Stage,
    reason: &str,
    actor_id: i64,
) -> Result<bool, sqlx::Error> {
    let Some((_, from)) = lock_standing(tx, &[idea.id]).await?.pop() else { return Ok(false) };
    record_stage(tx, idea.id, from, to, reason, actor_id).await?;
    notify::notify_stage_change(tx, idea.id, idea.author_id, actor_id, to.as_str(), reason).await?;
    Ok(true)
}

async fn record_stage(
    db: &mut impl Exec,
    idea_id: i64,
    from: Stage,
    to: Stage,
    reason: &str,
    actor_id: i64,
) -> Result<(), sqlx::Error> {
    let at = now();
    db.execute(
        sql("UPDATE ideas SET stage = $1, updated_at = $2 WHERE id = $3").bind(to.as_str()).bind(at).bind(idea_id),
    )
    .await?;
    db.execute(
        sql("INSERT INTO stage_changes (idea_id, actor_id, from_stage, to_stage, reason, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(idea_id)
        .bind(actor_id)
        .bind(from.as_str())
        .bind(to.as_str())
        .bind(reason)
        .bind(at),
    )
    .await?;
    Ok(())
}

/// One change in an idea's history.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StageChange {
    pub from_stage: Stage,
    pub to_stage: Stage,
    pub reason: String,
    pub created_at: i64,
    pub actor_name: Option<String>,
}

pub async fn history(db: &mut impl Exec, idea_id: i64) -> Result<Vec<StageChange>, sqlx::Error> {
    db.fetch_all(
        sql("SELECT s.from_stage, s.to_stage, s.reason, s.created_at, u.display_name AS actor_name
             FROM stage_changes s LEFT JOIN users u ON u.id = s.actor_id
             WHERE s.idea_id = $1 ORDER BY s.id")
        .bind(idea_id),
    )
    .await
}

/// Sets the official response; the author is told.
pub async fn respond(tx: &mut Tx, idea: &IdeaRow, text: &str, actor_id: i64) -> Result<(), sqlx::Error> {
    let at = now();
    tx.execute(
        sql("UPDATE ideas SET official_response = $1, response_by = $2, response_at = $3, updated_at = $3 WHERE id = $4")
            .bind(text)
            .bind(actor_id)
            .bind(at)
            .bind(idea.id),
    )
    .await?;
    notify::notify(tx, idea.author_id, Kind::IdeaResponse, actor_id, About::Idea(idea.id)).await?;
    Ok(())
}

/// Merges a duplicate into another idea of the same campaign: the duplicate's voters who had not
/// voted for the target now do (each counted once), and the duplicate points to the target. False,
/// with nothing changed, unless both ideas still stand when the merge commits: two merges at once
/// (A into B and B into A, or A into two ideas) cannot both go through.
pub async fn merge(tx: &mut Tx, source: &IdeaRow, target: &IdeaRow, actor_id: i64) -> Result<bool, sqlx::Error> {
    let standing = lock_standing(tx, &[source.id, target.id]).await?;
    let Some((_, from_stage)) = standing.iter().find(|(id, _)| *id == source.id).cloned() else { return Ok(false) };
    if standing.len() < 2 {
        return Ok(false);
    }
    let at = now();
    let (merge_id,): (i64,) = tx
        .fetch_one(
            sql("INSERT INTO merges (source_id, target_id, from_stage, actor_id, created_at) VALUES ($1, $2, $3, $4, $5)
                 RETURNING id")
            .bind(source.id)
            .bind(target.id)
            .bind(from_stage.as_str())
            .bind(actor_id)
            .bind(at),
        )
        .await?;
    tx.execute(
        sql("INSERT INTO merge_moved_votes (merge_id, user_id)
             SELECT $1, v.user_id FROM idea_votes v
             WHERE v.idea_id = $2
               AND NOT EXISTS (SELECT 1 FROM idea_votes t WHERE t.idea_id = $3 AND t.user_id = v.user_id)")
        .bind(merge_id)
        .bind(source.id)
        .bind(target.id),
    )
    .await?;
    tx.execute(
        sql("INSERT INTO idea_votes (idea_id, user_id, campaign_id, created_at)
             SELECT $2, user_id, $3, $4 FROM merge_moved_votes WHERE merge_id = $1")
        .bind(merge_id)
        .bind(target.id)
        .bind(target.campaign_id)
        .bind(at),
    )
    .await?;
    recount(tx, target.id).await?;
    tx.execute(sql("UPDATE ideas SET merged_into_id = $1 WHERE id = $2").bind(target.id).bind(source.id)).await?;
    let reason = format!("Merged into “{}”", target.title);
    record_stage(tx, source.id, from_stage, Stage::Merged, &reason, actor_id).await?;
    // The author and voters hear where their idea went (their votes moved with it).
    notify::notify_stage_change(tx, source.id, source.author_id, actor_id, Stage::Merged.as_str(), &reason).await?;
    Ok(true)
}

/// Counts an idea's votes and trending score afresh (after a merge moved votes in or out).
async fn recount(db: &mut impl Exec, idea_id: i64) -> Result<(), sqlx::Error> {
    db.execute(
        sql("UPDATE ideas SET vote_count = (SELECT COUNT(*) FROM idea_votes WHERE idea_id = $1),
                              trend_score = (SELECT COUNT(*) FROM idea_votes WHERE idea_id = $1)
                                  + $2 * (SELECT COUNT(*) FROM idea_votes WHERE idea_id = $1 AND created_at > $3)
             WHERE id = $1")
        .bind(idea_id)
        .bind(RECENT_BONUS)
        .bind(now() - TRENDING_WINDOW),
    )
    .await?;
    Ok(())
}

/// Undoes the merge of `source`: the votes it added to the target go, and the duplicate stands again
/// in the stage it had. False when the idea was not merged.
pub async fn unmerge(tx: &mut Tx, source: &IdeaRow, actor_id: i64) -> Result<bool, sqlx::Error> {
    // Claimed by marking it undone first: of two undos at once, the second finds nothing to undo.
    let merge: Option<(i64, i64, Stage)> = tx
        .fetch_optional(
            sql("UPDATE merges SET undone_at = $2 WHERE source_id = $1 AND undone_at IS NULL
                 RETURNING id, target_id, from_stage")
            .bind(source.id)
            .bind(now()),
        )
        .await?;
    let Some((merge_id, target_id, from_stage)) = merge else { return Ok(false) };
    tx.execute(
        sql("DELETE FROM idea_votes
             WHERE idea_id = $1 AND user_id IN (SELECT user_id FROM merge_moved_votes WHERE merge_id = $2)")
        .bind(target_id)
        .bind(merge_id),
    )
    .await?;
    recount(tx, target_id).await?;
    recount(tx, source.id).await?;
    tx.execute(sql("UPDATE ideas SET merged_into_id = NULL WHERE id = $1").bind(source.id)).await?;
    record_stage(tx, source.id, Stage::Merged, from_stage, "The merge was undone", actor_id).await?;
    Ok(true)
}

/// Ideas merged into this one (standing merges).
pub async fn merged_into(db: &mut impl Exec, target_id: i64) -> Result<Vec<(i64, String)>, sqlx::Error> {
    db.fetch_all(sql("SELECT id, title FROM ideas WHERE merged_into_id = $1 ORDER BY id").bind(target_id)).await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct IdeaStageChange {
    pub idea_id: i64,
    #[sqlx(flatten)]
    pub change: StageChange,
}

/// The histories of these ideas, oldest change first.
pub async fn histories(db: &mut impl Exec, idea_ids: &[i64]) -> Result<Vec<(i64, StageChange)>, sqlx::Error> {
    let query = crate::db::sql_in(
        "SELECT s.idea_id, s.from_stage, s.to_stage, s.reason, s.created_at, u.display_name AS actor_name
         FROM stage_changes s LEFT JOIN users u ON u.id = s.actor_id
         WHERE s.idea_id IN ({list}) ORDER BY s.id",
        1,
        idea_ids.len(),
    )
    .bind_list(idea_ids);
    let rows: Vec<IdeaStageChange> = db.fetch_all(query).await?;
    Ok(rows.into_iter().map(|r| (r.idea_id, r.change)).collect())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MergeRow {
    pub source_id: i64,
    pub target_id: i64,
    pub created_at: i64,
    pub undone_at: Option<i64>,
}

/// Merges in which any of these ideas took part, as duplicate or as target.
pub async fn merges_of(db: &mut impl Exec, idea_ids: &[i64]) -> Result<Vec<MergeRow>, sqlx::Error> {
    let n = idea_ids.len();
    let query = crate::db::sql_in(
        "SELECT source_id, target_id, created_at, undone_at FROM merges WHERE source_id IN ({list}) OR target_id IN ({list})
         ORDER BY id",
        1,
        n,
    )
    .bind_list(idea_ids);
    db.fetch_all(query).await
}
