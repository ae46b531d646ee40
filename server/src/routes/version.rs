//! `GET /api/v1/version/{service}/{terms_type}/{date}`: the version in force at an instant,
//! rebuilt from the index, as `palimpsest show SERVICE TERMS_TYPE --at DATE --json`; the
//! semantics of the Open Terms Archive collection API.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use palimpsest_search::{ShowRequest, VersionResponse};
use serde::Deserialize;

use crate::VersionName;
use crate::error::{ApiError, ErrorBody};
use crate::params::{self, Params, PathParams, QueryParams};
use crate::render;
use crate::state::AppState;

/// A document and an instant.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct VersionPath {
    /// Service, e.g. `Instagram`.
    #[param(example = "Birdsong")]
    pub service: String,
    /// Terms type, e.g. `Privacy Policy`.
    #[param(example = "Privacy Policy")]
    pub terms_type: String,
    /// RFC 3339 instant (`2025-06-01T12:00:00Z`) or plain date (`2025-06-01`, meaning 00:00 UTC).
    #[param(value_type = crate::routes::Instant, example = "2024-01-01T00:00:00Z")]
    pub date: String,
}

/// Which collection, and how to show the text.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VersionParams {
    /// Collection, needed only when several hold the document.
    pub collection: Option<String>,
    /// Highlight the words of this query (search syntax; word forms match) in each
    /// section: `highlights`, `[start, end)` in characters of its `text`.
    pub q: Option<String>,
    /// `true`: each section also has `html`, its text rendered from Markdown as safe HTML
    /// (links `rel="nofollow noopener noreferrer"`, raw HTML shown as text), the highlights
    /// in `<mark>`.
    #[serde(default, deserialize_with = "params::flag")]
    pub html: Option<bool>,
}

impl QueryParams for VersionParams {}

/// The version in force at `date`: `{id, recorded_at, kind, content}` with the document's
/// service, terms type and collection.
#[utoipa::path(
    get,
    path = "/api/v1/version/{service}/{terms_type}/{date}",
    params(VersionPath, VersionParams),
    responses(
        (status = 200, description = "The version in force at that instant", body = VersionResponse),
        (status = 400, description = "Invalid date or unknown parameter", body = ErrorBody),
        (status = 404, description = "Unknown document, or an instant before its first version", body = ErrorBody),
        (status = 416, description = "An instant in the future", body = ErrorBody),
        (status = 503, description = "Over the time budget or the concurrency limit, or the index is being checked or damaged", body = ErrorBody),
    )
)]
pub async fn version(
    State(state): State<AppState>,
    PathParams(path): PathParams<VersionPath>,
    Params(params): Params<VersionParams>,
) -> Result<Response, ApiError> {
    let at = super::search::instant("date", Some(&path.date))?;
    let request = ShowRequest {
        service: path.service,
        terms_type: path.terms_type,
        collection: params.collection,
        at,
        version: None,
    };
    let query = params.q.filter(|q| !q.trim().is_empty());
    let html = params.html.unwrap_or(false);
    let urls = state.options().source_urls.clone();
    let answer = state
        .run(move |engine| {
            let mut response: VersionResponse = match &query {
                Some(q) => engine.show_matching(&request, q)?,
                None => engine.show(&request)?,
            };
            response.source_url = urls.url(&VersionName {
                collection: &response.collection,
                service: &response.service,
                terms_type: &response.terms_type,
                version: &response.id,
            });
            Ok(if html {
                Json(render::version(&response)).into_response()
            } else {
                Json(response).into_response()
            })
        })
        .await?;
    Ok(answer)
}
