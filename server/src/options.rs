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
    /// Whether to answer cross-origin requests from any origin.
    pub cors: bool,
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
            cors: false,
        }
    }
}

impl ServerOptions {
    /// Checks that the options can serve anything at all.
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
        if self.header_timeout.is_zero() {
            return Err("the header read timeout must be above zero".into());
        }
        Ok(self)
    }

    /// How long shutdown waits for open connections: in-flight requests are answered within
    /// the time budget, and connections yet to send a request head are closed after a second
    /// whatever the header timeout.
    pub fn shutdown_grace(&self) -> Duration {
        self.time_budget + Duration::from_secs(2)
    }
}
