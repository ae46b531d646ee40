//! `GET /api/v1/openapi.json`: the OpenAPI 3 document, generated from the handlers and
//! response types.

use std::sync::OnceLock;

use axum::Json;
use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use super::{changes, diff, export, health, history, search, services, stats, version, versions};
use crate::error::{ApiError, ErrorBody};
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
    ),
    components(schemas(
        super::ListFormat,
        super::MatchChoice,
        super::ChangeSort,
        super::ChangeGroup,
        super::Instant,
    )),
    modifiers(&EveryRoute)
)]
pub struct ApiDoc;

/// The answers of the layers around every route (`app`), documented on every operation.
struct EveryRoute;

impl Modify for EveryRoute {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let too_large = ResponseBuilder::new()
            .description("A request body over the limit (`payload_too_large`)")
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
            .build();
        for item in openapi.paths.paths.values_mut() {
            for operation in item.get.iter_mut() {
                operation
                    .responses
                    .responses
                    .insert("413".to_owned(), too_large.clone().into());
            }
        }
    }
}

/// This document.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    responses(
        (status = 200, description = "OpenAPI 3 document", body = Object, content_type = "application/json"),
        (status = 400, description = "Unknown parameter", body = ErrorBody),
    )
)]
pub async fn openapi(
    _: Params<NoParams>,
) -> Result<Json<&'static utoipa::openapi::OpenApi>, ApiError> {
    static DOC: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    Ok(Json(DOC.get_or_init(ApiDoc::openapi)))
}
