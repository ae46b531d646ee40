//! The router: every route of the API and the page, with the layers that bound requests.

use axum::Router;
use axum::http::{Method, Uri};
use axum::middleware::{from_fn, from_fn_with_state};
use tower_http::cors::{Any, CorsLayer};

use crate::error::ApiError;
use crate::state::AppState;
use crate::{layers, routes, web};

/// The whole API as a router: every route of [`routes::routes`], the web page at `/`, JSON
/// errors for unknown paths and methods, the body limit, CORS when enabled, and one log line per request.
pub fn app(state: AppState) -> Router {
    let options = state.options().clone();
    let mut router = Router::new();
    for (path, route) in routes::routes().into_iter().chain(web::routes()) {
        router = router.route(path, route);
    }
    let mut router = router
        .fallback(|uri: Uri| async move { ApiError::no_route(uri.path()) })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .with_state(state)
        .layer(from_fn_with_state(
            layers::UnsentBudget::new(options.max_unsent_bytes),
            layers::limit_unsent,
        ))
        .layer(from_fn_with_state(
            options.max_body_bytes,
            layers::limit_body,
        ));
    if options.cors {
        router = router.layer(
            CorsLayer::new()
                .allow_origin(Any)
                .allow_methods([Method::GET, Method::HEAD])
                // What exports and change lists say in headers, readable by other origins.
                .expose_headers(
                    [
                        "x-total-count",
                        "x-hidden-first-records",
                        "x-hidden-deletions",
                        "x-hidden-technical-upgrades",
                        "x-hidden-minor",
                    ]
                    .map(axum::http::HeaderName::from_static),
                ),
        );
    }
    router.layer(from_fn(layers::log_request))
}
