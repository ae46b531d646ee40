//! `GET /api/v1/version/{service}/{terms_type}/{date}`: the version in force at an instant,
//! rebuilt from the index, as `palimpsest show SERVICE TERMS_TYPE --at DATE --json`; the
//! semantics of the Open Terms Archive collection API.

use axum::Json;
use axum::extract::State;
use palimpsest_search::{ShowRequest, VersionResponse};
use serde::Deserialize;

use super::versions::CollectionParams;
use crate::error::{ApiError, ErrorBody};
use crate::params::{Params, PathParams};
use crate::state::AppState;

/// A document and an instant.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct VersionPath {
    /// Service, e.g. `Instagram`.
    pub service: String,
    /// Terms type, e.g. `Privacy Policy`.
    pub terms_type: String,
    /// RFC 3339 instant (`2025-06-01T12:00:00Z`) or plain date (`2025-06-01`, meaning 00:00 UTC).
    pub date: String,
}

/// The version in force at `date`: `{id, recorded_at, kind, content}` with the document's
/// service, terms type and collection.
#[utoipa::path(
    get,
    path = "/api/v1/version/{service}/{terms_type}/{date}",
    params(VersionPath, CollectionParams),
    responses(
        (status = 200, description = "The version in force at that instant", body = VersionResponse),
        (status = 400, description = "Invalid date or unknown parameter", body = ErrorBody),
        (status = 404, description = "Unknown document, or an instant before its first version", body = ErrorBody),
        (status = 416, description = "An instant in the future", body = ErrorBody),
        (status = 503, description = "Over the time budget or the concurrency limit", body = ErrorBody),
    )
)]
pub async fn version(
    State(state): State<AppState>,
    PathParams(path): PathParams<VersionPath>,
    Params(params): Params<CollectionParams>,
) -> Result<Json<VersionResponse>, ApiError> {
    let at = super::search::instant("date", Some(&path.date))?;
    let request = ShowRequest {
        service: path.service,
        terms_type: path.terms_type,
        collection: params.collection,
        at,
        version: None,
    };
    Ok(Json(state.run(move |engine| engine.show(&request)).await?))
}
