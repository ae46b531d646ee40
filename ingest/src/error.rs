use std::path::PathBuf;

use palimpsest_corpus::CorpusError;
use palimpsest_indexer::IndexerError;
use palimpsest_schema::{CollectionName, SchemaError};
use thiserror::Error;

/// Errors that stop an ingestion run. Nothing of the run is committed then; problems with
/// single files are [`crate::Warning`]s.
#[derive(Debug, Error)]
pub enum IngestError {
    /// A collection name was given for several archives.
    #[error(
        "--collection names what is indexed from one PATH; index several archives one at a time to name each"
    )]
    CollectionOfSeveralPaths,
    /// The index cannot be opened (or started over).
    #[error("cannot open index {}", index.display())]
    OpenIndex {
        /// The index folder.
        index: PathBuf,
        /// Why.
        #[source]
        source: IndexerError,
    },
    /// The run's commit failed.
    #[error("cannot commit the index")]
    Commit(#[source] IndexerError),
    /// The declarations folder cannot be read.
    #[error("cannot read declarations {}", dir.display())]
    Declarations {
        /// The folder given.
        dir: PathBuf,
        /// Why.
        #[source]
        source: CorpusError,
    },
    /// An archive's path cannot be resolved (to name its collection).
    #[error("cannot read {}", path.display())]
    Path {
        /// The archive's path.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The collection name (given, or from the folder's name) is not one.
    #[error("choose a collection name with --collection")]
    CollectionName(#[source] SchemaError),
    /// The path is not an archive that can be read.
    #[error("cannot index {}", path.display())]
    OpenArchive {
        /// The archive's path.
        path: PathBuf,
        /// Why.
        #[source]
        source: CorpusError,
    },
    /// The archive's versions cannot be listed.
    #[error("cannot list {}", path.display())]
    List {
        /// The archive's path.
        path: PathBuf,
        /// Why.
        #[source]
        source: CorpusError,
    },
    /// The collection was filled from another archive: their versions would be mixed.
    #[error(
        "collection {collection} was indexed from {indexed_path} ({indexed_kind}), not from \
         {path} ({kind}): index this archive under another name with --collection, or start \
         the index over with --rebuild"
    )]
    OtherArchive {
        /// The collection.
        collection: CollectionName,
        /// The archive it was indexed from.
        indexed_path: String,
        /// That archive's layout.
        indexed_kind: &'static str,
        /// The archive of this run.
        path: String,
        /// Its layout.
        kind: &'static str,
    },
    /// The archive's history would remove most (or all) of a collection's versions: taken
    /// for a broken or mistaken repository, not a rewrite, unless the run allows it.
    #[error(
        "collection {collection} holds {held} versions read from {path}, and {why}: this run \
         would leave {kept} of them, so nothing was indexed and the index is unchanged; \
         check the repository (`git -C {path} status`, `git -C {path} log -1`), or, if the \
         history really is this one, index again with --allow-drop (or --rebuild)"
    )]
    WouldDrop {
        /// The collection.
        collection: CollectionName,
        /// The archive.
        path: String,
        /// What the repository shows instead of the indexed history.
        why: String,
        /// Versions the collection holds.
        held: usize,
        /// Versions it would hold after the run.
        kept: usize,
    },
    /// Reading the archive failed.
    #[error(transparent)]
    Corpus(#[from] CorpusError),
    /// Writing the index failed.
    #[error(transparent)]
    Indexer(#[from] IndexerError),
    /// The thread reading the archive panicked.
    #[error("the archive reader panicked")]
    ReaderPanicked,
    /// The disk holding the index is full: said first, because the causes below (a Tantivy
    /// writer's I/O error) do not tell what became of the index.
    #[error(
        "no space left on the disk holding the index {}: nothing of this run was committed, \
         the index is as the last completed run left it; free space and index again",
        index.display()
    )]
    DiskFull {
        /// The index folder.
        index: PathBuf,
        /// The error the full disk caused.
        #[source]
        source: Box<IngestError>,
    },
}

impl IngestError {
    /// Whether the disk holding the index is full (see [`IndexerError::is_disk_full`]).
    pub fn is_disk_full(&self) -> bool {
        match self {
            IngestError::DiskFull { .. } => true,
            IngestError::OpenIndex { source, .. }
            | IngestError::Commit(source)
            | IngestError::Indexer(source) => source.is_disk_full(),
            _ => false,
        }
    }

    /// This error, said to be a full disk first when it is one.
    pub(crate) fn on_disk_full(self, index: &std::path::Path) -> IngestError {
        if !self.is_disk_full() || matches!(self, IngestError::DiskFull { .. }) {
            return self;
        }
        IngestError::DiskFull {
            index: index.to_owned(),
            source: Box::new(self),
        }
    }
}

/// Result alias of this crate.
pub type Result<T, E = IngestError> = std::result::Result<T, E>;
