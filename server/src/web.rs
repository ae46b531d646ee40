//! The web page at `/`: one HTML page, one script and one style sheet, compiled into the
//! binary. The page uses only the JSON endpoints of the API; it loads nothing from another
//! origin, which its Content-Security-Policy enforces.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};

use crate::state::AppState;

/// A file of the page.
struct Asset {
    content_type: &'static str,
    body: &'static str,
}

const PAGE: Asset = Asset {
    content_type: "text/html; charset=utf-8",
    body: include_str!("../web/index.html"),
};
const SCRIPT: Asset = Asset {
    content_type: "text/javascript; charset=utf-8",
    body: include_str!("../web/app.js"),
};
const STYLE: Asset = Asset {
    content_type: "text/css; charset=utf-8",
    body: include_str!("../web/app.css"),
};
const ICON: Asset = Asset {
    content_type: "image/svg+xml",
    body: include_str!("../web/icon.svg"),
};

/// Nothing from another origin, no inline script or style, no framing.
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

/// The routes of the page.
pub fn routes() -> Vec<(&'static str, MethodRouter<AppState>)> {
    vec![
        (
            "/",
            get(|headers: HeaderMap| async move { PAGE.answer(&headers) }),
        ),
        (
            "/assets/app.js",
            get(|headers: HeaderMap| async move { SCRIPT.answer(&headers) }),
        ),
        (
            "/assets/app.css",
            get(|headers: HeaderMap| async move { STYLE.answer(&headers) }),
        ),
        (
            "/assets/icon.svg",
            get(|headers: HeaderMap| async move { ICON.answer(&headers) }),
        ),
    ]
}

impl Asset {
    /// The file, or 304 when the client holds this build's copy. Clients revalidate each
    /// time (`no-cache`), so a new binary's page is never mixed with an old script.
    fn answer(&self, headers: &HeaderMap) -> Response {
        let etag = format!(
            "\"{:016x}\"",
            xxhash_rust::xxh3::xxh3_64(self.body.as_bytes())
        );
        let fresh = headers
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|tag| tag.trim() == etag));
        let common = [
            (header::ETAG, etag),
            (header::CACHE_CONTROL, "no-cache".to_owned()),
            (header::CONTENT_SECURITY_POLICY, POLICY.to_owned()),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
            (header::REFERRER_POLICY, "same-origin".to_owned()),
        ];
        if fresh {
            return (StatusCode::NOT_MODIFIED, common).into_response();
        }
        let mut response = (common, self.body).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(self.content_type),
        );
        response
    }
}
