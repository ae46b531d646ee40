//! `palimpsest serve`: the HTTP API over the index.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context as _;
use palimpsest_search::Limits;
use palimpsest_server::{ServeConfig, ServerOptions, SourceUrlTemplate, SourceUrls};
use tracing_subscriber::filter::{LevelFilter, Targets};

use crate::Context;

/// Serve the index over HTTP: JSON under /api/v1 with the shapes of --json.
///
/// Prints the address of the web page (http://127.0.0.1:7700/ by default) first. Endpoints,
/// under /api/v1: search, services, versions/{service}/{terms_type},
/// version/{service}/{terms_type}/{date}, changes, changes.atom, history, trend,
/// diff/{service}/{terms_type}, stats, health, openapi.json. Without an index, the
/// built-in sample archive is indexed first. Another process may run `palimpsest
/// index` on the same folder meanwhile: its commits are served within about a second.
/// Stops on Ctrl-C or SIGTERM after open requests finish.
///
/// Examples:
///   palimpsest serve
///   palimpsest --index idx serve --addr 0.0.0.0:8080 --cors
///   curl 'http://127.0.0.1:7700/api/v1/search?q=arbitration&as_of=2023-01-01'
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:7700")]
    addr: SocketAddr,
    /// Time one request may take, waiting included (e.g. 10s, 500ms); past it the answer is 503.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    time_budget: Duration,
    /// Requests reading the index at once [default: twice the cores].
    #[arg(long, value_name = "N")]
    max_concurrency: Option<usize>,
    /// Requests waiting for a slot; more are refused with 503 at once.
    #[arg(long, value_name = "N", default_value_t = 256)]
    max_queue: usize,
    /// Largest request body, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 64 << 10)]
    max_body: usize,
    /// Time a client has to send its request headers; slower connections are closed.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    header_timeout: Duration,
    /// Time an answer may wait to be written once its client stops reading; the connection
    /// is closed then.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    write_timeout: Duration,
    /// Bytes of large answers (64 KiB and more) waiting for their clients, in all; beyond it
    /// requests are refused with 503 at once.
    #[arg(long, value_name = "BYTES", default_value_t = ServerOptions::default().max_unsent_bytes)]
    max_unsent: usize,
    /// Exports (`/api/v1/export/…`, every result of a list) streaming at once; beyond them an
    /// export is refused with 503 at once; 0 turns exports off. Each holds a thread while
    /// its client reads.
    #[arg(long, value_name = "N", default_value_t = ServerOptions::default().max_exports)]
    max_exports: usize,
    /// Largest page (`limit`).
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_limit)]
    max_limit: usize,
    /// Deepest result reachable: `offset + limit` at most this.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_window)]
    max_window: usize,
    /// Longest query, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().max_query_bytes)]
    max_query_bytes: usize,
    /// Most terms in a query (at most 1,000: each prefix operator is a level of recursion).
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_terms)]
    max_terms: usize,
    /// Most indexed words the wildcards of a query (`privac*`) may stand for, in all.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_expansions)]
    max_expansions: usize,
    /// Deepest nesting of parentheses in a query (at most 1,000, what the threads' 16 MiB
    /// stacks hold with a safety factor of 4; a higher value is refused at start).
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_nesting)]
    max_nesting: usize,
    /// Answer cross-origin requests from any origin (CORS).
    #[arg(long)]
    cors: bool,
    /// Base URL of the links in the Atom feed, e.g. https://example.org/palimpsest
    /// [default: http:// and the address listened on]. The Host header is never used.
    #[arg(long, value_name = "URL")]
    public_url: Option<String>,
    /// Take the scheme and host of links from X-Forwarded-Proto and X-Forwarded-Host: only
    /// behind a proxy that sets them.
    #[arg(long)]
    trust_forwarded: bool,
    /// The address of a version online, for the page's and the version JSON's `source_url`:
    /// URL, or COLLECTION=URL for one collection (repeatable), with the placeholders
    /// %VERSION (the version id: commit id or file path), %SERVICE, %TERMS_TYPE and
    /// %COLLECTION, percent-encoded, e.g.
    /// pga=https://github.com/OpenTermsArchive/pga-versions/blob/%VERSION/%SERVICE/%TERMS_TYPE.md
    #[arg(long, value_name = "[COLLECTION=]URL", value_parser = SourceUrlTemplate::parse)]
    source_url_template: Vec<SourceUrlTemplate>,
    /// Log level (error, warn, info, debug, trace) or per-target filter
    /// (`palimpsest_server=debug`); default: RUST_LOG, else info.
    #[arg(long, value_name = "FILTER")]
    log_level: Option<String>,
}

/// Parses `10s`, `500ms` or a number of seconds.
fn parse_duration(value: &str) -> Result<Duration, String> {
    let value = value.trim();
    let (number, scale) = if let Some(ms) = value.strip_suffix("ms") {
        (ms, 1e-3)
    } else if let Some(s) = value.strip_suffix('s') {
        (s, 1.0)
    } else {
        (value, 1.0)
    };
    number
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite() && *n >= 0.0 && *n * scale < 1e9)
        .map(|n| Duration::from_secs_f64(n * scale))
        .ok_or_else(|| format!("`{value}` is not a duration such as 10s or 500ms"))
}

/// The templates given, plus for each git collection without one the `versionUrlTemplate`
/// of its Open Terms Archive remote (`origin` on github.com/OpenTermsArchive/…-versions).
fn source_url_templates(
    given: &[SourceUrlTemplate],
    archives: &[(String, std::path::PathBuf)],
) -> Vec<SourceUrlTemplate> {
    let mut templates = given.to_vec();
    if given.iter().any(|t| t.collection.is_none()) {
        return templates;
    }
    for (collection, path) in archives {
        let covered = given
            .iter()
            .any(|t| t.collection.as_ref() == Some(collection));
        if covered {
            continue;
        }
        if let Some(template) = palimpsest_corpus::version_url_template(path) {
            templates.push(SourceUrlTemplate {
                collection: Some(collection.clone()),
                template,
            });
        }
    }
    templates
}

impl Args {
    fn options(&self, archives: &[(String, std::path::PathBuf)]) -> anyhow::Result<ServerOptions> {
        let defaults = ServerOptions::default();
        let templates = source_url_templates(&self.source_url_template, archives);
        let source_urls = SourceUrls::new(templates).map_err(anyhow::Error::msg)?;
        Ok(ServerOptions {
            limits: Limits {
                max_query_bytes: self.max_query_bytes,
                max_nesting: self.max_nesting,
                max_terms: self.max_terms,
                max_expansions: self.max_expansions,
                max_limit: self.max_limit,
                max_window: self.max_window,
                max_answer_bytes: self.max_unsent,
            },
            time_budget: self.time_budget,
            max_concurrency: self.max_concurrency.unwrap_or(defaults.max_concurrency),
            max_queue: self.max_queue,
            max_body_bytes: self.max_body,
            header_timeout: self.header_timeout,
            write_timeout: self.write_timeout,
            max_unsent_bytes: self.max_unsent,
            max_exports: self.max_exports,
            cors: self.cors,
            public_url: self.public_url.clone(),
            trust_forwarded: self.trust_forwarded,
            source_urls,
        })
    }
}

fn init_logging(filter: Option<&str>) -> anyhow::Result<()> {
    let from_env = std::env::var("RUST_LOG")
        .ok()
        .filter(|v| !v.trim().is_empty());
    let targets = match filter.or(from_env.as_deref()) {
        Some(text) => {
            Targets::from_str(text).with_context(|| format!("invalid log level `{text}`"))?
        }
        None => Targets::new().with_default(LevelFilter::INFO),
    };
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(std::io::stderr().is_terminal()),
        )
        .with(targets)
        .try_init()
        .context("cannot set up logging")
}

pub fn run(context: &Context, args: Args) -> anyhow::Result<()> {
    init_logging(args.log_level.as_deref())?;
    // Two templates for one collection stop the start before the index is opened.
    SourceUrls::new(args.source_url_template.clone()).map_err(anyhow::Error::msg)?;
    let engine = super::open_index(context)?;
    let options = args.options(&engine.git_archives()?)?;
    let index = context.index.display().to_string();
    let sample = context.default_index && super::holds_only_sample(&engine);
    let addr = args.addr;
    palimpsest_server::serve(
        engine,
        ServeConfig {
            addr: args.addr,
            options,
        },
        |addr| {
            // The page first: the address people open (and scripts read from this line).
            outln!("http://{addr}/ (the web page; Ctrl-C stops the server)");
            let what = if sample {
                " (the built-in fictional sample archive)"
            } else {
                ""
            };
            outln!(
                "  serving {index}{what}; the JSON API is under http://{addr}/api/v1/ (/api/v1/openapi.json lists its endpoints)"
            );
        },
    )
    .map_err(|error| address_in_use(error, addr))
}

/// A failure to listen because the address is taken says what to do about it.
fn address_in_use(error: anyhow::Error, addr: SocketAddr) -> anyhow::Error {
    let in_use = error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::AddrInUse)
    });
    if !in_use {
        return error;
    }
    let host = match addr {
        SocketAddr::V4(v4) => v4.ip().to_string(),
        SocketAddr::V6(v6) => format!("[{}]", v6.ip()),
    };
    anyhow::anyhow!(
        "cannot listen on {addr}: the address is in use (another server runs there?); choose \
         another address with --addr {host}:PORT"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("1e300").is_err());
    }
}

#[cfg(test)]
mod source_url_tests {
    use super::*;

    fn git(dir: &std::path::Path, args: &[&str]) {
        let status = std::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .status()
            .unwrap();
        assert!(status.success(), "git {args:?}");
    }

    #[test]
    fn an_open_terms_archive_remote_gives_its_collection_a_template_unless_one_is_given() {
        let dir = tempfile::tempdir().unwrap();
        git(dir.path(), &["init", "-q"]);
        let remote = "https://github.com/OpenTermsArchive/demo-versions.git";
        git(dir.path(), &["remote", "add", "origin", remote]);
        let archives = vec![("demo".to_owned(), dir.path().to_owned())];
        let derived = source_url_templates(&[], &archives);
        assert_eq!(derived.len(), 1);
        assert_eq!(derived[0].collection.as_deref(), Some("demo"));
        assert_eq!(
            derived[0].template,
            "https://github.com/OpenTermsArchive/demo-versions/blob/%VERSION/%SERVICE/%TERMS_TYPE.md"
        );
        let given = SourceUrlTemplate::parse("demo=https://example.org/%VERSION").unwrap();
        let kept = source_url_templates(std::slice::from_ref(&given), &archives);
        assert_eq!(kept, vec![given]);
        let elsewhere = tempfile::tempdir().unwrap();
        git(elsewhere.path(), &["init", "-q"]);
        let none = source_url_templates(&[], &[("x".to_owned(), elsewhere.path().to_owned())]);
        assert!(none.is_empty());
    }
}
