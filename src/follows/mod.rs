//! Following people: whose posts reach your home feed.

pub mod routes;
pub mod store;
