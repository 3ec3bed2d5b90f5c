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
use crate::search::cache::RankCache;
use crate::search::engine::{Search, Wanted};
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
    RankCache: FromRef<S>,
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
    /// Each topic with its count as shown ("12 posts", "100+ posts").
    topics: Section<(String, String)>,
    communities: Section<CommunityHit>,
    tabs: Vec<(&'static str, &'static str, String)>,
    /// Meilisearch is configured: it forgives typos (when it answers).
    typos: bool,
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
    State(rankings): State<RankCache>,
    current: CurrentUser,
    Query(query): Query<SearchQuery>,
) -> Result<Response, AppError> {
    let parsed = Parsed::parse(&query.q);
    let filters = query.filters()?;
    let kind = match query.r#type.as_str() {
        k @ ("people" | "posts" | "ideas" | "topics" | "communities") => k,
        _ => "",
    };
    let overview = kind.is_empty();
    let offset = if overview { 0 } else { query.after.parse::<i64>().unwrap_or(0).clamp(0, MAX_OFFSET) };
    let limit = if overview { OVERVIEW } else { PAGE };
    let wants = |k: &str| overview || kind == k;
    let unfiltered = filters.author.is_empty()
        && filters.community.is_empty()
        && filters.campaign.is_none()
        && filters.from.is_none()
        && filters.until.is_none();
    let wanted = Wanted {
        people: wants("people")
            && filters.author.is_empty()
            && filters.community.is_empty()
            && filters.campaign.is_none(),
        posts: wants("posts") && filters.campaign.is_none(),
        ideas: wants("ideas") && filters.community.is_empty(),
    };
    let (topics_wanted, communities_wanted) =
        (wants("topics") && unfiltered && offset == 0, wants("communities") && unfiltered && offset == 0);
    let title = match query.q.trim() {
        "" => "Search".to_owned(),
        q => format!("Search: {}", q.chars().take(60).collect::<String>()),
    };
    let mut page = SearchPage {
        layout: Layout::for_user(&current, title).await?,
        q: query.q.chars().take(500).collect(),
        kind: kind.to_owned(),
        nothing: parsed.is_empty(),
        people: Section::empty(),
        posts: Section::empty(),
        ideas: Section::empty(),
        topics: Section::empty(),
        communities: Section::empty(),
        tabs: TABS.iter().map(|&(k, label)| (k, label, query.url(k, 0))).collect(),
        query: SearchQuery::default(),
        typos: meili.is_some(),
    };
    if !parsed.is_empty() {
        let me = &current.user;
        let search = Search {
            db: &state.db,
            meili: meili.as_ref(),
            rankings: &rankings,
            parsed: &parsed,
            viewer: me,
            filters: &filters,
        };
        let (mut t, mut c) = (&state.db, &state.db);
        // The sections are independent: each engine works on them side by side.
        let (found, topics, communities) = tokio::join!(
            search.run(wanted, offset, limit + 1),
            async {
                if !topics_wanted {
                    return Ok(Vec::new());
                }
                store::topics(&mut t, &parsed, me.id, if overview { 10 } else { PAGE }).await
            },
            async {
                if communities_wanted { store::communities(&mut c, &parsed, limit + 1).await } else { Ok(Vec::new()) }
            },
        );
        let found = found?;
        let words = parsed.all_words();
        let at = crate::db::now();
        let next = |k: &str| {
            let url = query.url(k, if overview { 0 } else { offset + limit });
            move || url
        };
        page.people = section(found.people, limit, next("people"), |p| p);
        page.posts = section(found.posts, limit, next("posts"), |p| post_hit(p, &words, at));
        page.ideas = section(found.ideas, limit, next("ideas"), |i| idea_hit(i, &words, me));
        page.topics = Section { items: topics?.into_iter().map(|(t, n)| (t, topic_count(n))).collect(), more: None };
        page.communities = section(communities?, limit, next("communities"), |c| c);
    }
    page.query = query;
    render(&page)
}

const TABS: [(&str, &str); 6] = [
    ("", "All"),
    ("people", "People"),
    ("posts", "Posts and replies"),
    ("ideas", "Ideas"),
    ("topics", "Topics"),
    ("communities", "Communities"),
];

fn post_hit(p: crate::posts::PostRow, words: &[&str], at: i64) -> PostHit {
    PostHit {
        link: format!("/posts/{}#post-{}", p.thread_id(), p.id),
        is_reply: p.parent_id.is_some(),
        when: crate::format::relative(p.created_at, at),
        community: p.community_name.clone(),
        pieces: highlight(&p.body, words, 280),
        author: p.author_display_name,
        username: p.author_username,
    }
}

fn idea_hit(i: store::IdeaHit, words: &[&str], me: &crate::accounts::User) -> IdeaHitView {
    IdeaHitView {
        id: i.id,
        title: highlight(&i.title, words, 200),
        pieces: highlight(&i.body, words, 240),
        campaign: i.campaign_title,
        author: match crate::ideas::byline(i.anonymous, i.author_username == me.username) {
            crate::ideas::Byline::Named => i.author_display_name,
            crate::ideas::Byline::Yours => "You (anonymous)".into(),
            crate::ideas::Byline::Anonymous => "Anonymous".into(),
        },
        stage: i.stage.label(),
    }
}

/// A topic's post count as shown; counting stops at a cap.
fn topic_count(count: i64) -> String {
    match count {
        1 => "1 post".to_owned(),
        n if n >= store::TOPIC_COUNT_CAP => format!("{n}+ posts"),
        n => format!("{n} posts"),
    }
}
