//! Section texts in force, held once however many spans stand for them.
//!
//! The spans of each document's latest version are kept in memory until they close or the
//! run commits. The same text often stands in many of them: sections several services of
//! one provider share, or a crafted archive of 200 documents naming one 5 MB blob, which
//! held 1 GB of copies. Texts from [`MIN_SHARED`] bytes are shared through the pool; memory
//! then follows the distinct text in force.

use std::sync::{Arc, Weak};

use rustc_hash::FxHashMap;

/// Texts shorter than this are not worth a map entry: each span keeps its own copy.
pub const MIN_SHARED: usize = 4 << 10;

/// Bytes shared since the last sweep after which entries of texts no span holds any more are
/// removed (a dead text's memory is freed only when its entry goes).
const SWEEP_BYTES: usize = 64 << 20;

/// The shared texts, by hash; an entry lives while a span holds its text.
#[derive(Debug, Default)]
pub struct TextPool {
    texts: FxHashMap<u64, Weak<str>>,
    bytes_since_sweep: usize,
}

impl TextPool {
    /// `text`, shared with the spans that already hold an equal text.
    pub fn share(&mut self, text: &str) -> Arc<str> {
        if text.len() < MIN_SHARED {
            return Arc::from(text);
        }
        self.find(text)
            .unwrap_or_else(|| self.remember(Arc::from(text)))
    }

    /// `text` as held by the pool: the pool's copy if it has an equal one, else `text`
    /// itself, which the pool then shares.
    pub fn adopt(&mut self, text: Arc<str>) -> Arc<str> {
        if text.len() < MIN_SHARED {
            return text;
        }
        self.find(&text).unwrap_or_else(|| self.remember(text))
    }

    fn find(&self, text: &str) -> Option<Arc<str>> {
        let shared = self.texts.get(&hash(text)).and_then(Weak::upgrade)?;
        (*shared == *text).then_some(shared)
    }

    fn remember(&mut self, text: Arc<str>) -> Arc<str> {
        self.texts.insert(hash(&text), Arc::downgrade(&text));
        self.bytes_since_sweep += text.len();
        if self.bytes_since_sweep >= SWEEP_BYTES {
            self.texts.retain(|_, text| text.strong_count() > 0);
            self.bytes_since_sweep = 0;
        }
        text
    }

    /// Texts the pool holds an entry for.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.texts.len()
    }
}

fn hash(text: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_long_texts_are_one_allocation() {
        let mut pool = TextPool::default();
        let text = "x".repeat(MIN_SHARED);
        let first = pool.share(&text);
        let second = pool.share(&text.clone());
        assert!(Arc::ptr_eq(&first, &second));
        let read_back = pool.adopt(Arc::from(text.as_str()));
        assert!(Arc::ptr_eq(&first, &read_back));
    }

    #[test]
    fn short_and_different_texts_are_their_own() {
        let mut pool = TextPool::default();
        let short = "a short section";
        assert!(!Arc::ptr_eq(&pool.share(short), &pool.share(short)));
        let a = pool.share(&"a".repeat(MIN_SHARED));
        let b = pool.share(&"b".repeat(MIN_SHARED));
        assert_ne!(*a, *b);
        assert_eq!(pool.len(), 2);
    }

    #[test]
    fn texts_no_span_holds_are_swept() {
        let mut pool = TextPool::default();
        for n in 0..(SWEEP_BYTES / (1 << 20)) + 1 {
            drop(pool.share(&format!("{n}{}", " ".repeat(1 << 20))));
        }
        assert!(pool.len() <= 2, "{} dead entries kept", pool.len());
    }
}
