//! Middleware: the request log line, the body limit and the budget of unsent response bytes.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Request, State};
use axum::http::header::CONTENT_LENGTH;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body::{Frame, SizeHint};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

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

/// Responses at least this large count against the budget of unsent bytes; smaller ones are
/// bounded enough by the number of connections.
const COUNTED_BYTES: usize = 64 << 10;

/// The bytes of responses built but not yet written to their clients, in all: a client that
/// never reads keeps its answer in memory until the write timeout closes its connection.
#[derive(Clone)]
pub(crate) struct UnsentBudget {
    kib: Arc<Semaphore>,
}

impl UnsentBudget {
    /// A budget of `bytes` (counted in KiB).
    pub(crate) fn new(bytes: usize) -> UnsentBudget {
        let kib = (bytes / 1024).min(Semaphore::MAX_PERMITS);
        UnsentBudget {
            kib: Arc::new(Semaphore::new(kib)),
        }
    }
}

/// Holds a large response's bytes against the budget until it is written (or its connection
/// closes); answers 503 when the budget has no room for it.
pub(crate) async fn limit_unsent(
    State(budget): State<UnsentBudget>,
    request: Request,
    next: Next,
) -> Response {
    let response = next.run(request).await;
    let size = response.body().size_hint().exact().unwrap_or(0);
    if size < COUNTED_BYTES as u64 {
        return response;
    }
    let kib = u32::try_from(size.div_ceil(1024)).unwrap_or(u32::MAX);
    let Ok(permit) = budget.kib.try_acquire_many_owned(kib) else {
        return ApiError::unsent_budget().into_response();
    };
    let (parts, body) = response.into_parts();
    match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => Response::from_parts(
            parts,
            Body::new(Unsent {
                rest: bytes,
                _permit: permit,
            }),
        ),
        Err(error) => ApiError::internal("cannot build the response", error).into_response(),
    }
}

/// Bytes handed to the connection a chunk at a time: hyper asks for the next chunk only when
/// its write buffer has room, so the permit is held until nearly all of it was written.
struct Unsent {
    rest: Bytes,
    _permit: OwnedSemaphorePermit,
}

/// Size of the chunks of a counted response.
const CHUNK_BYTES: usize = 64 << 10;

impl HttpBody for Unsent {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if self.rest.is_empty() {
            return Poll::Ready(None);
        }
        let n = self.rest.len().min(CHUNK_BYTES);
        Poll::Ready(Some(Ok(Frame::data(self.rest.split_to(n)))))
    }

    fn is_end_stream(&self) -> bool {
        self.rest.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.rest.len() as u64)
    }
}
