//! The home timeline, written when a post is made (fan-out on write): each person has an index of the
//! posts that reach their home, so reading home is one index range however many people and topics they
//! follow. Following, unfollowing and topic follows add and remove entries to match. A new post is
//! written into its author's home in its own transaction and its other readers' homes are queued in
//! that transaction; a background worker ([`worker`]) writes them, [`store::CHUNK`] homes per
//! transaction, so posting does not wait for the audience and one post never holds up everyone else's
//! writes.

pub mod store;
pub mod worker;
