//! `GET /api/v1/history` and `GET /api/v1/trend`: the parameters of `palimpsest history` and
//! `palimpsest trend`, the same JSON.

use axum::extract::State;
use axum::response::Response;
use palimpsest_search::{
    Filters, HistoryRequest, HistoryResponse, TrendBucket, TrendRequest, TrendResponse,
};

use super::search::{FilterParams, instant};
use crate::error::{ApiError, ErrorBody};
use crate::params::{FromParams, ListParams, RawParams};
use crate::routes::{FormatParam, listed};
use crate::state::AppState;

fn query(p: &RawParams) -> Result<String, ApiError> {
    Ok(p.one("q")?
        .ok_or_else(|| {
            ApiError::parameter(
                "q",
                "missing: the text to follow, e.g. q=\"binding arbitration\"",
            )
        })?
        .to_owned())
}

/// Phrase history parameters.
#[derive(Debug, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryParams {
    /// The query (search syntax); quote a phrase.
    #[param(example = "\"binding arbitration\"", pattern = "\\S")]
    pub q: String,
    /// Filters (documented by [`FilterParams`]).
    #[param(ignore)]
    pub filters: Filters,
    /// Documents per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<usize>,
    /// Documents to skip (default 0).
    #[param(maximum = 9999)]
    pub offset: Option<usize>,
}

impl FromParams for HistoryParams {
    const NAMES: &'static [&'static str] = &[
        "q",
        "service",
        "terms_type",
        "collection",
        "section",
        "limit",
        "offset",
    ];

    fn from_params(p: &RawParams) -> Result<Self, ApiError> {
        Ok(HistoryParams {
            q: query(p)?,
            filters: FilterParams::read(p)?,
            limit: p.number("limit")?,
            offset: p.number("offset")?,
        })
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
        (status = 503, description = "Over the time budget or the concurrency limit", body = ErrorBody),
    )
)]
pub async fn history(
    State(state): State<AppState>,
    ListParams(p, format): ListParams<HistoryParams>,
) -> Result<Response, ApiError> {
    let request = HistoryRequest {
        query: p.q,
        filters: p.filters,
        limit: p.limit.unwrap_or(20),
        offset: p.offset.unwrap_or(0),
    };
    listed(
        state.run(move |engine| engine.history(&request)).await?,
        format,
    )
}

/// Trend parameters.
#[derive(Debug, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TrendParams {
    /// The query (search syntax).
    #[param(example = "arbitration", pattern = "\\S")]
    pub q: String,
    /// Filters (documented by [`FilterParams`]).
    #[param(ignore)]
    pub filters: Filters,
    /// `month` (default) or `year`.
    #[param(value_type = Option<TrendBucket>)]
    pub by: Option<String>,
    /// First instant charted (default: the first version recorded).
    #[param(value_type = Option<crate::routes::Instant>)]
    pub from: Option<String>,
    /// Instant the chart stops before (default: just after the last version recorded).
    #[param(value_type = Option<crate::routes::Instant>)]
    pub to: Option<String>,
}

impl FromParams for TrendParams {
    const NAMES: &'static [&'static str] = &[
        "q",
        "service",
        "terms_type",
        "collection",
        "section",
        "by",
        "from",
        "to",
    ];

    fn from_params(p: &RawParams) -> Result<Self, ApiError> {
        Ok(TrendParams {
            q: query(p)?,
            filters: FilterParams::read(p)?,
            by: p.one("by")?.map(str::to_owned),
            from: p.one("from")?.map(str::to_owned),
            to: p.one("to")?.map(str::to_owned),
        })
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
        (status = 503, description = "Over the time budget or the concurrency limit", body = ErrorBody),
    )
)]
pub async fn trend(
    State(state): State<AppState>,
    ListParams(p, format): ListParams<TrendParams>,
) -> Result<Response, ApiError> {
    let by = crate::params::choice(
        "by",
        p.by.as_deref(),
        &[("month", TrendBucket::Month), ("year", TrendBucket::Year)],
    )?;
    let request = TrendRequest {
        query: p.q,
        filters: p.filters,
        by,
        from: instant("from", p.from.as_deref())?,
        to: instant("to", p.to.as_deref())?,
    };
    listed(
        state.run(move |engine| engine.trend(&request)).await?,
        format,
    )
}
