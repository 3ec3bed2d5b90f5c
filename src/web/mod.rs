//! The HTTP plumbing every feature uses: the state handlers reach ([`AppState`]), the error type and
//! its pages, the layout every page shares, forms, client addresses, rate limits, request ids,
//! exports and the server loop. It knows no feature; the application is assembled in `app`.

pub mod client;
pub mod error;
pub mod export;
pub mod form;
pub mod layout;
pub mod limits;
pub mod path;
pub mod request_id;
pub mod server;

use std::sync::Arc;

pub use error::AppError;
pub use path::PathId;

use crate::config::Config;
use crate::db::Db;

/// The plumbing every handler can reach (`State<AppState>`). Features' own services (live updates,
/// the keyword watch, Meilisearch, home's post cache, sessions) are separate parts of the
/// application's state, taken as `State<…>` of their own type by the handlers that use them.
/// Cloned per request; every field is cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    pub limits: Arc<limits::Limits>,
    pub site: crate::site::Cache,
}

impl AppState {
    /// The site settings (cached for a few seconds).
    pub async fn site(&self) -> Arc<crate::site::Site> {
        self.site.get(&self.db).await
    }
}
