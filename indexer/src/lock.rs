//! [`RunLock`]: one indexing run at a time on an index, whether it updates or rebuilds it.
//!
//! Tantivy's own writer lock lives inside the index folder, which a rebuild replaces: it
//! cannot keep a rebuild from removing another rebuild's unfinished folder, nor an update
//! from writing into a folder that a rebuild is moving away. The run lock is a file beside
//! the index folder (`<index>.lock`), locked with `flock` for the whole run and removed
//! when the run ends. The kernel releases the lock of a killed process, so a file a killed
//! run left behind stops nobody.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use fs4::fs_std::FileExt;

use crate::error::{IndexerError, Result};

/// Holds the run lock of one index until dropped.
#[derive(Debug)]
pub(crate) struct RunLock {
    file: File,
    path: PathBuf,
}

/// Tries at locking a file that another run keeps replacing, before giving up.
const ATTEMPTS: usize = 8;

impl RunLock {
    /// Takes the run lock of the index in `dir`, or fails at once if another run holds it.
    /// The folder holding `dir` must exist.
    pub(crate) fn acquire(dir: &Path) -> Result<RunLock> {
        let path = lock_path(dir);
        for _ in 0..ATTEMPTS {
            let file = OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
                .map_err(IndexerError::io("cannot create the run lock", &path))?;
            let locked = file
                .try_lock_exclusive()
                .map_err(IndexerError::io("cannot lock", &path))?;
            if !locked {
                return Err(IndexerError::Busy {
                    index: dir.to_owned(),
                    lock: path,
                });
            }
            // A run that ended removed the file after this one opened it: the lock taken is
            // on a file nobody else will open. Start again with the file now at `path`.
            if same_file(&file, &path) {
                return Ok(RunLock { file, path });
            }
        }
        Err(IndexerError::Busy {
            index: dir.to_owned(),
            lock: path,
        })
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        // Removed while still locked: a run that opened the file before this removal finds,
        // once it holds the lock, that the path no longer names its file, and starts again.
        let _ = std::fs::remove_file(&self.path);
        let _ = FileExt::unlock(&self.file);
    }
}

/// The lock file of the index in `dir`.
pub(crate) fn lock_path(dir: &Path) -> PathBuf {
    crate::folder::sibling(dir, "lock")
}

#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_file: &File, path: &Path) -> bool {
    path.exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_one_index_is_refused_until_the_first_ends() {
        let dir = tempfile::tempdir().unwrap();
        let index = dir.path().join("index");
        let first = RunLock::acquire(&index).unwrap();
        let second = RunLock::acquire(&index).unwrap_err();
        assert!(matches!(second, IndexerError::Busy { .. }), "{second}");
        drop(first);
        assert!(!lock_path(&index).exists(), "the lock file is removed");
        let third = RunLock::acquire(&index).unwrap();
        drop(third);
    }

    #[test]
    fn a_lock_file_left_by_a_killed_run_stops_nobody() {
        let dir = tempfile::tempdir().unwrap();
        let index = dir.path().join("index");
        std::fs::write(lock_path(&index), "").unwrap();
        drop(RunLock::acquire(&index).unwrap());
    }
}
