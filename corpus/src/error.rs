use std::path::PathBuf;

use thiserror::Error;

/// Errors that stop reading an archive. Problems with single files are [`crate::Warning`]s.
#[derive(Debug, Error)]
pub enum CorpusError {
    /// The path does not exist or cannot be read.
    #[error("cannot read {path}: {error}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The underlying error, part of the message (not a `source()`: a printed chain of
        /// causes would say it twice).
        error: std::io::Error,
    },
    /// The path holds nothing that looks like an archive.
    #[error("{path} is not an archive: {reason}")]
    NotAnArchive {
        /// The path.
        path: PathBuf,
        /// What was expected.
        reason: String,
    },
    /// The git repository cannot be read.
    #[error("cannot read git repository {path}: {message}")]
    Git {
        /// The repository.
        path: PathBuf,
        /// What failed.
        message: String,
    },
    /// The git repository is a shallow clone: its history is cut off.
    #[error(
        "{path} is a shallow clone: its history stops before the first commit, so the \
         versions recorded earlier cannot be read; fetch the whole history with \
         `git -C {path} fetch --unshallow` and index again"
    )]
    ShallowClone {
        /// The repository.
        path: PathBuf,
    },
}

/// Result alias of this crate.
pub type Result<T, E = CorpusError> = std::result::Result<T, E>;
