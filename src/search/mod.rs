//! Search: people, posts and replies, ideas, topics and communities, ranked by relevance with the
//! matching words marked. The built-in engine (SQLite FTS5, PostgreSQL full text) is the default and
//! needs nothing else running.

pub mod cache;
pub mod engine;
pub mod maintenance;
pub mod meili;
pub mod outbox;
pub mod routes;
pub mod store;

pub use crate::db::fulltext::Parsed;
