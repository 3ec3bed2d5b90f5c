//! Communities: groups with their own feed. Public ones anyone may join and read; private ones only
//! members read, and people join by a request that a community admin approves, or by invitation.

pub mod membership;
pub mod routes;
pub mod store;

use crate::web::form::Field;

/// A community's name.
pub const NAME: Field = Field::new("A name", 1, 80);
/// What a community is for.
pub const DESCRIPTION: Field = Field::new("The description", 0, 500);

/// A community as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Community {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub is_private: bool,
    pub pinned_post_id: Option<i64>,
    pub member_count: i64,
}

/// Where a person stands with a community.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Outsider,
    Requested,
    Invited,
    Member,
    Admin,
}

impl Standing {
    pub fn is_member(self) -> bool {
        matches!(self, Standing::Member | Standing::Admin)
    }
}

impl Community {
    /// Whether someone in this standing may read the community's posts.
    pub fn readable_by(&self, standing: Standing) -> bool {
        !self.is_private || standing.is_member()
    }
}

/// A community's address: 2-40 of `a-z 0-9 -`, not starting or ending with `-`.
pub fn parse_slug(input: &str) -> Result<String, String> {
    let slug = input.trim().to_lowercase();
    let valid = (2..=40).contains(&slug.len())
        && slug.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !slug.starts_with('-')
        && !slug.ends_with('-');
    if valid { Ok(slug) } else { Err("Use 2 to 40 letters a-z, digits or dashes, such as green-office.".into()) }
}

/// A slug made from a name: "Green Office!" becomes "green-office".
pub fn slug_from_name(name: &str) -> String {
    let mut slug = String::new();
    for c in name.to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').chars().take(40).collect::<String>().trim_end_matches('-').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_short_lower_case_words_with_dashes() {
        assert_eq!(slug_from_name("Green Office!"), "green-office");
        assert_eq!(slug_from_name("  R&D -- Lab  "), "r-d-lab");
        assert_eq!(parse_slug("Green-Office").unwrap(), "green-office");
        for bad in ["a", "-x", "x-", "a b", "ünï", &"x".repeat(41)] {
            assert!(parse_slug(bad).is_err(), "{bad}");
        }
    }
}
