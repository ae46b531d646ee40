//! `GET /api/v1/history` and `GET /api/v1/trend`: the parameters of `palimpsest history` and
//! `palimpsest trend`, the same JSON.

use axum::extract::State;
use axum::response::Response;
use palimpsest_search::{
    HistoryRequest, HistoryResponse, TrendBucket, TrendRequest, TrendResponse,
};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa::openapi::path::Parameter;

use super::search::{FilterParams, instant};
use crate::error::{ApiError, ErrorBody};
use crate::params::{self, FormatParam, ListParams, QueryParams};
use crate::routes::listed;
use crate::state::AppState;

/// The query to follow, which history and trend need.
pub(crate) fn query(q: Option<String>) -> Result<String, ApiError> {
    q.ok_or_else(|| {
        ApiError::parameter(
            "q",
            "missing: the text to follow, e.g. q=\"binding arbitration\"",
        )
    })
}

/// Phrase history parameters.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryParams {
    /// The query (search syntax); quote a phrase.
    #[param(required = true, example = "\"binding arbitration\"", pattern = "\\S")]
    pub q: Option<String>,
    /// Documents per page, 1 to 100 (default 20).
    #[serde(default, deserialize_with = "params::number")]
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<usize>,
    /// Documents to skip (default 0).
    #[serde(default, deserialize_with = "params::number")]
    #[param(maximum = 9999)]
    pub offset: Option<usize>,
    /// Filters (documented by [`FilterParams`]).
    #[serde(flatten)]
    #[param(ignore)]
    pub filters: FilterParams,
}

impl QueryParams for HistoryParams {
    fn flattened() -> Vec<Parameter> {
        FilterParams::into_params(|| None)
    }
}

/// For every document where the query matched: first seen, last seen, still present, and the
/// intervals during which a matching section was in force.
#[utoipa::path(
    get,
    path = "/api/v1/history",
    params(HistoryParams, FilterParams, FormatParam),
    responses(
        (status = 200, description = "Documents by first appearance; with `format=jsonl` or `csv`, the documents", content(
            (HistoryResponse = "application/json"),
            (String = "application/x-ndjson"),
            (String = "text/csv"),
        )),
        (status = 400, description = "Invalid or unknown parameter, invalid query, unknown name", body = ErrorBody),
        (status = 503, description = "Over the time budget or the concurrency limit, or the index is being checked or damaged", body = ErrorBody),
    )
)]
pub async fn history(
    State(state): State<AppState>,
    ListParams(p, format): ListParams<HistoryParams>,
) -> Result<Response, ApiError> {
    let request = HistoryRequest {
        query: query(p.q)?,
        filters: p.filters.into(),
        limit: p.limit.unwrap_or(20),
        offset: p.offset.unwrap_or(0),
    };
    listed(
        state.run(move |engine| engine.history(&request)).await?,
        format,
    )
}

/// Trend parameters.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TrendParams {
    /// The query (search syntax).
    #[param(required = true, example = "arbitration", pattern = "\\S")]
    pub q: Option<String>,
    /// `month` (default) or `year`.
    #[param(value_type = Option<TrendBucket>)]
    pub by: Option<String>,
    /// First instant charted (default: the first version recorded).
    #[param(value_type = Option<crate::routes::Instant>)]
    pub from: Option<String>,
    /// Instant the chart stops before (default: just after the last version recorded).
    #[param(value_type = Option<crate::routes::Instant>)]
    pub to: Option<String>,
    /// Filters (documented by [`FilterParams`]).
    #[serde(flatten)]
    #[param(ignore)]
    pub filters: FilterParams,
}

impl QueryParams for TrendParams {
    fn flattened() -> Vec<Parameter> {
        FilterParams::into_params(|| None)
    }
}

/// Per month or year: documents in which a match was in force, out of the documents tracked.
#[utoipa::path(
    get,
    path = "/api/v1/trend",
    params(TrendParams, FilterParams, FormatParam),
    responses(
        (status = 200, description = "One point per period, oldest first; with `format=jsonl` or `csv`, the points", content(
            (TrendResponse = "application/json"),
            (String = "application/x-ndjson"),
            (String = "text/csv"),
        )),
        (status = 400, description = "Invalid or unknown parameter, invalid query, unknown name", body = ErrorBody),
        (status = 503, description = "Over the time budget or the concurrency limit, or the index is being checked or damaged", body = ErrorBody),
    )
)]
pub async fn trend(
    State(state): State<AppState>,
    ListParams(p, format): ListParams<TrendParams>,
) -> Result<Response, ApiError> {
    let q = query(p.q)?;
    let by = params::choice(
        "by",
        p.by.as_deref(),
        &[("month", TrendBucket::Month), ("year", TrendBucket::Year)],
    )?;
    let request = TrendRequest {
        query: q,
        filters: p.filters.into(),
        by,
        from: instant("from", p.from.as_deref())?,
        to: instant("to", p.to.as_deref())?,
    };
    listed(
        state.run(move |engine| engine.trend(&request)).await?,
        format,
    )
}
