//! [`ReadOnlyDirectory`]: the index folder as a reader sees it, which never writes.
//!
//! Tantivy's reader takes the meta lock (`.tantivy-meta.lock`) while it opens a generation's
//! segments, so that a writer's garbage collection cannot delete them meanwhile, and
//! `MmapDirectory` takes a lock by opening its file for writing (creating it if need be).
//! On a read-only mount, or for a user who may not write the folder, that fails and the index
//! could not be searched at all, though reading never needs to write. Here the lock is taken
//! on the existing lock file opened for reading only (`flock` does not care how a file was
//! opened), shared, so it still keeps a writer's garbage collection out; when the file does
//! not exist no writer has ever collected garbage in the folder, and there is nothing to wait
//! for. Every write is refused.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use fs4::fs_std::FileExt;
use tantivy::directory::error::OpenWriteError;
use tantivy::directory::error::{DeleteError, LockError, OpenDirectoryError, OpenReadError};
use tantivy::directory::{
    Directory, DirectoryLock, FileHandle, Lock, MmapDirectory, WatchCallback, WatchHandle, WritePtr,
};

/// The index folder, read through memory maps, for a reader that writes nothing.
#[derive(Clone, Debug)]
pub(crate) struct ReadOnlyDirectory {
    root: PathBuf,
    inner: MmapDirectory,
}

impl ReadOnlyDirectory {
    /// The folder at `root`.
    pub(crate) fn open(root: &Path) -> Result<ReadOnlyDirectory, OpenDirectoryError> {
        Ok(ReadOnlyDirectory {
            root: root.to_owned(),
            inner: MmapDirectory::open(root)?,
        })
    }
}

/// Why a write was refused.
fn refused() -> io::Error {
    io::Error::new(
        io::ErrorKind::PermissionDenied,
        "the index is open for reading only",
    )
}

/// Takes `lock` shared on its existing file, opened for reading; nothing to hold when the
/// file does not exist. A blocking lock waits for a writer holding it, as tantivy's does.
fn shared_lock(path: &Path, lock: &Lock) -> Result<DirectoryLock, LockError> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            return Ok(DirectoryLock::from(Box::new(())));
        }
        Err(error) => return Err(LockError::wrap_io_error(error)),
    };
    if lock.is_blocking {
        FileExt::lock_shared(&file).map_err(LockError::wrap_io_error)?;
    } else if !FileExt::try_lock_shared(&file).map_err(LockError::wrap_io_error)? {
        return Err(LockError::LockBusy);
    }
    // Closing the file releases the lock.
    Ok(DirectoryLock::from(Box::new(file)))
}

impl Directory for ReadOnlyDirectory {
    fn get_file_handle(&self, path: &Path) -> Result<Arc<dyn FileHandle>, OpenReadError> {
        self.inner.get_file_handle(path)
    }

    fn delete(&self, path: &Path) -> Result<(), DeleteError> {
        Err(DeleteError::IoError {
            io_error: Arc::new(refused()),
            filepath: path.to_owned(),
        })
    }

    fn exists(&self, path: &Path) -> Result<bool, OpenReadError> {
        self.inner.exists(path)
    }

    fn open_write(&self, path: &Path) -> Result<WritePtr, OpenWriteError> {
        Err(OpenWriteError::wrap_io_error(refused(), path.to_owned()))
    }

    fn atomic_read(&self, path: &Path) -> Result<Vec<u8>, OpenReadError> {
        self.inner.atomic_read(path)
    }

    fn atomic_write(&self, _path: &Path, _data: &[u8]) -> io::Result<()> {
        Err(refused())
    }

    fn sync_directory(&self) -> io::Result<()> {
        // Nothing was written.
        Ok(())
    }

    fn acquire_lock(&self, lock: &Lock) -> Result<DirectoryLock, LockError> {
        shared_lock(&self.root.join(&lock.filepath), lock)
    }

    fn watch(&self, watch_callback: WatchCallback) -> tantivy::Result<WatchHandle> {
        self.inner.watch(watch_callback)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_whose_file_is_missing_creates_none() {
        let dir = tempfile::tempdir().unwrap();
        let directory = ReadOnlyDirectory::open(dir.path()).unwrap();
        let held = directory.acquire_lock(&tantivy::directory::META_LOCK);
        assert!(held.is_ok());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_shared_lock_keeps_a_writer_out_until_released() {
        let dir = tempfile::tempdir().unwrap();
        let lock_path = dir.path().join(".tantivy-meta.lock");
        std::fs::write(&lock_path, b"").unwrap();
        let directory = ReadOnlyDirectory::open(dir.path()).unwrap();
        let held = directory
            .acquire_lock(&tantivy::directory::META_LOCK)
            .unwrap();
        let writer = std::fs::OpenOptions::new()
            .write(true)
            .open(&lock_path)
            .unwrap();
        assert!(!FileExt::try_lock_exclusive(&writer).unwrap());
        drop(held);
        assert!(FileExt::try_lock_exclusive(&writer).unwrap());
    }

    #[test]
    fn writes_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let directory = ReadOnlyDirectory::open(dir.path()).unwrap();
        assert!(directory.open_write(Path::new("x")).is_err());
        assert!(directory.atomic_write(Path::new("x"), b"x").is_err());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
