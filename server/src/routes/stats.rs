//! `GET /api/v1/stats`: index statistics, as `palimpsest stats --json`.

use axum::Json;
use axum::extract::State;
use palimpsest_search::StatsResponse;

use crate::error::{ApiError, ErrorBody};
use crate::params::{NoParams, Params};
use crate::state::AppState;

/// Collections, documents, versions, spans, size and segments of the index.
#[utoipa::path(
    get,
    path = "/api/v1/stats",
    responses(
        (status = 200, description = "Index statistics", body = StatsResponse),
        (status = 400, description = "Unknown parameter", body = ErrorBody),
        (status = 503, description = "Over the time budget or the concurrency limit, or the index is being checked or damaged", body = ErrorBody),
    )
)]
pub async fn stats(
    State(state): State<AppState>,
    _: Params<NoParams>,
) -> Result<Json<StatsResponse>, ApiError> {
    Ok(Json(state.run(|engine| engine.stats()).await?))
}
