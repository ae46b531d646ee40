//! [`ServerOptions`]: limits and switches of the HTTP server, validated once.

use std::time::Duration;

use palimpsest_search::Limits;

/// What the server allows, with the defaults of the reliability requirements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerOptions {
    /// Limits on search requests (query size and shape, page size, result window).
    pub limits: Limits,
    /// How long one request may take, waiting for a slot included; past it the answer is 503.
    pub time_budget: Duration,
    /// Requests that may read the index at once (about twice the cores by default).
    pub max_concurrency: usize,
    /// Requests that may wait for a slot; beyond them requests are shed with 503 at once.
    pub max_queue: usize,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// How long a client may take to send the request line and headers.
    pub header_timeout: Duration,
    /// How long an answer may wait to be written once the client stops reading: past it the
    /// connection is closed and the answer dropped.
    pub write_timeout: Duration,
    /// Bytes of large answers (64 KiB and more) built and not yet written, in all; beyond it
    /// requests are answered 503 at once. Bounds the memory of clients that do not read.
    pub max_unsent_bytes: usize,
    /// Exports (`/api/v1/export/…`) that may stream at once; beyond them an export is
    /// answered 503 at once. Each holds a thread while its client reads.
    pub max_exports: usize,
    /// Whether to answer cross-origin requests from any origin.
    pub cors: bool,
    /// Base URL of the links the server writes (the Atom feed's): scheme, host and an optional
    /// path, such as `https://example.org/palimpsest`. `None`: `http://` and the address
    /// listened on ([`crate::serve`]), or `http://localhost` for [`crate::app`] alone. The
    /// request's `Host` header is never used: any client could point the links elsewhere.
    pub public_url: Option<String>,
    /// Take the scheme and host of links from `X-Forwarded-Proto` and `X-Forwarded-Host`,
    /// for a server behind a proxy that sets them (and strips them from clients).
    pub trust_forwarded: bool,
    /// Templates of the address of a version online (`source_url` in the version JSON).
    pub source_urls: crate::SourceUrls,
}

impl Default for ServerOptions {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        ServerOptions {
            limits: Limits::default(),
            time_budget: Duration::from_secs(10),
            max_concurrency: 2 * cores,
            max_queue: 256,
            max_body_bytes: 64 << 10,
            header_timeout: Duration::from_secs(10),
            write_timeout: Duration::from_secs(30),
            max_unsent_bytes: 128 << 20,
            max_exports: 2,
            cors: false,
            public_url: None,
            trust_forwarded: false,
            source_urls: crate::SourceUrls::default(),
        }
    }
}

/// Stack of the runtime's threads, blocking ones (where searches run) included: query
/// parsing recurses, and the 2 MiB default is too little for what limits let through if
/// they are raised.
pub const THREAD_STACK_BYTES: usize = 16 << 20;

/// Highest `--max-nesting` and `--max-terms` the server accepts. Parsing and building a
/// query recurse once per level of parentheses and once per prefix operator (`NOT`, `-`,
/// `+`), so these bound the depth of the recursion: on the server's 16 MiB stacks
/// ([`THREAD_STACK_BYTES`]) a debug build overflowed at about 4,000 nested `NOT`s or
/// `-(` and 17,000 plain parentheses, so 1,000 keeps a safety factor of 4
/// (`scripts/nesting_depth.py` measures it).
pub const MAX_QUERY_DEPTH: usize = 1_000;

impl ServerOptions {
    /// Checks that the options can serve anything at all, and that the query limits stay
    /// within what the threads' stacks hold.
    pub fn validate(self) -> Result<ServerOptions, String> {
        if self.max_concurrency == 0 {
            return Err("the concurrency limit must be at least 1".into());
        }
        if self.limits.max_limit == 0 || self.limits.max_window < self.limits.max_limit {
            return Err(format!(
                "the page size limit ({}) must be at least 1 and at most the result window ({})",
                self.limits.max_limit, self.limits.max_window
            ));
        }
        for (flag, value) in [
            ("--max-nesting", self.limits.max_nesting),
            ("--max-terms", self.limits.max_terms),
        ] {
            if value > MAX_QUERY_DEPTH {
                return Err(format!(
                    "{flag} {value} is more than the server's stacks hold safely: at most \
                     {MAX_QUERY_DEPTH} (queries nested deeper could overflow a thread's \
                     {} MiB stack and abort the server)",
                    THREAD_STACK_BYTES >> 20
                ));
            }
        }
        if self.header_timeout.is_zero() || self.write_timeout.is_zero() {
            return Err("the header read and write timeouts must be above zero".into());
        }
        let public_url = self.public_url.as_deref().map(public_url).transpose()?;
        Ok(ServerOptions { public_url, ..self })
    }

    /// The base URL of links: the public URL, else `http://localhost`.
    pub fn base_url(&self) -> &str {
        self.public_url.as_deref().unwrap_or("http://localhost")
    }

    /// How long shutdown waits for open connections: in-flight requests are answered within
    /// the time budget, and connections yet to send a request head are closed after a second
    /// whatever the header timeout.
    pub fn shutdown_grace(&self) -> Duration {
        self.time_budget + Duration::from_secs(2)
    }
}

/// Checks a public base URL (`http` or `https`, a host, a path at most; no query, fragment,
/// space or non-ASCII character) and drops its trailing slashes.
fn public_url(url: &str) -> Result<String, String> {
    let invalid = |why: &str| Err(format!("invalid public URL `{url}`: {why}"));
    let Some((scheme, rest)) = url.split_once("://") else {
        return invalid("it must start with http:// or https://");
    };
    if scheme != "http" && scheme != "https" {
        return invalid("it must start with http:// or https://");
    }
    if !url.chars().all(|c| c.is_ascii_graphic()) || url.contains(['?', '#', '\\']) {
        return invalid("it may hold only a scheme, a host and a path, in ASCII without spaces");
    }
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty() || host.contains('@') {
        return invalid("it must name a host (without user information)");
    }
    Ok(url.trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_urls_are_checked_and_trimmed() {
        assert_eq!(
            public_url("https://example.org/p/").unwrap(),
            "https://example.org/p"
        );
        assert_eq!(
            public_url("http://127.0.0.1:7700").unwrap(),
            "http://127.0.0.1:7700"
        );
        for bad in [
            "example.org",
            "ftp://example.org",
            "https://",
            "https://a b",
            "https://example.org/?q=1",
            "https://user@evil.example",
            "https://exämple.org",
        ] {
            assert!(public_url(bad).is_err(), "{bad}");
        }
    }
}
