//! Serving the app on a socket: HTTP/1.1 with a header read timeout, graceful shutdown on
//! SIGINT and SIGTERM, and a runtime whose blocking threads have a known, large stack.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use palimpsest_search::Engine;
use tokio::net::TcpListener;

use crate::options::ServerOptions;
use crate::state::AppState;

/// Stack of the runtime's threads, blocking ones (where searches run) included: query
/// parsing recurses, and the 2 MiB default is too little for what limits let through if
/// they are raised.
pub const THREAD_STACK_BYTES: usize = 16 << 20;

/// Where and how to serve.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Address to listen on; port 0 picks a free one.
    pub addr: SocketAddr,
    /// Limits and switches.
    pub options: ServerOptions,
}

/// Serves `engine` until SIGINT or SIGTERM, on a runtime of its own; `on_ready` gets the
/// bound address once the server accepts connections.
pub fn serve(
    engine: Engine,
    config: ServeConfig,
    on_ready: impl FnOnce(SocketAddr),
) -> anyhow::Result<()> {
    let options = config.options.validate().map_err(anyhow::Error::msg)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("palimpsest-server")
        .thread_stack_size(THREAD_STACK_BYTES)
        .max_blocking_threads(options.max_concurrency + 4)
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let listener = TcpListener::bind(config.addr)
            .await
            .with_context(|| format!("cannot listen on {}", config.addr))?;
        on_ready(
            listener
                .local_addr()
                .context("cannot read the bound address")?,
        );
        let grace = options.shutdown_grace();
        let header_timeout = options.header_timeout;
        let app = crate::app(AppState::new(engine, options));
        serve_on(listener, app, header_timeout, grace, shutdown_signal()).await;
        Ok(())
    })
}

/// Accepts connections on `listener` and serves `app` until `shutdown` completes, then
/// stops accepting and waits up to `grace` for open connections to finish.
///
/// Clients must send their headers within `header_timeout` (idle keep-alive connections
/// included), so stalled connections neither pile up nor hold shutdown back.
pub async fn serve_on(
    listener: TcpListener,
    app: Router,
    header_timeout: Duration,
    grace: Duration,
    shutdown: impl Future<Output = ()>,
) {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, _peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(connection) => connection,
                Err(error) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!("cannot accept a connection: {error}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        stream.set_nodelay(true).ok();
        let service = TowerToHyperService::new(app.clone());
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!("connection ended: {error}");
            }
        });
    }
    drop(listener);
    tracing::info!("shutting down: waiting for open requests");
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after {grace:?}; closing them");
    }
    tracing::debug!("connections closed");
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}
