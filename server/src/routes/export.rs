//! `GET /api/v1/export/{search,changes,history}`: every result of a search, a change search
//! or a phrase history, past the paging window, streamed as JSON Lines (default), CSV or a
//! JSON array, with a file name to save it under.

use axum::extract::FromRequestParts;
use axum::extract::State;
use axum::http::request::Parts;
use axum::response::Response;
use palimpsest_export::{DOCUMENT_COLUMNS, Format, HIT_COLUMNS, change_columns};
use palimpsest_search::{ChangesRequest, HistoryRequest, SearchRequest};

use super::changes::ChangesParams;
use super::history::HistoryParams;
use super::search::{FilterParams, SearchParams};
use crate::error::{ApiError, ErrorBody};
use crate::export::{ExportKind, export};
use crate::params::{QueryParams, with_format};
use crate::state::AppState;

/// Extractor of an export's parameters: those of the list it exports, and `format`
/// (`jsonl` by default).
pub struct ExportParams<T>(pub T, pub Format);

/// The formats an export streams in, the default first.
const EXPORT_FORMATS: [(&str, Format); 3] = [
    ("jsonl", Format::Jsonl),
    ("csv", Format::Csv),
    ("json", Format::Json),
];

impl<S: Send + Sync, T: QueryParams> FromRequestParts<S> for ExportParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        let (params, format) = with_format(query, &EXPORT_FORMATS)?;
        Ok(ExportParams(params, format))
    }
}

/// The `format` parameter of exports, for the OpenAPI document.
#[derive(Debug, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportFormatParam {
    /// `jsonl` (default: one item per line, `application/x-ndjson`), `csv` (a header row,
    /// one row per item, `text/csv`; the columns of the list's CSV) or `json` (one array of
    /// the items, `application/json`).
    #[param(value_type = Option<crate::routes::ListFormat>, example = "csv")]
    pub format: Option<String>,
}

/// Every hit of a search, best first: the hits of every page of `/api/v1/search` with the
/// same parameters, one after the other (`limit` and `offset` are not read). The
/// `X-Total-Count` header gives their number; the body streams, each chunk of 100 within the
/// time budget, and an answer cut off part way ends without its last chunk (the
/// connection's chunked encoding is left incomplete), never as a short list that looks whole.
#[utoipa::path(
    get,
    path = "/api/v1/export/search",
    params(SearchParams, FilterParams, ExportFormatParam),
    responses(
        (status = 200, description = "Every hit, one per line (or CSV rows, or a JSON array)",
            headers(("x-total-count" = u64, description = "Number of hits listed")),
            content(
                (String = "application/x-ndjson"),
                (String = "text/csv"),
                (Vec<palimpsest_search::Hit> = "application/json"),
            )),
        (status = 400, description = "Invalid or unknown parameter, invalid query, unknown name", body = ErrorBody),
        (status = 416, description = "`as_of` is after the present", body = ErrorBody),
        (status = 503, description = "Over the time budget, the concurrency limit or the export limit, or the index is being checked or damaged", body = ErrorBody),
    )
)]
pub async fn search(
    State(state): State<AppState>,
    ExportParams(params, format): ExportParams<SearchParams>,
) -> Result<Response, ApiError> {
    let request = SearchRequest::try_from(params)?;
    let kind = ExportKind {
        name: "search",
        format,
        columns: HIT_COLUMNS,
    };
    export(&state, kind, move |engine, options, sink| {
        engine.export_search(&request, options, sink)
    })
    .await
}

/// Every change of a change search, in its order: the changes of every page of
/// `/api/v1/changes` with the same parameters, one after the other (`limit`, `offset` and
/// `html` are not read; with `group=version`, every version). Streamed as the search export is.
#[utoipa::path(
    get,
    path = "/api/v1/export/changes",
    params(ChangesParams, FilterParams, ExportFormatParam),
    responses(
        (status = 200, description = "Every change, one per line (or CSV rows, or a JSON array)",
            headers(
                ("x-total-count" = u64, description = "Number of changes (or versions) listed"),
                ("x-hidden-first-records" = u64, description = "Entries of first records not listed (`first_records=true` lists them)"),
                ("x-hidden-deletions" = u64, description = "Entries of deletions not listed (`first_records=true` lists them)"),
                ("x-hidden-technical-upgrades" = u64, description = "Entries of technical upgrades not listed (`technical_upgrades=true` lists them)"),
                ("x-hidden-minor" = u64, description = "Minor changes (or versions with only minor changes) not listed (`minor=true` lists them)"),
            ),
            content(
                (String = "application/x-ndjson"),
                (String = "text/csv"),
                (Vec<palimpsest_search::ChangeEntry> = "application/json"),
            )),
        (status = 400, description = "Invalid or unknown parameter, invalid query, unknown name", body = ErrorBody),
        (status = 503, description = "Over the time budget, the concurrency limit or the export limit, or the index is being checked or damaged", body = ErrorBody),
    )
)]
pub async fn changes(
    State(state): State<AppState>,
    ExportParams(params, format): ExportParams<ChangesParams>,
) -> Result<Response, ApiError> {
    let request = ChangesRequest::try_from(params)?;
    let kind = ExportKind {
        name: "changes",
        format,
        columns: change_columns(request.group),
    };
    export(&state, kind, move |engine, options, sink| {
        engine.export_changes(&request, options, sink)
    })
    .await
}

/// Every document of a phrase history, by first appearance: the documents of every page of
/// `/api/v1/history` with the same parameters (`limit` and `offset` are not read). Streamed
/// as the search export is.
#[utoipa::path(
    get,
    path = "/api/v1/export/history",
    params(HistoryParams, FilterParams, ExportFormatParam),
    responses(
        (status = 200, description = "Every document, one per line (or CSV rows, or a JSON array)",
            headers(("x-total-count" = u64, description = "Number of documents listed")),
            content(
                (String = "application/x-ndjson"),
                (String = "text/csv"),
                (Vec<palimpsest_search::DocumentHistory> = "application/json"),
            )),
        (status = 400, description = "Invalid or unknown parameter, invalid query, unknown name", body = ErrorBody),
        (status = 503, description = "Over the time budget, the concurrency limit or the export limit, or the index is being checked or damaged", body = ErrorBody),
    )
)]
pub async fn history(
    State(state): State<AppState>,
    ExportParams(params, format): ExportParams<HistoryParams>,
) -> Result<Response, ApiError> {
    let request = HistoryRequest {
        query: super::history::query(params.q)?,
        filters: params.filters.into(),
        limit: 1,
        offset: 0,
    };
    let kind = ExportKind {
        name: "history",
        format,
        columns: DOCUMENT_COLUMNS,
    };
    export(&state, kind, move |engine, options, sink| {
        engine.export_history(&request, options, sink)
    })
    .await
}
