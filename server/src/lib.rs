//! The HTTP API of Palimpsest: the operations of the `search` crate over JSON, under
//! `/api/v1`, with the same shapes as the CLI's `--json`.
//!
//! Handlers are thin: they read validated parameters, make one [`Engine`] call on a
//! blocking thread within a time budget and a concurrency cap ([`AppState::run`]), and
//! answer JSON; every error is `{"error": {"code", "message"}}` ([`ApiError`]). [`app`]
//! builds the router without a socket, for tests; [`serve`] runs it.
//!
//! ```no_run
//! use palimpsest_search::Engine;
//! use palimpsest_server::{ServeConfig, ServerOptions, serve};
//!
//! let engine = Engine::open(std::path::Path::new("palimpsest-index")).unwrap();
//! let config = ServeConfig {
//!     addr: "127.0.0.1:7700".parse().unwrap(),
//!     options: ServerOptions::default(),
//! };
//! serve(engine, config, |addr| println!("http://{addr}/api/v1/health")).unwrap();
//! ```
#![warn(missing_docs)]
#![deny(clippy::print_stdout, clippy::print_stderr)]

mod error;
mod export;
mod layers;
mod options;
mod params;
mod render;
pub mod routes;
mod serve;
mod source_url;
mod state;
mod web;

use axum::Router;
use axum::http::{Method, Uri};
use axum::middleware::{from_fn, from_fn_with_state};
use tower_http::cors::{Any, CorsLayer};

pub use error::{ApiError, Code, ErrorBody, ErrorDetail, Suggestions};
pub use options::{MAX_QUERY_DEPTH, ServerOptions};
pub use params::{FormatParam, ListParams, NoParams, Params, PathParams, QueryParams, from_query};
pub use render::feed_content;
pub use serve::{ServeConfig, THREAD_STACK_BYTES, serve, serve_on, shutdown_signal};
pub use source_url::{PLACEHOLDERS, SourceUrlTemplate, SourceUrls, VersionName};
pub use state::{AppState, Slot};

#[doc(no_inline)]
pub use palimpsest_search::Engine;

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
                .allow_methods([Method::GET, Method::HEAD]),
        );
    }
    router.layer(from_fn(layers::log_request))
}
