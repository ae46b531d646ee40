//! The endpoints, one module per URL path under `/api/v1`.

use axum::Json;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use palimpsest_export::{Format, Listing};

use crate::error::ApiError;
use crate::state::AppState;

pub mod changes;
pub mod diff;
pub mod export;
pub mod health;
pub mod history;
pub mod openapi;
pub mod search;
pub mod services;
pub mod stats;
pub mod version;
pub mod versions;

/// Every route of the API: the router is built from this list and the OpenAPI test checks
/// that each path is documented.
pub fn routes() -> Vec<(&'static str, MethodRouter<AppState>)> {
    vec![
        ("/api/v1/search", get(search::search)),
        ("/api/v1/services", get(services::services)),
        (
            "/api/v1/versions/{service}/{terms_type}",
            get(versions::versions),
        ),
        (
            "/api/v1/version/{service}/{terms_type}/{date}",
            get(version::version),
        ),
        ("/api/v1/changes", get(changes::changes)),
        ("/api/v1/changes.atom", get(changes::changes_atom)),
        ("/api/v1/history", get(history::history)),
        ("/api/v1/export/search", get(export::search)),
        ("/api/v1/export/changes", get(export::changes)),
        ("/api/v1/export/history", get(export::history)),
        ("/api/v1/trend", get(history::trend)),
        ("/api/v1/diff/{service}/{terms_type}", get(diff::diff)),
        ("/api/v1/stats", get(stats::stats)),
        ("/api/v1/health", get(health::health)),
        ("/api/v1/openapi.json", get(openapi::openapi)),
    ]
}

/// A list answer in the format asked for, with its media type.
pub(crate) fn listed<T: Listing>(answer: T, format: Format) -> Result<Response, ApiError> {
    if format == Format::Json {
        return Ok(Json(answer).into_response());
    }
    let mut body = Vec::new();
    palimpsest_export::write(&answer, format, &mut body)
        .map_err(|e| ApiError::internal("cannot write the answer", e))?;
    Ok(([(CONTENT_TYPE, format.content_type())], body).into_response())
}

/// The values of `format`, for the OpenAPI document (read by `params::ListParams`).
#[derive(Debug, utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum ListFormat {
    /// `application/json`: the answer with totals and facets.
    Json,
    /// `application/x-ndjson`: one item per line.
    Jsonl,
    /// `text/csv; charset=utf-8`: a header row, one row per item.
    Csv,
}

/// The values of `match`, for the OpenAPI document (read by `search::match_mode`).
#[derive(Debug, utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum MatchChoice {
    /// Most of the query's words.
    Most,
    /// Every word.
    All,
}

/// The values of `sort` on changes, for the OpenAPI document.
#[derive(Debug, utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum ChangeSort {
    /// Newest first.
    Newest,
    /// Oldest first.
    Oldest,
    /// Best match of `q` first.
    Relevance,
}

/// The values of `group` on changes, for the OpenAPI document.
#[derive(Debug, utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum ChangeGroup {
    /// One entry per changed section.
    Section,
    /// One entry per version.
    Version,
}

/// An instant parameter, for the OpenAPI document: an RFC 3339 instant, or a date meaning
/// 00:00 UTC (read by `search::instant`).
pub struct Instant;

impl utoipa::PartialSchema for Instant {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
        use utoipa::openapi::schema::{
            AnyOfBuilder, KnownFormat, ObjectBuilder, SchemaFormat, Type,
        };
        let string = |format| {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(format)))
        };
        let schema = AnyOfBuilder::new()
            .item(string(KnownFormat::DateTime))
            .item(string(KnownFormat::Date))
            .description(Some(
                "An RFC 3339 instant, a date (YYYY-MM-DD) meaning 00:00 UTC, or a month \
                 (YYYY-MM) or year (YYYY) meaning 00:00 UTC on its first day, from \
                 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z",
            ))
            .build();
        utoipa::openapi::Schema::AnyOf(schema).into()
    }
}

impl utoipa::ToSchema for Instant {}
