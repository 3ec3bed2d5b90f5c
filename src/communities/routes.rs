//! Community pages: the list, making one, a community's feed, joining and leaving, and what its
//! admins do (approve requests, invite, promote, remove members and posts, pin a post).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::membership::{self, Joined};
use super::store::StepDown;
use super::{Community, Standing, parse_slug, slug_from_name, store};
use crate::accounts;
use crate::accounts::CurrentUser;
use crate::accounts::sessions::DbSessionStore;
use crate::bus::Hub;
use crate::db::unique_violation;
use crate::posts::routes::{Compose, CursorQuery, NewPostForm, parse_new_post};
use crate::posts::store::Placement;
use crate::posts::views::Replies;
use crate::posts::views::load_views;
use crate::posts::{self, FeedPage, PostView};
use crate::watch::Watch;
use crate::web::form::FormErrors;
use crate::web::layout::{Layout, render, render_status};
use crate::web::path::parse_id;
use crate::web::{AppError, AppState};
use axum::extract::FromRef;

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AppState: FromRef<S>,
    DbSessionStore: FromRef<S>,
    Hub: FromRef<S>,
    Watch: FromRef<S>,
{
    Router::new()
        .route("/communities", get(index))
        .route("/communities/new", get(new_page).post(create))
        .route("/c/{slug}", get(show))
        .route("/c/{slug}/posts", post(write_post))
        .route("/c/{slug}/join", post(join))
        .route("/c/{slug}/leave", post(leave))
        .route("/c/{slug}/members", get(members))
        .route("/c/{slug}/invite", post(invite))
        .route("/c/{slug}/members/{username}/{action}", post(manage_member))
        .route("/c/{slug}/posts/{id}/{action}", post(manage_post))
}

/// The community a path names with the viewer's standing in it, or a 404.
async fn community(state: &AppState, current: &CurrentUser, slug: &str) -> Result<(Community, Standing), AppError> {
    let mut db = &state.db;
    let community = store::find_by_slug(&mut db, &slug.to_lowercase()).await?.ok_or(AppError::NotFound)?;
    let standing = store::standing(&mut db, community.id, current.user.id).await?;
    Ok((community, standing))
}

/// The community, if the viewer is one of its admins (or a site admin).
async fn as_admin(state: &AppState, current: &CurrentUser, slug: &str) -> Result<Community, AppError> {
    let (community, standing) = community(state, current, slug).await?;
    if standing == Standing::Admin || current.user.is_admin() {
        Ok(community)
    } else {
        Err(AppError::Forbidden("Only the community's admins can do that."))
    }
}

#[derive(Template)]
#[template(path = "communities/index.html")]
struct IndexTemplate {
    layout: Layout,
    communities: Vec<(Community, Standing)>,
}

async fn index(State(state): State<AppState>, current: CurrentUser) -> Result<Response, AppError> {
    let communities = store::list(&mut &state.db, current.user.id).await?;
    render(&IndexTemplate { layout: Layout::for_user(&current, "Communities").await?, communities })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NewForm {
    name: String,
    slug: String,
    description: String,
    visibility: String,
}

#[derive(Template)]
#[template(path = "communities/new.html")]
struct NewTemplate {
    layout: Layout,
    form: NewForm,
    errors: FormErrors,
}

async fn new_page(current: CurrentUser) -> Result<Response, AppError> {
    let form = NewForm { visibility: "public".into(), ..NewForm::default() };
    render(&NewTemplate {
        layout: Layout::for_user(&current, "New community").await?,
        form,
        errors: FormErrors::default(),
    })
}

async fn create(
    State(state): State<AppState>,
    current: CurrentUser,
    Form(form): Form<NewForm>,
) -> Result<Response, AppError> {
    let mut errors = FormErrors::default();
    let name = errors.check("name", super::NAME.read(&form.name));
    let slug_input = if form.slug.trim().is_empty() { slug_from_name(&form.name) } else { form.slug.clone() };
    let slug = errors.check("slug", parse_slug(&slug_input));
    let description = errors.check("description", super::DESCRIPTION.read(&form.description));
    let is_private = match form.visibility.as_str() {
        "public" => Some(false),
        "private" => Some(true),
        _ => {
            errors.add("visibility", "Choose public or private.");
            None
        }
    };
    let refuse = |errors: FormErrors, form: NewForm, layout: Layout| {
        render_status(StatusCode::UNPROCESSABLE_ENTITY, &NewTemplate { layout, form, errors })
    };
    let (Some(name), Some(slug), Some(description), Some(is_private)) = (name, slug, description, is_private) else {
        return refuse(errors, form, Layout::for_user(&current, "New community").await?);
    };
    let created = async {
        let mut tx = state.db.begin().await?;
        store::create(&mut tx, current.user.id, &slug, &name, &description, is_private).await?;
        tx.commit().await
    };
    match created.await {
        Ok(()) => {
            current.set_notice(format!("{name} is ready. You are its admin.")).await?;
            Ok(Redirect::to(&format!("/c/{slug}")).into_response())
        }
        Err(e) if unique_violation(&e).is_some() => {
            errors.add("slug", "A community already has that address; choose another.");
            refuse(errors, form, Layout::for_user(&current, "New community").await?)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "communities/show.html")]
struct ShowTemplate {
    layout: Layout,
    community: Community,
    standing: Standing,
    is_admin: bool,
    pinned: Option<PostView>,
    compose: Option<Compose>,
    feed: Option<FeedPage>,
    base_url: String,
    post_action: String,
    live_feed: String,
}

async fn community_page(
    state: &AppState,
    current: &CurrentUser,
    slug: &str,
    cursor: Option<i64>,
    compose: Compose,
    status: StatusCode,
) -> Result<Response, AppError> {
    let (community, standing) = community(state, current, slug).await?;
    let mut db = &state.db;
    let readable = community.readable_by(standing);
    let (feed, pinned) = if readable {
        let rows = posts::store::by_community(&mut db, community.id, cursor).await?;
        let pinned_row = match community.pinned_post_id {
            Some(id) => posts::store::find_visible(&mut db, id, current.user.id).await?.filter(|p| !p.is_deleted()),
            None => None,
        };
        let pinned = load_views(&mut db, pinned_row.into_iter().collect(), &current.user, Replies::None).await?.pop();
        (Some(FeedPage::load(&mut db, rows, &current.user).await?), pinned)
    } else {
        (None, None)
    };
    let page = ShowTemplate {
        layout: Layout::for_user(current, community.name.clone()).await?,
        base_url: format!("/c/{}", community.slug),
        post_action: format!("/c/{}/posts", community.slug),
        live_feed: format!("c/{}", community.slug),
        is_admin: standing == Standing::Admin || current.user.is_admin(),
        compose: standing.is_member().then_some(compose),
        community,
        standing,
        pinned,
        feed,
    };
    render_status(status, &page)
}

async fn show(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(slug): Path<String>,
    Query(query): Query<CursorQuery>,
) -> Result<Response, AppError> {
    community_page(&state, &current, &slug, query.cursor()?, Compose::with_poll(), StatusCode::OK).await
}

async fn write_post(
    State(state): State<AppState>,
    State(live): State<Hub>,
    State(watch): State<Watch>,
    current: CurrentUser,
    Path(slug): Path<String>,
    Form(form): Form<NewPostForm>,
) -> Result<Response, AppError> {
    let (community, standing) = community(&state, &current, &slug).await?;
    if !standing.is_member() {
        return Err(AppError::Forbidden("Join the community to post in it."));
    }
    let (body, poll) = match parse_new_post(form) {
        Ok(parsed) => parsed,
        Err(compose) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return community_page(&state, &current, &slug, None, *compose, status).await;
        }
    };
    let placement = Placement::Community { id: community.id, private: community.is_private };
    let effects = posts::write::Effects { watch: &watch, live: &live };
    posts::write::publish(&state.db, effects, &current.user, &body, poll.as_ref(), placement).await?;
    Ok(Redirect::to(&format!("/c/{}", community.slug)).into_response())
}

async fn join(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(slug): Path<String>,
) -> Result<Redirect, AppError> {
    let (community, standing) = community(&state, &current, &slug).await?;
    let notice = match membership::join(&state.db, &current.user, &community, standing).await? {
        Joined::Already => "You are a member already.".to_owned(),
        Joined::StillWaiting => "Your request is waiting for an admin.".to_owned(),
        Joined::Asked => "Your request to join was sent to the community's admins.".to_owned(),
        Joined::Member => format!("Welcome to {}.", community.name),
    };
    current.set_notice(notice).await?;
    Ok(Redirect::to(&format!("/c/{}", community.slug)))
}

async fn leave(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(slug): Path<String>,
) -> Result<Redirect, AppError> {
    let (community, standing) = community(&state, &current, &slug).await?;
    membership::leave(&state.db, &current.user, &community, standing).await?;
    current.set_notice(format!("You left {}.", community.name)).await?;
    Ok(Redirect::to(&format!("/c/{}", community.slug)))
}

#[derive(Template)]
#[template(path = "communities/members.html")]
struct MembersTemplate {
    layout: Layout,
    community: Community,
    is_admin: bool,
    members: Vec<store::MemberRow>,
    requests: Vec<store::MemberRow>,
}

async fn members(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    let (community, standing) = community(&state, &current, &slug).await?;
    if !community.readable_by(standing) && !current.user.is_admin() {
        return Err(AppError::Forbidden("Only members see who is in a private community."));
    }
    let is_admin = standing == Standing::Admin || current.user.is_admin();
    let mut db = &state.db;
    let members = store::members(&mut db, community.id).await?;
    let requests = if is_admin { store::requests(&mut db, community.id).await? } else { Vec::new() };
    let layout = Layout::for_user(&current, format!("Members of {}", community.name)).await?;
    render(&MembersTemplate { layout, community, is_admin, members, requests })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct InviteForm {
    username: String,
}

async fn invite(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(slug): Path<String>,
    Form(form): Form<InviteForm>,
) -> Result<Redirect, AppError> {
    let community = as_admin(&state, &current, &slug).await?;
    let mut db = &state.db;
    let person = accounts::find_named(&mut db, form.username.trim().trim_start_matches('@')).await.map_err(|_| {
        AppError::BadRequest(format!("Nobody is called @{}.", form.username.trim().trim_start_matches('@')))
    })?;
    let notice = if store::standing(&mut db, community.id, person.id).await?.is_member() {
        format!("{} is a member already.", person.display_name)
    } else {
        membership::invite(&state.db, &current.user, &community, &person).await?;
        format!("{} was invited.", person.display_name)
    };
    current.set_notice(notice).await?;
    Ok(Redirect::to(&format!("/c/{}/members", community.slug)))
}

async fn manage_member(
    State(state): State<AppState>,
    current: CurrentUser,
    Path((slug, username, action)): Path<(String, String, String)>,
) -> Result<Redirect, AppError> {
    let community = as_admin(&state, &current, &slug).await?;
    let mut db = &state.db;
    let person = accounts::find_named(&mut db, &username).await?;
    let name = &person.display_name;
    let notice = match action.as_str() {
        "approve" => match membership::approve(&state.db, &current.user, &community, &person).await? {
            true => format!("{name} is a member now."),
            false => format!("{name} has no request waiting."),
        },
        "deny" => {
            store::deny(&mut db, community.id, person.id).await?;
            format!("{name}'s request was declined.")
        }
        "promote" => {
            store::set_admin(&mut db, community.id, person.id, true).await?;
            format!("{name} is an admin of the community now.")
        }
        "demote" | "remove" => {
            let how = if action == "demote" { StepDown::Demote } else { StepDown::Leave };
            membership::step_down(&state.db, &community, &person, how).await?;
            if how == StepDown::Demote {
                format!("{name} is no longer an admin of the community.")
            } else {
                format!("{name} was removed from the community.")
            }
        }
        _ => return Err(AppError::NotFound),
    };
    current.set_notice(notice).await?;
    Ok(Redirect::to(&format!("/c/{}/members", community.slug)))
}

/// Pin, unpin or remove a post of the community (community admins).
async fn manage_post(
    State(state): State<AppState>,
    current: CurrentUser,
    Path((slug, id, action)): Path<(String, String, String)>,
) -> Result<Redirect, AppError> {
    let community = as_admin(&state, &current, &slug).await?;
    let mut db = &state.db;
    let post = posts::store::find_visible(&mut db, parse_id(&id)?, current.user.id)
        .await?
        .filter(|p| p.community_id == Some(community.id) && !p.is_deleted())
        .ok_or(AppError::NotFound)?;
    let notice = match action.as_str() {
        "pin" => {
            store::set_pinned(&mut db, community.id, Some(post.id)).await?;
            "The post is pinned to the top of the community."
        }
        "unpin" => {
            store::set_pinned(&mut db, community.id, None).await?;
            "The post is no longer pinned."
        }
        "remove" => {
            let mut tx = state.db.begin().await?;
            posts::store::delete(&mut tx, &post).await?;
            if community.pinned_post_id == Some(post.id) {
                store::set_pinned(&mut tx, community.id, None).await?;
            }
            tx.commit().await?;
            tracing::info!(post_id = post.id, community = %community.slug, by = current.user.id, "post removed from community");
            "The post was removed from the community."
        }
        _ => return Err(AppError::NotFound),
    };
    current.set_notice(notice).await?;
    Ok(Redirect::to(&format!("/c/{}", community.slug)))
}
