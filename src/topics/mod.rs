//! Topics: `#tags` in posts. Each has a page of its posts, and can be followed so that its posts
//! reach your home.

pub mod routes;
pub mod store;

/// A topic name from a URL: lower-cased, 1-50 letters, digits or underscores.
pub fn parse_topic(raw: &str) -> Option<String> {
    let topic = raw.trim().trim_start_matches('#').to_lowercase();
    let valid = (1..=50).contains(&topic.chars().count()) && topic.chars().all(|c| c.is_alphanumeric() || c == '_');
    valid.then_some(topic)
}
