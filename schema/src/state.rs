//! What the index remembers about each collection between runs, saved as the payload of the
//! Tantivy commit so that it changes atomically with the documents. The indexer writes it;
//! `stats` reads the snapshot extraction facts from it.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// Version of the index layout; an index of another version must be rebuilt. 2: spans record
/// the ordinals of the versions that opened and closed them, and a content hash. 3: stemmed
/// title and body fields beside the exact ones, and a substance hash to tell minor changes.
/// 4: version records hold the counts of their changes by kind ([`crate::StepCounts`]).
/// 5: section text stored once per document by paragraph ([`crate::text_store`]). 6: spans
/// hold the changes that opened and closed them ([`crate::StepLink`]). 7: a text that comes
/// back at the same path of its document is indexed once, by the span that first held it
/// (`indexed_as`).
pub const FORMAT: u32 = 7;

/// The kind of archive a collection was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// An Open Terms Archive versions (or snapshots) git repository.
    Git,
    /// The Open Terms Archive dataset layout.
    Dataset,
    /// A plain folder of `<service>/<terms type>.md` (or `.html`, `.pdf`).
    Folder,
}

/// Where a collection was read from and how far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectionState {
    /// The archive kind.
    pub kind: SourceKind,
    /// The archive path, as given when indexing.
    pub path: String,
    /// For git: the last commit indexed.
    pub head: Option<String>,
    /// Snapshots: how they were turned into versions.
    #[serde(default, skip_serializing_if = "SnapshotFacts::is_empty")]
    pub snapshots: SnapshotFacts,
    /// Dataset collections: per document (its key's term text), what its files looked like
    /// when last read, so that a file corrected in place under the same name is noticed.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub files: BTreeMap<String, FilesSeen>,
}

/// The files of one dataset document as a run listed them: the last file name (dataset
/// file names sort in time order) and a hash of every name up to it with its size and
/// modification time. A later run hashes the same names again: a file changed, removed or
/// slipped in among them gives another hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilesSeen {
    /// The greatest source id (file path within the archive) the hash covers.
    pub through: String,
    /// The hash, in hexadecimal.
    pub hash: String,
}

/// Facts about a collection's snapshots that the index documents do not hold. Sets, not
/// counts, so that reading the same snapshot again (an incremental run over a folder) adds
/// nothing, and an incremental run ends with what a rebuild gives.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotFacts {
    /// Documents (service, terms type) with versions extracted from HTML without a
    /// declaration's rules, by the fallback.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub without_rules: BTreeSet<(String, String)>,
    /// PDF snapshots skipped, as `<service>/<terms type> at <source id>`.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub skipped_pdfs: BTreeSet<String>,
}

impl SnapshotFacts {
    /// Whether nothing is recorded.
    pub fn is_empty(&self) -> bool {
        self.without_rules.is_empty() && self.skipped_pdfs.is_empty()
    }

    /// Adds the facts of `other`.
    pub fn merge(&mut self, other: SnapshotFacts) {
        self.without_rules.extend(other.without_rules);
        self.skipped_pdfs.extend(other.skipped_pdfs);
    }
}

/// The payload of a commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payload {
    /// [`FORMAT`] of the index that wrote it.
    pub format: u32,
    /// By collection name.
    pub collections: BTreeMap<String, CollectionState>,
}

impl Default for Payload {
    fn default() -> Self {
        Payload {
            format: FORMAT,
            collections: BTreeMap::new(),
        }
    }
}
