//! `GET /api/v1/search`: the parameters of `palimpsest search`, the same JSON.

use axum::extract::State;
use palimpsest_schema::Timestamp;
use palimpsest_search::{Filters, MatchMode, SearchRequest, SearchResponse, TimeMode};

use axum::response::Response;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use utoipa::IntoParams;
use utoipa::openapi::path::Parameter;

use crate::error::{ApiError, ErrorBody};
use crate::params::{self, FormatParam, ListParams, QueryParams};
use crate::routes::listed;
use crate::state::AppState;

/// Search parameters; the names of the CLI flags, in snake_case.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// The query: words (a section must hold most of them, see `match`; word forms and
    /// British or American spellings match), "exact phrases", AND, OR, NOT, +required,
    /// -excluded, parentheses; `privac*` matches the words starting with `privac`; `*` alone
    /// matches everything. At most 1 KiB, 64 terms (stop words and repeats not counted), 20
    /// levels of parentheses and 1,024 words for all wildcards together by default.
    #[param(
        required = true,
        example = "\"personal data\" AND advertising",
        pattern = "\\S"
    )]
    pub q: Option<String>,
    /// `most` (default: all of one or two words, half of up to eight, a quarter of longer
    /// queries, stop words never deciding; sections holding every word rank first; when
    /// nothing matches, fewer words) or `all` (every word, as typed).
    #[serde(rename = "match")]
    #[param(value_type = Option<crate::routes::MatchChoice>, example = "all")]
    pub matching: Option<String>,
    /// Sections in force at this instant (RFC 3339, or YYYY-MM-DD for 00:00 UTC); not with
    /// `from`, `to` or `history`.
    #[param(value_type = Option<crate::routes::Instant>)]
    pub as_of: Option<String>,
    /// Sections in force at some point from this instant on.
    #[param(value_type = Option<crate::routes::Instant>)]
    pub from: Option<String>,
    /// Sections in force at some point before this instant.
    #[param(value_type = Option<crate::routes::Instant>)]
    pub to: Option<String>,
    /// Every section ever recorded; one hit per section, the texts it had together.
    #[serde(default, deserialize_with = "params::flag")]
    pub history: Option<bool>,
    /// Only sections whose text first appeared in this calendar year (UTC), as the `year`
    /// facet counts them.
    #[serde(default, deserialize_with = "year")]
    #[param(example = 2024, minimum = 1, maximum = 9998)]
    pub year: Option<i16>,
    /// Hits per page, 1 to 100 (default 20).
    #[serde(default, deserialize_with = "params::number")]
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<usize>,
    /// Hits to skip (default 0); `offset + limit` at most 10,000.
    #[serde(default, deserialize_with = "params::number")]
    #[param(maximum = 9999)]
    pub offset: Option<usize>,
    /// Filters (documented by [`FilterParams`]).
    #[serde(flatten)]
    #[param(ignore)]
    pub filters: FilterParams,
}

impl QueryParams for SearchParams {
    fn flattened() -> Vec<Parameter> {
        FilterParams::into_params(|| None)
    }
}

/// Reads `year`: a whole number that fits a year.
fn year<'de, D: Deserializer<'de>>(value: D) -> Result<Option<i16>, D::Error> {
    params::number(value)?
        .map(|y| {
            i16::try_from(y)
                .map_err(|_| D::Error::custom(format!("{y} is not a year between 1 and 9998")))
        })
        .transpose()
}

/// The filters every search-like endpoint takes (search, changes, history, trend), flattened
/// into their parameters.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FilterParams {
    /// Only this service (repeatable).
    #[serde(default, deserialize_with = "params::repeatable")]
    #[param(required = false, example = json!(["Birdsong"]))]
    pub service: Vec<String>,
    /// Only this terms type, e.g. `Privacy Policy` (repeatable).
    #[serde(default, deserialize_with = "params::repeatable")]
    #[param(required = false)]
    pub terms_type: Vec<String>,
    /// Only this collection (repeatable).
    #[serde(default, deserialize_with = "params::repeatable")]
    #[param(required = false)]
    pub collection: Vec<String>,
    /// Only sections under this heading path, levels separated by `>`; case-insensitive, the
    /// last level may be the start of a heading. For changes: the path before or after.
    pub section: Option<String>,
}

impl From<FilterParams> for Filters {
    /// The filters; `section` levels are separated by `>`.
    fn from(p: FilterParams) -> Filters {
        Filters {
            services: p.service,
            terms_types: p.terms_type,
            collections: p.collection,
            section: p
                .section
                .map(|s| s.split('>').map(|l| l.trim().to_owned()).collect())
                .unwrap_or_default(),
        }
    }
}

/// Parses an instant parameter.
pub(crate) fn instant(name: &str, value: Option<&str>) -> Result<Option<Timestamp>, ApiError> {
    value
        .map(|v| {
            Timestamp::parse(v).map_err(|_| {
                ApiError::parameter(
                    name,
                    format!(
                        "`{}` is not an RFC 3339 instant, a YYYY-MM-DD date, or a YYYY-MM \
                         month or YYYY year from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z",
                        crate::error::shorten(v, 40)
                    ),
                )
            })
        })
        .transpose()
}

/// Reads `match`: `most` (the default) or `all`.
pub(crate) fn match_mode(value: Option<&str>) -> Result<MatchMode, ApiError> {
    crate::params::choice(
        "match",
        value,
        &[("most", MatchMode::Most), ("all", MatchMode::All)],
    )
}

impl TryFrom<SearchParams> for SearchRequest {
    type Error = ApiError;

    /// The request `palimpsest search` builds from the same flags.
    fn try_from(p: SearchParams) -> Result<SearchRequest, ApiError> {
        let query =
            p.q.ok_or_else(|| ApiError::parameter("q", "missing; use q=* to match everything"))?;
        let as_of = instant("as_of", p.as_of.as_deref())?;
        let from = instant("from", p.from.as_deref())?;
        let to = instant("to", p.to.as_deref())?;
        let history = p.history.unwrap_or(false);
        let time = match (as_of, from, to, history) {
            (Some(at), None, None, false) => TimeMode::AsOf(at),
            (Some(_), ..) => {
                return Err(ApiError::parameter(
                    "as_of",
                    "cannot be combined with `from`, `to` or `history`",
                ));
            }
            (None, None, None, true) => TimeMode::History,
            (None, None, None, false) => TimeMode::Current,
            (None, _, _, true) => {
                return Err(ApiError::parameter(
                    "history",
                    "cannot be combined with `from` or `to`",
                ));
            }
            (None, from, to, false) => TimeMode::Between { from, to },
        };
        Ok(SearchRequest {
            query,
            matching: match_mode(p.matching.as_deref())?,
            filters: p.filters.into(),
            time,
            year: p.year,
            limit: p.limit.unwrap_or(20),
            offset: p.offset.unwrap_or(0),
        })
    }
}

/// Search sections in force now (default), at an instant, in a window, or over all history.
#[utoipa::path(
    get,
    path = "/api/v1/search",
    params(SearchParams, FilterParams, FormatParam),
    responses(
        (status = 200, description = "Hits and facets; with `format=jsonl` or `csv`, the hits", content(
            (SearchResponse = "application/json"),
            (String = "application/x-ndjson"),
            (String = "text/csv"),
        )),
        (status = 400, description = "Invalid or unknown parameter, invalid query, unknown name", body = ErrorBody),
        (status = 416, description = "`as_of` in the future (`date_in_future`)", body = ErrorBody),
        (status = 503, description = "Over the time budget or the concurrency limit, or the index is being checked or damaged", body = ErrorBody),
    )
)]
pub async fn search(
    State(state): State<AppState>,
    ListParams(params, format): ListParams<SearchParams>,
) -> Result<Response, ApiError> {
    let request = SearchRequest::try_from(params)?;
    let response = state.run(move |engine| engine.search(&request)).await?;
    listed(response, format)
}
