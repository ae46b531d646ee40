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

mod app;
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

pub use app::app;
pub use error::{ApiError, Code, ErrorBody, ErrorDetail, Suggestions};
pub use options::{MAX_QUERY_DEPTH, ServerOptions, THREAD_STACK_BYTES};
pub use params::{FormatParam, ListParams, NoParams, Params, PathParams, QueryParams, from_query};
pub use render::feed_content;
pub use serve::{ServeConfig, serve, serve_on, shutdown_signal};
pub use source_url::{PLACEHOLDERS, SourceUrlTemplate, SourceUrls, VersionName};
pub use state::{AppState, Slot};

#[doc(no_inline)]
pub use palimpsest_search::Engine;
