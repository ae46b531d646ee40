//! One hit for one text: the same section text of the same document tracked by several
//! collections (Instagram's privacy policy is in pga and in vlopses-us) is one hit naming
//! every collection that holds it, not one hit per collection.
//!
//! Twins have the same text, so the same score: they sit next to each other in a ranked
//! list. Collapsing walks the list best first and stops once the page is full and the score
//! has dropped below the page's last hit, so a twin just past the page is still found.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use tantivy::{DocAddress, Score, Searcher};

use crate::engine::Engine;
use crate::error::Result;

/// What makes two spans twins: the document's service and terms type, its heading path and
/// its text, hashed together; the collection is left out on purpose.
pub(crate) type TwinKey = u64;

/// The twin key of a span from its document hash (service and terms type), path hash and
/// content hash.
pub(crate) fn twin_key(document: u64, path_hash: u64, content_hash: u64) -> TwinKey {
    let mut bytes = [0u8; 24];
    bytes[..8].copy_from_slice(&document.to_le_bytes());
    bytes[8..16].copy_from_slice(&path_hash.to_le_bytes());
    bytes[16..].copy_from_slice(&content_hash.to_le_bytes());
    xxhash_rust::xxh3::xxh3_64(&bytes)
}

/// A span's twin key and the collection it is in.
#[derive(Debug, Clone)]
pub(crate) struct TwinOf {
    pub key: TwinKey,
    pub collection: String,
}

/// The documents (service and terms type) that more than one collection holds: only their
/// spans can have twins, so counting skips every other span.
#[derive(Debug, Default)]
pub(crate) struct SharedDocuments(HashSet<u64>);

impl SharedDocuments {
    /// The shared documents of the searcher's segments (kept while its generation lives).
    pub(crate) fn of(engine: &Engine, searcher: &Searcher) -> Result<Arc<SharedDocuments>> {
        engine
            .columns
            .shared
            .get(searcher, || SharedDocuments::read(engine, searcher))
    }

    fn read(engine: &Engine, searcher: &Searcher) -> Result<SharedDocuments> {
        let mut first: HashMap<u64, String> = HashMap::new();
        let mut shared = HashSet::new();
        for reader in searcher.segment_readers() {
            let columns = engine.segment_columns(reader)?;
            for (collection, document) in columns.document_hashes() {
                match first.get(&document) {
                    Some(seen) if seen != collection => {
                        shared.insert(document);
                    }
                    Some(_) => {}
                    None => {
                        first.insert(document, collection.to_owned());
                    }
                }
            }
        }
        Ok(SharedDocuments(shared))
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn contains(&self, document: u64) -> bool {
        self.0.contains(&document)
    }
}

/// A candidate hit as the ranked list holds it.
pub(crate) trait Ranked {
    fn score(&self) -> Score;
    /// The span that names the hit (its best span).
    fn address(&self) -> DocAddress;
}

/// A kept hit and its twins: the same text in other collections, each recorded there with
/// its own dates.
pub(crate) struct Twinned<T> {
    pub hit: T,
    /// The collections holding the text, the hit's own first, then its twins' in `twins`
    /// order.
    pub collections: Vec<String>,
    /// The twins' candidates, one per other collection.
    pub twins: Vec<T>,
}

/// The first `needed` distinct hits of a ranked list.
pub(crate) struct Collapsed<T> {
    pub kept: Vec<Twinned<T>>,
    /// Whether the list went past the last kept hit's score, so that no twin of a kept hit
    /// can be further down: when it did not and the list was cut, read a longer list.
    pub complete: bool,
}

/// Collapses twins in a ranked list (best first) until `needed` distinct hits are kept. A
/// kept hit takes at most one span of each collection: two equal sections of one collection
/// stay two hits.
pub(crate) fn collapse<T: Ranked>(
    engine: &Engine,
    searcher: &Searcher,
    ranked: impl IntoIterator<Item = T>,
    needed: usize,
) -> Result<Collapsed<T>> {
    let mut kept: Vec<Twinned<T>> = Vec::new();
    let mut seen: HashMap<TwinKey, Vec<usize>> = HashMap::new();
    for candidate in ranked {
        if kept.len() >= needed && candidate.score() < kept[needed - 1].hit.score() {
            return Ok(Collapsed {
                kept,
                complete: true,
            });
        }
        let twin = engine.twin_of(searcher, candidate.address())?;
        let slots = seen.entry(twin.key).or_default();
        let open = slots
            .iter()
            .copied()
            .find(|&i| !kept[i].collections.contains(&twin.collection));
        match open {
            Some(i) => {
                kept[i].collections.push(twin.collection);
                kept[i].twins.push(candidate);
            }
            None => {
                slots.push(kept.len());
                kept.push(Twinned {
                    hit: candidate,
                    collections: vec![twin.collection],
                    twins: Vec::new(),
                });
            }
        }
    }
    Ok(Collapsed {
        kept,
        complete: false,
    })
}

impl Ranked for (Score, DocAddress) {
    fn score(&self) -> Score {
        self.0
    }

    fn address(&self) -> DocAddress {
        self.1
    }
}
