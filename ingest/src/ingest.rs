use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use palimpsest_corpus::Declarations;
use palimpsest_indexer::{CollectionState, Indexer, IndexerOptions, SnapshotFacts};

use crate::error::{IngestError, Result};
use crate::feed::feed;
use crate::plan::Plan;
use crate::progress::{self, Progress};
use crate::replay::replay;
use crate::report::{CollectionReport, IndexReport};
use crate::settings::IngestSettings;
use crate::source::Source;

/// Indexes the archives at `paths` into the index at `index` (created if missing): only what
/// is new since the last run, or everything with [`IngestSettings::rebuild`]. One commit
/// publishes the whole run; when it fails, nothing of it is.
pub fn ingest(
    index: &Path,
    paths: &[PathBuf],
    settings: &IngestSettings,
    progress: &mut dyn Progress,
) -> Result<IndexReport> {
    if settings.collection.is_some() && paths.len() > 1 {
        return Err(IngestError::CollectionOfSeveralPaths);
    }
    let started = Instant::now();
    let mut indexer = open_index(index, settings).map_err(|e| e.on_disk_full(index))?;
    let (collections, warnings) = match ingest_archives(paths, settings, &mut indexer, progress) {
        Ok(done) => done,
        Err(error) => {
            indexer.abandon();
            return Err(error.on_disk_full(index));
        }
    };
    progress.message("committing…");
    let summary = indexer
        .commit()
        .map_err(|e| IngestError::Commit(e).on_disk_full(index))?;
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

fn open_index(index: &Path, settings: &IngestSettings) -> Result<Indexer> {
    let options = IndexerOptions {
        memory_budget: settings.memory << 20,
        ..IndexerOptions::default()
    };
    let opened = if settings.rebuild {
        Indexer::rebuild(index, &options)
    } else {
        Indexer::open(index, &options)
    };
    opened.map_err(|source| IngestError::OpenIndex {
        index: index.to_owned(),
        source,
    })
}

/// Reads every archive into the indexer, before the commit; returns the collections' reports
/// and the number of warnings.
fn ingest_archives(
    paths: &[PathBuf],
    settings: &IngestSettings,
    indexer: &mut Indexer,
    progress: &mut dyn Progress,
) -> Result<(Vec<CollectionReport>, usize)> {
    let (declarations, mut warnings) = load_declarations(settings, progress)?;
    let mut reports = Vec::new();
    for path in paths {
        let source = Source::open(path, settings, declarations.as_ref(), indexer)?;
        let (report, archive_warnings) = ingest_archive(source, indexer, progress)?;
        reports.push(report);
        warnings += archive_warnings;
    }
    Ok((reports, warnings))
}

fn load_declarations(
    settings: &IngestSettings,
    progress: &mut dyn Progress,
) -> Result<(Option<Arc<Declarations>>, usize)> {
    let Some(dir) = &settings.declarations else {
        return Ok((None, 0));
    };
    let (declarations, warnings) =
        Declarations::load(dir).map_err(|source| IngestError::Declarations {
            dir: dir.clone(),
            source,
        })?;
    let warnings = progress::listed(progress, warnings);
    Ok((Some(Arc::new(declarations)), warnings))
}

/// Reads what is new in one archive; returns its report and the number of warnings.
fn ingest_archive(
    source: Source,
    indexer: &mut Indexer,
    progress: &mut dyn Progress,
) -> Result<(CollectionReport, usize)> {
    let mut plan = Plan::list(&source, indexer)?;
    let mut warnings = progress::listed(progress, std::mem::take(&mut plan.warnings));
    let (new_versions, deletions) = plan.counts();
    let fed = feed(
        &source.archive,
        indexer,
        plan.versions,
        &source.collection,
        progress,
    )?;
    warnings += fed.warnings;
    let mut facts = fed.facts;
    let mut documents = plan.replay;
    documents.extend(fed.replay);
    warnings += replay(&source.archive, indexer, documents, &mut facts, progress)?;
    let mut snapshots = fed.snapshots;
    snapshots.versions = snapshots.read - snapshots.unchanged - snapshots.skipped;
    let report = CollectionReport {
        collection: source.collection.to_string(),
        path: source.path.clone(),
        kind: source.archive.kind().as_str(),
        new_versions,
        deletions,
        rewritten: plan.rewritten,
        snapshots: (snapshots.read > 0).then_some(snapshots),
        replayed_changed_files: plan.corrected,
    };
    let cursor = Cursor {
        head: plan.head,
        files: plan.files,
    };
    record_state(indexer, source, cursor, facts);
    Ok((report, warnings))
}

/// Where the next run of a collection starts.
struct Cursor {
    /// Git: the commit read last.
    head: Option<String>,
    /// Dataset: each document's files as this run listed them.
    files: crate::in_place::Seen,
}

/// Records where the next run starts, with the snapshot facts of this one added to those of
/// the runs before.
fn record_state(indexer: &mut Indexer, source: Source, cursor: Cursor, facts: SnapshotFacts) {
    let Cursor { head, files } = cursor;
    let mut snapshots = source
        .previous
        .map(|previous| previous.snapshots)
        .unwrap_or_default();
    snapshots.merge(facts);
    let state = CollectionState {
        kind: source.kind,
        path: source.path,
        head,
        snapshots,
        files,
    };
    indexer.set_collection(&source.collection, state);
}
