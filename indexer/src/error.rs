use std::path::PathBuf;

use thiserror::Error;

/// Errors of the write side.
#[derive(Debug, Error)]
pub enum IndexerError {
    /// A file system step failed.
    #[error("{action} {path}: {error}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The underlying error, part of the message (not a `source()`: a printed chain of
        /// causes would say it twice).
        error: std::io::Error,
    },
    /// Tantivy failed while doing `action`.
    #[error("{action}: {error}")]
    Tantivy {
        /// What was being done.
        action: &'static str,
        /// The underlying error, part of the message (not a `source()`).
        error: tantivy::TantivyError,
    },
    /// The folder holds an index that Palimpsest did not write, or a newer format.
    #[error("{path} is not a Palimpsest index: {reason}")]
    NotAnIndex {
        /// The index folder.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The folder named for the index holds something else: it is never written to,
    /// replaced or removed.
    #[error(
        "{} is not an index folder ({reason}): nothing was written; choose a new or empty \
         folder, or an existing index, with --index (or PALIMPSEST_INDEX)",
        palimpsest_schema::printable(&path.display().to_string())
    )]
    NotIndexFolder {
        /// The folder.
        path: PathBuf,
        /// What it holds.
        reason: String,
    },
    /// Another indexing run (an update or a rebuild) holds the index.
    #[error(
        "another indexing run is writing the index {index} (it holds {lock}): this run changed nothing; index again when that one ends"
    )]
    Busy {
        /// The index folder.
        index: PathBuf,
        /// The lock file the other run holds.
        lock: PathBuf,
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
    /// Whether the disk holding the index is full (or the process may not write more to it:
    /// a quota, a file size limit). Nothing of the run is committed then.
    pub fn is_disk_full(&self) -> bool {
        let full = |kind: std::io::ErrorKind| {
            matches!(
                kind,
                std::io::ErrorKind::StorageFull
                    | std::io::ErrorKind::QuotaExceeded
                    | std::io::ErrorKind::FileTooLarge
            )
        };
        // Tantivy passes some I/O errors on as text, or wrapped in an error of another kind:
        // the operating system's code at the end of the message still says what happened.
        let full_io = |io: &std::io::Error| {
            full(io.kind()) || os_error_kind(&io.to_string()).is_some_and(full)
        };
        match self {
            IndexerError::Io { error, .. } => full_io(error),
            IndexerError::Tantivy { error, .. } => match error {
                tantivy::TantivyError::IoError(io) => full_io(io),
                tantivy::TantivyError::OpenWriteError(
                    tantivy::directory::error::OpenWriteError::IoError { io_error, .. },
                ) => full_io(io_error),
                other => os_error_kind(&other.to_string()).is_some_and(full),
            },
            _ => false,
        }
    }

    pub(crate) fn tantivy(action: &'static str) -> impl FnOnce(tantivy::TantivyError) -> Self {
        move |error| IndexerError::Tantivy { action, error }
    }

    pub(crate) fn io(
        action: &'static str,
        path: &std::path::Path,
    ) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.to_owned();
        move |error| IndexerError::Io {
            action,
            path,
            error,
        }
    }
}

/// The kind of the operating system error a message ends with, as an `io::Error` shows one:
/// `… (os error 28)`.
fn os_error_kind(message: &str) -> Option<std::io::ErrorKind> {
    let code = message.rsplit_once("(os error ")?.1;
    let code = &code[..code.find(')')?];
    Some(std::io::Error::from_raw_os_error(code.parse().ok()?).kind())
}

/// Result alias of this crate.
pub type Result<T, E = IndexerError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_is_recognised_through_tantivy_errors() {
        let full = std::io::Error::from_raw_os_error(28);
        let text = tantivy::TantivyError::InternalError(format!("{full}"));
        for error in [
            tantivy::TantivyError::from(std::io::Error::from_raw_os_error(28)),
            tantivy::TantivyError::from(std::io::Error::other(std::io::Error::from_raw_os_error(
                28,
            ))),
            tantivy::TantivyError::InternalError(format!("Internal error: '{full}'")),
            tantivy::TantivyError::ErrorInThread(format!("{text}")),
        ] {
            let error = IndexerError::Tantivy {
                action: "cannot add span",
                error,
            };
            assert!(error.is_disk_full(), "{error}");
        }
        let other = IndexerError::Tantivy {
            action: "cannot add span",
            error: tantivy::TantivyError::InternalError("(os error 2)".into()),
        };
        assert!(!other.is_disk_full());
    }
}
