//! `GET /api/v1/services`: every service and its documents, as `palimpsest services --json`.

use axum::Json;
use axum::extract::State;
use palimpsest_search::ServicesResponse;

use crate::error::{ApiError, ErrorBody};
use crate::params::{NoParams, Params};
use crate::state::AppState;

/// Every service in the index and its documents.
#[utoipa::path(
    get,
    path = "/api/v1/services",
    responses(
        (status = 200, description = "Services by name", body = ServicesResponse),
        (status = 400, description = "Unknown parameter", body = ErrorBody),
        (status = 503, description = "Over the time budget or the concurrency limit", body = ErrorBody),
    )
)]
pub async fn services(
    State(state): State<AppState>,
    _: Params<NoParams>,
) -> Result<Json<ServicesResponse>, ApiError> {
    Ok(Json(state.run(|engine| engine.services()).await?))
}
