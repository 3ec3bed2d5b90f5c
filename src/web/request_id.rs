//! A request id for every request: in the log span, in the `x-request-id` response header, and on
//! error pages, so a person's report can be matched to the log line. A handler that panics is
//! answered here with the plain 500 page and its id, instead of a connection closed without a word.

use std::panic::AssertUnwindSafe;

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::FutureExt;
use tracing::Instrument;

use super::AppError;

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being handled, or an empty string outside a request.
pub fn current() -> String {
    REQUEST_ID.try_with(Clone::clone).unwrap_or_default()
}

pub async fn middleware(request: Request, next: Next) -> Response {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let span =
        tracing::info_span!("request", request_id = %id, method = %request.method(), path = %request.uri().path());
    let started = std::time::Instant::now();
    let handled = async move {
        match AssertUnwindSafe(next.run(request)).catch_unwind().await {
            Ok(response) => response,
            Err(panic) => {
                let message = panic
                    .downcast_ref::<&str>()
                    .map(|m| (*m).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                AppError::Internal(format!("the handler panicked: {message}")).into_response()
            }
        }
    };
    let mut response = REQUEST_ID.scope(id.clone(), handled.instrument(span.clone())).await;
    span.in_scope(|| {
        tracing::info!(status = response.status().as_u16(), elapsed_ms = started.elapsed().as_millis() as u64, "done")
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::routing::get;
    use tower::ServiceExt;

    #[tokio::test]
    async fn a_panicking_handler_gets_the_error_page_with_its_request_id() {
        async fn broken() -> &'static str {
            panic!("a bug")
        }
        let app = Router::new().route("/", get(broken)).layer(axum::middleware::from_fn(super::middleware));
        let response = app.oneshot(axum::http::Request::new(Body::empty())).await.unwrap();
        assert_eq!(response.status().as_u16(), 500);
        let id = response.headers()["x-request-id"].to_str().unwrap().to_owned();
        let body = axum::body::to_bytes(response.into_body(), 100_000).await.unwrap();
        let body = String::from_utf8_lossy(&body);
        assert!(body.contains("Something went wrong") && body.contains(&id), "{body}");
    }
}
