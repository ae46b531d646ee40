use palimpsest_indexer::IndexWarning;
use palimpsest_schema::CollectionName;

/// Told how a run goes, for a progress bar and warnings; every method does nothing unless
/// implemented. The run calls it from the thread that called [`crate::ingest()`].
pub trait Progress {
    /// Reading `total` versions of `collection` into the index begins.
    fn begin(&mut self, collection: &CollectionName, total: u64) {
        let _ = (collection, total);
    }
    /// `versions` more were read.
    fn advance(&mut self, versions: u64) {
        let _ = versions;
    }
    /// The versions of the collection begun last are all read.
    fn finish(&mut self) {}
    /// A step of the run that takes a while begins (the commit).
    fn message(&mut self, message: &str) {
        let _ = message;
    }
    /// Something was skipped or done imperfectly; the report counts every warning.
    fn warning(&mut self, warning: &Warning) {
        let _ = warning;
    }
}

/// A [`Progress`] told nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {}

/// A warning of a run. Archives can hold thousands of imperfect files: of the warnings of
/// listing an archive, and of reading it, only the first [`SHOWN_WARNINGS`] are passed on,
/// then one [`Warning::More`] that counts the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    /// A file, commit or entry of an archive (or of the declarations) skipped or read
    /// imperfectly.
    Read(palimpsest_corpus::Warning),
    /// A version indexed imperfectly.
    Index(IndexWarning),
    /// Warnings of a stage past the first [`SHOWN_WARNINGS`], only counted.
    More {
        /// How many.
        count: usize,
        /// The stage they came from.
        stage: Stage,
    },
}

/// The stage of a run whose warnings are shown in part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Loading declarations or listing an archive.
    Listing,
    /// Reading an archive's versions into the index.
    Reading,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Warning::Read(warning) => warning.fmt(f),
            Warning::Index(warning) => warning.fmt(f),
            Warning::More {
                count,
                stage: Stage::Listing,
            } => write!(f, "… and {count} more"),
            Warning::More {
                count,
                stage: Stage::Reading,
            } => write!(f, "… and {count} more read warnings"),
        }
    }
}

/// Warnings of one stage passed on one by one before they are only counted.
pub const SHOWN_WARNINGS: usize = 20;

/// The warnings of one stage: the first [`SHOWN_WARNINGS`] are passed on, all are counted.
pub(crate) struct Batch {
    stage: Stage,
    count: usize,
}

impl Batch {
    pub(crate) fn new(stage: Stage) -> Batch {
        Batch { stage, count: 0 }
    }

    pub(crate) fn push(&mut self, progress: &mut dyn Progress, warning: Warning) {
        if self.count < SHOWN_WARNINGS {
            progress.warning(&warning);
        }
        self.count += 1;
    }

    /// Says how many were not passed on; returns how many there were.
    pub(crate) fn end(self, progress: &mut dyn Progress) -> usize {
        if self.count > SHOWN_WARNINGS {
            progress.warning(&Warning::More {
                count: self.count - SHOWN_WARNINGS,
                stage: self.stage,
            });
        }
        self.count
    }
}

/// Passes on the warnings of a listing; returns how many there were.
pub(crate) fn listed(
    progress: &mut dyn Progress,
    warnings: Vec<palimpsest_corpus::Warning>,
) -> usize {
    let mut batch = Batch::new(Stage::Listing);
    for warning in warnings {
        batch.push(progress, Warning::Read(warning));
    }
    batch.end(progress)
}
