//! `palimpsest index`: read archives into the index, incrementally.

use std::path::PathBuf;

use indicatif::{ProgressBar, ProgressStyle};
use palimpsest_ingest::{IndexReport, IngestSettings, Progress, RewriteReport, Warning};
use palimpsest_schema::{CollectionName, Timestamp};

use crate::Context;
use crate::output;

/// Index one or more archives (incremental: only what is new since the last run).
///
/// PATH is an Open Terms Archive versions git repository (each commit that adds or changes
/// <service>/<terms type>.md is a version, recorded at its author date), an OTA dataset export
/// (<service>/<terms type>/<YYYY-MM-DDTHH-MM-SSZ>.md), or a folder of
/// <service>/<terms type>.md files (one version each, recorded at the file's modification time).
///
/// PATH may also be an OTA snapshots repository or folder (<service>/<terms type>.html or .pdf):
/// each HTML snapshot is extracted into Markdown-like text with the declarations of
/// --declarations (the rule in force at the snapshot's date), or without one by a fallback
/// (main, article, [role=main], else the largest block of text). A snapshot whose text equals
/// the previous one of its document is not a new version. PDF snapshots are skipped.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Archives to index.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Collection name for what is indexed from PATH (default: the folder name without a
    /// `-versions` suffix). Only with a single PATH.
    #[arg(long, value_name = "NAME")]
    collection: Option<String>,
    /// Start the index over instead of updating it (the old index serves until the new one is done).
    #[arg(long)]
    rebuild: bool,
    /// Let a rewritten git history remove more than half of a collection's versions. Without
    /// it such a run is refused and changes nothing: a HEAD on an empty or mistyped branch, a
    /// re-initialised repository or one whose objects are lost looks the same.
    #[arg(long)]
    allow_drop: bool,
    /// Plain folders: the instant every file was recorded at (default: its modification time).
    #[arg(long, value_name = "T", value_parser = super::parse_time)]
    recorded_at: Option<Timestamp>,
    /// Skip files larger than this many bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 10 << 20)]
    max_file_size: u64,
    /// Memory for the index writer, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 256)]
    memory: usize,
    /// Open Terms Archive declarations for HTML snapshots: a folder of <service>.json and
    /// <service>.history.json (or a declarations repository holding one in declarations/).
    #[arg(long, value_name = "DIR")]
    declarations: Option<PathBuf>,
}

pub fn run(context: &Context, args: Args) -> anyhow::Result<()> {
    if context.default_index {
        refuse_mixing_with_sample(context, &args.paths, args.rebuild)?;
    }
    let settings = IngestSettings {
        collection: args.collection,
        rebuild: args.rebuild,
        allow_drop: args.allow_drop,
        recorded_at: args.recorded_at,
        max_file_size: args.max_file_size,
        memory: args.memory,
        declarations: args.declarations,
    };
    let report = index_paths(context, &args.paths, &settings)?;
    if context.json {
        return output::json(&report);
    }
    let deletions = match report.deletions {
        0 => String::new(),
        1 => " and 1 deletion".to_owned(),
        n => format!(" and {n} deletions"),
    };
    outln!(
        "indexed {}{deletions} of {} in {:.1} s: {} opened, {} closed; index {} ({})",
        output::count(report.versions, "new version", "new versions"),
        output::count(report.documents, "document", "documents"),
        report.seconds,
        output::count(report.spans_opened, "span", "spans"),
        report.spans_closed,
        output::bytes(report.index_bytes),
        palimpsest_schema::printable(&context.index.display().to_string())
    );
    for collection in &report.collections {
        if let Some(r) = &collection.rewritten {
            outln!(
                "{}",
                rewrite_line(&collection.collection, &collection.path, r)
            );
        }
        if collection.replayed_changed_files > 0 {
            outln!(
                "{}: {} replayed: files indexed before were changed in place",
                collection.collection,
                output::count(
                    collection.replayed_changed_files as u64,
                    "document",
                    "documents"
                )
            );
        }
        if let Some(s) = &collection.snapshots {
            outln!(
                "{}: {} ({}) read → {} kept, {} unchanged, {} skipped; \
                 {} extracted without declaration rules, {} PDF skipped",
                collection.collection,
                output::count(s.read, "snapshot", "snapshots"),
                output::count(s.commits, "commit", "commits"),
                output::count(s.versions, "version", "versions"),
                s.unchanged,
                s.skipped,
                output::count(s.without_rules, "version", "versions"),
                s.pdf_skipped
            );
        }
    }
    if report.warnings > 0 {
        outln!(
            "{} skipped or imperfect (see warnings above)",
            output::count(report.warnings as u64, "file", "files")
        );
    }
    Ok(())
}

/// Without `--index`, a run that would leave the default index holding the built-in
/// fictional sample beside a real archive is refused before anything is written: the sample
/// is there when `serve` or `search` filled the folder on first use, and its made-up
/// services would answer among real ones. A real archive may fill a default folder that
/// holds no index yet, or replace the sample with `--rebuild`.
fn refuse_mixing_with_sample(
    context: &Context,
    paths: &[PathBuf],
    rebuild: bool,
) -> anyhow::Result<()> {
    let canonical = |path: &std::path::Path| path.canonicalize().unwrap_or(path.to_owned());
    let sample = canonical(&palimpsest_corpus::sample_path());
    let (samples, real): (Vec<&PathBuf>, Vec<&PathBuf>) =
        paths.iter().partition(|path| canonical(path) == sample);
    let Some(first_real) = real.first() else {
        return Ok(());
    };
    let indexed = !rebuild
        && context.index.join("meta.json").exists()
        && palimpsest_search::Engine::open(&context.index)
            .is_ok_and(|engine| super::holds_sample(&engine));
    if samples.is_empty() && !indexed {
        return Ok(());
    }
    let archive = palimpsest_schema::printable(&first_real.display().to_string()).into_owned();
    let index = super::index_shown(context);
    if indexed {
        anyhow::bail!(
            "{index} holds the built-in fictional sample: indexing {archive} there would mix \
             its made-up services with real ones, so nothing was indexed; give the archive an \
             index of its own with --index DIR (or PALIMPSEST_INDEX=DIR), or replace the \
             sample with it: index --rebuild"
        );
    }
    anyhow::bail!(
        "indexing the built-in fictional sample with {archive} into {index} would mix its \
         made-up services with real ones, so nothing was indexed; index the sample alone, or \
         choose an index with --index DIR (or PALIMPSEST_INDEX=DIR)"
    )
}

fn rewrite_line(collection: &str, path: &str, r: &RewriteReport) -> String {
    let path = palimpsest_schema::printable(path);
    let cursor = if r.cursor_found {
        "is no longer in the first-parent history of HEAD"
    } else {
        "no longer exists"
    };
    let from = match &r.last_common_commit {
        Some(common) => format!("the histories part after commit {common}"),
        None => "the histories share no commit".to_owned(),
    };
    format!(
        "{collection}: the history of {path} was rewritten: commit {} (indexed last) {cursor}, \
         {from}; {} replayed, {} no longer in the history dropped",
        r.cursor,
        output::count(r.documents_replayed as u64, "document", "documents"),
        output::count(r.versions_dropped as u64, "version", "versions")
    )
}

/// Indexes `paths` into the context's index, with progress and warnings on the terminal.
pub fn index_paths(
    context: &Context,
    paths: &[PathBuf],
    settings: &IngestSettings,
) -> anyhow::Result<IndexReport> {
    let mut progress = Terminal { context, bar: None };
    Ok(palimpsest_ingest::ingest(
        &context.index,
        paths,
        settings,
        &mut progress,
    )?)
}

/// A run's progress on the terminal: a bar per archive when the context shows progress;
/// warnings on stderr, unless the output is JSON and progress is not shown.
struct Terminal<'a> {
    context: &'a Context,
    bar: Option<ProgressBar>,
}

impl Progress for Terminal<'_> {
    fn begin(&mut self, collection: &CollectionName, total: u64) {
        if !self.context.progress {
            return;
        }
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix} {bar:30} {pos}/{len} versions {per_sec} ETA {eta}",
            )
            .expect("valid template"),
        );
        bar.set_prefix(collection.to_string());
        self.bar = Some(bar);
    }

    fn advance(&mut self, versions: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(versions);
        }
    }

    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }

    fn message(&mut self, message: &str) {
        if self.context.progress {
            eprintln!("{message}");
        }
    }

    fn warning(&mut self, warning: &Warning) {
        if self.context.json && !self.context.progress {
            return;
        }
        let print = || {
            let line = warning.to_string();
            eprintln!("warning: {}", palimpsest_schema::printable(&line));
        };
        match &self.bar {
            Some(bar) => bar.suspend(print),
            None => print(),
        }
    }
}
