//! Exports of a campaign's ideas for managers, as CSV and JSON. Both stream: ideas are read in
//! chunks of [`CHUNK`] by id, so a campaign of 100,000 ideas never sits in memory at once. Anonymous
//! authors stay anonymous here too.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::campaigns::find as find_campaign;
use super::store::{self, IdeaRow};
use super::{Campaign, is_manager};
use crate::accounts::CurrentUser;
use crate::accounts::sessions::DbSessionStore;
use crate::db::Db;
use crate::format::iso_time;
use crate::web::export::csv_row;
use crate::web::path::parse_id;
use crate::web::{AppError, AppState};
use axum::extract::FromRef;

/// Ideas read per database round trip.
const CHUNK: i64 = 500;

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AppState: FromRef<S>,
    DbSessionStore: FromRef<S>,
{
    Router::new()
        .route("/campaigns/{id}/export/{format}", get(export))
        .route("/admin/export/ideas.csv", get(export_all_csv))
        .route("/admin/export/ideas.json", get(export_all_json))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Csv,
    Json,
}

async fn export(
    State(state): State<AppState>,
    current: CurrentUser,
    Path((id, format)): Path<(String, String)>,
) -> Result<Response, AppError> {
    if !is_manager(&current.user) {
        return Err(AppError::Forbidden("Only innovation managers export campaigns."));
    }
    let format = match format.as_str() {
        "ideas.csv" => Format::Csv,
        "ideas.json" => Format::Json,
        _ => return Err(AppError::NotFound),
    };
    let campaign = find_campaign(&state, &current, parse_id(&id)?).await?;
    let name = format!("campaign-{}-ideas", campaign.id);
    Ok(stream(state.db.clone(), Some(campaign), format, &name))
}

async fn export_all_csv(State(state): State<AppState>, current: CurrentUser) -> Result<Response, AppError> {
    export_all(state, current, Format::Csv)
}

async fn export_all_json(State(state): State<AppState>, current: CurrentUser) -> Result<Response, AppError> {
    export_all(state, current, Format::Json)
}

/// Every idea of every campaign (admins).
fn export_all(state: AppState, current: CurrentUser, format: Format) -> Result<Response, AppError> {
    if !current.user.is_admin() {
        return Err(AppError::Forbidden("Only administrators export the whole site."));
    }
    Ok(stream(state.db.clone(), None, format, "all-ideas"))
}

fn stream(db: Db, campaign: Option<Campaign>, format: Format, name: &str) -> Response {
    let (content_type, extension) = match format {
        Format::Csv => ("text/csv; charset=utf-8", "csv"),
        Format::Json => ("application/json", "json"),
    };
    let disposition = format!("attachment; filename=\"{name}.{extension}\"");
    let stream = futures_util::stream::unfold(Exporter::new(db, campaign, format), |mut exporter| async move {
        let chunk = exporter.next().await?;
        Some((chunk, exporter))
    });
    (
        [(header::CONTENT_TYPE, content_type.to_owned()), (header::CONTENT_DISPOSITION, disposition)],
        Body::from_stream(stream),
    )
        .into_response()
}

/// Produces the export piece by piece: the header, then each chunk of ideas, then the footer.
struct Exporter {
    db: Db,
    /// `None`: every campaign.
    campaign: Option<Campaign>,
    format: Format,
    after: i64,
    started: bool,
    done: bool,
    first_idea: bool,
}

impl Exporter {
    fn new(db: Db, campaign: Option<Campaign>, format: Format) -> Exporter {
        Exporter { db, campaign, format, after: 0, started: false, done: false, first_idea: true }
    }

    async fn next(&mut self) -> Option<Result<Bytes, sqlx::Error>> {
        if self.done {
            return None;
        }
        if !self.started {
            self.started = true;
            return Some(Ok(Bytes::from(self.header())));
        }
        let campaign_id = self.campaign.as_ref().map(|c| c.id);
        let ideas = match store::export_chunk(&mut self.db, campaign_id, self.after, CHUNK).await {
            Ok(ideas) => ideas,
            Err(e) => {
                // The status line is gone already; cutting the stream short tells the client it failed.
                tracing::error!(error = %e, campaign = ?campaign_id, "export failed part way");
                self.done = true;
                return Some(Err(e));
            }
        };
        if ideas.is_empty() {
            self.done = true;
            return Some(Ok(Bytes::from(if self.format == Format::Json { "\n]}\n" } else { "" })));
        }
        self.after = ideas.last().map_or(self.after, |i| i.id);
        let text = match self.format {
            Format::Csv => ideas.iter().map(|i| idea_csv_row(i, self.campaign.is_none())).collect::<String>(),
            Format::Json => match self.json_ideas(&ideas).await {
                Ok(text) => text,
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            },
        };
        Some(Ok(Bytes::from(text)))
    }

    fn header(&self) -> String {
        match self.format {
            // The byte order mark makes spreadsheets read the file as UTF-8.
            Format::Csv => format!(
                "{}{}id,title,description,author,stage,votes,comments,created_at,updated_at,merged_into,official_response\r\n",
                "\u{feff}",
                if self.campaign.is_none() { "campaign_id," } else { "" }
            ),
            Format::Json => match &self.campaign {
                Some(campaign) => {
                    let campaign = serde_json::json!({
                        "id": campaign.id,
                        "title": campaign.title,
                        "question": campaign.question,
                        "opens_at": iso_time(campaign.opens_at),
                        "closes_at": iso_time(campaign.closes_at),
                        "vote_budget": campaign.vote_budget,
                    });
                    format!("{{\"campaign\":{campaign},\"ideas\":[")
                }
                None => "{\"ideas\":[".to_owned(),
            },
        }
    }

    async fn json_ideas(&mut self, ideas: &[IdeaRow]) -> Result<String, sqlx::Error> {
        let ids: Vec<i64> = ideas.iter().map(|i| i.id).collect();
        let histories = store::histories(&mut self.db, &ids).await?;
        let merges = store::merges_of(&mut self.db, &ids).await?;
        let mut out = String::new();
        for idea in ideas {
            let history: Vec<serde_json::Value> = histories
                .iter()
                .filter(|(id, _)| *id == idea.id)
                .map(|(_, c)| {
                    serde_json::json!({
                        "from": c.from_stage, "to": c.to_stage, "reason": c.reason,
                        "by": c.actor_name, "at": iso_time(c.created_at),
                    })
                })
                .collect();
            let merge_list: Vec<serde_json::Value> = merges
                .iter()
                .filter(|m| m.source_id == idea.id || m.target_id == idea.id)
                .map(|m| {
                    serde_json::json!({
                        "duplicate": m.source_id, "into": m.target_id, "at": iso_time(m.created_at),
                        "undone_at": m.undone_at.map(iso_time),
                    })
                })
                .collect();
            let value = serde_json::json!({
                "id": idea.id,
                "campaign_id": idea.campaign_id,
                "hidden": idea.hidden_at.is_some(),
                "title": idea.title,
                "body": idea.body,
                "author": author(idea),
                "stage": idea.stage.as_str(),
                "votes": idea.vote_count,
                "comments": idea.comment_count,
                "created_at": iso_time(idea.created_at),
                "updated_at": iso_time(idea.updated_at),
                "merged_into": idea.merged_into_id,
                "official_response": idea.official_response,
                "stage_history": history,
                "merges": merge_list,
            });
            out.push_str(if self.first_idea { "\n" } else { ",\n" });
            self.first_idea = false;
            out.push_str(&value.to_string());
        }
        Ok(out)
    }
}

/// The author as exports show it: never the person behind an anonymous idea.
fn author(idea: &IdeaRow) -> String {
    if idea.anonymous {
        "anonymous".to_owned()
    } else {
        format!("{} (@{})", idea.author_display_name, idea.author_username)
    }
}

fn idea_csv_row(idea: &IdeaRow, with_campaign: bool) -> String {
    let campaign = with_campaign.then(|| idea.campaign_id.to_string());
    let cells = [
        idea.id.to_string(),
        idea.title.clone(),
        idea.body.clone(),
        author(idea),
        // The stage as the pages name it ("Under review"), for people reading the sheet.
        idea.stage.label().to_owned(),
        idea.vote_count.to_string(),
        idea.comment_count.to_string(),
        iso_time(idea.created_at),
        iso_time(idea.updated_at),
        idea.merged_into_id.map(|id| id.to_string()).unwrap_or_default(),
        idea.official_response.clone().unwrap_or_default(),
    ];
    csv_row(campaign.iter().chain(cells.iter()))
}
