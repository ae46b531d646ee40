//! Reading folders without following symbolic links: what the layout readers and the
//! declarations reader walk.

use std::path::{Path, PathBuf};

use crate::error::{CorpusError, Result};

/// A directory entry, described without following symbolic links.
pub(crate) struct Entry {
    /// The name, with U+FFFD for bytes that are not UTF-8 (see `utf8`).
    pub name: String,
    /// Whether the name is UTF-8; one that is not cannot name a document and is skipped
    /// with a warning.
    pub utf8: bool,
    pub path: PathBuf,
    pub is_dir: bool,
    pub is_file: bool,
    pub is_symlink: bool,
    pub modified: Option<std::time::SystemTime>,
}

/// The entries of a folder, sorted by name.
pub(crate) fn entries(dir: &Path) -> Result<Vec<Entry>> {
    let io = |error| CorpusError::Io {
        path: dir.to_owned(),
        error,
    };
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let (name, utf8) = match entry.file_name().into_string() {
            Ok(name) => (name, true),
            Err(name) => (name.to_string_lossy().into_owned(), false),
        };
        let meta = std::fs::symlink_metadata(entry.path()).map_err(io)?;
        out.push(Entry {
            name,
            utf8,
            path: entry.path(),
            is_dir: meta.is_dir(),
            is_file: meta.is_file(),
            is_symlink: meta.file_type().is_symlink(),
            modified: meta.modified().ok(),
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// Why an entry that could hold documents is skipped: a symbolic link (never followed, so
/// nothing outside the archive is read) or a name that is not UTF-8.
pub(crate) fn skip_reason(entry: &Entry) -> Option<&'static str> {
    if entry.is_symlink {
        Some("skipped: symbolic links are not followed")
    } else if !entry.utf8 {
        Some("skipped: file name is not UTF-8")
    } else {
        None
    }
}

/// `path` relative to `root`, as text, for messages.
pub(crate) fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned()
}
