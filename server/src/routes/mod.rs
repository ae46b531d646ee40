//! The endpoints, one module per URL path under `/api/v1`.

use axum::Json;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use palimpsest_export::{Format, Listing};

use crate::error::ApiError;
use crate::state::AppState;

pub mod changes;
pub mod diff;
pub mod health;
pub mod history;
pub mod openapi;
pub mod search;
pub mod services;
pub mod stats;
pub mod version;
pub mod versions;

/// Every route of the API: the router is built from this list and the OpenAPI test checks
/// that each path is documented.
pub fn routes() -> Vec<(&'static str, MethodRouter<AppState>)> {
    vec![
        ("/api/v1/search", get(search::search)),
        ("/api/v1/services", get(services::services)),
        (
            "/api/v1/versions/{service}/{terms_type}",
            get(versions::versions),
        ),
        (
            "/api/v1/version/{service}/{terms_type}/{date}",
            get(version::version),
        ),
        ("/api/v1/changes", get(changes::changes)),
        ("/api/v1/changes.atom", get(changes::changes_atom)),
        ("/api/v1/history", get(history::history)),
        ("/api/v1/trend", get(history::trend)),
        ("/api/v1/diff/{service}/{terms_type}", get(diff::diff)),
        ("/api/v1/stats", get(stats::stats)),
        ("/api/v1/health", get(health::health)),
        ("/api/v1/openapi.json", get(openapi::openapi)),
    ]
}

/// A list answer in the format asked for, with its media type.
pub(crate) fn listed<T: Listing>(answer: T, format: Format) -> Result<Response, ApiError> {
    if format == Format::Json {
        return Ok(Json(answer).into_response());
    }
    let mut body = Vec::new();
    palimpsest_export::write(&answer, format, &mut body)
        .map_err(|e| ApiError::internal("cannot write the answer", e))?;
    Ok(([(CONTENT_TYPE, format.content_type())], body).into_response())
}
