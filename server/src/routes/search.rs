//! `GET /api/v1/search`: the parameters of `palimpsest search`, the same JSON.

use axum::extract::State;
use palimpsest_schema::Timestamp;
use palimpsest_search::{Filters, MatchMode, SearchRequest, SearchResponse, TimeMode};

use crate::error::{ApiError, ErrorBody};
use crate::params::{FromParams, ListParams, RawParams};
use crate::routes::{FormatParam, listed};
use crate::state::AppState;
use axum::response::Response;

/// Search parameters; the names of the CLI flags, in snake_case.
#[derive(Debug, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// The query: words (a section must hold most of them, see `match`; word forms and
    /// British or American spellings match), "exact phrases", AND, OR, NOT, +required,
    /// -excluded, parentheses; `privac*` matches the words starting with `privac`; `*` alone
    /// matches everything. At most 1 KiB, 64 terms (stop words and repeats not counted), 20
    /// levels of parentheses and 1,024 words for all wildcards together by default.
    #[param(example = "\"personal data\" AND advertising", pattern = "\\S")]
    pub q: String,
    /// `most` (default: all of one or two words, half of up to eight, a quarter of longer
    /// queries, stop words never deciding; sections holding every word rank first; when
    /// nothing matches, fewer words) or `all` (every word, as typed).
    #[param(rename = "match", value_type = Option<crate::routes::MatchChoice>, example = "all")]
    pub matching: Option<String>,
    /// Filters (documented by [`FilterParams`]).
    #[param(ignore)]
    pub filters: Filters,
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
    /// Every section ever recorded; one hit per run of unchanged text.
    pub history: Option<bool>,
    /// Only sections whose text first appeared in this calendar year (UTC), as the `year`
    /// facet counts them.
    #[param(example = 2024, minimum = 1, maximum = 9998)]
    pub year: Option<i16>,
    /// Hits per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<usize>,
    /// Hits to skip (default 0); `offset + limit` at most 10,000.
    #[param(maximum = 9999)]
    pub offset: Option<usize>,
}

impl FromParams for SearchParams {
    const NAMES: &'static [&'static str] = &[
        "q",
        "match",
        "service",
        "terms_type",
        "collection",
        "section",
        "as_of",
        "from",
        "to",
        "history",
        "year",
        "limit",
        "offset",
    ];

    fn from_params(p: &RawParams) -> Result<Self, ApiError> {
        Ok(SearchParams {
            q: p.one("q")?
                .ok_or_else(|| ApiError::parameter("q", "missing; use q=* to match everything"))?
                .to_owned(),
            matching: p.one("match")?.map(str::to_owned),
            filters: FilterParams::read(p)?,
            as_of: p.one("as_of")?.map(str::to_owned),
            from: p.one("from")?.map(str::to_owned),
            to: p.one("to")?.map(str::to_owned),
            history: Some(p.flag("history")?),
            year: p
                .number("year")?
                .map(|y| {
                    i16::try_from(y).map_err(|_| {
                        ApiError::parameter("year", format!("{y} is not a year between 1 and 9998"))
                    })
                })
                .transpose()?,
            limit: p.number("limit")?,
            offset: p.number("offset")?,
        })
    }
}

/// The filters every search-like endpoint takes (search, changes, history, trend).
#[derive(Debug, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FilterParams {
    /// Only this service (repeatable).
    #[param(required = false, example = json!(["Birdsong"]))]
    pub service: Vec<String>,
    /// Only this terms type, e.g. `Privacy Policy` (repeatable).
    #[param(required = false)]
    pub terms_type: Vec<String>,
    /// Only this collection (repeatable).
    #[param(required = false)]
    pub collection: Vec<String>,
    /// Only sections under this heading path, levels separated by `>`; case-insensitive, the
    /// last level may be the start of a heading. For changes: the path before or after.
    pub section: Option<String>,
}

impl FilterParams {
    /// Their names.
    pub const NAMES: [&'static str; 4] = ["service", "terms_type", "collection", "section"];

    /// Reads the filters; `section` levels are separated by `>`.
    pub fn read(p: &RawParams) -> Result<Filters, ApiError> {
        Ok(Filters {
            services: p.all("service")?,
            terms_types: p.all("terms_type")?,
            collections: p.all("collection")?,
            section: p
                .one("section")?
                .map(|s| s.split('>').map(|l| l.trim().to_owned()).collect())
                .unwrap_or_default(),
        })
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
                        "`{}` is not an RFC 3339 instant or a YYYY-MM-DD date from \
                         0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z",
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
            query: p.q,
            matching: match_mode(p.matching.as_deref())?,
            filters: p.filters,
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
        (status = 503, description = "Over the time budget or the concurrency limit", body = ErrorBody),
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
