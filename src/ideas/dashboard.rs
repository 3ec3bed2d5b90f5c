//! A campaign's dashboard for managers: activity per day (a chart drawn on the server as SVG, with the
//! same figures in a table), participation by department, the stage funnel and the top ideas.

use std::collections::BTreeMap;
use std::fmt::Write;

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;

use super::campaigns::find as find_campaign;
use super::{Campaign, Stage, is_manager};
use crate::accounts::CurrentUser;
use crate::accounts::sessions::DbSessionStore;
use crate::db::{Exec, sql};
use crate::web::layout::{Layout, render};
use crate::web::{AppError, AppState, PathId};
use axum::extract::FromRef;

const DAY: i64 = 86_400;

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AppState: FromRef<S>,
    DbSessionStore: FromRef<S>,
{
    Router::new().route("/campaigns/{id}/dashboard", get(dashboard))
}

/// One day's activity.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Day {
    pub day: i64,
    pub ideas: i64,
    pub votes: i64,
    pub comments: i64,
    pub participants: i64,
}

impl Day {
    pub fn label(&self) -> String {
        crate::format::date_time(self.day * DAY).split(' ').take(3).collect::<Vec<_>>().join(" ")
    }
}

#[derive(Template)]
#[template(path = "ideas/dashboard.html")]
struct DashboardTemplate {
    layout: Layout,
    campaign: Campaign,
    days: Vec<Day>,
    chart: String,
    departments: Vec<(String, i64)>,
    funnel: Vec<(&'static str, i64)>,
    top: Vec<(i64, String, i64)>,
    total_ideas: i64,
    implemented: i64,
}

async fn dashboard(
    State(state): State<AppState>,
    current: CurrentUser,
    PathId(id): PathId,
) -> Result<Response, AppError> {
    if !is_manager(&current.user) {
        return Err(AppError::Forbidden("Only innovation managers see campaign dashboards."));
    }
    let campaign = find_campaign(&state, &current, id).await?;
    let mut db = &state.db;
    let days = activity(&mut db, campaign.id).await?;
    let departments: Vec<(String, i64)> = db
        .fetch_all(
            sql("SELECT CASE WHEN u.department = '' THEN 'No department given' ELSE u.department END, COUNT(DISTINCT a.user_id)
                 FROM (SELECT author_id AS user_id FROM ideas WHERE campaign_id = $1 AND NOT anonymous
                       UNION SELECT user_id FROM idea_votes WHERE campaign_id = $1
                       UNION SELECT c.author_id FROM idea_comments c JOIN ideas i ON i.id = c.idea_id WHERE i.campaign_id = $1) a
                 JOIN users u ON u.id = a.user_id
                 GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 50")
            .bind(campaign.id),
        )
        .await?;
    let stages: Vec<(Stage, i64)> = db
        .fetch_all(sql("SELECT stage, COUNT(*) FROM ideas WHERE campaign_id = $1 GROUP BY stage").bind(campaign.id))
        .await?;
    let count = |stage: Stage| stages.iter().find(|(s, _)| *s == stage).map_or(0, |(_, n)| *n);
    let funnel: Vec<(&'static str, i64)> = Stage::ALL.iter().map(|s| (s.label(), count(*s))).collect();
    let total_ideas = stages.iter().filter(|(s, _)| *s != Stage::Merged).map(|(_, n)| n).sum();
    let top: Vec<(i64, String, i64)> = db
        .fetch_all(
            sql("SELECT id, title, vote_count FROM ideas WHERE campaign_id = $1 AND merged_into_id IS NULL
                 ORDER BY vote_count DESC, id DESC LIMIT 10")
            .bind(campaign.id),
        )
        .await?;
    let chart = chart_svg(&days);
    render(&DashboardTemplate {
        layout: Layout::for_user(&current, format!("Dashboard: {}", campaign.title)).await?,
        implemented: count(Stage::Implemented),
        campaign,
        days,
        chart,
        departments,
        funnel,
        top,
        total_ideas,
    })
}

/// Ideas, votes, comments and distinct participants per UTC day, oldest first.
async fn activity(db: &mut impl Exec, campaign_id: i64) -> Result<Vec<Day>, sqlx::Error> {
    let per_day = |text: &'static str| sql(text).bind(campaign_id).bind(DAY);
    let ideas: Vec<(i64, i64)> =
        db.fetch_all(per_day("SELECT created_at / $2, COUNT(*) FROM ideas WHERE campaign_id = $1 GROUP BY 1")).await?;
    let votes: Vec<(i64, i64)> = db
        .fetch_all(per_day("SELECT created_at / $2, COUNT(*) FROM idea_votes WHERE campaign_id = $1 GROUP BY 1"))
        .await?;
    let comments: Vec<(i64, i64)> = db
        .fetch_all(per_day(
            "SELECT c.created_at / $2, COUNT(*) FROM idea_comments c JOIN ideas i ON i.id = c.idea_id
             WHERE i.campaign_id = $1 GROUP BY 1",
        ))
        .await?;
    let participants: Vec<(i64, i64)> = db
        .fetch_all(per_day(
            "SELECT day, COUNT(DISTINCT user_id) FROM (
                 SELECT created_at / $2 AS day, author_id AS user_id FROM ideas WHERE campaign_id = $1
                 UNION SELECT created_at / $2, user_id FROM idea_votes WHERE campaign_id = $1
                 UNION SELECT c.created_at / $2, c.author_id FROM idea_comments c JOIN ideas i ON i.id = c.idea_id
                       WHERE i.campaign_id = $1) a
             GROUP BY day",
        ))
        .await?;
    let mut days: BTreeMap<i64, Day> = BTreeMap::new();
    let mut add = |rows: Vec<(i64, i64)>, set: fn(&mut Day, i64)| {
        for (day, n) in rows {
            set(days.entry(day).or_insert_with(|| Day { day, ..Day::default() }), n);
        }
    };
    add(ideas, |d, n| d.ideas = n);
    add(votes, |d, n| d.votes = n);
    add(comments, |d, n| d.comments = n);
    add(participants, |d, n| d.participants = n);
    Ok(days.into_values().collect())
}

/// A chart series: its label, its colour and how to read its value from a day.
type Series = (&'static str, &'static str, fn(&Day) -> i64);

/// A line chart of the four series, as SVG built from numbers only (no text from people).
pub fn chart_svg(days: &[Day]) -> String {
    const WIDTH: f64 = 640.0;
    const HEIGHT: f64 = 240.0;
    const LEFT: f64 = 40.0;
    const BOTTOM: f64 = 30.0;
    let max = days.iter().map(|d| d.ideas.max(d.votes).max(d.comments).max(d.participants)).max().unwrap_or(0).max(1);
    let step = if days.len() > 1 { (WIDTH - LEFT - 10.0) / (days.len() - 1) as f64 } else { 0.0 };
    let x = |i: usize| LEFT + step * i as f64;
    let y = |v: i64| (HEIGHT - BOTTOM) - (HEIGHT - BOTTOM - 10.0) * v as f64 / max as f64;
    let mut svg = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-labelledby=\"chart-title\" xmlns=\"http://www.w3.org/2000/svg\">\
         <title id=\"chart-title\">Ideas, votes, comments and participants per day</title>\
         <line x1=\"{LEFT}\" y1=\"{b}\" x2=\"{WIDTH}\" y2=\"{b}\" stroke=\"#8a94a3\"/>\
         <line x1=\"{LEFT}\" y1=\"10\" x2=\"{LEFT}\" y2=\"{b}\" stroke=\"#8a94a3\"/>\
         <text x=\"{tx}\" y=\"16\" font-size=\"11\" text-anchor=\"end\">{max}</text>\
         <text x=\"{tx}\" y=\"{b}\" font-size=\"11\" text-anchor=\"end\">0</text>",
        b = HEIGHT - BOTTOM,
        tx = LEFT - 4.0
    );
    let series: [Series; 4] = [
        ("Ideas", "#1f5fbf", |d| d.ideas),
        ("Votes", "#1e6b3a", |d| d.votes),
        ("Comments", "#b36b00", |d| d.comments),
        ("Participants", "#7a2e8f", |d| d.participants),
    ];
    for (n, (label, color, value)) in series.iter().enumerate() {
        let points: Vec<String> =
            days.iter().enumerate().map(|(i, d)| format!("{:.1},{:.1}", x(i), y(value(d)))).collect();
        if days.len() == 1 {
            let _ =
                write!(svg, "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"4\" fill=\"{color}\"/>", x(0), y(value(&days[0])));
        } else if !points.is_empty() {
            let _ = write!(
                svg,
                "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{}\"/>",
                points.join(" ")
            );
        }
        let lx = LEFT + 10.0 + 140.0 * n as f64;
        let _ = write!(
            svg,
            "<rect x=\"{lx}\" y=\"{ly}\" width=\"10\" height=\"10\" fill=\"{color}\"/><text x=\"{tx}\" y=\"{ty}\" font-size=\"12\">{label}</text>",
            ly = HEIGHT - 14.0,
            tx = lx + 14.0,
            ty = HEIGHT - 5.0
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chart_has_a_line_per_series_and_no_text_but_numbers_and_labels() {
        let days = vec![
            Day { day: 20_000, ideas: 2, votes: 5, comments: 1, participants: 4 },
            Day { day: 20_001, ideas: 1, votes: 9, comments: 0, participants: 6 },
        ];
        let svg = chart_svg(&days);
        assert_eq!(svg.matches("<polyline").count(), 4);
        assert!(svg.contains(">9</text>"), "the axis says the largest value");
        assert!(chart_svg(&[]).contains("<svg"), "an empty campaign still draws axes");
    }
}
