//! `GET /api/v1/health`: whether the server answers; reads nothing, so it stays fast under load.

use axum::Json;
use serde::Serialize;

use crate::error::{ApiError, ErrorBody};
use crate::params::{NoParams, Params};

/// The server is up.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HealthResponse {
    /// Always `ok`.
    #[schema(example = "ok")]
    pub status: &'static str,
    /// Version of the server.
    pub version: &'static str,
}

/// Liveness: answers without touching the index or taking a slot.
#[utoipa::path(
    get,
    path = "/api/v1/health",
    responses(
        (status = 200, description = "The server is up", body = HealthResponse),
        (status = 400, description = "Unknown parameter", body = ErrorBody),
    )
)]
pub async fn health(_: Params<NoParams>) -> Result<Json<HealthResponse>, ApiError> {
    Ok(Json(HealthResponse {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
    }))
}
