//! `GET /api/v1/services`: every service and its documents, as `palimpsest services --json`.

use axum::extract::State;
use axum::response::Response;
use palimpsest_search::ServicesResponse;

use crate::error::{ApiError, ErrorBody};
use crate::params::{FormatParam, ListParams, NoParams};
use crate::routes::listed;
use crate::state::AppState;

/// Every service in the index and its documents.
#[utoipa::path(
    get,
    path = "/api/v1/services",
    params(FormatParam),
    responses(
        (status = 200, description = "Services by name; with `format=jsonl` or `csv`, one item per document", content(
            (ServicesResponse = "application/json"),
            (String = "application/x-ndjson"),
            (String = "text/csv"),
        )),
        (status = 400, description = "Unknown parameter", body = ErrorBody),
        (status = 503, description = "Over the time budget or the concurrency limit, or the index is being checked or damaged", body = ErrorBody),
    )
)]
pub async fn services(
    State(state): State<AppState>,
    ListParams(NoParams {}, format): ListParams<NoParams>,
) -> Result<Response, ApiError> {
    listed(state.run(|engine| engine.services()).await?, format)
}
