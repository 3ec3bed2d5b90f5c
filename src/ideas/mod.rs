//! Idea campaigns: a question put to the company for a while; employees submit ideas, discuss and vote;
//! managers move ideas through stages, answer them officially, merge duplicates and export the result.

pub mod campaigns;
pub mod dashboard;
pub mod export;
pub mod manage;
pub mod own;
pub mod routes;
pub mod store;
pub mod write;

use serde::Deserialize;

use crate::accounts::{Role, User};
use crate::web::form::Field;

/// A campaign's title.
pub const CAMPAIGN_TITLE: Field = Field::new("The title", 1, 140);
/// The question a campaign asks the company.
pub const QUESTION: Field = Field::new("The question", 1, 300);
/// What a campaign is about, beyond its question.
pub const CAMPAIGN_DESCRIPTION: Field = Field::new("The description", 0, 5000);
/// An idea's title.
pub const IDEA_TITLE: Field = Field::new("The title", 1, 140);
/// An idea's description.
pub const IDEA_BODY: Field = Field::new("The description", 1, 5000);
/// A comment on an idea.
pub const COMMENT: Field = Field::new("A comment", 1, 2000);
/// Why a manager moves an idea to another stage (its author and voters read it).
pub const STAGE_REASON: Field = Field::new("A reason", 3, 500);
/// A manager's official response to an idea.
pub const RESPONSE: Field = Field::new("The response", 1, 5000);
/// Why an admin reveals an anonymous idea's author (written to the audit log).
pub const REVEAL_REASON: Field = Field::new("A reason", 10, 500);

/// How an idea's author is named to someone: by name, or for an anonymous idea not at all, except
/// to the author, who reads that it is theirs. Every page, export and front door that names an
/// idea's author asks this; only the wording is the page's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Byline {
    Named,
    /// Anonymous to everyone else; the viewer wrote it.
    Yours,
    Anonymous,
}

/// The [`Byline`] of an idea (`anonymous` or not) for a viewer who wrote it or not.
pub fn byline(anonymous: bool, viewer_wrote_it: bool) -> Byline {
    match (anonymous, viewer_wrote_it) {
        (false, _) => Byline::Named,
        (true, true) => Byline::Yours,
        (true, false) => Byline::Anonymous,
    }
}

/// Whether a person runs campaigns (managers and admins).
pub fn is_manager(user: &User) -> bool {
    matches!(user.role(), Role::Manager | Role::Admin)
}

/// Which campaigns a person may see. A community's campaigns are for its members, managers
/// included: a manager outside a private community does not see its campaigns or their ideas.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
    /// The published campaigns (open, planned or closed) of the whole company and of their communities.
    Published,
    /// Drafts too (managers).
    Drafts,
    /// Every campaign (admins).
    Everything,
}

pub fn campaign_reach(user: &User) -> Reach {
    match user.role() {
        Role::Admin => Reach::Everything,
        Role::Manager => Reach::Drafts,
        _ => Reach::Published,
    }
}

/// Refuses anyone who does not run campaigns.
pub fn require_manager(current: &crate::accounts::CurrentUser) -> Result<(), crate::web::AppError> {
    require_curator(&current.user)
}

/// Refuses unless `user` runs campaigns and curates ideas (an innovation manager or an admin).
pub fn require_curator(user: &User) -> Result<(), crate::web::AppError> {
    if is_manager(user) {
        Ok(())
    } else {
        Err(crate::web::AppError::Forbidden("Only innovation managers run campaigns and curate ideas."))
    }
}

/// Where an idea stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    New,
    UnderReview,
    Selected,
    InProgress,
    Implemented,
    Declined,
    Merged,
}

impl Stage {
    pub const ALL: [Stage; 7] = [
        Stage::New,
        Stage::UnderReview,
        Stage::Selected,
        Stage::InProgress,
        Stage::Implemented,
        Stage::Declined,
        Stage::Merged,
    ];
    /// The stages a manager moves an idea to by hand (merged comes from merging).
    pub const MOVABLE: [Stage; 6] =
        [Stage::New, Stage::UnderReview, Stage::Selected, Stage::InProgress, Stage::Implemented, Stage::Declined];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::New => "new",
            Stage::UnderReview => "under_review",
            Stage::Selected => "selected",
            Stage::InProgress => "in_progress",
            Stage::Implemented => "implemented",
            Stage::Declined => "declined",
            Stage::Merged => "merged",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Stage::New => "New",
            Stage::UnderReview => "Under review",
            Stage::Selected => "Selected",
            Stage::InProgress => "In progress",
            Stage::Implemented => "Implemented",
            Stage::Declined => "Declined",
            Stage::Merged => "Merged",
        }
    }

    pub fn parse(value: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|s| s.as_str() == value)
    }
}

// Rows decode the stored words into these enums: an unknown word fails where the row is read, and
// no code compares stages or statuses as text.
crate::db::text_column!(Stage, "idea stage");
crate::db::text_column!(Status, "campaign status");

impl serde::Serialize for Stage {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a campaign is being prepared, published (its dates then say upcoming, open or closed)
/// or archived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Draft,
    Published,
    Archived,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Published => "published",
            Status::Archived => "archived",
        }
    }

    pub fn parse(value: &str) -> Option<Status> {
        [Status::Draft, Status::Published, Status::Archived].into_iter().find(|s| s.as_str() == value)
    }
}

/// A stage name from the database, for labels; unknown names show as they are.
pub fn stage_label(value: &str) -> &str {
    match Stage::parse(value) {
        Some(stage) => stage.label(),
        None => value,
    }
}

/// Where a campaign is in its life, at a given moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Being prepared: only managers see it.
    Draft,
    /// Published, not open yet.
    Upcoming,
    Open,
    /// No new ideas or votes.
    Closed,
    Archived,
}

impl Phase {
    pub fn label(self) -> &'static str {
        match self {
            Phase::Draft => "Draft",
            Phase::Upcoming => "Opens soon",
            Phase::Open => "Open",
            Phase::Closed => "Closed",
            Phase::Archived => "Archived",
        }
    }
}

/// A campaign as stored, with its community's name and its number of standing ideas.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Campaign {
    pub id: i64,
    pub title: String,
    pub question: String,
    pub description: String,
    pub community_id: Option<i64>,
    pub community_name: Option<String>,
    pub status: Status,
    pub opens_at: i64,
    pub closes_at: i64,
    pub vote_budget: Option<i64>,
    pub hide_counts: bool,
    pub allow_anonymous: bool,
}

/// A campaign as the campaigns' page lists it, with its number of ideas; reads as a `Campaign`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ListedCampaign {
    #[sqlx(flatten)]
    pub campaign: Campaign,
    pub idea_count: i64,
}

impl std::ops::Deref for ListedCampaign {
    type Target = Campaign;
    fn deref(&self) -> &Campaign {
        &self.campaign
    }
}

impl Campaign {
    pub fn phase(&self, now: i64) -> Phase {
        match self.status {
            Status::Draft => Phase::Draft,
            Status::Archived => Phase::Archived,
            Status::Published if now < self.opens_at => Phase::Upcoming,
            Status::Published if now < self.closes_at => Phase::Open,
            Status::Published => Phase::Closed,
        }
    }

    pub fn is_open(&self, now: i64) -> bool {
        self.phase(now) == Phase::Open
    }

    /// Vote counts are hidden from everyone but managers while the campaign runs, when it says so.
    pub fn counts_hidden_for(&self, user: &User, now: i64) -> bool {
        self.hide_counts && !is_manager(user) && matches!(self.phase(now), Phase::Draft | Phase::Upcoming | Phase::Open)
    }

    pub fn opens_label(&self) -> String {
        crate::format::date_time(self.opens_at)
    }

    pub fn closes_label(&self) -> String {
        crate::format::date_time(self.closes_at)
    }
}

pub use crate::format::input_time;

/// Reads a `datetime-local` value in the person's time zone.
fn parse_input_time(value: &str, label: &str) -> Result<i64, String> {
    crate::format::parse_input_time(value).ok_or_else(|| {
        format!("{label}: give a date and time such as 2026-12-01T09:00 ({}).", crate::format::zone().name())
    })
}

/// The campaign form as typed.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct CampaignForm {
    pub title: String,
    pub question: String,
    pub description: String,
    /// A community's address, or empty for the whole company.
    pub community: String,
    pub opens_at: String,
    pub closes_at: String,
    pub vote_budget: String,
    pub hide_counts: Option<String>,
    pub allow_anonymous: Option<String>,
}

/// A checked campaign.
pub struct NewCampaign {
    pub title: String,
    pub question: String,
    pub description: String,
    pub community_slug: Option<String>,
    pub opens_at: i64,
    pub closes_at: i64,
    pub vote_budget: Option<i64>,
    pub hide_counts: bool,
    pub allow_anonymous: bool,
}

impl CampaignForm {
    pub fn parse(&self) -> Result<NewCampaign, crate::web::form::FormErrors> {
        let mut errors = crate::web::form::FormErrors::default();
        let title = errors.check("title", CAMPAIGN_TITLE.read(&self.title));
        let question = errors.check("question", QUESTION.read(&self.question));
        let description = errors.check("description", CAMPAIGN_DESCRIPTION.read(&self.description));
        let opens_at = errors.check("opens_at", parse_input_time(&self.opens_at, "Opens"));
        let closes_at = errors.check("closes_at", parse_input_time(&self.closes_at, "Closes"));
        if let (Some(opens), Some(closes)) = (opens_at, closes_at)
            && closes <= opens
        {
            errors.add("closes_at", "The campaign must close after it opens.");
        }
        let vote_budget = match self.vote_budget.trim() {
            "" => Some(None),
            v => match v.parse::<i64>() {
                Ok(n) if (1..=100).contains(&n) => Some(Some(n)),
                _ => {
                    errors.add("vote_budget", "A vote budget is a whole number from 1 to 100, or empty for none.");
                    None
                }
            },
        };
        let community = self.community.trim();
        let community_slug = (!community.is_empty()).then(|| community.to_lowercase());
        match (title, question, description, opens_at, closes_at, vote_budget, errors.is_empty()) {
            (
                Some(title),
                Some(question),
                Some(description),
                Some(opens_at),
                Some(closes_at),
                Some(vote_budget),
                true,
            ) => Ok(NewCampaign {
                title: title.into(),
                question: question.into(),
                description: description.into(),
                community_slug,
                opens_at,
                closes_at,
                vote_budget,
                hide_counts: self.hide_counts.is_some(),
                allow_anonymous: self.allow_anonymous.is_some(),
            }),
            _ => Err(errors),
        }
    }
}

/// The idea form as typed.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct IdeaForm {
    pub title: String,
    pub body: String,
    pub anonymous: Option<String>,
    /// Set by "submit anyway" after similar ideas were shown.
    pub confirmed: Option<String>,
}

pub struct NewIdea {
    pub title: String,
    pub body: String,
    pub anonymous: bool,
}

impl IdeaForm {
    pub fn parse(&self, campaign: &Campaign) -> Result<NewIdea, crate::web::form::FormErrors> {
        let mut errors = crate::web::form::FormErrors::default();
        let title = errors.check("title", IDEA_TITLE.read(&self.title));
        let body = errors.check("body", IDEA_BODY.read(&self.body));
        let anonymous = self.anonymous.is_some();
        if anonymous && !campaign.allow_anonymous {
            errors.add("anonymous", "This campaign does not take anonymous ideas.");
        }
        match (title, body, errors.is_empty()) {
            (Some(title), Some(body), true) => Ok(NewIdea { title: title.into(), body: body.into(), anonymous }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_its_author_learns_who_wrote_an_anonymous_idea() {
        assert_eq!(byline(false, false), Byline::Named);
        assert_eq!(byline(false, true), Byline::Named);
        assert_eq!(byline(true, true), Byline::Yours);
        assert_eq!(byline(true, false), Byline::Anonymous);
    }

    #[test]
    fn a_campaign_form_needs_a_window_that_closes_after_it_opens() {
        let form = CampaignForm {
            title: "Less packaging".into(),
            question: "How do we cut packaging waste?".into(),
            opens_at: "2026-12-01T09:00".into(),
            closes_at: "2026-12-21T17:00".into(),
            vote_budget: "5".into(),
            ..CampaignForm::default()
        };
        let campaign = form.parse().ok().unwrap();
        assert_eq!(campaign.closes_at - campaign.opens_at, 20 * 86_400 + 8 * 3600);
        assert_eq!(campaign.vote_budget, Some(5));
        let backwards = CampaignForm { closes_at: "2026-11-01T09:00".into(), ..form.clone() };
        assert_eq!(
            backwards.parse().err().unwrap().for_field("closes_at"),
            Some("The campaign must close after it opens.")
        );
        let bad = CampaignForm { opens_at: "tomorrow".into(), vote_budget: "0".into(), ..form };
        let errors = bad.parse().err().unwrap();
        assert!(errors.for_field("opens_at").is_some() && errors.for_field("vote_budget").is_some());
    }

    #[test]
    fn stages_round_trip_and_merged_is_not_moved_to_by_hand() {
        for stage in Stage::ALL {
            assert_eq!(Stage::parse(stage.as_str()), Some(stage));
        }
        assert!(!Stage::MOVABLE.contains(&Stage::Merged));
        assert_eq!(stage_label("under_review"), "Under review");
    }
}
