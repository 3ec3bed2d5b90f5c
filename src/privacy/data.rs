//! "Download my data": everything a person put into Townhall, as one JSON document, from their
//! settings.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::accounts::sessions::DbSessionStore;
use crate::accounts::{CurrentUser, User};
use crate::db::{Db, now};
use crate::format::iso_time;
use crate::web::layout::{Layout, render};
use crate::web::{AppError, AppState};
use axum::extract::FromRef;

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AppState: FromRef<S>,
    DbSessionStore: FromRef<S>,
{
    Router::new().route("/settings/data", get(my_data_page)).route("/settings/data.json", get(my_data))
}

#[derive(Template)]
#[template(path = "privacy/data.html")]
struct MyDataPage {
    layout: Layout,
}

async fn my_data_page(current: CurrentUser) -> Result<Response, AppError> {
    render(&MyDataPage { layout: Layout::for_user(&current, "Your data").await? })
}

/// Everything a person put into Townhall, as one JSON file to download.
async fn my_data(State(state): State<AppState>, current: CurrentUser) -> Result<Response, AppError> {
    let document = document(&state.db, &current.user).await?;
    let disposition = format!("attachment; filename=\"townhall-{}.json\"", current.user.username);
    Ok((
        [(header::CONTENT_TYPE, "application/json".to_owned()), (header::CONTENT_DISPOSITION, disposition)],
        document.to_string(),
    )
        .into_response())
}

/// Everything `me` put into Townhall, as one JSON document.
async fn document(mut db: &Db, me: &User) -> Result<serde_json::Value, AppError> {
    let posts = crate::posts::store::all_by_author(&mut db, me.id).await?;
    let ideas = crate::ideas::store::ideas_by_author(&mut db, me.id).await?;
    let votes = crate::ideas::store::votes_by(&mut db, me.id).await?;
    let comments = crate::ideas::store::comments_by(&mut db, me.id).await?;
    let likes = crate::posts::store::likes_by(&mut db, me.id).await?;
    let poll_votes = crate::polls::store::votes_by(&mut db, me.id).await?;
    let people = crate::follows::store::followed_by(&mut db, me.id).await?;
    let topics = crate::topics::store::followed_by(&mut db, me.id).await?;
    let memberships = crate::communities::store::memberships(&mut db, me.id).await?;
    let notifications = crate::notifications::store::all_for(&mut db, me.id).await?;
    let reports = crate::moderation::store::mine(&mut db, me.id).await?;
    let mail_choices = crate::notifications::mail::choices(&mut db, me.id).await?;
    let mails = crate::mail::outbox::for_recipient(&mut db, me.id).await?;
    // A campaign that hides its counts until the close hides them here too (every
    // campaign's rules, only to read them; an idea whose campaign is not found shows none).
    let campaigns = crate::ideas::store::list_campaigns(&mut db, me.id, crate::ideas::Reach::Everything).await?;
    let at = now();
    let votes_shown = |idea: &crate::ideas::store::IdeaRow| {
        let campaign = campaigns.iter().find(|c| c.id == idea.campaign_id);
        match campaign {
            Some(c) if !c.counts_hidden_for(me, at) => serde_json::json!(idea.vote_count),
            _ => serde_json::Value::Null,
        }
    };
    let document = serde_json::json!({
        "exported_at": iso_time(now()),
        "profile": {
            "username": me.username,
            "display_name": me.display_name,
            "email": me.email,
            "role": me.role,
            "job_title": me.job_title,
            "department": me.department,
            "location": me.location,
            "bio": me.bio,
            "joined": iso_time(me.created_at),
        },
        "posts": posts.iter().filter(|p| p.parent_id.is_none()).map(|p| serde_json::json!({
            "id": p.id, "created_at": iso_time(p.created_at), "edited_at": p.edited_at.map(iso_time),
            "community": p.community_slug, "body": p.body, "likes": p.like_count, "replies": p.reply_count,
        })).collect::<Vec<_>>(),
        "replies": posts.iter().filter(|p| p.parent_id.is_some()).map(|p| serde_json::json!({
            "id": p.id, "reply_to": p.parent_id, "thread": p.thread_id(), "created_at": iso_time(p.created_at),
            "edited_at": p.edited_at.map(iso_time), "body": p.body,
        })).collect::<Vec<_>>(),
        "ideas": ideas.iter().map(|i| serde_json::json!({
            "id": i.id, "campaign_id": i.campaign_id, "title": i.title, "body": i.body, "anonymous": i.anonymous,
            "stage": i.stage.as_str(), "votes": votes_shown(i), "created_at": iso_time(i.created_at),
        })).collect::<Vec<_>>(),
        "votes": votes.iter().map(|(idea, title, at)| serde_json::json!({
            "idea_id": idea, "idea_title": title, "at": iso_time(*at),
        })).collect::<Vec<_>>(),
        "comments": comments.iter().map(|c| serde_json::json!({
            "id": c.id, "idea_id": c.idea_id, "body": c.body, "created_at": iso_time(c.created_at),
        })).collect::<Vec<_>>(),
        "likes": likes.iter().map(|(post, at)| serde_json::json!({
            "post_id": post, "at": iso_time(*at),
        })).collect::<Vec<_>>(),
        "poll_votes": poll_votes.iter().map(|(post, option, at)| serde_json::json!({
            "post_id": post, "option": option, "at": iso_time(*at),
        })).collect::<Vec<_>>(),
        "following": people.iter().map(|(username, at)| serde_json::json!({
            "username": username, "since": iso_time(*at),
        })).collect::<Vec<_>>(),
        "topics": topics.iter().map(|(topic, at)| serde_json::json!({
            "topic": topic, "since": iso_time(*at),
        })).collect::<Vec<_>>(),
        "communities": memberships.iter().map(|(slug, admin, at)| serde_json::json!({
            "community": slug, "admin": admin, "since": iso_time(*at),
        })).collect::<Vec<_>>(),
        "notifications": notifications.iter().map(|n| serde_json::json!({
            "kind": n.kind, "from": n.actor, "post_id": n.post_id, "idea_id": n.idea_id, "message": n.message,
            "at": iso_time(n.created_at), "read_at": n.read_at.map(iso_time),
        })).collect::<Vec<_>>(),
        "mail": {
            "choices": mail_choices.iter().map(|(topic, cadence)| (topic.key().to_owned(), serde_json::json!(cadence.key())))
                .collect::<serde_json::Map<String, serde_json::Value>>(),
            "mails": mails.iter().map(|(kind, subject, state, queued, sent)| serde_json::json!({
                "kind": kind, "subject": subject, "state": state, "queued_at": iso_time(*queued), "sent_at": sent.map(iso_time),
            })).collect::<Vec<_>>(),
        },
        "reports": reports.iter().map(|r| serde_json::json!({
            "object_type": r.object_type, "object_id": r.object_id, "reason": r.reason,
            "at": iso_time(r.created_at), "outcome": r.outcome,
        })).collect::<Vec<_>>(),
    });
    Ok(document)
}
