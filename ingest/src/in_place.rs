//! Dataset files corrected in place: a file rewritten under the name (the instant) it had,
//! which an incremental run would otherwise take for a version already indexed. Each run
//! records, per document, a hash of its files' names, sizes and modification times; the next
//! run hashes the same files again, and a document whose hash differs is replayed from the
//! archive, so the run still ends equal to a rebuild. A file only touched (same text, new
//! modification time) is replayed too: correct, if slower than needed.

use std::collections::{BTreeMap, BTreeSet};

use palimpsest_corpus::VersionRef;
use palimpsest_schema::{DocKey, FilesSeen};
use xxhash_rust::xxh3::Xxh3;

/// Per document (key term text), its files as this run lists them.
pub(crate) type Seen = BTreeMap<String, FilesSeen>;

/// What this run lists of each document's files.
pub(crate) fn seen(listed: &[VersionRef]) -> Seen {
    let mut by_document: BTreeMap<String, Vec<&VersionRef>> = BTreeMap::new();
    for v in listed {
        by_document.entry(v.key.term_text()).or_default().push(v);
    }
    by_document
        .into_iter()
        .filter_map(|(key, mut files)| {
            files.sort_by(|a, b| a.source_id.cmp(&b.source_id));
            let through = files.last()?.source_id.clone();
            Some((
                key,
                FilesSeen {
                    through,
                    hash: hash(&files),
                },
            ))
        })
        .collect()
}

/// The documents whose files, up to the last one the previous run listed, are not what that
/// run saw (changed, removed, or slipped in among them).
pub(crate) fn changed(previous: &Seen, listed: &[VersionRef]) -> BTreeSet<DocKey> {
    let mut by_document: BTreeMap<String, (&DocKey, Vec<&VersionRef>)> = BTreeMap::new();
    for v in listed {
        let Some(before) = previous.get(&v.key.term_text()) else {
            continue;
        };
        if v.source_id <= before.through {
            by_document
                .entry(v.key.term_text())
                .or_insert_with(|| (&v.key, Vec::new()))
                .1
                .push(v);
        }
    }
    // A document none of whose files is listed any more keeps what the index holds, as
    // before: a dataset never ends a document, and a moved folder must not empty one.
    let mut changed = BTreeSet::new();
    for (text, (key, files)) in &mut by_document {
        files.sort_by(|a, b| a.source_id.cmp(&b.source_id));
        if previous
            .get(text)
            .is_some_and(|before| hash(files) != before.hash)
        {
            changed.insert((*key).clone());
        }
    }
    changed
}

/// The hash of files sorted by name: each name with its size and modification time.
fn hash(files: &[&VersionRef]) -> String {
    let mut hasher = Xxh3::new();
    for v in files {
        hasher.update(v.source_id.as_bytes());
        hasher.update(&[0]);
        if let Some(stamp) = v.stamp {
            hasher.update(&stamp.bytes.to_le_bytes());
            hasher.update(&stamp.modified_nanos.to_le_bytes());
        }
    }
    format!("{:016x}", hasher.digest())
}
