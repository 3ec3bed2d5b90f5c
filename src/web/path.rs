//! Ids from paths (`/posts/{id}`, `/ideas/{id}`): one extractor, so that anything that is not an id
//! is the same missing page everywhere, never a 400 with the framework's own wording.

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;

use super::AppError;

/// The route's one `{id}`, or a 404.
pub struct PathId(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for PathId {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state).await.map_err(|_| AppError::NotFound)?;
        parse_id(&raw).map(PathId)
    }
}

/// An id typed or linked as text; anything that is not one is a missing page.
pub fn parse_id(raw: &str) -> Result<i64, AppError> {
    raw.trim().parse::<i64>().ok().filter(|id| *id > 0).ok_or(AppError::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_positive_numbers_are_ids() {
        assert_eq!(parse_id("42").ok(), Some(42));
        for raw in ["", "abc", "-1", "0", "1.5", "99999999999999999999"] {
            assert!(matches!(parse_id(raw), Err(AppError::NotFound)), "{raw:?}");
        }
    }
}
