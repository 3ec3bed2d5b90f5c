//! `/search`: one box, results in sections (or one kind at a time, paged), filters for author,
//! community, campaign and dates.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

use super::store::{self, CommunityHit, Filters, PersonHit};
use crate::accounts::CurrentUser;
use crate::accounts::sessions::DbSessionStore;
use crate::db::fulltext::{Parsed, Piece, highlight};
use crate::search::engine::Search;
use crate::search::meili::Meili;
use crate::web::form::{parse_day, percent_encode};
use crate::web::layout::{Layout, render};
use crate::web::{AppError, AppState};
use axum::extract::FromRef;

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AppState: FromRef<S>,
    DbSessionStore: FromRef<S>,
    Option<Meili>: FromRef<S>,
{
    Router::new().route("/search", get(search))
}

/// Results of one kind on a page of that kind; in the overview, fewer.
const PAGE: i64 = 20;
const OVERVIEW: i64 = 5;
/// Deepest result reachable by paging (relevance pages are read by offset).
const MAX_OFFSET: i64 = 1000;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SearchQuery {
    q: String,
    /// `people`, `posts`, `ideas`, `topics`, `communities`; empty for all.
    r#type: String,
    author: String,
    community: String,
    campaign: String,
    /// `YYYY-MM-DD`, inclusive.
    from: String,
    to: String,
    /// Results to skip (the cursor of the next page).
    after: String,
}

impl SearchQuery {
    fn filters(&self) -> Result<Filters, AppError> {
        let campaign = match self.campaign.trim() {
            "" => None,
            c => Some(c.parse::<i64>().map_err(|_| AppError::BadRequest("Pick a campaign from the list.".into()))?),
        };
        Ok(Filters {
            author: self.author.trim().trim_start_matches('@').to_lowercase().chars().take(30).collect(),
            community: self.community.trim().to_lowercase().chars().take(60).collect(),
            campaign,
            from: parse_day(&self.from, "from")?,
            until: parse_day(&self.to, "to")?.map(|d| d + 86_400),
        })
    }

    /// The query string with a different kind and cursor.
    fn url(&self, kind: &str, after: i64) -> String {
        let mut url = format!("/search?q={}&type={kind}", percent_encode(&self.q));
        for (key, value) in [
            ("author", &self.author),
            ("community", &self.community),
            ("campaign", &self.campaign),
            ("from", &self.from),
            ("to", &self.to),
        ] {
            if !value.is_empty() {
                url.push_str(&format!("&{key}={}", percent_encode(value)));
            }
        }
        if after > 0 {
            url.push_str(&format!("&after={after}"));
        }
        url
    }
}

pub struct PostHit {
    pub link: String,
    pub author: String,
    pub username: String,
    pub when: String,
    pub community: Option<String>,
    pub is_reply: bool,
    pub pieces: Vec<Piece>,
}

pub struct IdeaHitView {
    pub id: i64,
    pub title: Vec<Piece>,
    pub pieces: Vec<Piece>,
    pub campaign: String,
    pub author: String,
    pub stage: &'static str,
}

/// One section of results, with the link to its own paged list (or to its next page).
pub struct Section<T> {
    pub items: Vec<T>,
    pub more: Option<String>,
}

impl<T> Section<T> {
    fn empty() -> Section<T> {
        Section { items: Vec::new(), more: None }
    }
}

#[derive(Template)]
#[template(path = "search/results.html")]
struct SearchPage {
    layout: Layout,
    q: String,
    kind: String,
    query: SearchQuery,
    /// The query had no words to search for (only stop-words or symbols).
    nothing: bool,
    people: Section<PersonHit>,
    posts: Section<PostHit>,
    ideas: Section<IdeaHitView>,
    /// Each topic with its count as shown ("12 posts", "1000+ posts").
    topics: Section<(String, String)>,
    communities: Section<CommunityHit>,
    tabs: Vec<(&'static str, &'static str, String)>,
}

impl SearchPage {
    fn found_nothing(&self) -> bool {
        self.people.items.is_empty()
            && self.posts.items.is_empty()
            && self.ideas.items.is_empty()
            && self.topics.items.is_empty()
            && self.communities.items.is_empty()
    }
}

/// Keeps `limit` of `rows` (one more was read to tell whether there is more) and the next page's link.
fn section<R, T>(
    mut rows: Vec<R>,
    limit: i64,
    more_url: impl FnOnce() -> String,
    view: impl FnMut(R) -> T,
) -> Section<T> {
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    Section { items: rows.into_iter().map(view).collect(), more: more.then(more_url) }
}

async fn search(
    State(state): State<AppState>,
    State(meili): State<Option<Meili>>,
    current: CurrentUser,
    Query(query): Query<SearchQuery>,
) -> Result<Response, AppError> {
    let parsed = Parsed::parse(&query.q);
    let filters = query.filters()?;
    let kind = match query.r#type.as_str() {
        k @ ("people" | "posts" | "ideas" | "topics" | "communities") => k.to_owned(),
        _ => String::new(),
    };
    let after = query.after.parse::<i64>().unwrap_or(0).clamp(0, MAX_OFFSET);
    let overview = kind.is_empty();
    let (offset, limit) = if overview { (0, OVERVIEW) } else { (after, PAGE) };
    let wants = |k: &str| overview || kind == k;
    let words = parsed.all_words();
    let at = crate::db::now();
    let mut db = &state.db;
    let me = &current.user;
    let mut page = SearchPage {
        layout: Layout::for_user(
            &current,
            if query.q.trim().is_empty() {
                "Search".to_owned()
            } else {
                format!("Search: {}", query.q.chars().take(60).collect::<String>())
            },
        )
        .await?,
        q: query.q.chars().take(500).collect(),
        kind: kind.clone(),
        nothing: parsed.is_empty(),
        people: Section::empty(),
        posts: Section::empty(),
        ideas: Section::empty(),
        topics: Section::empty(),
        communities: Section::empty(),
        tabs: Vec::new(),
        query: SearchQuery::default(),
    };
    let next = |k: &str| {
        let url = query.url(k, if overview { 0 } else { offset + limit });
        move || url
    };
    if !parsed.is_empty() {
        let text: String = query.q.chars().take(500).collect();
        let mut search = Search::new(&state.db, meili.as_ref(), &text, &parsed, me, &filters);
        if wants("people") && filters.author.is_empty() && filters.community.is_empty() && filters.campaign.is_none() {
            let rows = search.people(offset, limit + 1).await?;
            page.people = section(rows, limit, next("people"), |p| p);
        }
        if wants("posts") && filters.campaign.is_none() {
            let rows = search.posts(offset, limit + 1).await?;
            page.posts = section(rows, limit, next("posts"), |p| PostHit {
                link: format!("/posts/{}#post-{}", p.thread_id(), p.id),
                is_reply: p.parent_id.is_some(),
                when: crate::format::relative(p.created_at, at),
                community: p.community_name.clone(),
                pieces: highlight(&p.body, &words, 280),
                author: p.author_display_name,
                username: p.author_username,
            });
        }
        if wants("ideas") && filters.community.is_empty() {
            let rows = search.ideas(offset, limit + 1).await?;
            page.ideas = section(rows, limit, next("ideas"), |i| IdeaHitView {
                id: i.id,
                title: highlight(&i.title, &words, 200),
                pieces: highlight(&i.body, &words, 240),
                campaign: i.campaign_title,
                author: match crate::ideas::byline(i.anonymous, i.author_username == me.username) {
                    crate::ideas::Byline::Named => i.author_display_name,
                    crate::ideas::Byline::Yours => "You (anonymous)".into(),
                    crate::ideas::Byline::Anonymous => "Anonymous".into(),
                },
                stage: i.stage.label(),
            });
        }
        let unfiltered = filters.author.is_empty()
            && filters.community.is_empty()
            && filters.campaign.is_none()
            && filters.from.is_none()
            && filters.until.is_none();
        if wants("topics") && unfiltered && offset == 0 {
            let rows = store::topics(&mut db, &parsed, me.id, if overview { 10 } else { PAGE }).await?;
            let label = |count: i64| match count {
                1 => "1 post".to_owned(),
                n if n >= store::TOPIC_COUNT_CAP => format!("{n}+ posts"),
                n => format!("{n} posts"),
            };
            page.topics = Section { items: rows.into_iter().map(|(topic, n)| (topic, label(n))).collect(), more: None };
        }
        if wants("communities") && unfiltered && offset == 0 {
            let rows = store::communities(&mut db, &parsed, limit + 1).await?;
            page.communities = section(rows, limit, next("communities"), |c| c);
        }
    }
    page.tabs = [
        ("", "All"),
        ("people", "People"),
        ("posts", "Posts and replies"),
        ("ideas", "Ideas"),
        ("topics", "Topics"),
        ("communities", "Communities"),
    ]
    .into_iter()
    .map(|(k, label)| (k, label, query.url(k, 0)))
    .collect();
    page.query = query;
    render(&page)
}
