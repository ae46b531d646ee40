//! `GET /api/v1/openapi.json`: the OpenAPI 3 document, generated from the handlers and
//! response types.

use std::sync::OnceLock;

use axum::Json;
use utoipa::OpenApi;

use super::{changes, diff, export, health, history, search, services, stats, version, versions};
use crate::error::ApiError;
use crate::params::{NoParams, Params};

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Palimpsest",
        description = "Full-text search over website policies and their whole version history. \
                       Errors are always `{\"error\": {\"code\", \"message\"}}`."
    ),
    paths(
        search::search,
        services::services,
        versions::versions,
        version::version,
        changes::changes,
        changes::changes_atom,
        history::history,
        history::trend,
        export::search,
        export::changes,
        export::history,
        diff::diff,
        stats::stats,
        health::health,
        openapi,
    )
)]
pub struct ApiDoc;

/// This document.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    responses((status = 200, description = "OpenAPI 3 document", content_type = "application/json"))
)]
pub async fn openapi(
    _: Params<NoParams>,
) -> Result<Json<&'static utoipa::openapi::OpenApi>, ApiError> {
    static DOC: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    Ok(Json(DOC.get_or_init(ApiDoc::openapi)))
}
