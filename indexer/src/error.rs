use std::path::PathBuf;

use thiserror::Error;

/// Errors of the write side.
#[derive(Debug, Error)]
pub enum IndexerError {
    /// A file system step failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Tantivy failed while doing `action`.
    #[error("{action}: {source}")]
    Tantivy {
        /// What was being done.
        action: &'static str,
        /// The underlying error.
        source: tantivy::TantivyError,
    },
    /// The folder holds an index that Palimpsest did not write, or a newer format.
    #[error("{path} is not a Palimpsest index: {reason}")]
    NotAnIndex {
        /// The index folder.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A stored document is missing a field or a span it should have.
    #[error(transparent)]
    Schema(#[from] palimpsest_schema::SchemaError),
    /// The index does not hold what its own records say it should.
    #[error("index is inconsistent: {0}")]
    Inconsistent(String),
    /// The indexing state saved with the last commit cannot be read.
    #[error("cannot read the indexing state saved in the index: {0}")]
    Payload(#[from] serde_json::Error),
}

impl IndexerError {
    pub(crate) fn tantivy(action: &'static str) -> impl FnOnce(tantivy::TantivyError) -> Self {
        move |source| IndexerError::Tantivy { action, source }
    }

    pub(crate) fn io(
        action: &'static str,
        path: &std::path::Path,
    ) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.to_owned();
        move |source| IndexerError::Io {
            action,
            path,
            source,
        }
    }
}

/// Result alias of this crate.
pub type Result<T, E = IndexerError> = std::result::Result<T, E>;
