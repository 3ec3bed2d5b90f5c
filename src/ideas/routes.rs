//! Idea pages: submitting one (similar ideas are shown first), the idea with its votes, discussion,
//! stage and history, and what managers (stages, responses, merges) and admins (reveals) do to it.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::campaigns::find as find_campaign;
use super::store::{self, CommentRow, IdeaRow, StageChange, VoteRefused};
use super::write;
use super::{Byline, Campaign, IdeaForm, Phase, Stage, is_manager};
use crate::accounts::CurrentUser;
use crate::accounts::User;
use crate::accounts::sessions::DbSessionStore;
use crate::db::now;
use crate::watch::Watch;
use crate::web::form::{FormErrors, local_path};
use crate::web::layout::{Layout, render, render_status};
use crate::web::{AppError, AppState, PathId};
use axum::extract::FromRef;

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AppState: FromRef<S>,
    DbSessionStore: FromRef<S>,
    Watch: FromRef<S>,
{
    Router::new()
        .route("/campaigns/{id}/ideas/new", get(new_page))
        .route("/campaigns/{id}/ideas", post(submit))
        .route("/campaigns/{id}/similar", get(similar))
        .route("/ideas/{id}", get(show))
        .route("/ideas/{id}/vote", post(vote))
        .route("/ideas/{id}/unvote", post(unvote))
        .route("/ideas/{id}/comments", post(comment))
        .merge(super::manage::router())
        .merge(super::own::router())
        .route("/posts/{id}/idea", get(from_post_page).post(from_post))
}

/// The idea a path names with its campaign, if the viewer may see the campaign; a 404 otherwise.
pub(crate) async fn find_idea(
    state: &AppState,
    current: &CurrentUser,
    id: i64,
) -> Result<(IdeaRow, Campaign), AppError> {
    write::find(&state.db, &current.user, id).await
}

#[derive(Template)]
#[template(path = "ideas/idea_form.html")]
struct IdeaFormTemplate {
    layout: Layout,
    campaign: Campaign,
    form: IdeaForm,
    errors: FormErrors,
    similar: Vec<(i64, String, i64)>,
}

async fn new_page(
    State(state): State<AppState>,
    current: CurrentUser,
    PathId(id): PathId,
) -> Result<Response, AppError> {
    let campaign = find_campaign(&state, &current, id).await?;
    write::taking_ideas(&campaign)?;
    let layout = Layout::for_user(&current, format!("New idea: {}", campaign.title)).await?;
    let page = IdeaFormTemplate {
        layout,
        campaign,
        form: IdeaForm::default(),
        errors: FormErrors::default(),
        similar: Vec::new(),
    };
    render(&page)
}

async fn submit(
    State(state): State<AppState>,
    State(watch): State<Watch>,
    current: CurrentUser,
    PathId(id): PathId,
    Form(form): Form<IdeaForm>,
) -> Result<Response, AppError> {
    let campaign = find_campaign(&state, &current, id).await?;
    write::taking_ideas(&campaign)?;
    let (idea, errors, similar) = match form.parse(&campaign) {
        Ok(idea) => {
            // Before a first submit goes through, show ideas that look the same, so people vote instead.
            let similar = if form.confirmed.is_none() {
                store::similar(&mut &state.db, campaign.id, &idea.title).await?
            } else {
                Vec::new()
            };
            (Some(idea), FormErrors::default(), similar)
        }
        Err(errors) => (None, errors, Vec::new()),
    };
    match idea {
        Some(idea) if similar.is_empty() => {
            let idea_id = write::submit(&state.db, &watch, &current.user, &campaign, &idea, None).await?;
            current.set_notice("Your idea is in. Colleagues can now discuss and vote for it.").await?;
            Ok(Redirect::to(&format!("/ideas/{idea_id}")).into_response())
        }
        _ => {
            let layout = Layout::for_user(&current, format!("New idea: {}", campaign.title)).await?;
            let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
            render_status(status, &IdeaFormTemplate { layout, campaign, form, errors, similar })
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SimilarQuery {
    title: String,
}

/// An idea like the one being typed, for the form's live hint.
#[derive(serde::Serialize)]
struct SimilarIdea {
    id: i64,
    title: String,
    /// Absent while the campaign hides counts from this person.
    votes: Option<i64>,
}

/// Ideas similar to a title being typed, as JSON for the idea form's script (the form itself shows
/// the same list after a first submit, without JavaScript).
async fn similar(
    State(state): State<AppState>,
    current: CurrentUser,
    PathId(id): PathId,
    axum::extract::Query(query): axum::extract::Query<SimilarQuery>,
) -> Result<axum::Json<Vec<SimilarIdea>>, AppError> {
    let campaign = find_campaign(&state, &current, id).await?;
    let hidden = campaign.counts_hidden_for(&current.user, now());
    let title: String = query.title.chars().take(140).collect();
    let found = store::similar(&mut &state.db, campaign.id, &title).await?;
    Ok(axum::Json(
        found
            .into_iter()
            .map(|(id, title, votes)| SimilarIdea { id, title, votes: (!hidden).then_some(votes) })
            .collect(),
    ))
}

/// A comment and the answers under it.
pub struct CommentView {
    pub id: i64,
    pub author_username: String,
    pub author_name: String,
    /// The text as typed, for its writer's edit form.
    pub body: String,
    /// The text as shown: links, mentions and topics are links.
    pub segments: Vec<crate::posts::text::Segment>,
    pub edited: bool,
    pub when: String,
    /// The exact time, in the viewer's zone, shown on hover and focus.
    pub when_exact: String,
    pub replies: Vec<CommentView>,
    /// Hidden by a moderator; shown, marked, to its author and moderators.
    pub hidden: bool,
    /// Hidden by a moderator, and this viewer sees only that.
    pub concealed: bool,
    pub mine: bool,
}

fn comment_view(row: &CommentRow, viewer: &User, now: i64) -> CommentView {
    let hidden = row.hidden_at.is_some();
    let concealed = hidden && row.author_id != viewer.id && !viewer.is_moderator();
    CommentView {
        hidden: hidden && !concealed,
        concealed,
        mine: row.author_id == viewer.id,
        id: row.id,
        author_username: row.author_username.clone(),
        author_name: row.author_display_name.clone(),
        body: if concealed { String::new() } else { row.body.clone() },
        segments: if concealed {
            Vec::new()
        } else {
            crate::posts::text::segments(&row.body, &row.mentions.split_whitespace().collect::<Vec<_>>())
        },
        edited: row.edited_at.is_some(),
        when: crate::format::relative(row.created_at, now),
        when_exact: crate::format::date_time(row.created_at),
        replies: Vec::new(),
    }
}

/// Comments threaded one level: top-level comments in order, each with its answers.
fn thread(rows: &[CommentRow], viewer: &User, now: i64) -> Vec<CommentView> {
    let mut top: Vec<CommentView> =
        rows.iter().filter(|c| c.parent_id.is_none()).map(|c| comment_view(c, viewer, now)).collect();
    for reply in rows.iter().filter(|c| c.parent_id.is_some()) {
        if let Some(parent) = top.iter_mut().find(|t| Some(t.id) == reply.parent_id) {
            parent.replies.push(comment_view(reply, viewer, now));
        }
    }
    top
}

/// A line of an idea's history.
pub struct HistoryLine {
    pub who: String,
    pub from: String,
    pub to: String,
    pub reason: String,
    pub when: String,
}

fn history_line(change: StageChange, now: i64) -> HistoryLine {
    HistoryLine {
        who: change.actor_name.unwrap_or_else(|| crate::accounts::FORMER_EMPLOYEE.into()),
        from: change.from_stage.label().to_owned(),
        to: change.to_stage.label().to_owned(),
        reason: change.reason,
        when: crate::format::relative(change.created_at, now),
    }
}

#[derive(Template)]
#[template(path = "ideas/idea.html")]
struct IdeaTemplate {
    layout: Layout,
    campaign: Campaign,
    idea: IdeaRow,
    author: String,
    stage: &'static str,
    open: bool,
    counts_hidden: bool,
    voted: bool,
    votes_left: Option<i64>,
    /// The budget is spent: the Vote button says so and is disabled.
    out_of_votes: bool,
    manager: bool,
    admin: bool,
    comments: Vec<CommentView>,
    history: Vec<HistoryLine>,
    merged_into: Option<(i64, String)>,
    merged_here: Vec<(i64, String)>,
    stages: Vec<(&'static str, &'static str)>,
    merge_targets: Vec<(i64, String)>,
    /// Set on the page an admin sees right after revealing an anonymous author.
    revealed: Option<String>,
    comment_error: Option<String>,
    /// Hidden by a moderator; this viewer (author or moderator) still sees it, marked.
    hidden: bool,
    /// Hidden by a moderator, and this viewer sees only that.
    concealed: bool,
    /// The viewer wrote the idea.
    mine: bool,
    /// The viewer wrote it and may still edit or withdraw it.
    editable: bool,
    /// The discussion takes no more comments or changes (archived campaign).
    discussion_closed: bool,
}

pub(super) async fn idea_page(
    state: &AppState,
    current: &CurrentUser,
    idea: IdeaRow,
    campaign: Campaign,
    revealed: Option<String>,
    comment_error: Option<String>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let mut idea = idea;
    let concealed = idea.concealed_from(&current.user);
    let hidden = idea.hidden_at.is_some() && !concealed;
    if concealed {
        idea.title = "Hidden by a moderator".into();
        idea.body = String::new();
    }
    let at = now();
    let mut db = &state.db;
    let manager = is_manager(&current.user);
    let mine = store::my_votes(&mut db, campaign.id, current.user.id).await?;
    let comments = thread(&store::comments(&mut db, idea.id).await?, &current.user, at);
    let history = store::history(&mut db, idea.id).await?.into_iter().map(|c| history_line(c, at)).collect();
    let merged_into = match idea.merged_into_id {
        Some(target) => store::find_idea(&mut db, target).await?.map(|t| (t.id, t.title)),
        None => None,
    };
    let merged_here = store::merged_into(&mut db, idea.id).await?;
    let merge_targets = if manager && idea.merged_into_id.is_none() {
        let others = store::list_ideas(&mut db, campaign.id, store::Sort::Top, None, None, 200).await?;
        others.into_iter().filter(|o| o.idea.id != idea.id).map(|o| (o.idea.id, o.idea.title)).collect()
    } else {
        Vec::new()
    };
    let author = match idea.byline(&current.user) {
        Byline::Named => idea.author_display_name.clone(),
        Byline::Yours => "You (anonymous to everyone else)".to_owned(),
        Byline::Anonymous => "Anonymous".to_owned(),
    };
    let page = IdeaTemplate {
        layout: Layout::for_user(current, idea.title.clone()).await?,
        stage: idea.stage.label(),
        open: campaign.phase(at) == Phase::Open && idea.merged_into_id.is_none(),
        counts_hidden: campaign.counts_hidden_for(&current.user, at),
        voted: mine.contains(&idea.id),
        votes_left: campaign.vote_budget.map(|b| (b - mine.len() as i64).max(0)),
        out_of_votes: campaign.vote_budget.is_some_and(|b| mine.len() as i64 >= b),
        manager,
        admin: current.user.is_admin(),
        comments,
        history,
        merged_into,
        merged_here,
        stages: Stage::MOVABLE.iter().map(|s| (s.as_str(), s.label())).collect(),
        merge_targets,
        revealed,
        comment_error,
        hidden,
        concealed,
        mine: idea.author_id == current.user.id,
        editable: write::edit_refusal(&idea, &campaign, current.user.id, at).is_none(),
        discussion_closed: campaign.phase(at) == Phase::Archived,
        author,
        idea,
        campaign,
    };
    render_status(status, &page)
}

async fn show(State(state): State<AppState>, current: CurrentUser, PathId(id): PathId) -> Result<Response, AppError> {
    let (idea, campaign) = find_idea(&state, &current, id).await?;
    idea_page(&state, &current, idea, campaign, None, None, StatusCode::OK).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct BackForm {
    back: String,
}

fn back_to(form: &BackForm, idea_id: i64) -> Redirect {
    let path = if form.back.is_empty() { format!("/ideas/{idea_id}") } else { local_path(Some(&form.back)) };
    Redirect::to(&format!("{}#idea-{idea_id}", path.split('#').next().unwrap_or("/")))
}

async fn vote(
    State(state): State<AppState>,
    current: CurrentUser,
    PathId(id): PathId,
    Form(form): Form<BackForm>,
) -> Result<Redirect, AppError> {
    let (idea, campaign) = find_idea(&state, &current, id).await?;
    // A refused vote goes back to the page it came from, with the reason at the top.
    if let Err(VoteRefused::BudgetSpent(budget)) = write::vote(&state.db, &current.user, &idea, &campaign).await? {
        current
            .set_notice(format!(
                "You have used all {budget} of your votes in this campaign. Take one back to vote for this idea."
            ))
            .await?;
    }
    Ok(back_to(&form, idea.id))
}

async fn unvote(
    State(state): State<AppState>,
    current: CurrentUser,
    PathId(id): PathId,
    Form(form): Form<BackForm>,
) -> Result<Redirect, AppError> {
    let (idea, campaign) = find_idea(&state, &current, id).await?;
    write::unvote(&state.db, &current.user, &idea, &campaign).await?;
    Ok(back_to(&form, idea.id))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CommentForm {
    body: String,
    parent_id: String,
}

async fn comment(
    State(state): State<AppState>,
    State(watch): State<Watch>,
    current: CurrentUser,
    PathId(id): PathId,
    Form(form): Form<CommentForm>,
) -> Result<Response, AppError> {
    let (idea, campaign) = find_idea(&state, &current, id).await?;
    write::discussable(&campaign)?;
    let body = match super::COMMENT.read(&form.body) {
        Ok(body) => body,
        Err(message) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return idea_page(&state, &current, idea, campaign, None, Some(message), status).await;
        }
    };
    let parent = form.parent_id.parse::<i64>().ok();
    write::comment(&state.db, &watch, &current.user, &idea, &campaign, parent, &body).await?;
    Ok(Redirect::to(&format!("/ideas/{}#comments", idea.id)).into_response())
}

#[derive(Template)]
#[template(path = "ideas/from_post.html")]
struct FromPostTemplate {
    layout: Layout,
    post_id: i64,
    campaigns: Vec<Campaign>,
    form: FromPostForm,
    errors: FormErrors,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct FromPostForm {
    campaign: String,
    title: String,
    body: String,
}

/// A post of the viewer's that can still become an idea ([`write::convertible_post`]).
async fn own_post(state: &AppState, current: &CurrentUser, id: i64) -> Result<crate::posts::PostRow, AppError> {
    write::convertible_post(&state.db, &current.user, id).await
}

/// Campaigns open now that the viewer may take part in.
async fn open_campaigns(state: &AppState, current: &CurrentUser) -> Result<Vec<Campaign>, AppError> {
    let all = store::list_campaigns(&mut &state.db, current.user.id, super::Reach::Published).await?;
    let at = now();
    Ok(all.into_iter().filter(|c| c.is_open(at)).collect())
}

async fn from_post_page(
    State(state): State<AppState>,
    current: CurrentUser,
    PathId(id): PathId,
) -> Result<Response, AppError> {
    let post = own_post(&state, &current, id).await?;
    let campaigns = open_campaigns(&state, &current).await?;
    let title: String = post.body.lines().next().unwrap_or("").chars().take(140).collect();
    let form = FromPostForm { campaign: String::new(), title, body: post.body.clone() };
    let layout = Layout::for_user(&current, "Turn a post into an idea").await?;
    render(&FromPostTemplate { layout, post_id: post.id, campaigns, form, errors: FormErrors::default() })
}

async fn from_post(
    State(state): State<AppState>,
    State(watch): State<Watch>,
    current: CurrentUser,
    PathId(id): PathId,
    Form(form): Form<FromPostForm>,
) -> Result<Response, AppError> {
    let post = own_post(&state, &current, id).await?;
    let campaigns = open_campaigns(&state, &current).await?;
    let chosen = campaigns.iter().find(|c| c.id.to_string() == form.campaign.trim()).cloned();
    let idea_form = IdeaForm { title: form.title.clone(), body: form.body.clone(), anonymous: None, confirmed: None };
    let parsed = chosen.as_ref().map(|c| idea_form.parse(c));
    match (chosen, parsed) {
        (Some(campaign), Some(Ok(idea))) => {
            let idea_id = write::submit(&state.db, &watch, &current.user, &campaign, &idea, Some(&post)).await?;
            current.set_notice("Your post is now an idea; the post links to it.").await?;
            Ok(Redirect::to(&format!("/ideas/{idea_id}")).into_response())
        }
        (chosen, parsed) => {
            let mut errors = match parsed {
                Some(Err(errors)) => errors,
                _ => FormErrors::default(),
            };
            if chosen.is_none() {
                errors.add("campaign", "Choose an open campaign.");
            }
            let layout = Layout::for_user(&current, "Turn a post into an idea").await?;
            let page = FromPostTemplate { layout, post_id: post.id, campaigns, form, errors };
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}
