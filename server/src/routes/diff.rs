//! `GET /api/v1/diff/{service}/{terms_type}`: the section diff of two versions, as
//! `palimpsest diff SERVICE TERMS_TYPE --from A --to B --json`.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use palimpsest_search::{DiffRequest, DiffResponse};
use serde::Deserialize;

use super::search::instant;
use super::versions::DocumentPath;
use crate::error::{ApiError, ErrorBody};
use crate::params::{self, Params, PathParams, QueryParams};
use crate::render;
use crate::state::AppState;

/// The two versions to compare.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DiffParams {
    /// The earlier version: the one in force at this instant (RFC 3339 or YYYY-MM-DD).
    #[param(value_type = Option<crate::routes::Instant>, example = "2023-06-01T00:00:00Z")]
    pub from: Option<String>,
    /// The later version: the one in force at this instant (default: the latest).
    #[param(value_type = Option<crate::routes::Instant>)]
    pub to: Option<String>,
    /// The earlier version by id or unique prefix (instead of `from`).
    pub from_version: Option<String>,
    /// The later version by id or unique prefix (instead of `to`).
    pub to_version: Option<String>,
    /// Collection, needed only when several hold the document.
    pub collection: Option<String>,
    /// `true`: each change also has `html`, as in `changes?html=true`.
    #[serde(default, deserialize_with = "params::flag")]
    pub html: Option<bool>,
}

impl QueryParams for DiffParams {}

/// Section by section: what was added, removed, modified (with a word diff) or moved between
/// two versions of a document.
#[utoipa::path(
    get,
    path = "/api/v1/diff/{service}/{terms_type}",
    params(DocumentPath, DiffParams),
    responses(
        (status = 200, description = "The changed sections (with `html=true`, each also has `html`)", body = DiffResponse),
        (status = 400, description = "Invalid or missing parameter", body = ErrorBody),
        (status = 404, description = "Unknown document, or no version at an instant", body = ErrorBody),
        (status = 416, description = "`from` or `to` in the future (`date_in_future`)", body = ErrorBody),
        (status = 503, description = "Over the time budget or the concurrency limit, or the index is being checked or damaged", body = ErrorBody),
    )
)]
pub async fn diff(
    State(state): State<AppState>,
    PathParams(path): PathParams<DocumentPath>,
    Params(p): Params<DiffParams>,
) -> Result<Response, ApiError> {
    let html = p.html.unwrap_or(false);
    let request = DiffRequest {
        service: path.service,
        terms_type: path.terms_type,
        collection: p.collection,
        from: instant("from", p.from.as_deref())?,
        to: instant("to", p.to.as_deref())?,
        from_version: p.from_version,
        to_version: p.to_version,
    };
    let answer = state
        .run(move |engine| {
            let response = engine.diff(&request)?;
            Ok(if html {
                Json(render::with_change_html(&response, &response.changes)).into_response()
            } else {
                Json(response).into_response()
            })
        })
        .await?;
    Ok(answer)
}
