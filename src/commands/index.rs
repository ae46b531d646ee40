//! `palimpsest index`: read archives into the index, incrementally.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context as _, bail};
use indicatif::{ProgressBar, ProgressStyle};
use palimpsest_corpus::{
    Archive, ArchiveKind, Declarations, Format, ReadOptions, ReadOutcome, VersionRef, Warning,
};
use palimpsest_indexer::{
    Added, CollectionState, Indexer, IndexerError, IndexerOptions, SnapshotFacts, SourceKind,
};
use palimpsest_schema::{CollectionName, DocKey, PolicyVersion, Timestamp, VersionKind};
use serde::Serialize;

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

/// Settings of an indexing run, from arguments.
pub struct IndexSettings {
    collection: Option<String>,
    rebuild: bool,
    recorded_at: Option<Timestamp>,
    max_file_size: u64,
    memory: usize,
    declarations: Option<PathBuf>,
}

/// The collection the built-in sample is indexed as.
pub const SAMPLE_COLLECTION: &str = "sample";

impl IndexSettings {
    /// Settings used to index the built-in sample; `rebuild` starts the index over.
    pub fn sample(rebuild: bool) -> IndexSettings {
        IndexSettings {
            collection: Some(SAMPLE_COLLECTION.into()),
            rebuild,
            recorded_at: None,
            max_file_size: 10 << 20,
            memory: 64,
            declarations: None,
        }
    }
}

/// What an indexing run did, printed at its end.
#[derive(Debug, Serialize)]
pub struct IndexReport {
    collections: Vec<CollectionReport>,
    /// Versions with text, as `stats` counts them.
    versions: u64,
    /// Documents whose file the archive deleted: a record each, not a version.
    deletions: u64,
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
    deletions: usize,
    /// Present when the history indexed before is no longer the archive's (git).
    #[serde(skip_serializing_if = "Option::is_none")]
    rewritten: Option<RewriteReport>,
    /// Present when the archive held snapshots.
    #[serde(skip_serializing_if = "Option::is_none")]
    snapshots: Option<SnapshotReport>,
}

/// A git history rewritten under an indexed collection (a reset, a rebase, a force push):
/// the commit indexed last is no longer in the first-parent history of HEAD. The documents
/// holding versions that are no longer in the history are replayed from the archive, so the
/// index ends as a clean build of it would.
#[derive(Debug, Serialize)]
struct RewriteReport {
    /// The commit the previous run indexed last.
    cursor: String,
    /// Whether that commit is still in the repository.
    cursor_found: bool,
    /// The newest commit both histories hold, if any.
    last_common_commit: Option<String>,
    /// Documents whose whole history was replayed.
    documents_replayed: usize,
    /// Versions indexed before that the history no longer holds, now dropped.
    versions_dropped: usize,
}

/// How snapshots became versions in one run.
#[derive(Debug, Default, Serialize)]
struct SnapshotReport {
    /// Snapshot files read (one per commit in an OTA snapshots repository).
    read: u64,
    /// Distinct commits (or files) they came from.
    commits: u64,
    /// Versions kept: snapshots whose extracted text differs from the previous one.
    versions: u64,
    /// Snapshots whose text equals the previous one of their document.
    unchanged: u64,
    /// Snapshots skipped (PDF, unreadable, a declaration selecting nothing).
    skipped: u64,
    /// Versions extracted from HTML without declaration rules (fallback).
    without_rules: u64,
    /// PDF snapshots skipped.
    pdf_skipped: u64,
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
        "indexed {} new versions{deletions} of {} documents in {:.1} s: {} spans opened, {} closed; index {} ({})",
        report.versions,
        report.documents,
        report.seconds,
        report.spans_opened,
        report.spans_closed,
        output::bytes(report.index_bytes),
        context.index.display()
    );
    for collection in &report.collections {
        if let Some(r) = &collection.rewritten {
            outln!(
                "{}",
                rewrite_line(&collection.collection, &collection.path, r)
            );
        }
        if let Some(s) = &collection.snapshots {
            outln!(
                "{}: {} snapshots ({} commits) read → {} versions kept, {} unchanged, {} skipped; \
                 {} versions extracted without declaration rules, {} PDF skipped",
                collection.collection,
                s.read,
                s.commits,
                s.versions,
                s.unchanged,
                s.skipped,
                s.without_rules,
                s.pdf_skipped
            );
        }
    }
    if report.warnings > 0 {
        outln!(
            "{} files skipped or imperfect (see warnings above)",
            report.warnings
        );
    }
    Ok(())
}

fn rewrite_line(collection: &str, path: &str, r: &RewriteReport) -> String {
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
         {from}; {} documents replayed, {} versions no longer in the history dropped",
        r.cursor, r.documents_replayed, r.versions_dropped
    )
}

/// Refuses to index `path` under a collection that another archive filled: their versions
/// would be mixed, and the other archive's would never end.
fn check_same_archive(
    collection: &CollectionName,
    previous: Option<&CollectionState>,
    path: &str,
    kind: SourceKind,
) -> anyhow::Result<()> {
    let Some(previous) = previous else {
        return Ok(());
    };
    if previous.path == path && previous.kind == kind {
        return Ok(());
    }
    bail!(
        "collection {collection} was indexed from {} ({}), not from {path} ({}): index this \
         archive under another name with --collection, or start the index over with --rebuild",
        previous.path,
        kind_name(previous.kind),
        kind_name(kind)
    )
}

fn kind_name(kind: SourceKind) -> &'static str {
    match kind {
        SourceKind::Git => "git",
        SourceKind::Dataset => "dataset",
        SourceKind::Folder => "folder",
    }
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
    .with_context(|| format!("cannot open index {}", context.index.display()))
    .map_err(|e| disk_full(e, &context.index))?;
    let (collections, warnings) = match index_archives(context, paths, settings, &mut indexer) {
        Ok(done) => done,
        Err(error) => {
            indexer.abandon();
            return Err(disk_full(error, &context.index));
        }
    };
    if context.progress {
        eprintln!("committing…");
    }
    let summary = indexer
        .commit()
        .context("cannot commit the index")
        .map_err(|e| disk_full(e, &context.index))?;
    Ok(IndexReport {
        collections,
        versions: summary.versions,
        deletions: summary.deletions,
        spans_opened: summary.spans_opened,
        spans_closed: summary.spans_closed,
        documents: summary.documents,
        replayed: summary.replayed,
        warnings,
        seconds: started.elapsed().as_secs_f64(),
        index_bytes: summary.index_bytes,
    })
}

/// Says so first when the run failed because the index's disk is full: the causes below
/// (a Tantivy writer's I/O error) do not tell what became of the index.
fn disk_full(error: anyhow::Error, index: &Path) -> anyhow::Error {
    let full = error
        .chain()
        .filter_map(|e| e.downcast_ref::<IndexerError>())
        .any(IndexerError::is_disk_full);
    if !full {
        return error;
    }
    error.context(format!(
        "no space left on the disk holding the index {}: nothing of this run was committed, \
         the index is as the last completed run left it; free space and index again",
        index.display()
    ))
}

/// Reads every archive into the indexer, before the commit; returns the collections' reports
/// and the number of warnings.
fn index_archives(
    context: &Context,
    paths: &[PathBuf],
    settings: &IndexSettings,
    indexer: &mut Indexer,
) -> anyhow::Result<(Vec<CollectionReport>, usize)> {
    let mut reports = Vec::new();
    let mut warnings = 0;
    let declarations = match &settings.declarations {
        Some(dir) => {
            let (declarations, load_warnings) = Declarations::load(dir)
                .with_context(|| format!("cannot read declarations {}", dir.display()))?;
            report_warnings(context, &load_warnings);
            warnings += load_warnings.len();
            Some(Arc::new(declarations))
        }
        None => None,
    };
    for path in paths {
        let collection = collection_name(path, settings.collection.as_deref())?;
        let mut read = ReadOptions::new(collection.clone());
        read.recorded_at = settings.recorded_at;
        read.max_file_bytes = settings.max_file_size;
        read.declarations = declarations.clone();
        let archive = Archive::open(path, &read)
            .with_context(|| format!("cannot index {}", path.display()))?;
        let canonical = path.canonicalize().unwrap_or_else(|_| path.clone());
        let previous = indexer.collection(&collection).cloned();
        let kind = source_kind(archive.kind());
        check_same_archive(
            &collection,
            previous.as_ref(),
            &canonical.display().to_string(),
            kind,
        )?;
        let since = previous
            .as_ref()
            .filter(|p| p.kind == SourceKind::Git && kind == SourceKind::Git)
            .and_then(|p| p.head.clone());
        let listing = archive
            .list(since.as_deref())
            .with_context(|| format!("cannot list {}", path.display()))?;
        let mut versions = listing.versions;
        let mut replay = BTreeSet::new();
        let mut rewritten = None;
        if !(since.is_some() && listing.since_found) {
            let known = indexer.known_versions(&collection)?;
            if let Some(cursor) = &since {
                let stale = known.not_listed(versions.iter().map(|v| (&v.key, &*v.source_id)))?;
                let parting = archive.parting(cursor)?;
                rewritten = Some(RewriteReport {
                    cursor: cursor.clone(),
                    cursor_found: parting.found,
                    last_common_commit: parting.last_common,
                    documents_replayed: stale.len(),
                    versions_dropped: stale.values().sum(),
                });
                replay.extend(stale.into_keys());
            }
            versions.retain(|v| !replay.contains(&v.key) && !known.contains(&v.key, &v.source_id));
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
        let deletions = versions
            .iter()
            .filter(|v| v.kind == VersionKind::Deleted)
            .count();
        let new_versions = versions.len() - deletions;
        let fed = feed(context, &archive, indexer, versions, &collection)?;
        warnings += fed.warnings;
        let mut snapshots = fed.snapshots;
        let mut facts = fed.facts;
        replay.extend(fed.replay);
        if !replay.is_empty() {
            let all = archive.list(None)?.versions;
            let mut reader = archive.reader()?;
            for key in replay {
                let mut history = Vec::new();
                let mut collapse = Collapse::default();
                for v in all.iter().filter(|v| v.key == key) {
                    let outcome = reader.read_checked(v)?;
                    let mut ignored = SnapshotReport::default();
                    if let Some(version) =
                        collapse.admit(None, outcome, &mut ignored, &mut facts)?
                    {
                        history.push(version);
                    }
                }
                indexer.replace_document(&key, history)?;
                for warning in indexer.take_warnings() {
                    if !context.json || context.progress {
                        eprintln!("warning: {warning}");
                    }
                    warnings += 1;
                }
            }
        }
        let mut state = CollectionState {
            kind,
            path: canonical.display().to_string(),
            head: listing.head,
            snapshots: SnapshotFacts::default(),
        };
        if let Some(previous) = previous {
            state.snapshots = previous.snapshots;
        }
        state.snapshots.merge(facts);
        indexer.set_collection(&collection, state);
        snapshots.versions = snapshots.read - snapshots.unchanged - snapshots.skipped;
        reports.push(CollectionReport {
            collection: collection.to_string(),
            path: canonical.display().to_string(),
            kind: archive.kind().as_str(),
            new_versions,
            deletions,
            rewritten,
            snapshots: (snapshots.read > 0).then_some(snapshots),
        });
    }
    Ok((reports, warnings))
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

/// What feeding an archive's versions to the indexer gave.
struct Fed {
    /// Documents that need a replay of their whole history.
    replay: BTreeSet<DocKey>,
    /// Read warnings.
    warnings: usize,
    snapshots: SnapshotReport,
    facts: SnapshotFacts,
}

/// Turns read snapshots into versions: one whose extracted text equals the previous one of
/// its document is not a version (raw pages change with every fetch, their terms seldom).
/// The first version kept of a document is its first record, later ones are changes.
/// Markdown versions pass unchanged: an identical re-record there is the archive's own.
#[derive(Default)]
struct Collapse {
    /// The latest text of each document seen, `None` for a document without versions.
    last: HashMap<DocKey, Option<String>>,
}

impl Collapse {
    /// The version to index from `outcome`, if any; `indexer` gives the latest text of a
    /// document indexed by an earlier run (none when replaying a whole history).
    fn admit(
        &mut self,
        indexer: Option<&Indexer>,
        outcome: ReadOutcome,
        report: &mut SnapshotReport,
        facts: &mut SnapshotFacts,
    ) -> anyhow::Result<Option<PolicyVersion>> {
        let snapshot = outcome.format.is_snapshot();
        if snapshot {
            report.read += 1;
        }
        let Some(mut version) = outcome.version else {
            if snapshot {
                report.skipped += 1;
            }
            return Ok(None);
        };
        if !snapshot {
            return Ok(Some(version));
        }
        let last = match self.last.entry(version.key.clone()) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                let latest = match indexer {
                    Some(indexer) => indexer.latest_content(&version.key)?,
                    None => None,
                };
                e.insert(latest)
            }
        };
        if version.kind != VersionKind::Deleted {
            if last.as_deref() == Some(version.content.as_str()) {
                report.unchanged += 1;
                return Ok(None);
            }
            version.kind = if last.is_none() {
                VersionKind::FirstRecord
            } else {
                VersionKind::Change
            };
        }
        *last = Some(version.content.clone());
        if outcome.without_rules {
            report.without_rules += 1;
            facts.without_rules.insert((
                version.key.service.to_string(),
                version.key.terms_type.to_string(),
            ));
        }
        Ok(Some(version))
    }
}

/// Read warnings printed one by one before they are only counted.
const SHOWN_WARNINGS: usize = 20;

/// Reads contents on a second thread while this one indexes.
fn feed(
    context: &Context,
    archive: &Archive,
    indexer: &mut Indexer,
    versions: Vec<VersionRef>,
    collection: &CollectionName,
) -> anyhow::Result<Fed> {
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
    let mut fed = Fed {
        replay: BTreeSet::new(),
        warnings: 0,
        snapshots: SnapshotReport::default(),
        facts: SnapshotFacts::default(),
    };
    let mut collapse = Collapse::default();
    let mut commits = HashSet::new();
    let show = !context.json || context.progress;
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let (sender, receiver) = std::sync::mpsc::sync_channel(256);
        let mut reader = archive.reader()?;
        let producer = scope.spawn(move || -> anyhow::Result<()> {
            for version in &versions {
                let outcome = reader.read_checked(version)?;
                let pdf = (version.format == Format::Pdf && outcome.version.is_none()).then(|| {
                    format!(
                        "{}/{} at {}",
                        version.key.service, version.key.terms_type, version.source_id
                    )
                });
                if sender
                    .send((outcome, pdf, version.source_id.clone()))
                    .is_err()
                {
                    break;
                }
            }
            Ok(())
        });
        for (mut outcome, pdf, source_id) in receiver {
            bar.inc(1);
            for warning in std::mem::take(&mut outcome.warnings) {
                if show && fed.warnings < SHOWN_WARNINGS {
                    bar.suspend(|| eprintln!("warning: {warning}"));
                }
                fed.warnings += 1;
            }
            if outcome.format.is_snapshot() {
                commits.insert(source_id);
            }
            if let Some(pdf) = pdf {
                fed.snapshots.pdf_skipped += 1;
                fed.facts.skipped_pdfs.insert(pdf);
            }
            let Some(version) =
                collapse.admit(Some(indexer), outcome, &mut fed.snapshots, &mut fed.facts)?
            else {
                continue;
            };
            if fed.replay.contains(&version.key) {
                continue;
            }
            let key = version.key.clone();
            let added = indexer.add(version)?;
            for warning in indexer.take_warnings() {
                if show && fed.warnings < SHOWN_WARNINGS {
                    bar.suspend(|| eprintln!("warning: {warning}"));
                }
                fed.warnings += 1;
            }
            if added == Added::NeedsReplay {
                fed.replay.insert(key);
            }
        }
        producer
            .join()
            .map_err(|_| anyhow::anyhow!("the archive reader panicked"))??;
        Ok(())
    })?;
    bar.finish_and_clear();
    if show && fed.warnings > SHOWN_WARNINGS {
        eprintln!(
            "warning: … and {} more read warnings",
            fed.warnings - SHOWN_WARNINGS
        );
    }
    fed.snapshots.commits = commits.len() as u64;
    Ok(fed)
}
