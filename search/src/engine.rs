//! [`Engine`]: an open index and its reader.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};
use std::time::Instant;

use palimpsest_schema::{IndexFields, register_tokenizer};
use tantivy::{Index, IndexReader, ReloadPolicy, Searcher, Warmer};

use crate::deadline::Deadline;
use crate::error::{Result, SearchError};
use crate::facts::ColumnCache;
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
    dir: PathBuf,
}

impl Engine {
    /// Opens the index in `dir`, with default limits. The reader follows new commits.
    pub fn open(dir: &Path) -> Result<Engine> {
        if !dir.join("meta.json").is_file() {
            return Err(SearchError::NoIndex {
                path: dir.to_owned(),
            });
        }
        let index = Index::open_in_dir(dir).map_err(SearchError::tantivy("cannot open index"))?;
        let fields = IndexFields::new();
        if index.schema() != fields.schema {
            return Err(SearchError::OtherSchema {
                path: dir.to_owned(),
            });
        }
        register_tokenizer(&index);
        let columns = Arc::new(ColumnCache::new(fields.clone()));
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::OnCommitWithDelay)
            .warmers(vec![Arc::downgrade(&columns) as Weak<dyn Warmer>])
            .try_into()
            .map_err(SearchError::tantivy("cannot open index reader"))?;
        Ok(Engine {
            index,
            reader,
            fields,
            limits: Limits::default(),
            columns,
            deadline: Deadline::default(),
            dir: dir.to_owned(),
        })
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

    pub(crate) fn searcher(&self) -> Searcher {
        self.reader.searcher()
    }
}
