//! The home timeline, written when a post is made (fan-out on write): each person has an index of the
//! posts that reach their home, so reading home is one index range however many people and topics they
//! follow. Following, unfollowing and topic follows add and remove entries to match. A post whose
//! audience is larger than [`store::CHUNK`] (someone most of the company follows) has its first chunk
//! written in its own transaction and the rest queued, written by a background worker ([`worker`]) a
//! chunk per transaction, so one post never holds up everyone else's writes.

pub mod store;
pub mod worker;
