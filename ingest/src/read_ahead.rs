//! How far the reader thread may read ahead of the indexer: a budget of bytes of text, not a
//! number of versions. Versions can be large (a 5 MB page shared by 200 documents of an
//! archive is 1 GB of text for 200 versions); counting versions let memory follow the
//! decompressed text of whatever the queue held.

use std::sync::{Condvar, Mutex, PoisonError};

/// Bytes of version text read but not yet indexed, at most. A single version larger than
/// this is still read, alone.
pub(crate) const READ_AHEAD_BYTES: usize = 64 << 20;

/// Versions read but not yet indexed, at most, however small.
pub(crate) const READ_AHEAD_VERSIONS: usize = 256;

/// The bytes the reader holds ahead of the indexer, shared by both threads.
pub(crate) struct ReadAhead {
    state: Mutex<Held>,
    freed: Condvar,
    budget: usize,
}

#[derive(Default)]
struct Held {
    bytes: usize,
    /// The indexing side stopped: the reader must not wait for it.
    closed: bool,
}

impl ReadAhead {
    pub(crate) fn new(budget: usize) -> ReadAhead {
        ReadAhead {
            state: Mutex::new(Held::default()),
            freed: Condvar::new(),
            budget,
        }
    }

    /// Waits until `bytes` more fit in the budget (or nothing is held), then holds them;
    /// `false` when the indexing side stopped.
    pub(crate) fn acquire(&self, bytes: usize) -> bool {
        let mut held = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        while !held.closed && held.bytes > 0 && held.bytes + bytes > self.budget {
            held = self
                .freed
                .wait(held)
                .unwrap_or_else(PoisonError::into_inner);
        }
        held.bytes += bytes;
        !held.closed
    }

    /// Gives back `bytes` once their version is indexed.
    pub(crate) fn release(&self, bytes: usize) {
        let mut held = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        held.bytes = held.bytes.saturating_sub(bytes);
        self.freed.notify_all();
    }

    /// The indexing side ends (done or failed): a waiting reader stops.
    pub(crate) fn close(&self) {
        let mut held = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        held.closed = true;
        self.freed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reader_waits_for_bytes_not_versions() {
        let ahead = ReadAhead::new(10);
        assert!(ahead.acquire(6));
        std::thread::scope(|scope| {
            let waiting = scope.spawn(|| ahead.acquire(6));
            std::thread::sleep(std::time::Duration::from_millis(20));
            assert!(!waiting.is_finished(), "12 bytes held of a budget of 10");
            ahead.release(6);
            assert!(waiting.join().unwrap());
        });
        // One version larger than the budget is read alone.
        ahead.release(6);
        assert!(ahead.acquire(100));
    }

    #[test]
    fn a_closed_indexer_frees_a_waiting_reader() {
        let ahead = ReadAhead::new(10);
        assert!(ahead.acquire(10));
        std::thread::scope(|scope| {
            let waiting = scope.spawn(|| ahead.acquire(1));
            ahead.close();
            assert!(!waiting.join().unwrap());
        });
    }
}
