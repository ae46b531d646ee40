//! What the index remembers about each collection between runs, saved as the payload of the
//! Tantivy commit so that it changes atomically with the documents.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Version of the index layout; an index of another version must be rebuilt. 2: spans record
/// the ordinals of the versions that opened and closed them, and a content hash.
pub const FORMAT: u32 = 2;

/// The kind of archive a collection was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// An Open Terms Archive versions git repository.
    Git,
    /// The Open Terms Archive dataset layout.
    Dataset,
    /// A plain folder of `<service>/<terms type>.md`.
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
}

/// The payload of a commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Payload {
    pub format: u32,
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
