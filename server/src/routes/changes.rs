//! `GET /api/v1/changes` and `GET /api/v1/changes.atom`: the parameters of
//! `palimpsest changes`, as JSON or as an Atom feed.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Uri, header};
use axum::response::{IntoResponse, Response};
use palimpsest_search::{
    ChangeGrouping, ChangeKind, ChangeOrder, ChangesRequest, ChangesResponse, FeedInfo,
    HiddenChanges,
};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa::openapi::path::Parameter;

use super::search::{FilterParams, instant};
use crate::error::{ApiError, ErrorBody};
use crate::options::ServerOptions;
use crate::params::{self, FormatParam, ListParams, Params, QueryParams};
use crate::render;
use crate::routes::listed;
use crate::state::AppState;
use palimpsest_export::Format;

/// Change search parameters; the names of the CLI flags, in snake_case.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChangesParams {
    /// Only changes whose text before or after matches this query (search syntax).
    #[param(example = "arbitration")]
    pub q: Option<String>,
    /// `most` (default) or `all` of the query's words, as for search.
    #[serde(rename = "match")]
    #[param(value_type = Option<crate::routes::MatchChoice>, example = "all")]
    pub matching: Option<String>,
    /// Changes recorded at or after this instant (RFC 3339, or YYYY-MM-DD).
    #[param(value_type = Option<crate::routes::Instant>)]
    pub from: Option<String>,
    /// Changes recorded before this instant.
    #[param(value_type = Option<crate::routes::Instant>)]
    pub to: Option<String>,
    /// Also whole documents appearing (first records) or leaving the archive (deletions).
    #[serde(default, deserialize_with = "params::flag")]
    pub first_records: Option<bool>,
    /// Also technical upgrades (re-extractions, not changes at the source).
    #[serde(default, deserialize_with = "params::flag")]
    pub technical_upgrades: Option<bool>,
    /// Also minor changes (only dates, punctuation, quote marks, whitespace or link targets):
    /// `true` (default) or `false`.
    #[serde(default, deserialize_with = "params::flag")]
    pub minor: Option<bool>,
    /// Only changes of this kind: `added`, `removed`, `modified` or `moved`; repeatable
    /// (any of them). Without it, every kind.
    #[serde(default)]
    #[param(value_type = Option<Vec<ChangeKind>>, example = json!(["modified"]))]
    pub kind: Vec<String>,
    /// `newest` (default), `oldest`, or `relevance` (best match of `q` first).
    #[param(value_type = Option<crate::routes::ChangeSort>)]
    pub sort: Option<String>,
    /// `section` (default: one entry per changed section) or `version` (one entry per
    /// version, in `versions`, with the sections it changed and the words it inserted and
    /// deleted; `total` then counts versions).
    #[param(value_type = Option<crate::routes::ChangeGroup>)]
    pub group: Option<String>,
    /// Changes per page, 1 to 100 (default 20).
    #[serde(default, deserialize_with = "params::number")]
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<usize>,
    /// Changes to skip (default 0); `offset + limit` at most 10,000.
    #[serde(default, deserialize_with = "params::number")]
    #[param(maximum = 9999)]
    pub offset: Option<usize>,
    /// Whole texts: without it, `before` and `after` longer than 16 KiB are cut there (the
    /// `diff` at 32 KiB) and the change says `truncated`. A page whose texts would hold more
    /// than the server's `--max-unsent` bytes is refused as it is read (400
    /// `answer_too_large`).
    #[serde(default, deserialize_with = "params::flag")]
    pub full_text: Option<bool>,
    /// `true`: each change also has `html`, its diff (or the text added or removed)
    /// rendered from Markdown as safe HTML with insertions in `<ins>` and deletions in
    /// `<del>`, as the web page shows it. Only for `changes` grouped by section.
    #[serde(default, deserialize_with = "params::flag")]
    pub html: Option<bool>,
    /// Filters (documented by [`FilterParams`]).
    #[serde(flatten)]
    #[param(ignore)]
    pub filters: FilterParams,
}

impl QueryParams for ChangesParams {
    fn flattened() -> Vec<Parameter> {
        FilterParams::into_params(|| None)
    }
}

impl TryFrom<ChangesParams> for ChangesRequest {
    type Error = ApiError;

    /// The request `palimpsest changes` builds from the same flags.
    fn try_from(p: ChangesParams) -> Result<ChangesRequest, ApiError> {
        let order = crate::params::choice(
            "sort",
            p.sort.as_deref(),
            &[
                ("newest", ChangeOrder::Newest),
                ("oldest", ChangeOrder::Oldest),
                ("relevance", ChangeOrder::Relevance),
            ],
        )?;
        let group = crate::params::choice(
            "group",
            p.group.as_deref(),
            &[
                ("section", ChangeGrouping::Section),
                ("version", ChangeGrouping::Version),
            ],
        )?;
        Ok(ChangesRequest {
            group,
            query: p.q.filter(|q| !q.trim().is_empty()),
            matching: super::search::match_mode(p.matching.as_deref())?,
            filters: p.filters.into(),
            from: instant("from", p.from.as_deref())?,
            to: instant("to", p.to.as_deref())?,
            first_records: p.first_records.unwrap_or(false),
            technical_upgrades: p.technical_upgrades.unwrap_or(false),
            minor: p.minor.unwrap_or(true),
            kinds: kinds(&p.kind)?,
            order,
            limit: p.limit.unwrap_or(20),
            offset: p.offset.unwrap_or(0),
            full_text: p.full_text.unwrap_or(false),
        })
    }
}

/// The kinds the `kind` parameters name; any other name is refused.
fn kinds(names: &[String]) -> Result<Vec<ChangeKind>, ApiError> {
    let all = ChangeKind::ALL.map(|k| (k.as_str(), k));
    names
        .iter()
        .map(|name| crate::params::choice("kind", Some(name), &all))
        .collect()
}

/// Changes to sections (added, removed, modified with a word diff, moved), newest first.
#[utoipa::path(
    get,
    path = "/api/v1/changes",
    params(ChangesParams, FilterParams, FormatParam),
    responses(
        (status = 200, description = "Changes and facets (with `html=true`, each change also has `html`); with `format=jsonl` or `csv`, the changes (or versions). What the list leaves out by default is in `hidden` and, in every format, in the `x-hidden-*` headers",
            headers(
                ("x-hidden-first-records" = u64, description = "Entries of first records not listed (`first_records=true` lists them)"),
                ("x-hidden-deletions" = u64, description = "Entries of deletions not listed (`first_records=true` lists them)"),
                ("x-hidden-technical-upgrades" = u64, description = "Entries of technical upgrades not listed (`technical_upgrades=true` lists them)"),
                ("x-hidden-minor" = u64, description = "Minor changes (or versions with only minor changes) not listed (`minor=true` lists them)"),
            ),
            content(
            (ChangesResponse = "application/json"),
            (String = "application/x-ndjson"),
            (String = "text/csv"),
        )),
        (status = 400, description = "Invalid or unknown parameter, invalid query, unknown name", body = ErrorBody),
        (status = 503, description = "Over the time budget or the concurrency limit, or the index is being checked or damaged", body = ErrorBody),
    )
)]
pub async fn changes(
    State(state): State<AppState>,
    ListParams(params, format): ListParams<ChangesParams>,
) -> Result<Response, ApiError> {
    let html = params.html.unwrap_or(false);
    let request = ChangesRequest::try_from(params)?;
    let (response, rendered) = state
        .run(move |engine| {
            let response = engine.changes(&request)?;
            let html = (html && format == Format::Json)
                .then(|| render::with_change_html(&response, &response.changes));
            Ok((response, html))
        })
        .await?;
    let hidden = hidden_headers(&response.hidden);
    let answer = match rendered {
        Some(value) => Json(value).into_response(),
        None => listed(response, format)?,
    };
    Ok((hidden, answer).into_response())
}

/// The headers that say what a change list leaves out, for the formats that hold only the
/// list (the same numbers as `hidden` in JSON).
pub(crate) fn hidden_headers(hidden: &HiddenChanges) -> [(HeaderName, HeaderValue); 4] {
    let header = |name: &'static str, n: u64| (HeaderName::from_static(name), HeaderValue::from(n));
    [
        header("x-hidden-first-records", hidden.first_records),
        header("x-hidden-deletions", hidden.deletions),
        header("x-hidden-technical-upgrades", hidden.technical_upgrades),
        header("x-hidden-minor", hidden.minor),
    ]
}

/// The same change search as an Atom feed: one entry per change, with a stable id.
#[utoipa::path(
    get,
    path = "/api/v1/changes.atom",
    params(ChangesParams, FilterParams),
    responses(
        (status = 200, description = "Atom feed of the changes", body = String, content_type = "application/atom+xml"),
        (status = 400, description = "Invalid or unknown parameter, invalid query, unknown name", body = ErrorBody),
        (status = 503, description = "Over the time budget or the concurrency limit, or the index is being checked or damaged", body = ErrorBody),
    )
)]
pub async fn changes_atom(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Params(params): Params<ChangesParams>,
) -> Result<Response, ApiError> {
    let request = ChangesRequest::try_from(params)?;
    let title = match &request.query {
        Some(q) => format!("Palimpsest: changes matching {q}"),
        None => "Palimpsest: changes".to_owned(),
    };
    let response = state.run(move |engine| engine.changes(&request)).await?;
    let base_url = base_url(state.options(), &headers);
    let info = FeedInfo {
        title,
        id: format!("{base_url}{uri}"),
        self_url: Some(format!("{base_url}{uri}")),
        base_url,
    };
    Ok((
        [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
        response.to_atom(&info, &crate::render::feed_content),
    )
        .into_response())
}

/// The base URL of the feed's links: the configured public URL, its scheme and host replaced
/// by the `X-Forwarded-*` headers only when the server is told to trust them.
fn base_url(options: &ServerOptions, headers: &HeaderMap) -> String {
    let configured = options.base_url();
    if !options.trust_forwarded {
        return configured.to_owned();
    }
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let (scheme, rest) = configured.split_once("://").unwrap_or(("http", configured));
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let scheme = match header("x-forwarded-proto").map(str::trim) {
        Some(proto @ ("http" | "https")) => proto,
        _ => scheme,
    };
    // A host name, an IPv4 address or a bracketed IPv6 one, with an optional port.
    let host = header("x-forwarded-host")
        .and_then(|h| h.split(',').next())
        .map(str::trim)
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-.:[]".contains(c))
        })
        .unwrap_or(host);
    format!("{scheme}://{host}{path}")
}
