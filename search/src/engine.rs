//! [`Engine`]: an open index and its reader.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};
use std::time::Instant;

use palimpsest_schema::{IndexFields, register_tokenizer};
use tantivy::{Index, IndexReader, ReloadPolicy, Searcher, TantivyError, Warmer};

use crate::deadline::Deadline;
use crate::error::{Result, SearchError};
use crate::facts::ColumnCache;
use crate::integrity::{self, Integrity, Verification};
use crate::read_only::ReadOnlyDirectory;
use crate::request::Limits;

/// An index opened for reading. Cheap to share between threads (and to clone); each
/// operation takes a consistent snapshot of the last commit.
#[derive(Clone)]
pub struct Engine {
    pub(crate) index: Index,
    pub(crate) reader: IndexReader,
    pub(crate) fields: IndexFields,
    pub(crate) limits: Limits,
    /// Columns by segment; the reader drops those of segments no searcher holds any more.
    pub(crate) columns: Arc<ColumnCache>,
    /// When operations give up; none unless [`Engine::until`] set one.
    pub(crate) deadline: Deadline,
    /// Which segments read right, shared by the engine's clones.
    integrity: Arc<Integrity>,
    dir: PathBuf,
}

impl Engine {
    /// Opens the index in `dir` for reading, with default limits. The reader follows new
    /// commits and writes nothing, not even a lock file, so an index on a read-only mount is
    /// served. Each generation's segments are checked before they answer, in the calling
    /// thread ([`Engine::verifying_in_background`] changes that).
    pub fn open(dir: &Path) -> Result<Engine> {
        if !dir.join("meta.json").is_file() {
            return Err(SearchError::NoIndex {
                path: dir.to_owned(),
            });
        }
        let index = open_index(dir)?;
        let fields = IndexFields::new();
        if index.schema() != fields.schema {
            return Err(SearchError::OtherSchema {
                path: dir.to_owned(),
            });
        }
        register_tokenizer(&index);
        let columns = Arc::new(ColumnCache::new(fields.clone()));
        let reader = open_reader(dir, &index, &columns)?;
        Ok(Engine {
            index,
            reader,
            fields,
            limits: Limits::default(),
            columns,
            deadline: Deadline::default(),
            integrity: Arc::new(Integrity::new(Verification::InCaller)),
            dir: dir.to_owned(),
        })
    }

    /// This engine checking each new generation in a thread of its own, starting with the
    /// current one now: until a generation is found sound, answers come from the last one
    /// found sound, or fail with [`SearchError::Verifying`] when there is none yet. For a
    /// server, whose first answers should not wait for the whole index to be read.
    pub fn verifying_in_background(mut self) -> Engine {
        self.integrity = Arc::new(Integrity::new(Verification::InBackground));
        // The answer is not wanted: asking starts the check.
        let _ = self.integrity.admit(&self.dir, self.reader.searcher());
        self
    }

    /// Replaces the request limits.
    pub fn with_limits(mut self, limits: Limits) -> Engine {
        self.limits = limits;
        self
    }

    /// A copy of this engine whose operations stop at `deadline` with
    /// [`SearchError::Timeout`]: their long loops and collectors look at the clock, so the
    /// work ends soon after the deadline instead of running to completion unobserved.
    pub fn until(&self, deadline: Instant) -> Engine {
        Engine {
            deadline: Deadline::at(deadline),
            ..self.clone()
        }
    }

    /// The limits requests are checked against.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Checks the checksum of every file of the index in force; returns the damaged ones
    /// (none when the index is sound).
    pub fn verify(&self) -> Result<Vec<PathBuf>> {
        let mut damaged: Vec<PathBuf> = self
            .index
            .validate_checksum()
            .map_err(SearchError::tantivy("cannot verify the index"))?
            .into_iter()
            .collect();
        damaged.sort();
        Ok(damaged)
    }

    /// The index folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Runs `operation` on the generation to answer from (its segments checked), turning a
    /// panic into an error and any failure that damaged files explain into
    /// [`SearchError::IndexDamaged`]: the boundary every public operation goes through.
    pub(crate) fn read<T>(&self, operation: impl FnOnce(&Searcher) -> Result<T>) -> Result<T> {
        let searcher = self
            .integrity
            .admit(&self.dir, self.reader.searcher())
            .map_err(|error| self.diagnose(None, error))?;
        match catch_unwind(AssertUnwindSafe(|| operation(&searcher))) {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(error)) => Err(self.diagnose(Some(&searcher), error)),
            Err(panic) => Err(self.diagnose(Some(&searcher), SearchError::panic(&*panic))),
        }
    }

    /// What a failure means: an index deleted meanwhile, damaged files (read again, since
    /// they may have been damaged after they were checked), or what it says.
    fn diagnose(&self, searcher: Option<&Searcher>, error: SearchError) -> SearchError {
        if !self.dir.join("meta.json").is_file() {
            return SearchError::NoIndex {
                path: self.dir.clone(),
            };
        }
        let Some(searcher) = searcher.filter(|_| error.may_be_damage()) else {
            return error;
        };
        let damaged = self.integrity.recheck(searcher);
        if damaged.is_empty() {
            return error;
        }
        integrity::damaged_error(&self.dir, damaged)
    }
}

/// The index in `dir`, through a directory that never writes; metadata that cannot be read
/// is damage.
fn open_index(dir: &Path) -> Result<Index> {
    let directory = ReadOnlyDirectory::open(dir).map_err(|error| SearchError::Tantivy {
        action: "cannot open index",
        source: error.into(),
    })?;
    Index::open(directory).map_err(|error| match error {
        // Tantivy's metadata files carry no checksum; one that does not parse is damaged.
        TantivyError::DataCorruption(_) => SearchError::IndexDamaged {
            path: dir.to_owned(),
            files: Vec::new(),
        },
        source => SearchError::Tantivy {
            action: "cannot open index",
            source,
        },
    })
}

/// The reader of `index`, following commits; a failure or a panic that damaged files explain
/// is [`SearchError::IndexDamaged`].
fn open_reader(dir: &Path, index: &Index, columns: &Arc<ColumnCache>) -> Result<IndexReader> {
    let opened = catch_unwind(AssertUnwindSafe(|| {
        index
            .reader_builder()
            .reload_policy(ReloadPolicy::OnCommitWithDelay)
            .warmers(vec![Arc::downgrade(columns) as Weak<dyn Warmer>])
            .try_into()
            .map_err(SearchError::tantivy("cannot open index reader"))
    }));
    let error = match opened {
        Ok(Ok(reader)) => return Ok(reader),
        Ok(Err(error)) => error,
        Err(panic) => SearchError::panic(&*panic),
    };
    let damaged = integrity::committed_files_damaged(index);
    if damaged.is_empty() {
        return Err(error);
    }
    Err(integrity::damaged_error(dir, damaged))
}
