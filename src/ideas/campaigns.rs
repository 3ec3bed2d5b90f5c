//! Campaign pages: the list, making one (managers), a campaign with its ideas sorted and filtered,
//! and the manager's publish / close / archive buttons. Publishing posts an announcement to the feed.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::store::{self, RankedIdea, Sort};
use super::{Byline, Campaign, CampaignForm, ListedCampaign, NewCampaign, Phase, Stage, input_time, is_manager};
use crate::accounts::CurrentUser;
use crate::accounts::User;
use crate::accounts::sessions::DbSessionStore;
use crate::communities;
use crate::db::now;
use crate::posts::store::Placement;
use crate::posts::{self, PostBody};
use crate::web::form::FormErrors;
use crate::web::layout::{Layout, render, render_status};
use crate::web::path::parse_id;
use crate::web::{AppError, AppState, PathId};
use axum::extract::FromRef;

/// Ideas on one page of a campaign.
const IDEAS_PER_PAGE: i64 = 30;

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AppState: FromRef<S>,
    DbSessionStore: FromRef<S>,
{
    Router::new()
        .route("/campaigns", get(index))
        .route("/campaigns/new", get(new_page).post(create))
        .route("/campaigns/{id}", get(show))
        .route("/campaigns/{id}/edit", get(edit_page).post(update))
        .route("/campaigns/{id}/{action}", post(change))
}

/// The campaign a path names, if the viewer may see it; a 404 otherwise.
pub async fn find(state: &AppState, current: &CurrentUser, id: i64) -> Result<Campaign, AppError> {
    super::write::campaign(&state.db, &current.user, id).await
}

#[derive(Template)]
#[template(path = "ideas/campaigns.html")]
struct IndexTemplate {
    layout: Layout,
    sections: Vec<(&'static str, Vec<ListedCampaign>)>,
    manager: bool,
}

async fn index(State(state): State<AppState>, current: CurrentUser) -> Result<Response, AppError> {
    let manager = is_manager(&current.user);
    let reach = super::campaign_reach(&current.user);
    let campaigns = store::list_campaigns_counted(&mut &state.db, current.user.id, reach).await?;
    let at = now();
    let mut sections: Vec<(&'static str, Vec<ListedCampaign>)> = Vec::new();
    for (title, phase) in [
        ("Open now", Phase::Open),
        ("Opening soon", Phase::Upcoming),
        ("Closed", Phase::Closed),
        ("Drafts", Phase::Draft),
        ("Archived", Phase::Archived),
    ] {
        let mut these: Vec<ListedCampaign> = campaigns.iter().filter(|c| c.phase(at) == phase).cloned().collect();
        if phase == Phase::Open {
            these.sort_by_key(|c| c.closes_at);
        }
        if !these.is_empty() {
            sections.push((title, these));
        }
    }
    render(&IndexTemplate { layout: Layout::for_user(&current, "Campaigns").await?, sections, manager })
}

#[derive(Template)]
#[template(path = "ideas/campaign_form.html")]
struct FormTemplate {
    layout: Layout,
    form: CampaignForm,
    errors: FormErrors,
    /// Where the form posts: `/campaigns/new`, or the campaign's edit address.
    action: String,
    editing: bool,
    /// The communities to pick from: (address, name).
    communities: Vec<(String, String)>,
    /// "Opens (Europe/Berlin)": the window's times are typed in the person's zone.
    opens_label: String,
    closes_label: String,
}

/// The campaign form page, new or editing `campaign_id`, with the given status.
async fn form_page(
    state: &AppState,
    current: &CurrentUser,
    form: CampaignForm,
    errors: FormErrors,
    campaign_id: Option<i64>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let title = if campaign_id.is_some() { "Edit campaign" } else { "New campaign" };
    let mut communities = communities::store::names(&mut &state.db).await?;
    // A value typed elsewhere (an old bookmark, a refused form) stays visible and chosen.
    if !form.community.is_empty() && !communities.iter().any(|(slug, _)| *slug == form.community) {
        communities.push((form.community.clone(), form.community.clone()));
    }
    let page = FormTemplate {
        layout: Layout::for_user(current, title).await?,
        form,
        errors,
        action: campaign_id.map_or_else(|| "/campaigns/new".to_owned(), |id| format!("/campaigns/{id}/edit")),
        editing: campaign_id.is_some(),
        communities,
        opens_label: format!("Opens ({})", crate::format::zone().name()),
        closes_label: format!("Closes ({})", crate::format::zone().name()),
    };
    render_status(status, &page)
}

/// The form checked and its community found, or the errors to show next to the fields.
async fn check(
    state: &AppState,
    form: &CampaignForm,
) -> Result<Result<(NewCampaign, Option<i64>), FormErrors>, AppError> {
    let parsed = form.parse();
    let community = match parsed.as_ref().ok().and_then(|c| c.community_slug.clone()) {
        Some(slug) => communities::store::find_by_slug(&mut &state.db, &slug).await?.map(|c| c.id).ok_or(slug),
        None => Ok(0),
    };
    Ok(match (parsed, community) {
        (Ok(campaign), Ok(id)) => Ok((campaign, (id != 0).then_some(id))),
        (parsed, community) => {
            let mut errors = parsed.err().unwrap_or_default();
            if let Err(slug) = community {
                errors.add("community", format!("No community has the address “{slug}”."));
            }
            Err(errors)
        }
    })
}

async fn new_page(State(state): State<AppState>, current: CurrentUser) -> Result<Response, AppError> {
    super::require_manager(&current)?;
    let at = now();
    let form = CampaignForm {
        opens_at: input_time(at - at % 3600 + 3600),
        closes_at: input_time(at - at % 3600 + 3600 + 21 * 86_400),
        ..CampaignForm::default()
    };
    form_page(&state, &current, form, FormErrors::default(), None, StatusCode::OK).await
}

async fn create(
    State(state): State<AppState>,
    current: CurrentUser,
    Form(form): Form<CampaignForm>,
) -> Result<Response, AppError> {
    super::require_manager(&current)?;
    let (campaign, community_id) = match check(&state, &form).await? {
        Ok(checked) => checked,
        Err(errors) => return form_page(&state, &current, form, errors, None, StatusCode::UNPROCESSABLE_ENTITY).await,
    };
    let id = store::create_campaign(&mut &state.db, current.user.id, &campaign, community_id).await?;
    current.set_notice("The campaign is saved as a draft: only managers see it until you publish it.").await?;
    Ok(Redirect::to(&format!("/campaigns/{id}")).into_response())
}

async fn edit_page(
    State(state): State<AppState>,
    current: CurrentUser,
    PathId(id): PathId,
) -> Result<Response, AppError> {
    super::require_manager(&current)?;
    let campaign = find(&state, &current, id).await?;
    let community = match campaign.community_id {
        Some(id) => communities::store::find_by_id(&mut &state.db, id).await?.map(|c| c.slug).unwrap_or_default(),
        None => String::new(),
    };
    let on = |flag: bool| flag.then(|| "on".to_owned());
    let form = CampaignForm {
        title: campaign.title,
        question: campaign.question,
        description: campaign.description,
        community,
        opens_at: input_time(campaign.opens_at),
        closes_at: input_time(campaign.closes_at),
        vote_budget: campaign.vote_budget.map(|b| b.to_string()).unwrap_or_default(),
        hide_counts: on(campaign.hide_counts),
        allow_anonymous: on(campaign.allow_anonymous),
    };
    form_page(&state, &current, form, FormErrors::default(), Some(campaign.id), StatusCode::OK).await
}

async fn update(
    State(state): State<AppState>,
    current: CurrentUser,
    PathId(id): PathId,
    Form(form): Form<CampaignForm>,
) -> Result<Response, AppError> {
    super::require_manager(&current)?;
    let campaign = find(&state, &current, id).await?;
    let (changed, community_id) = match check(&state, &form).await? {
        Ok(checked) => checked,
        Err(errors) => {
            return form_page(&state, &current, form, errors, Some(campaign.id), StatusCode::UNPROCESSABLE_ENTITY)
                .await;
        }
    };
    store::update_campaign(&mut &state.db, campaign.id, &changed, community_id).await?;
    current.set_notice("The campaign was saved.").await?;
    Ok(Redirect::to(&format!("/campaigns/{}", campaign.id)).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ListQuery {
    sort: String,
    stage: String,
    after: String,
}

/// An idea in a campaign's list.
pub struct IdeaItem {
    pub id: i64,
    pub title: String,
    pub author: String,
    pub stage: String,
    pub votes: Option<i64>,
    pub comments: i64,
    pub voted: bool,
}

#[derive(Template)]
#[template(path = "ideas/campaign.html")]
struct CampaignTemplate {
    layout: Layout,
    campaign: Campaign,
    phase: Phase,
    manager: bool,
    counts_hidden: bool,
    votes_left: Option<i64>,
    /// The budget is spent: Vote buttons say so and are disabled.
    out_of_votes: bool,
    ideas: Vec<IdeaItem>,
    sort: &'static str,
    stage: String,
    stages: Vec<(&'static str, &'static str)>,
    next_url: Option<String>,
}

async fn show(
    State(state): State<AppState>,
    current: CurrentUser,
    PathId(id): PathId,
    Query(query): Query<ListQuery>,
) -> Result<Response, AppError> {
    let campaign = find(&state, &current, id).await?;
    let at = now();
    let manager = is_manager(&current.user);
    let counts_hidden = campaign.counts_hidden_for(&current.user, at);
    // With counts hidden, an order by votes would give them away.
    let sort = match Sort::parse(&query.sort) {
        Sort::Top | Sort::Trending if counts_hidden => Sort::Newest,
        sort => sort,
    };
    let stage = Stage::parse(&query.stage);
    let cursor = query.after.split_once(':').and_then(|(k, i)| Some((k.parse().ok()?, i.parse().ok()?)));
    let mut db = &state.db;
    let mut rows = store::list_ideas(&mut db, campaign.id, sort, stage, cursor, IDEAS_PER_PAGE + 1).await?;
    let more = rows.len() as i64 > IDEAS_PER_PAGE;
    rows.truncate(IDEAS_PER_PAGE as usize);
    let mine = store::my_votes(&mut db, campaign.id, current.user.id).await?;
    let votes_left = campaign.vote_budget.map(|b| (b - mine.len() as i64).max(0));
    let stage_param = stage.map_or("", Stage::as_str);
    let next_url = rows.last().filter(|_| more).map(|last| {
        format!(
            "/campaigns/{}?sort={}&stage={}&after={}:{}",
            campaign.id,
            sort.as_str(),
            stage_param,
            last.sort_key,
            last.idea.id
        )
    });
    let ideas = rows.into_iter().map(|r| idea_item(r, &mine, counts_hidden, &current.user)).collect();
    render(&CampaignTemplate {
        layout: Layout::for_user(&current, campaign.title.clone()).await?,
        phase: campaign.phase(at),
        campaign,
        manager,
        counts_hidden,
        out_of_votes: votes_left == Some(0),
        votes_left,
        ideas,
        sort: sort.as_str(),
        stage: stage_param.to_owned(),
        stages: Stage::ALL.iter().map(|s| (s.as_str(), s.label())).collect(),
        next_url,
    })
}

fn idea_item(row: RankedIdea, mine: &[i64], counts_hidden: bool, viewer: &User) -> IdeaItem {
    let idea = row.idea;
    let concealed = idea.concealed_from(viewer);
    let author = match idea.byline(viewer) {
        Byline::Named => idea.author_display_name,
        Byline::Yours => "You (anonymous)".to_owned(),
        Byline::Anonymous => "Anonymous".to_owned(),
    };
    IdeaItem {
        voted: mine.contains(&idea.id),
        votes: (!counts_hidden).then_some(idea.vote_count),
        comments: idea.comment_count,
        stage: idea.stage.label().to_owned(),
        id: idea.id,
        title: if concealed { "Hidden by a moderator".to_owned() } else { idea.title },
        author,
    }
}

/// The publish form's choice: open at once (the default) or at the start planned in the campaign.
#[derive(Deserialize, Default)]
struct PublishForm {
    #[serde(default)]
    opens: String,
}

/// Publish, close or archive a campaign (managers).
async fn change(
    State(state): State<AppState>,
    current: CurrentUser,
    Path((id, action)): Path<(String, String)>,
    Form(choice): Form<PublishForm>,
) -> Result<Redirect, AppError> {
    super::require_manager(&current)?;
    let mut campaign = find(&state, &current, parse_id(&id)?).await?;
    let mut db = &state.db;
    let notice = match action.as_str() {
        "publish" if campaign.status == super::Status::Draft => {
            publish(&state, &current, &mut campaign, &choice).await?
        }
        "close" if campaign.phase(now()) == Phase::Open => {
            store::close_now(&mut db, campaign.id).await?;
            "The campaign is closed: no new ideas or votes."
        }
        "archive" => {
            store::set_status(&mut db, campaign.id, super::Status::Archived).await?;
            "The campaign is archived."
        }
        "publish" | "close" => {
            return Err(AppError::BadRequest("The campaign is not in a state that allows that.".into()));
        }
        _ => return Err(AppError::NotFound),
    };
    current.set_notice(notice).await?;
    Ok(Redirect::to(&format!("/campaigns/{}", campaign.id)))
}

/// Publishes a draft campaign, now or at its planned start, with the post that announces it.
async fn publish(
    state: &AppState,
    current: &CurrentUser,
    campaign: &mut Campaign,
    choice: &PublishForm,
) -> Result<&'static str, AppError> {
    let at = now();
    if campaign.closes_at <= at {
        return Err(AppError::BadRequest(
            "The campaign's closing time has passed. Edit the campaign to give it a later close, then publish it."
                .into(),
        ));
    }
    let open_at = match choice.opens.as_str() {
        "" | "now" => Some(at),
        "planned" => None,
        _ => {
            return Err(AppError::BadRequest("Choose to open the campaign now or at its planned start.".into()));
        }
    };
    if let Some(open_at) = open_at {
        campaign.opens_at = campaign.opens_at.min(open_at);
    }
    campaign.status = super::Status::Published;
    // Publishing and its announcement are one transaction: never a campaign published
    // without its post, nor a post for a campaign that someone else published meanwhile.
    let (body, placement) = announcement(state, campaign).await?;
    let mut tx = state.db.begin().await?;
    if !store::publish(&mut tx, campaign.id, open_at).await? {
        return Err(AppError::Conflict("The campaign was published meanwhile."));
    }
    let post_id = posts::store::create(&mut tx, current.user.id, &body, None, placement).await?;
    posts::store::set_announcement(&mut tx, post_id, true).await?;
    tx.commit().await?;
    crate::timeline::worker::wake();
    Ok(if campaign.phase(at) == Phase::Open {
        "The campaign is open and announced in the feed."
    } else {
        "The campaign is published and announced in the feed; it opens at its planned start."
    })
}

/// The post that announces the campaign's question in a feed (its community's, or the company's).
async fn announcement(state: &AppState, campaign: &Campaign) -> Result<(PostBody, Placement<'static>), AppError> {
    let link = match state.config.public_url.as_deref() {
        Some(url) => format!("{url}/campaigns/{}", campaign.id),
        None => "Find it under Campaigns.".to_owned(),
    };
    // Say when it opens only when that is not now, so the announcement never claims an open door.
    let when = if campaign.phase(now()) == Phase::Open {
        format!("Open until {}.", campaign.closes_label())
    } else {
        format!("Opens {}, open until {}.", campaign.opens_label(), campaign.closes_label())
    };
    let text = format!("New idea campaign: {}\n{}\n{when} {link}", campaign.title, campaign.question);
    let max = state.site().await.max_post_chars;
    let body = PostBody::parse(&text.chars().take(max).collect::<String>(), max).map_err(AppError::BadRequest)?;
    let placement = match campaign.community_id {
        Some(id) => {
            let community = communities::store::find_by_id(&mut &state.db, id).await?.ok_or(AppError::NotFound)?;
            Placement::Community { id, private: community.is_private }
        }
        None => Placement::Company,
    };
    Ok((body, placement))
}
