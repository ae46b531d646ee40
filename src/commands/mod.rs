//! One file per command; each `run` converts its arguments and makes one library call.

pub mod index;
pub mod search;
pub mod serve;
pub mod services;
pub mod show;
pub mod stats;
pub mod versions;

use anyhow::Context as _;
use palimpsest_schema::Timestamp;
use palimpsest_search::Engine;

use crate::Context;

/// Parses a date argument: RFC 3339 or `YYYY-MM-DD`.
pub fn parse_time(value: &str) -> Result<Timestamp, String> {
    Timestamp::parse(value).map_err(|e| e.to_string())
}

/// Opens the index for reading; the default index is built from the sample on first use.
pub fn open_engine(context: &Context) -> anyhow::Result<Engine> {
    if context.default_index && !context.index.join("meta.json").exists() {
        if context.progress {
            eprintln!(
                "no index at ./{}: indexing the built-in sample archive first (use --index or \
                 PALIMPSEST_INDEX to choose another)",
                context.index.display()
            );
        }
        index::index_paths(
            context,
            &[palimpsest_corpus::sample_path()],
            &index::IndexSettings::sample(),
        )
        .context("cannot index the built-in sample archive")?;
    }
    Engine::open(&context.index)
        .with_context(|| format!("cannot open index {}", context.index.display()))
}
