//! The HTTP benchmark's query mix run in-process, to show what HTTP adds: `engine` calls
//! `Engine::search` from N threads; `router` sends the same requests through `app(state)`
//! with `oneshot` from N tasks (routing, parameters, admission, blocking threads, JSON;
//! no sockets).
//!
//! ```text
//! cargo run --release -p palimpsest-server --example bench_inprocess -- \
//!     INDEX_DIR QUERIES_FILE [SECONDS] [CONCURRENCY...]
//! ```
//! QUERIES_FILE holds one request target per line (`/api/v1/search?q=...`), the file the
//! HTTP load generator cycles through.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use palimpsest_search::{Engine, SearchRequest};
use palimpsest_server::routes::search::SearchParams;
use palimpsest_server::{AppState, ServerOptions, app, from_query};
use tower::ServiceExt as _;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [index, queries, rest @ ..] = args.as_slice() else {
        anyhow::bail!("usage: bench_inprocess INDEX_DIR QUERIES_FILE [SECONDS] [CONCURRENCY...]");
    };
    let seconds: f64 = rest.first().map_or(Ok(10.0), |s| s.parse())?;
    let levels: Vec<usize> = if rest.len() > 1 {
        rest[1..]
            .iter()
            .map(|s| s.parse())
            .collect::<Result<_, _>>()?
    } else {
        vec![1, 8, 32]
    };
    let targets: Vec<String> = std::fs::read_to_string(queries)?
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect();
    let requests: Vec<SearchRequest> = targets
        .iter()
        .map(|target| {
            let query = target.split_once('?').map_or("", |(_, q)| q);
            let params = from_query::<SearchParams>(query)
                .and_then(SearchRequest::try_from)
                .map_err(|e| anyhow::anyhow!("{target}: {e}"))?;
            Ok(params)
        })
        .collect::<anyhow::Result<_>>()?;
    let engine = Arc::new(Engine::open(std::path::Path::new(index))?);
    let duration = Duration::from_secs_f64(seconds);

    // Warm the caches once, as the HTTP run does.
    for request in &requests {
        engine.search(request)?;
    }
    for &c in &levels {
        let requests = Arc::new(requests.clone());
        let result = run_threads(c, duration, {
            let engine = engine.clone();
            move |i| engine.search(&requests[i % requests.len()]).is_ok()
        });
        result.print("engine", c);
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(palimpsest_server::THREAD_STACK_BYTES)
        .build()?;
    let router = app(AppState::new(
        Engine::open(std::path::Path::new(index))?,
        ServerOptions::default(),
    ));
    for &c in &levels {
        let result = runtime.block_on(run_tasks(c, duration, router.clone(), targets.clone()));
        result.print("router", c);
    }
    Ok(())
}

struct Outcome {
    latencies: Vec<Duration>,
    errors: usize,
    elapsed: Duration,
}

impl Outcome {
    fn merge(parts: Vec<(Vec<Duration>, usize)>, elapsed: Duration) -> Outcome {
        let mut latencies = Vec::new();
        let mut errors = 0;
        for (l, e) in parts {
            latencies.extend(l);
            errors += e;
        }
        latencies.sort();
        Outcome {
            latencies,
            errors,
            elapsed,
        }
    }

    fn print(&self, mode: &str, c: usize) {
        let n = self.latencies.len();
        let at = |p: f64| {
            self.latencies
                .get(((n as f64 * p) as usize).min(n.saturating_sub(1)))
                .map_or(0.0, |d| d.as_secs_f64() * 1e3)
        };
        println!(
            "mode={mode} c={c} requests={n} req_per_s={:.0} p50_ms={:.2} p99_ms={:.2} errors={}",
            n as f64 / self.elapsed.as_secs_f64(),
            at(0.50),
            at(0.99),
            self.errors
        );
    }
}

fn run_threads(
    c: usize,
    duration: Duration,
    work: impl Fn(usize) -> bool + Send + Sync + Clone + 'static,
) -> Outcome {
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let threads: Vec<_> = (0..c)
        .map(|t| {
            let (stop, work) = (stop.clone(), work.clone());
            std::thread::spawn(move || {
                let (mut latencies, mut errors, mut i) = (Vec::new(), 0, t);
                while !stop.load(Ordering::Relaxed) {
                    let begin = Instant::now();
                    if !work(i) {
                        errors += 1;
                    }
                    latencies.push(begin.elapsed());
                    i += c;
                }
                (latencies, errors)
            })
        })
        .collect();
    std::thread::sleep(duration);
    stop.store(true, Ordering::Relaxed);
    let parts = threads.into_iter().map(|t| t.join().unwrap()).collect();
    Outcome::merge(parts, start.elapsed())
}

async fn run_tasks(
    c: usize,
    duration: Duration,
    router: axum::Router,
    targets: Vec<String>,
) -> Outcome {
    let targets = Arc::new(targets);
    let start = Instant::now();
    let tasks: Vec<_> = (0..c)
        .map(|t| {
            let (router, targets) = (router.clone(), targets.clone());
            tokio::spawn(async move {
                let (mut latencies, mut errors, mut i) = (Vec::new(), 0, t);
                while start.elapsed() < duration {
                    let begin = Instant::now();
                    let request = Request::get(targets[i % targets.len()].as_str())
                        .body(Body::empty())
                        .expect("valid target");
                    let ok = match router.clone().oneshot(request).await {
                        Ok(response) => {
                            let status = response.status();
                            axum::body::to_bytes(response.into_body(), usize::MAX)
                                .await
                                .is_ok()
                                && status.is_success()
                        }
                        Err(never) => match never {},
                    };
                    if !ok {
                        errors += 1;
                    }
                    latencies.push(begin.elapsed());
                    i += c;
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut parts = Vec::new();
    for task in tasks {
        parts.push(task.await.expect("benchmark task"));
    }
    Outcome::merge(parts, start.elapsed())
}
