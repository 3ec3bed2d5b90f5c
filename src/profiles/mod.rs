//! Profiles: a person's page with their details and posts, editing your own, and the people
//! directory.

pub mod routes;
pub mod store;

use crate::web::form::FormErrors;

use crate::web::form::Field;

/// A person's job title.
pub const JOB_TITLE: Field = Field::new("Job title", 0, 100);
/// A person's department.
pub const DEPARTMENT: Field = Field::new("Department", 0, 100);
/// Where a person works.
pub const LOCATION: Field = Field::new("Location", 0, 100);
/// What a person says about themselves.
pub const BIO: Field = Field::new("About you", 0, 500);

/// The editable part of a profile, as typed in the settings form.
#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(default)]
pub struct ProfileForm {
    pub display_name: String,
    pub job_title: String,
    pub department: String,
    pub location: String,
    pub bio: String,
    /// An IANA zone name, or empty for the site's.
    pub time_zone: String,
}

/// The profile fields once checked: the only shape the store accepts.
pub struct ProfileFields {
    pub display_name: String,
    pub job_title: String,
    pub department: String,
    pub location: String,
    pub bio: String,
    /// The zone's canonical name, or empty for the site's.
    pub time_zone: String,
}

impl ProfileForm {
    pub fn parse(&self) -> Result<ProfileFields, FormErrors> {
        let mut errors = FormErrors::default();
        let display_name = errors.check("display_name", crate::accounts::display_name(&self.display_name, "Your name"));
        let job_title = errors.check("job_title", JOB_TITLE.read(&self.job_title));
        let department = errors.check("department", DEPARTMENT.read(&self.department));
        let location = errors.check("location", LOCATION.read(&self.location));
        let bio = errors.check("bio", BIO.read(&self.bio));
        let time_zone = match self.time_zone.trim() {
            "" => Some(String::new()),
            name => crate::format::Zone::named(name).map(|zone| zone.name().to_owned()),
        };
        if time_zone.is_none() {
            errors.add("time_zone", "Choose a time zone from the list.");
        }
        match (display_name, job_title, department, location, bio, time_zone) {
            (Some(display_name), Some(job_title), Some(department), Some(location), Some(bio), Some(time_zone)) => {
                Ok(ProfileFields {
                    display_name,
                    job_title: job_title.into(),
                    department: department.into(),
                    location: location.into(),
                    bio: bio.into(),
                    time_zone,
                })
            }
            _ => Err(errors),
        }
    }
}

/// How many posts, followers and followed people a profile shows.
#[derive(Debug, Clone, Copy, sqlx::FromRow)]
pub struct ProfileCounts {
    pub posts: i64,
    pub followers: i64,
    pub following: i64,
}

/// A profile's person with its counts and whether the viewer follows them ([`store::profile`]).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProfileRow {
    #[sqlx(flatten)]
    pub person: crate::accounts::User,
    #[sqlx(flatten)]
    pub counts: ProfileCounts,
    pub viewer_follows: bool,
}

/// One row of the people directory.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PersonRow {
    pub username: String,
    pub display_name: String,
    pub job_title: String,
    pub department: String,
    pub location: String,
}
