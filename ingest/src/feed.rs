use std::collections::{BTreeSet, HashSet};

use palimpsest_corpus::{Archive, Format, ReadOutcome, VersionRef};
use palimpsest_indexer::{Added, Indexer, SnapshotFacts};
use palimpsest_schema::{CollectionName, DocKey};

use crate::collapse::Collapse;
use crate::error::{IngestError, Result};
use crate::progress::{Batch, Progress, Stage, Warning};
use crate::read_ahead::{READ_AHEAD_BYTES, READ_AHEAD_VERSIONS, ReadAhead};
use crate::report::SnapshotReport;

/// What feeding an archive's versions to the indexer gave.
pub(crate) struct Fed {
    /// Documents that need a replay of their whole history.
    pub(crate) replay: BTreeSet<DocKey>,
    /// Read and index warnings.
    pub(crate) warnings: usize,
    pub(crate) snapshots: SnapshotReport,
    pub(crate) facts: SnapshotFacts,
}

/// One version read on the reader thread.
struct Read {
    outcome: ReadOutcome,
    /// The document and commit of a PDF snapshot, which is skipped.
    pdf: Option<String>,
    source_id: String,
    /// The text it holds, as the read-ahead budget counts it.
    bytes: usize,
}

/// Reads contents on a second thread while this one indexes.
pub(crate) fn feed(
    archive: &Archive,
    indexer: &mut Indexer,
    versions: Vec<VersionRef>,
    collection: &CollectionName,
    progress: &mut dyn Progress,
) -> Result<Fed> {
    progress.begin(collection, versions.len() as u64);
    let mut feeding = Feeding {
        indexer,
        progress,
        fed: Fed {
            replay: BTreeSet::new(),
            warnings: 0,
            snapshots: SnapshotReport::default(),
            facts: SnapshotFacts::default(),
        },
        warnings: Batch::new(Stage::Reading),
        collapse: Collapse::default(),
        commits: HashSet::new(),
    };
    let ahead = ReadAhead::new(READ_AHEAD_BYTES);
    std::thread::scope(|scope| -> Result<()> {
        let (sender, receiver) = std::sync::mpsc::sync_channel(READ_AHEAD_VERSIONS);
        let mut reader = archive.reader()?;
        let ahead = &ahead;
        let producer = scope.spawn(move || -> Result<()> {
            for version in &versions {
                let read = read(&mut reader, version)?;
                if !ahead.acquire(read.bytes) || sender.send(read).is_err() {
                    break;
                }
            }
            Ok(())
        });
        let indexed = (|| {
            for read in receiver {
                let bytes = read.bytes;
                feeding.take(read)?;
                ahead.release(bytes);
            }
            Ok(())
        })();
        // A failed indexer must not leave the reader waiting for bytes it never frees.
        ahead.close();
        let read = producer.join().map_err(|_| IngestError::ReaderPanicked)?;
        indexed.and(read)
    })?;
    Ok(feeding.end())
}

fn read(reader: &mut palimpsest_corpus::VersionReader, version: &VersionRef) -> Result<Read> {
    let outcome = reader.read_checked(version)?;
    let pdf = (version.format == Format::Pdf && outcome.version.is_none()).then(|| {
        format!(
            "{}/{} at {}",
            version.key.service, version.key.terms_type, version.source_id
        )
    });
    let bytes = outcome.version.as_ref().map_or(0, |v| v.content.len());
    Ok(Read {
        bytes,
        outcome,
        pdf,
        source_id: version.source_id.clone(),
    })
}

/// The indexing side of [`feed`].
struct Feeding<'a> {
    indexer: &'a mut Indexer,
    progress: &'a mut dyn Progress,
    fed: Fed,
    warnings: Batch,
    collapse: Collapse,
    /// Commits (or files) snapshots came from.
    commits: HashSet<String>,
}

impl Feeding<'_> {
    fn take(&mut self, read: Read) -> Result<()> {
        let Read {
            mut outcome,
            pdf,
            source_id,
            ..
        } = read;
        self.progress.advance(1);
        for warning in std::mem::take(&mut outcome.warnings) {
            self.warnings.push(self.progress, Warning::Read(warning));
        }
        if outcome.format.is_snapshot() {
            self.commits.insert(source_id);
        }
        if let Some(pdf) = pdf {
            self.fed.snapshots.pdf_skipped += 1;
            self.fed.facts.skipped_pdfs.insert(pdf);
        }
        let fed = &mut self.fed;
        let admitted = self.collapse.admit(
            Some(self.indexer),
            outcome,
            &mut fed.snapshots,
            &mut fed.facts,
        )?;
        match admitted {
            Some(version) if !fed.replay.contains(&version.key) => self.add(version),
            _ => Ok(()),
        }
    }

    fn end(self) -> Fed {
        self.progress.finish();
        let mut fed = self.fed;
        fed.warnings = self.warnings.end(self.progress);
        fed.snapshots.commits = self.commits.len() as u64;
        fed
    }

    fn add(&mut self, version: palimpsest_schema::PolicyVersion) -> Result<()> {
        let key = version.key.clone();
        let added = self.indexer.add(version)?;
        for warning in self.indexer.take_warnings() {
            self.warnings.push(self.progress, Warning::Index(warning));
        }
        if added == Added::NeedsReplay {
            self.fed.replay.insert(key);
        }
        Ok(())
    }
}
