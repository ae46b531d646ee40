//! Serving the app on a socket: HTTP/1.1 with a header read timeout, graceful shutdown on
//! SIGINT and SIGTERM, and a runtime whose blocking threads have a known, large stack.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::http::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use palimpsest_search::Engine;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::time::Sleep;
use tower::ServiceExt as _;

use crate::options::{ServerOptions, THREAD_STACK_BYTES};
use crate::state::AppState;

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
    let mut options = config.options.validate().map_err(anyhow::Error::msg)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("palimpsest-server")
        .thread_stack_size(THREAD_STACK_BYTES)
        .max_blocking_threads(options.max_concurrency + 4)
        .build()
        .context("cannot start the async runtime")?;
    let served = runtime.block_on(async {
        let listener = TcpListener::bind(config.addr)
            .await
            .with_context(|| format!("cannot listen on {}", config.addr))?;
        let bound = listener
            .local_addr()
            .context("cannot read the bound address")?;
        options
            .public_url
            .get_or_insert_with(|| format!("http://{bound}"));
        on_ready(bound);
        let grace = options.shutdown_grace();
        let (header_timeout, write_timeout) = (options.header_timeout, options.write_timeout);
        // Checking the index's files starts now, before the first request, in a thread of its
        // own: a large index answers `index_verifying` for the seconds it takes rather than
        // keeping the socket closed.
        let app = crate::app::app(AppState::new(engine.verifying_in_background(), options));
        serve_on(
            listener,
            app,
            header_timeout,
            write_timeout,
            grace,
            shutdown_signal(),
        )
        .await;
        Ok(())
    });
    // Searches answered with 503 past their budget may still run on blocking threads: the
    // process does not wait for them (dropping the runtime would).
    runtime.shutdown_timeout(Duration::from_millis(100));
    served
}

/// How long, at shutdown, open connections are still served as usual: a request sent just
/// before the signal (on a new connection, or on an idle one) is answered, and connections
/// that never sent a whole request head are closed then instead of at their header timeout.
const LAST_CALL: Duration = Duration::from_secs(1);

/// Accepts connections on `listener` and serves `app` until `shutdown` completes, then
/// stops accepting and waits up to `grace` for open connections to finish.
///
/// Clients must send their headers within `header_timeout` (idle keep-alive connections
/// included), so stalled connections do not pile up; an answer that could not be written
/// for `write_timeout` (the client stopped reading) closes its connection. At shutdown, connections already
/// completed by the kernel are still accepted; for a second every connection is served as
/// usual, then requests in progress finish (their answer closes the connection),
/// idle connections close, and connections that never sent a whole request head are dropped.
pub async fn serve_on(
    listener: TcpListener,
    app: Router,
    header_timeout: Duration,
    write_timeout: Duration,
    grace: Duration,
    shutdown: impl Future<Output = ()>,
) {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    // Every connection holds a receiver: the sender sees them all gone once they have ended.
    let (stop, stopping) = watch::channel(false);
    let serve = |stream: TcpStream| {
        stream.set_nodelay(true).ok();
        // Counts the requests of the connection, for the shutdown below.
        let requests = Arc::new(watch::Sender::new(0_u64));
        let mut requested = requests.subscribe();
        let service = app.clone().map_request(move |request: Request<Incoming>| {
            requests.send_modify(|n| *n += 1);
            request
        });
        let io = WriteDeadline::new(TokioIo::new(stream), write_timeout);
        let connection = http.serve_connection(io, TowerToHyperService::new(service));
        let mut stopping = stopping.clone();
        tokio::spawn(async move {
            let mut connection = std::pin::pin!(connection);
            let ended = tokio::select! {
                ended = connection.as_mut() => ended,
                _ = stopping.changed() => {
                    // Told to shut down, hyper closes an idle connection at once, even when a
                    // request is arriving on it, and a new connection it has read nothing from
                    // yet; it keeps one with half a request head until its header timeout. So
                    // for a moment the connection is served as usual; then a request arriving
                    // or in progress is answered with `Connection: close`, an idle connection
                    // closes, and one that never sent a request is dropped.
                    requested.mark_unchanged();
                    let quiet = tokio::select! {
                        ended = connection.as_mut() => Some(ended),
                        _ = requested.changed() => None,
                        () = tokio::time::sleep(LAST_CALL) => {
                            if *requested.borrow() == 0 {
                                tracing::debug!("closing a connection that sent no request");
                                return;
                            }
                            None
                        }
                    };
                    match quiet {
                        Some(ended) => ended,
                        None => {
                            connection.as_mut().graceful_shutdown();
                            connection.await
                        }
                    }
                }
            };
            if let Err(error) = ended {
                tracing::debug!("connection ended: {error}");
            }
        });
    };
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
        serve(stream);
    }
    // Closing the listener resets the connections still in its backlog: accept them first.
    // The std listener is non-blocking, so this takes what the kernel holds and no more.
    if let Ok(listener) = listener.into_std() {
        while let Ok((stream, _peer)) = listener.accept() {
            match stream
                .set_nonblocking(true)
                .and_then(|()| TcpStream::from_std(stream))
            {
                Ok(stream) => serve(stream),
                Err(error) => tracing::warn!("cannot serve a connection: {error}"),
            }
        }
    }
    drop(stopping);
    tracing::info!("shutting down: waiting for open requests");
    stop.send_replace(true);
    if tokio::time::timeout(grace, stop.closed()).await.is_err() {
        tracing::warn!("connections still open after {grace:?}; closing them");
    }
    tracing::debug!("connections closed");
}

/// A connection's socket whose writes fail once output has waited `limit` to be written:
/// the clock starts when the socket first accepts no more and stops when everything pending
/// was written, so a client that stops reading cannot keep its answer in memory.
struct WriteDeadline<T> {
    io: T,
    limit: Duration,
    stalled: Option<Pin<Box<Sleep>>>,
}

impl<T> WriteDeadline<T> {
    fn new(io: T, limit: Duration) -> WriteDeadline<T> {
        WriteDeadline {
            io,
            limit,
            stalled: None,
        }
    }

    /// Pending while the time limit runs, then an error that ends the connection.
    fn wait<R>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<R>> {
        let limit = self.limit;
        let sleep = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        match sleep.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("the client read nothing for {limit:?}"),
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: hyper::rt::Read + Unpin> hyper::rt::Read for WriteDeadline<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl<T: hyper::rt::Write + Unpin> hyper::rt::Write for WriteDeadline<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.io).poll_write(cx, buf) {
            Poll::Pending => this.wait(cx),
            ready => ready,
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.io).poll_write_vectored(cx, bufs) {
            Poll::Pending => this.wait(cx),
            ready => ready,
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.io).poll_flush(cx) {
            Poll::Pending => this.wait(cx),
            Poll::Ready(Ok(())) => {
                // Hyper flushes once its buffer is written: nothing waits any more.
                this.stalled = None;
                Poll::Ready(Ok(()))
            }
            error => error,
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
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
