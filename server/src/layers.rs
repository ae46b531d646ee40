//! Middleware: the request log line and the body limit.

use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::CONTENT_LENGTH;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, shorten};

/// One line per request: method, path, status, duration.
pub(crate) async fn log_request(request: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = request.method().clone();
    let path = shorten(request.uri().path(), 200);
    let response = next.run(request).await;
    tracing::info!(
        target: "palimpsest_server::request",
        %method,
        path,
        status = response.status().as_u16(),
        duration_ms = format_args!("{:.2}", start.elapsed().as_secs_f64() * 1e3),
    );
    response
}

/// Refuses bodies declared larger than `limit` and cuts off longer streamed ones.
pub(crate) async fn limit_body(
    State(limit): State<usize>,
    request: Request,
    next: Next,
) -> Response {
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return ApiError::payload_too_large(limit).into_response();
    }
    let (parts, body) = request.into_parts();
    let body = Body::new(http_body_util::Limited::new(body, limit));
    next.run(Request::from_parts(parts, body)).await
}
