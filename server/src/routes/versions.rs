//! `GET /api/v1/versions/{service}/{terms_type}`: the versions of one document, as
//! `palimpsest versions SERVICE TERMS_TYPE --json`.

use axum::extract::State;
use axum::response::Response;
use palimpsest_search::VersionsResponse;
use serde::Deserialize;

use crate::error::{ApiError, ErrorBody};
use crate::params::{FormatParam, ListParams, PathParams, QueryParams};
use crate::routes::listed;
use crate::state::AppState;

/// A document: service and terms type, matched case-insensitively when unambiguous.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct DocumentPath {
    /// Service, e.g. `Instagram`.
    #[param(example = "Birdsong")]
    pub service: String,
    /// Terms type, e.g. `Privacy Policy`.
    #[param(example = "Privacy Policy")]
    pub terms_type: String,
}

/// Chooses among collections holding the same document.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CollectionParams {
    /// Collection, needed only when several hold the document.
    pub collection: Option<String>,
}

impl QueryParams for CollectionParams {}

/// The recorded versions of one document, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/versions/{service}/{terms_type}",
    params(DocumentPath, CollectionParams, FormatParam),
    responses(
        (status = 200, description = "Versions in recorded order; with `format=jsonl` or `csv`, the versions", content(
            (VersionsResponse = "application/json"),
            (String = "application/x-ndjson"),
            (String = "text/csv"),
        )),
        (status = 400, description = "Invalid or unknown parameter, ambiguous collection", body = ErrorBody),
        (status = 404, description = "Unknown service or document", body = ErrorBody),
        (status = 503, description = "Over the time budget or the concurrency limit, or the index is being checked or damaged", body = ErrorBody),
    )
)]
pub async fn versions(
    State(state): State<AppState>,
    PathParams(path): PathParams<DocumentPath>,
    ListParams(params, format): ListParams<CollectionParams>,
) -> Result<Response, ApiError> {
    let response = state
        .run(move |engine| {
            engine.versions(
                &path.service,
                &path.terms_type,
                params.collection.as_deref(),
            )
        })
        .await?;
    listed(response, format)
}
