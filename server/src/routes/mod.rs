//! The endpoints, one module per URL path under `/api/v1`.

use axum::routing::{MethodRouter, get};

use crate::state::AppState;

pub mod health;
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
        ("/api/v1/stats", get(stats::stats)),
        ("/api/v1/health", get(health::health)),
        ("/api/v1/openapi.json", get(openapi::openapi)),
        // Later endpoints go here, one module each, and into `openapi::ApiDoc`:
        // changes, history, trend, diff/{service}/{terms_type}, changes.atom.
    ]
}
