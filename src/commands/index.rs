//! `palimpsest index`: read archives into the index, incrementally.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context as _, bail};
use indicatif::{ProgressBar, ProgressStyle};
use palimpsest_corpus::{Archive, ArchiveKind, ReadOptions, VersionRef, Warning};
use palimpsest_indexer::{Added, CollectionState, Indexer, IndexerOptions, SourceKind};
use palimpsest_schema::{CollectionName, DocKey, Timestamp, VersionKind};
use serde::Serialize;

use crate::Context;
use crate::output;

/// Index one or more archives (incremental: only what is new since the last run).
///
/// PATH is an Open Terms Archive versions git repository (each commit that adds or changes
/// <service>/<terms type>.md is a version, recorded at its author date), an OTA dataset export
/// (<service>/<terms type>/<YYYY-MM-DDTHH-MM-SSZ>.md), or a folder of
/// <service>/<terms type>.md files (one version each, recorded at the file's modification time).
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
    /// Plain folders: the instant every file was recorded at (default: its modification time).
    #[arg(long, value_name = "T", value_parser = super::parse_time)]
    recorded_at: Option<Timestamp>,
    /// Skip files larger than this many bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 10 << 20)]
    max_file_size: u64,
    /// Memory for the index writer, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 256)]
    memory: usize,
}

/// Settings of an indexing run, from arguments.
pub struct IndexSettings {
    collection: Option<String>,
    rebuild: bool,
    recorded_at: Option<Timestamp>,
    max_file_size: u64,
    memory: usize,
}

impl IndexSettings {
    /// Settings used to index the built-in sample; `rebuild` starts the index over.
    pub fn sample(rebuild: bool) -> IndexSettings {
        IndexSettings {
            collection: Some("sample".into()),
            rebuild,
            recorded_at: None,
            max_file_size: 10 << 20,
            memory: 64,
        }
    }
}

/// What an indexing run did, printed at its end.
#[derive(Debug, Serialize)]
pub struct IndexReport {
    collections: Vec<CollectionReport>,
    versions: u64,
    spans_opened: u64,
    spans_closed: u64,
    documents: u64,
    replayed: u64,
    warnings: usize,
    seconds: f64,
    index_bytes: u64,
}

#[derive(Debug, Serialize)]
struct CollectionReport {
    collection: String,
    path: String,
    kind: &'static str,
    new_versions: usize,
}

pub fn run(context: &Context, args: Args) -> anyhow::Result<()> {
    if args.collection.is_some() && args.paths.len() > 1 {
        bail!(
            "--collection names what is indexed from one PATH; index several archives one at a time to name each"
        );
    }
    let settings = IndexSettings {
        collection: args.collection,
        rebuild: args.rebuild,
        recorded_at: args.recorded_at,
        max_file_size: args.max_file_size,
        memory: args.memory,
    };
    let report = index_paths(context, &args.paths, &settings)?;
    if context.json {
        return output::json(&report);
    }
    println!(
        "indexed {} new versions of {} documents in {:.1} s: {} spans opened, {} closed; index {} ({})",
        report.versions,
        report.documents,
        report.seconds,
        report.spans_opened,
        report.spans_closed,
        output::bytes(report.index_bytes),
        context.index.display()
    );
    if report.warnings > 0 {
        println!(
            "{} files skipped or imperfect (see warnings above)",
            report.warnings
        );
    }
    Ok(())
}

fn collection_name(path: &Path, given: Option<&str>) -> anyhow::Result<CollectionName> {
    let name = match given {
        Some(name) => name.to_owned(),
        None => {
            let canonical = path
                .canonicalize()
                .with_context(|| format!("cannot read {}", path.display()))?;
            let folder = canonical
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("archive")
                .to_owned();
            folder
                .strip_suffix("-versions")
                .unwrap_or(&folder)
                .to_owned()
        }
    };
    CollectionName::new(name).context("choose a collection name with --collection")
}

fn source_kind(kind: ArchiveKind) -> SourceKind {
    match kind {
        ArchiveKind::Git => SourceKind::Git,
        ArchiveKind::Dataset => SourceKind::Dataset,
        ArchiveKind::Folder => SourceKind::Folder,
    }
}

/// Indexes `paths` into the context's index.
pub fn index_paths(
    context: &Context,
    paths: &[PathBuf],
    settings: &IndexSettings,
) -> anyhow::Result<IndexReport> {
    let started = Instant::now();
    let options = IndexerOptions {
        memory_budget: settings.memory << 20,
        ..IndexerOptions::default()
    };
    let mut indexer = if settings.rebuild {
        Indexer::rebuild(&context.index, &options)
    } else {
        Indexer::open(&context.index, &options)
    }
    .with_context(|| format!("cannot open index {}", context.index.display()))?;

    let mut reports = Vec::new();
    let mut warnings = 0;
    for path in paths {
        let collection = collection_name(path, settings.collection.as_deref())?;
        let mut read = ReadOptions::new(collection.clone());
        read.recorded_at = settings.recorded_at;
        read.max_file_bytes = settings.max_file_size;
        let archive = Archive::open(path, &read)
            .with_context(|| format!("cannot index {}", path.display()))?;
        let previous = indexer.collection(&collection).cloned();
        let since = previous
            .as_ref()
            .filter(|p| p.kind == SourceKind::Git && archive.kind() == ArchiveKind::Git)
            .and_then(|p| p.head.clone());
        let listing = archive
            .list(since.as_deref())
            .with_context(|| format!("cannot list {}", path.display()))?;
        let mut versions = listing.versions;
        if !(since.is_some() && listing.since_found) {
            let known = indexer.known_versions(&collection)?;
            versions.retain(|v| !known.contains(&v.key, &v.source_id));
            if archive.kind() == ArchiveKind::Folder {
                for v in &mut versions {
                    if known.has_document(&v.key) {
                        v.kind = VersionKind::Change;
                    }
                }
            }
        }
        report_warnings(context, &listing.warnings);
        warnings += listing.warnings.len();
        let new_versions = versions.len();
        let (replay, read_warnings) = feed(context, &archive, &mut indexer, versions, &collection)?;
        warnings += read_warnings;
        if !replay.is_empty() {
            let all = archive.list(None)?.versions;
            let mut reader = archive.reader()?;
            for key in replay {
                let mut history = Vec::new();
                for v in all.iter().filter(|v| v.key == key) {
                    let outcome = reader.read_checked(v)?;
                    history.extend(outcome.version);
                }
                indexer.replace_document(&key, history)?;
            }
        }
        let canonical = path.canonicalize().unwrap_or_else(|_| path.clone());
        indexer.set_collection(
            &collection,
            CollectionState {
                kind: source_kind(archive.kind()),
                path: canonical.display().to_string(),
                head: listing.head,
            },
        );
        reports.push(CollectionReport {
            collection: collection.to_string(),
            path: canonical.display().to_string(),
            kind: archive.kind().as_str(),
            new_versions,
        });
    }
    if context.progress {
        eprintln!("committing…");
    }
    let summary = indexer.commit().context("cannot commit the index")?;
    Ok(IndexReport {
        collections: reports,
        versions: summary.versions,
        spans_opened: summary.spans_opened,
        spans_closed: summary.spans_closed,
        documents: summary.documents,
        replayed: summary.replayed,
        warnings,
        seconds: started.elapsed().as_secs_f64(),
        index_bytes: summary.index_bytes,
    })
}

fn report_warnings(context: &Context, warnings: &[Warning]) {
    if context.json && !context.progress {
        return;
    }
    for warning in warnings.iter().take(20) {
        eprintln!("warning: {warning}");
    }
    if warnings.len() > 20 {
        eprintln!("warning: … and {} more", warnings.len() - 20);
    }
}

/// Reads contents on a second thread while this one indexes; returns the documents that need
/// a replay of their whole history, and the count of read warnings.
fn feed(
    context: &Context,
    archive: &Archive,
    indexer: &mut Indexer,
    versions: Vec<VersionRef>,
    collection: &CollectionName,
) -> anyhow::Result<(BTreeSet<DocKey>, usize)> {
    let bar = if context.progress {
        let bar = ProgressBar::new(versions.len() as u64);
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix} {bar:30} {pos}/{len} versions {per_sec} ETA {eta}",
            )
            .expect("valid template"),
        );
        bar.set_prefix(collection.to_string());
        bar
    } else {
        ProgressBar::hidden()
    };
    let mut replay = BTreeSet::new();
    let mut warnings = Vec::new();
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let (sender, receiver) = std::sync::mpsc::sync_channel(256);
        let mut reader = archive.reader()?;
        let producer = scope.spawn(move || -> anyhow::Result<()> {
            for version in &versions {
                let outcome = reader.read_checked(version)?;
                if sender.send(outcome).is_err() {
                    break;
                }
            }
            Ok(())
        });
        for outcome in receiver {
            bar.inc(1);
            if let Some(warning) = outcome.warning {
                bar.suspend(|| {
                    if !context.json || context.progress {
                        eprintln!("warning: {warning}");
                    }
                });
                warnings.push(warning);
            }
            let Some(version) = outcome.version else {
                continue;
            };
            if replay.contains(&version.key) {
                continue;
            }
            let key = version.key.clone();
            if indexer.add(version)? == Added::NeedsReplay {
                replay.insert(key);
            }
        }
        producer
            .join()
            .map_err(|_| anyhow::anyhow!("the archive reader panicked"))??;
        Ok(())
    })?;
    bar.finish_and_clear();
    Ok((replay, warnings.len()))
}
