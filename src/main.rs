//! `palimpsest`: index archives of website policies with their whole history, and search them.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use palimpsest_export::Format;

#[macro_use]
mod output;
mod commands;
mod export;

/// Full-text search over the whole version history of terms of service, privacy policies and
/// other website policies.
///
/// Index an archive (an Open Terms Archive versions repository, a dataset export, or a folder
/// of Markdown files), then search what is in force today, what was in force at any date, or
/// everything ever recorded.
///
/// Examples:
///   palimpsest index ~/archives/pga-versions
///   palimpsest search '"personal data" AND advertising' --service Instagram
///   palimpsest search arbitration --as-of 2023-01-01
///   palimpsest show Instagram "Privacy Policy" --at 2025-06-01
///   palimpsest changes arbitration --from 2024-01-01
///   palimpsest history '"AI at Meta"' --service Instagram
///   palimpsest trend arbitration --by year
///   palimpsest diff Instagram "Privacy Policy" --from 2024-01-01 --to 2025-01-01
///   palimpsest serve --addr 127.0.0.1:7700
///
/// Exit status: 0 on success; 2 for bad input (an argument, a query, a filter naming nothing
/// the index holds, an instant in the future); 3 when the index does not hold what is asked
/// (a document, a version, the index itself); 1 for any other failure. The README's table of
/// error codes gives each code's.
#[derive(Debug, Parser)]
#[command(name = "palimpsest", version, verbatim_doc_comment)]
pub struct Cli {
    /// Index folder. Without it, ./palimpsest-index, where the built-in (fictional) sample
    /// archive is indexed on first use; a real archive is not indexed into the sample's index.
    #[arg(long, global = true, env = "PALIMPSEST_INDEX", value_name = "DIR")]
    index: Option<PathBuf>,
    /// Print JSON (the same shapes as the HTTP API) instead of text: `--format json`.
    #[arg(long, global = true)]
    json: bool,
    /// Output format: text (default), json (the HTTP API's shapes), or for the list commands
    /// (search, changes, history, trend, versions, services) jsonl (one item per line) or
    /// csv (a header row, one row per item; nested values flattened, see the README).
    #[arg(long, global = true, value_name = "FORMAT", conflicts_with = "json")]
    format: Option<OutputFormat>,
    /// No progress bars or notices.
    #[arg(long, short, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Index(commands::index::Args),
    Search(commands::search::Args),
    Changes(commands::changes::Args),
    History(commands::history::Args),
    Trend(commands::trend::Args),
    Services(commands::services::Args),
    Versions(commands::versions::Args),
    Show(commands::show::Args),
    Diff(commands::diff::Args),
    Stats(commands::stats::Args),
    Serve(commands::serve::Args),
}

/// What `--format` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum OutputFormat {
    Text,
    Json,
    Jsonl,
    Csv,
}

impl Command {
    /// Whether the command prints a list, which every format can write.
    fn lists(&self) -> bool {
        matches!(
            self,
            Command::Search(_)
                | Command::Changes(_)
                | Command::History(_)
                | Command::Trend(_)
                | Command::Services(_)
                | Command::Versions(_)
        )
    }
}

/// Settings every command sees.
pub struct Context {
    /// The index folder.
    pub index: PathBuf,
    /// Whether the folder was chosen by default (then the sample may be indexed into it).
    pub default_index: bool,
    /// JSON output.
    pub json: bool,
    /// The format of a list command's output; `None` for text.
    pub list_format: Option<Format>,
    /// Show progress and notices.
    pub progress: bool,
    /// `--quiet`: not even the notice that answers come from the sample.
    pub quiet: bool,
    /// Set when the index opened for answers is the default one and holds only the sample.
    pub answers_from_sample: std::cell::Cell<bool>,
}

/// Index folder used when neither `--index` nor `PALIMPSEST_INDEX` is given.
pub const DEFAULT_INDEX: &str = "palimpsest-index";

/// The exit status of a failure: that of its search error's code in the server's table of
/// error codes ([`palimpsest_server::Code::exit_status`]: 2 for a request that cannot be
/// answered as asked, as clap exits on a bad argument; 3 for something the index does not
/// hold), 1 for every other failure.
fn exit_code(error: &anyhow::Error) -> ExitCode {
    let status = error
        .chain()
        .find_map(|cause| cause.downcast_ref::<palimpsest_search::SearchError>())
        .map_or(1, |error| {
            palimpsest_server::Code::from(error).exit_status()
        });
    ExitCode::from(status)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let list_format = match (cli.json, cli.format) {
        (true, _) | (false, Some(OutputFormat::Json)) => Some(Format::Json),
        (false, Some(OutputFormat::Jsonl)) => Some(Format::Jsonl),
        (false, Some(OutputFormat::Csv)) => Some(Format::Csv),
        (false, Some(OutputFormat::Text) | None) => None,
    };
    if matches!(list_format, Some(Format::Jsonl | Format::Csv)) && !cli.command.lists() {
        eprintln!(
            "error: --format jsonl and csv are for the list commands (search, changes, \
             history, trend, versions, services); use --format json"
        );
        return ExitCode::from(2);
    }
    let context = Context {
        default_index: cli.index.is_none(),
        index: cli.index.unwrap_or_else(|| PathBuf::from(DEFAULT_INDEX)),
        json: list_format == Some(Format::Json),
        list_format,
        progress: !cli.quiet && std::io::stderr().is_terminal(),
        quiet: cli.quiet,
        answers_from_sample: std::cell::Cell::new(false),
    };
    let result = match cli.command {
        Command::Index(args) => commands::index::run(&context, args),
        Command::Search(args) => commands::search::run(&context, args),
        Command::Changes(args) => commands::changes::run(&context, args),
        Command::History(args) => commands::history::run(&context, args),
        Command::Trend(args) => commands::trend::run(&context, args),
        Command::Services(args) => commands::services::run(&context, args),
        Command::Versions(args) => commands::versions::run(&context, args),
        Command::Show(args) => commands::show::run(&context, args),
        Command::Diff(args) => commands::diff::run(&context, args),
        Command::Stats(args) => commands::stats::run(&context, args),
        Command::Serve(args) => commands::serve::run(&context, args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if output::is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            let error = commands::name_the_index(&context, error);
            // Errors name paths and files of archives: a newline in one must not print a
            // line that looks like the program's own.
            eprintln!(
                "error: {}",
                palimpsest_schema::printable(&commands::error_text(&error))
            );
            exit_code(&error)
        }
    }
}
