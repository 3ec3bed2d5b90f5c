//! The home timeline, written when a post is made (fan-out on write): each person has an index of the
//! posts that reach their home, so reading home is one index range however many people and topics
//! they follow. Following, unfollowing and topic follows add and remove entries to match.

pub mod store;
