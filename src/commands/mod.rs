//! One file per command; each `run` converts its arguments and makes one library call.

pub mod changes;
pub mod diff;
pub mod history;
pub mod index;
pub mod search;
pub mod serve;
pub mod services;
pub mod show;
pub mod stats;
pub mod trend;
pub mod versions;

use anyhow::Context as _;
use palimpsest_schema::Timestamp;
use palimpsest_search::{Engine, Filters};

use crate::Context;

/// Parses a date argument: RFC 3339, `YYYY-MM-DD`, or a month `YYYY-MM` or year `YYYY`
/// meaning its first day.
pub fn parse_time(value: &str) -> Result<Timestamp, String> {
    Timestamp::parse(value).map_err(|e| e.to_string())
}

/// How many of a query's words a section must hold (`--match`).
#[derive(Debug, Clone, Copy, Default, clap::ValueEnum)]
pub enum MatchArg {
    /// Most of them: all of one or two words, half of up to eight, a quarter of longer
    /// queries (stop words never count); sections holding every word rank first.
    #[default]
    Most,
    /// Every word, stop words included (a strict Boolean AND).
    All,
}

impl From<MatchArg> for palimpsest_search::MatchMode {
    fn from(arg: MatchArg) -> Self {
        match arg {
            MatchArg::Most => palimpsest_search::MatchMode::Most,
            MatchArg::All => palimpsest_search::MatchMode::All,
        }
    }
}

/// The filters every search-like command takes.
#[derive(Debug, Clone, clap::Args)]
pub struct FilterArgs {
    /// Only this service (repeatable).
    #[arg(long = "service", value_name = "NAME")]
    services: Vec<String>,
    /// Only this terms type, e.g. "Privacy Policy" (repeatable).
    #[arg(long = "terms-type", value_name = "TYPE")]
    terms_types: Vec<String>,
    /// Only this collection (repeatable).
    #[arg(long = "collection", value_name = "NAME")]
    collections: Vec<String>,
    /// Only sections under this heading path, levels separated by " > "; case-insensitive,
    /// the last level may be the start of a heading: --section "Your data > Shar".
    #[arg(long, value_name = "PREFIX")]
    section: Option<String>,
}

impl From<FilterArgs> for Filters {
    fn from(args: FilterArgs) -> Filters {
        Filters {
            services: args.services,
            terms_types: args.terms_types,
            collections: args.collections,
            section: args
                .section
                .map(|s| s.split('>').map(|l| l.trim().to_owned()).collect())
                .unwrap_or_default(),
        }
    }
}

/// Whether the index holds only the collection the built-in sample is indexed as.
pub fn holds_only_sample(engine: &Engine) -> bool {
    engine.services().is_ok_and(|answer| {
        let mut documents = answer.services.iter().flat_map(|s| &s.documents).peekable();
        documents.peek().is_some()
            && documents.all(|d| d.collection == palimpsest_ingest::SAMPLE_COLLECTION)
    })
}

/// Whether the index holds documents of the collection the built-in sample is indexed as.
pub fn holds_sample(engine: &Engine) -> bool {
    engine.services().is_ok_and(|answer| {
        answer
            .services
            .iter()
            .flat_map(|s| &s.documents)
            .any(|d| d.collection == palimpsest_ingest::SAMPLE_COLLECTION)
    })
}

/// The index folder as messages name it: `./palimpsest-index` for the default one.
pub fn index_shown(context: &Context) -> String {
    let path = context.index.display().to_string();
    let path = if context.default_index && context.index.is_relative() {
        format!("./{path}")
    } else {
        path
    };
    palimpsest_schema::printable(&path).into_owned()
}

/// Opens the index for answers, saying once on stderr (unless `--quiet`) when they come
/// from the built-in fictional sample: the default index holding nothing else.
pub fn open_engine(context: &Context) -> anyhow::Result<Engine> {
    let engine = open_index(context)?;
    if context.default_index && holds_only_sample(&engine) {
        context.answers_from_sample.set(true);
        if !context.quiet {
            eprintln!(
                "note: answering from the built-in fictional sample in {} (made-up services, \
                 not a real archive); choose an index with --index DIR or PALIMPSEST_INDEX",
                index_shown(context)
            );
        }
    }
    Ok(engine)
}

/// Opens the index for reading; the default index is built from the sample on first use.
pub fn open_index(context: &Context) -> anyhow::Result<Engine> {
    if context.default_index {
        let outdated = matches!(
            Engine::open(&context.index),
            Err(palimpsest_search::SearchError::OtherSchema { .. })
        );
        if outdated || !context.index.join("meta.json").exists() {
            if context.progress {
                eprintln!(
                    "{} ./{}: indexing the built-in sample archive first (use --index or \
                     PALIMPSEST_INDEX to choose another)",
                    if outdated {
                        "an older version of Palimpsest wrote"
                    } else {
                        "no index at"
                    },
                    context.index.display()
                );
            }
            let settings = palimpsest_ingest::IngestSettings::sample(outdated);
            index::index_paths(context, &[palimpsest_corpus::sample_path()], &settings)
                .context("cannot index the built-in sample archive")?;
        }
    }
    Engine::open(&context.index)
        .with_context(|| format!("cannot open index {}", context.index.display()))
}

/// A failure to find what was asked (a name, a document, a version) names the index it
/// looked in, and says when that is the built-in fictional sample. Only the CLI does: the
/// API does not reveal the server's folders.
pub fn name_the_index(context: &Context, error: anyhow::Error) -> anyhow::Error {
    let looked_up = error.chain().any(|cause| {
        matches!(
            cause.downcast_ref::<palimpsest_search::SearchError>(),
            Some(
                palimpsest_search::SearchError::UnknownName { .. }
                    | palimpsest_search::SearchError::UnknownDocument { .. }
                    | palimpsest_search::SearchError::NotFound { .. }
            )
        )
    });
    if !looked_up {
        return error;
    }
    let sample = if context.answers_from_sample.get() {
        " (the built-in fictional sample)"
    } else {
        ""
    };
    error.context(format!("in the index {}{sample}", index_shown(context)))
}

/// An error's message and its causes, as `{:#}` writes them, in the CLI's words where the
/// search crate leaves them to the transport: a document several collections hold says
/// which `--collection` to give, an unknown name with none close where names are listed.
pub fn error_text(error: &anyhow::Error) -> String {
    error
        .chain()
        .map(
            |cause| match cause.downcast_ref::<palimpsest_search::SearchError>() {
                Some(palimpsest_search::SearchError::SeveralCollections {
                    collections, ..
                }) => {
                    let options: Vec<String> = collections
                        .iter()
                        .map(|c| format!("--collection {c}"))
                        .collect();
                    format!("{cause} with {}", options.join(" or "))
                }
                Some(error) if error.lists_no_names() => {
                    format!("{cause}; `palimpsest services` lists them")
                }
                _ => cause.to_string(),
            },
        )
        .collect::<Vec<_>>()
        .join(": ")
}
